#!/usr/bin/env bash
# hoody-curl build entry point.
#   ./build.sh              publish the Native AOT binary to dist/hoody-curl
#   ./build.sh test         publish, then run every test project (unit, integration, E2E against dist/hoody-curl)
#   ./build.sh run [flags]  publish if needed, then start the sidecar with the given flags
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
DIST="$ROOT/dist"
BIN="$DIST/hoody-curl"
ARTIFACTS="$ROOT/.artifacts"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '==> %s\n' "$*" >&2; }

# ---- prerequisites ------------------------------------------------------------------------------
# The .NET 10 SDK builds; the AOT linker needs a C toolchain (gcc), zlib and SQLite's static library;
# the binary loads the system libcurl.so.4 at run time.
check_prereqs() {
  if ! command -v dotnet >/dev/null 2>&1; then
    say "the .NET 10 SDK is required: https://learn.microsoft.com/dotnet/core/install/linux-debian"
    exit 1
  fi
  local missing=()
  ldconfig -p 2>/dev/null | grep -q 'libcurl.so.4 ' || missing+=(libcurl4)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  [ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
  [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  [ -e /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing ${missing[*]}"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      say "missing packages: ${missing[*]}"
      say "install them with: sudo apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
}

# The tests also drive a real Prometheus server and promtool (Debian's prometheus package).
check_test_prereqs() {
  command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing prometheus (the metrics tests scrape the binary with it)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    say "the tests need Debian's prometheus package: sudo apt-get install -y --no-install-recommends prometheus"
    exit 1
  fi
}

# ---- publish ------------------------------------------------------------------------------------
publish() {
  check_prereqs
  say "publishing the Native AOT binary to $BIN"
  mkdir -p "$ARTIFACTS"
  local log="$ARTIFACTS/publish.log"
  # One publish at a time in this work tree (parallel shells share obj/ and dist/).
  exec 9>"$ARTIFACTS/publish.lock"
  flock 9
  if ! dotnet publish HoodyCurl.Host/HoodyCurl.Host.csproj -c Release -o "$DIST" -nologo >"$log" 2>&1; then
    grep -E 'error|warning' "$log" | sort -u >&2 || tail -50 "$log" >&2
    say "publish failed (full log: $log)"
    exit 1
  fi
  # Zero trim/AOT warnings is a rule: any warning fails the build.
  if grep -E ': warning [A-Z]+[0-9]+' "$log" | sort -u | grep . >&2; then
    say "publish printed warnings (full log: $log)"
    exit 1
  fi
  rm -f "$DIST"/*.dbg "$DIST"/*.pdb "$DIST"/*.staticwebassets*.json
  flock -u 9
  say "built $BIN ($(du -h "$BIN" | cut -f1))"
}

needs_publish() {
  [ -x "$BIN" ] || return 0
  [ -n "$(find HoodyCurl.Host Modules Directory.Build.props Directory.Packages.props -newer "$BIN" \( -name '*.cs' -o -name '*.c' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -not -path '*/bin/*' -print -quit)" ]
}

# ---- tests --------------------------------------------------------------------------------------
run_tests() {
  publish
  check_test_prereqs
  export HOODY_CURL_BIN="$BIN"
  local results="$ARTIFACTS/test-results"
  rm -rf "$results"; mkdir -p "$results"
  say "building test projects"
  local projects=()
  while IFS= read -r p; do projects+=("$p"); done < <(find tests -name '*.Tests.csproj' | sort)
  for p in "${projects[@]}"; do
    if ! dotnet build "$p" -c Release -nologo -v q >"$results/build-$(basename "$p" .csproj).log" 2>&1; then
      grep -E 'error' "$results/build-$(basename "$p" .csproj).log" | sort -u >&2 || true
      say "build of $p failed"
      echo "0 passed, 1 failed"
      exit 1
    fi
  done
  local passed=0 failed=0 skipped=0 status=0
  for p in "${projects[@]}"; do
    local name; name=$(basename "$p" .csproj)
    local exe; exe="$(dirname "$p")/bin/Release/net10.0/$name"
    say "running $name"
    local out="$results/$name"
    mkdir -p "$out"
    set +e
    "$exe" --report-trx --results-directory "$out" --progress off 2>&1 | tee "$out/console.log" | grep -E '^(failed|  (total|failed|succeeded|skipped):)|Test run summary|error' | head -60
    local rc=${PIPESTATUS[0]}
    set -e
    local trx; trx=$(find "$out" -name '*.trx' | head -1)
    if [ -n "$trx" ]; then
      local c; c=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
      local p_=$(echo "$c" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*')
      local f_=$(echo "$c" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*')
      local e_=$(echo "$c" | grep -o ' error="[0-9]*"' | grep -o '[0-9]*')
      local t_=$(echo "$c" | grep -o ' timeout="[0-9]*"' | grep -o '[0-9]*')
      local n_=$(echo "$c" | grep -o ' notExecuted="[0-9]*"' | grep -o '[0-9]*')
      passed=$((passed + ${p_:-0}))
      failed=$((failed + ${f_:-0} + ${e_:-0} + ${t_:-0}))
      skipped=$((skipped + ${n_:-0}))
      if [ "$rc" != 0 ] && [ "${f_:-0}" = 0 ] && [ "${e_:-0}" = 0 ] && [ "${t_:-0}" = 0 ]; then
        say "$name exited with $rc"; failed=$((failed + 1))
      fi
    else
      say "$name produced no report (exit $rc)"; failed=$((failed + 1))
    fi
    [ "$rc" = 0 ] || status=1
  done
  if [ "$failed" -gt 0 ]; then
    say "failures (details in $results/*/console.log):"
    # Names and first message lines come from the TRX reports (the console output is coloured).
    for trx in "$results"/*/*.trx; do
      [ -f "$trx" ] || continue
      python3 - "$trx" <<'PY' || grep -o 'testName="[^"]*"[^>]*outcome="\(Failed\|Error\|Timeout\)"' "$trx" | head -20 || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
root = ET.parse(sys.argv[1]).getroot()
shown = 0
for r in root.iter("{%s}UnitTestResult" % ns["t"]):
    if r.get("outcome") in ("Passed", "NotExecuted") or shown >= 20:
        continue
    shown += 1
    msg = r.find("t:Output/t:ErrorInfo/t:Message", ns)
    text = (msg.text or "").strip().splitlines() if msg is not None else []
    print("FAILED %s (%s)" % (r.get("testName"), r.get("outcome")))
    for line in text[:40]:
        print("    " + line[:300])
PY
    done
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" = 0 ] && [ "$status" = 0 ]
}

case "${1:-publish}" in
  publish|"") publish ;;
  test) run_tests ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    if needs_publish; then publish; fi
    exec "$BIN" "$@"
    ;;
  -h|--help|help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) say "unknown verb '$1' (use: ./build.sh, ./build.sh test, ./build.sh run [flags])"; exit 2 ;;
esac
