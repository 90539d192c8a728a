#!/usr/bin/env bash
# Lists the generic types the runtime builds from templates between start and the first answered request
# (each one costs start-up time; HoodyCurl.Host/StartupTypes.rd.xml lists them so the AOT compiler builds
# them ahead of time). Prints nothing when the rd.xml is complete. Needs gdb and a published build: it runs
# the unstripped binary under HoodyCurl.Host/bin/Release/net10.0/linux-x64/native/ with a breakpoint on
# TypeBuilder.TryBuildGenericType and names the generic definition and its arguments by their MethodTable
# symbols (so "Microsoft_Extensions_Options_OptionsFactory_1 | …_KestrelServerOptions" is
# OptionsFactory<KestrelServerOptions>). Usage: bench/startup-generic-types.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=HoodyCurl.Host/bin/Release/net10.0/linux-x64/native/hoody-curl
PORT=${1:-28390}
command -v gdb >/dev/null || { echo "gdb is needed (apt-get install gdb)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no $BIN: run ./build.sh first" >&2; exit 2; }
work=$(mktemp -d)
trap 'pkill -f "$BIN --listen 127.0.0.1:$PORT" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/cmd" <<'GDB'
set pagination off
set confirm off
handle SIGUSR1 nostop noprint pass
handle SIGUSR2 nostop noprint pass
handle SIG34 nostop noprint pass
handle SIG35 nostop noprint pass
handle SIGPIPE nostop noprint pass
break S_P_TypeLoader_Internal_Runtime_TypeLoader_TypeBuilder__TryBuildGenericType
commands
silent
info symbol $rdi
set $n = *(int*)($rsi+8)
set $i = 0
while $i < $n
  info symbol *(long*)($rsi+16+8*$i)
  set $i = $i + 1
end
echo ----\n
continue
end
run
GDB
timeout 120 gdb -batch -x "$work/cmd" --args "$BIN" --listen "127.0.0.1:$PORT" --storage-dir "$work/data" > "$work/out" 2>&1 &
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break
  sleep 0.05
done
# One relayed request (answered by the SSRF guard without leaving the machine) walks the request path once.
curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A9%2F" || true
sleep 1
pkill -f "$BIN --listen 127.0.0.1:$PORT" || true
wait || true
python3 - "$work/out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for block in text.split("----"):
    names = re.findall(r"vtable for (\S+) in section", block)
    if names:
        print(" | ".join(names))
PY
