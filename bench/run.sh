#!/usr/bin/env bash
# hoody-curl benchmark: direct vs nginx reverse proxy vs hoody-curl (GET bridge, transparent mode),
# all on loopback. The load generator and the static upstream share core 0; the proxy under test
# runs alone on core 1. See bench/README.md.
#
#   bench/run.sh                    run everything, print a Markdown report
#
# Knobs (environment):
#   BENCH_DURATION=10   seconds per measured wrk run     BENCH_WARMUP=2   seconds of warm-up per run
#   BENCH_STARTS=10     start-up samples                  BENCH_BIG_RUNS=5 100 MiB downloads per target
#   BENCH_BIN=path      binary to test (default dist/hoody-curl, built with ./build.sh if missing)
#   BENCH_OUT=file      also write the report to this file
#   BENCH_KEEP=1        keep the temp work dir (raw wrk outputs, logs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
STARTS=${BENCH_STARTS:-10}
BIG_RUNS=${BENCH_BIG_RUNS:-5}
LOAD_CPU=0   # wrk, curl and the static upstream
PROXY_CPU=1  # the proxy under test

say() { printf '==> %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- prerequisites -------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
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
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# 256 client connections plus as many upstream ones: lift the soft fd limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 cores (load generator and proxy are pinned apart)"

BIN_SRC=${BENCH_BIN:-$ROOT/dist/hoody-curl}
if [ ! -x "$BIN_SRC" ]; then
  [ -z "${BENCH_BIN:-}" ] || die "BENCH_BIN=$BIN_SRC is not executable"
  say "dist/hoody-curl is missing: building it with ./build.sh"
  (cd "$ROOT" && ./build.sh) || die "./build.sh failed"
fi

# ---- work dir, clean-up --------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/hoody-bench.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"

# Snapshot the binary: other people may republish dist/ while we measure.
BIN=$WORK/hoody-curl
cp "$BIN_SRC" "$BIN"
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)

read -r PORT_A PORT_B PORT_C <<<"$(free_ports 3)"

stop_pid() {
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  local keep=() q
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]}")
}

# ---- content -------------------------------------------------------------------------------------
mkdir -p "$WORK/www"
head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
head -c 65536 /dev/urandom >"$WORK/www/64k.bin"
head -c 104857600 /dev/urandom >"$WORK/www/100m.bin"
chmod 644 "$WORK"/www/*

# ---- nginx configs -------------------------------------------------------------------------------
nginx_conf upstream "  server {
    listen 127.0.0.1:$PORT_A;
    root $WORK/www;
  }"
nginx_conf proxy "  upstream static_up {
    server 127.0.0.1:$PORT_A;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$PORT_B;
    location / {
      proxy_pass http://static_up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering on;
    }
  }"

start_nginx() { # name cpu port -> sets NGINX_PID_<name> (master pid)
  local name=$1 cpu=$2 port=$3 dir=$WORK/nginx-$1
  taskset -c "$cpu" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/1k.bin" 10 || { cat "$dir/error.log" >&2; die "nginx $name did not start"; }
  printf -v "NGINX_PID_$name" '%s' "$pid"
}
nginx_worker() { # master pid -> worker pid
  local w
  w=$(pgrep -P "$1" | head -1)
  [ -n "$w" ] || die "no worker under nginx master $1"
  echo "$w"
}

HC_PID=
start_hoody() {
  rm -rf "$WORK/hc-data"
  taskset -c "$PROXY_CPU" "$BIN" --listen "127.0.0.1:$PORT_C" --storage-dir "$WORK/hc-data" \
    --allow-cidr 127.0.0.1/32 --transfer-threads 1 --log-level warning >>"$WORK/hoody-curl.log" 2>&1 &
  HC_PID=$!
  PIDS+=("$HC_PID")
  wait_http "http://127.0.0.1:$PORT_C/health" 20 || { tail -20 "$WORK/hoody-curl.log" >&2; die "hoody-curl did not start"; }
}

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime + stime (all threads)
cpu_busy() { # cpu-index -> "busy total" jiffies
  awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
TCK=$(getconf CLK_TCK)

url_for() { # target file
  case $1 in
    direct) echo "http://127.0.0.1:$PORT_A/$2" ;;
    nginx) echo "http://127.0.0.1:$PORT_B/$2" ;;
    hoody) echo "http://127.0.0.1:$PORT_C/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$PORT_A%2F$2&response=transparent" ;;
  esac
}

# ---- start -----------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "work dir $WORK; ports upstream=$PORT_A nginx=$PORT_B hoody-curl=$PORT_C"
start_nginx upstream "$LOAD_CPU" "$PORT_A"
start_nginx proxy "$PROXY_CPU" "$PORT_B"
start_hoody

# Correctness first: every target must return the exact bytes.
for t in direct nginx hoody; do
  for f in 1k.bin 64k.bin 100m.bin; do
    got=$(curl -s --max-time 60 "$(url_for $t $f)" | sha256sum | cut -d' ' -f1)
    want=$(sha256sum "$WORK/www/$f" | cut -d' ' -f1)
    [ "$got" = "$want" ] || die "$t returned wrong bytes for $f"
  done
done
say "all targets return the right bytes"

NGINX_IDLE_KIB=$(status_kib "$(nginx_worker "$NGINX_PID_proxy")" VmRSS)

# ---- wrk -------------------------------------------------------------------------------------------
declare -A RPS P50 P99 ERRS CPU0 CPU1 PCPU USREQ LOADAVG
to_ms() { # "1.23ms" -> 1.23
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}
run_wrk() { # target size conns
  local t=$1 f=$2 c=$3 key="$1/$2/$3" url out pid b0 b1 c0a c0b c1a c1b
  url=$(url_for "$t" "$f")
  out=$WORK/wrk-$t-$f-c$c.txt
  case $t in
    direct) pid=$(nginx_worker "$NGINX_PID_upstream") ;;
    nginx) pid=$(nginx_worker "$NGINX_PID_proxy") ;;
    hoody) pid=$HC_PID ;;
  esac
  timeout $((WARMUP + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || true
  b0=$(proc_ticks "$pid"); read -r c0a c0b <<<"$(cpu_busy $LOAD_CPU)"; read -r c1a c1b <<<"$(cpu_busy $PROXY_CPU)"
  timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${DURATION}s" --latency "$url" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed for $key"; }
  b1=$(proc_ticks "$pid"); read -r c0x c0y <<<"$(cpu_busy $LOAD_CPU)"; read -r c1x c1y <<<"$(cpu_busy $PROXY_CPU)"
  RPS[$key]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  P50[$key]=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  P99[$key]=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  ERRS[$key]=$(awk '/Non-2xx/ { e += $NF } /Socket errors/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 } END { print e + 0 }' "$out")
  CPU0[$key]=$(awk -v b="$((c0x - c0a))" -v t="$((c0y - c0b))" 'BEGIN { printf "%.0f", t ? 100 * b / t : 0 }')
  CPU1[$key]=$(awk -v b="$((c1x - c1a))" -v t="$((c1y - c1b))" 'BEGIN { printf "%.0f", t ? 100 * b / t : 0 }')
  PCPU[$key]=$(awk -v d="$((b1 - b0))" -v k="$TCK" -v s="$DURATION" 'BEGIN { printf "%.0f", 100 * d / k / s }')
  LOADAVG[$key]=$(cut -d' ' -f1 /proc/loadavg)
  local total
  total=$(awk '/requests in/ { print $1 }' "$out")
  USREQ[$key]=$(awk -v d="$((b1 - b0))" -v k="$TCK" -v n="${total:-0}" 'BEGIN { printf "%.1f", n ? 1e6 * d / k / n : 0 }')
  say "$(printf '%-6s %-7s c=%-3s %8s req/s  p50 %6s ms  p99 %7s ms  errors %s  proc cpu %s%%  cpu0 %s%% cpu1 %s%%' \
    "$t" "$f" "$c" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "${ERRS[$key]}" "${PCPU[$key]}" "${CPU0[$key]}" "${CPU1[$key]}")"
}

for f in 1k.bin 64k.bin; do
  for c in 32 256; do
    for t in direct nginx hoody; do run_wrk $t $f $c; done
  done
done
HC_LOAD_HWM_KIB=$(status_kib "$HC_PID" VmHWM)
POOL=$(curl -s --max-time 5 "http://127.0.0.1:$PORT_C/metrics" | awk '/^hoody_curl_pool_takes_total / { t = $2 } /^hoody_curl_pool_misses_total / { m = $2 }
  /^hoody_curl_pool_evictions_total/ { e += $2 } END { printf "%d takes, %d misses (%.0f%%), %d evictions", t, m, t ? 100 * m / t : 0, e }')
NGINX_LOAD_HWM_KIB=$(status_kib "$(nginx_worker "$NGINX_PID_proxy")" VmHWM)

# ---- 100 MiB body ----------------------------------------------------------------------------------
declare -A MBPS HWM
big() { # target -> median MB/s over BIG_RUNS
  local t=$1 url i line speeds=()
  url=$(url_for "$t" 100m.bin)
  for i in $(seq "$BIG_RUNS"); do
    line=$(timeout 150 taskset -c "$LOAD_CPU" curl -s -o /dev/null --max-time 120 -w '%{http_code} %{size_download} %{speed_download}' "$url" || true)
    set -- $line
    [ "${1:-}" = 200 ] && [ "${2:-}" = 104857600 ] || die "100 MiB through $t failed: '$line'"
    speeds+=("$3")
  done
  printf '%s\n' "${speeds[@]}" | sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f", m / 1e6 }'
}
# Restart each proxy so its peak RSS (VmHWM) belongs to this test alone.
stop_pid "$NGINX_PID_proxy"; start_nginx proxy "$PROXY_CPU" "$PORT_B"
stop_pid "$HC_PID"; start_hoody
MBPS[direct]=$(big direct)
MBPS[nginx]=$(big nginx)
HWM[nginx]=$(status_kib "$(nginx_worker "$NGINX_PID_proxy")" VmHWM)
MBPS[hoody]=$(big hoody)
HWM[hoody]=$(status_kib "$HC_PID" VmHWM)
say "100 MiB: direct ${MBPS[direct]} MB/s, nginx ${MBPS[nginx]} MB/s (peak $(mib "${HWM[nginx]}") MiB), hoody-curl ${MBPS[hoody]} MB/s (peak $(mib "${HWM[hoody]}") MiB)"
stop_pid "$HC_PID"

# ---- start-up ----------------------------------------------------------------------------------------
say "start-up: $STARTS starts with a fresh storage dir, $STARTS with an existing one"
cat >"$WORK/startup.py" <<'EOF'
import os, socket, statistics, subprocess, sys, time
binp, work, n, proxy_cpu, load_cpu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def health(port):
    s = socket.socket(); s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return s.recv(16)[9:12] == b"200"
    except OSError:
        return False
    finally:
        s.close()

def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"): return int(line.split()[1])

def one(storage):
    port = free_port()
    args = [binp, "--listen", f"127.0.0.1:{port}", "--storage-dir", storage, "--allow-cidr", "127.0.0.1/32",
            "--transfer-threads", "1", "--log-level", "warning"]
    # The child inherits this process's affinity: pin ourselves to the proxy core for the spawn,
    # then move back to the load core to poll.
    os.sched_setaffinity(0, {proxy_cpu})
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.sched_setaffinity(0, {load_cpu})
    try:
        while True:
            if health(port): break
            if p.poll() is not None: sys.exit(f"hoody-curl exited with {p.returncode} during start-up")
            if time.perf_counter() - t0 > 20: sys.exit("hoody-curl did not answer /health within 20 s")
            time.sleep(0.0002)
        ms = (time.perf_counter() - t0) * 1000
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu_ms = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")  # utime + stime
        time.sleep(1)
        return ms, vm(p.pid, "VmRSS"), cpu_ms
    finally:
        p.terminate()
        try: p.wait(10)
        except subprocess.TimeoutExpired: p.kill(); p.wait(5)

for mode in ("fresh", "existing"):
    ms, rss, cpus = [], [], []
    if mode == "existing": one(os.path.join(work, "start-existing"))  # create the database first
    for i in range(n):
        d = os.path.join(work, f"start-{mode}-{i}" if mode == "fresh" else "start-existing")
        a, b, c = one(d)
        ms.append(a); rss.append(b); cpus.append(c)
    print(mode, f"{statistics.median(ms):.1f}", f"{min(ms):.1f}", f"{max(ms):.1f}", statistics.median(rss),
          f"{statistics.median(cpus):.0f}", " ".join(f"{x:.0f}" for x in ms))
EOF
# The existing-dir case starts once beforehand so the database already exists.
timeout 300 python3 "$WORK/startup.py" "$BIN" "$WORK" "$STARTS" "$PROXY_CPU" "$LOAD_CPU" >"$WORK/startup.txt" \
  || die "start-up measurement failed"
read -r _ START_FRESH START_FRESH_MIN START_FRESH_MAX IDLE_FRESH_KIB START_FRESH_CPU START_FRESH_ALL < <(grep '^fresh' "$WORK/startup.txt")
read -r _ START_EXIST START_EXIST_MIN START_EXIST_MAX IDLE_EXIST_KIB START_EXIST_CPU START_EXIST_ALL < <(grep '^existing' "$WORK/startup.txt")
BIN_BYTES=$(stat -c %s "$BIN")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }'; }
verdict() { [ "$1" = 1 ] && echo "**met**" || echo "**missed**"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? 1 : 0 }'; }

report() {
  local f c k label
  echo "## hoody-curl benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "binary sha256 ${BIN_SHA}…, wrk -t1 ${DURATION}s (+${WARMUP}s warm-up), load generator + upstream on core $LOAD_CPU, proxy on core $PROXY_CPU; load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
  echo
  echo "| Test | direct | nginx proxy | hoody-curl | hoody-curl ÷ nginx |"
  echo "|---|---:|---:|---:|---:|"
  for f in 1k.bin 64k.bin; do
    label=${f%.bin}; label=${label/k/ KiB}
    for c in 32 256; do
      echo "| $label, $c conn — req/s | ${RPS[direct/$f/$c]} | ${RPS[nginx/$f/$c]} | ${RPS[hoody/$f/$c]} | $(ratio "${RPS[hoody/$f/$c]}" "${RPS[nginx/$f/$c]}") |"
      echo "| $label, $c conn — p50 / p99 ms | ${P50[direct/$f/$c]} / ${P99[direct/$f/$c]} | ${P50[nginx/$f/$c]} / ${P99[nginx/$f/$c]} | ${P50[hoody/$f/$c]} / ${P99[hoody/$f/$c]} | |"
    done
  done
  echo "| 100 MiB — MB/s (median of $BIG_RUNS) | ${MBPS[direct]} | ${MBPS[nginx]} | ${MBPS[hoody]} | $(ratio "${MBPS[hoody]}" "${MBPS[nginx]}") |"
  echo "| 100 MiB — proxy peak RSS (VmHWM) | — | $(mib "${HWM[nginx]}") MiB | $(mib "${HWM[hoody]}") MiB | |"
  echo "| start → first /health 200, median of $STARTS (fresh dir) | — | — | $START_FRESH ms (min $START_FRESH_MIN, max $START_FRESH_MAX) | |"
  echo "| start → first /health 200, median of $STARTS (existing dir) | — | — | $START_EXIST ms (min $START_EXIST_MIN, max $START_EXIST_MAX) | |"
  echo "| CPU time (user+sys) spent until the first /health 200, median | — | — | $START_FRESH_CPU ms fresh, $START_EXIST_CPU ms existing | |"
  echo "| idle RSS 1 s after start (median) | — | $(mib "$NGINX_IDLE_KIB") MiB (worker) | $(mib "$IDLE_FRESH_KIB") MiB | |"
  echo "| peak RSS after the wrk runs (VmHWM) | — | $(mib "$NGINX_LOAD_HWM_KIB") MiB (worker) | $(mib "$HC_LOAD_HWM_KIB") MiB | |"
  echo "| binary size | — | — | $(awk -v b="$BIN_BYTES" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }') | |"
  echo
  echo "CPU during each wrk run: the serving process's CPU (% of one core), CPU µs per request, core $LOAD_CPU / core $PROXY_CPU busy %, errors (non-2xx + socket errors)."
  echo
  echo "| Run | proc CPU % | CPU µs/req | core $LOAD_CPU % | core $PROXY_CPU % | errors | load avg |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for f in 1k.bin 64k.bin; do
    for c in 32 256; do
      for t in direct nginx hoody; do
        k="$t/$f/$c"
        echo "| $t ${f%.bin} c$c | ${PCPU[$k]} | ${USREQ[$k]} | ${CPU0[$k]} | ${CPU1[$k]} | ${ERRS[$k]} | ${LOADAVG[$k]} |"
      done
    done
  done
  echo
  echo "hoody-curl handle pool over the wrk runs: $POOL. Start-up samples (ms): fresh $START_FRESH_ALL; existing $START_EXIST_ALL."
  echo
  echo "Targets (issue 2):"
  echo
  local r1 r2
  r1=$(awk -v a="${RPS[hoody/1k.bin/32]}" -v b="${RPS[nginx/1k.bin/32]}" 'BEGIN { printf "%.2f", a / b }')
  r2=$(awk -v a="${MBPS[hoody]}" -v b="${MBPS[nginx]}" 'BEGIN { printf "%.2f", a / b }')
  echo "- 1 KiB relay at 32 connections ≥ 0.6× nginx: ${r1}× — $(verdict "$(ge "$r1" 0.6)")"
  echo "- 100 MiB ≥ 0.8× nginx MB/s: ${r2}× — $(verdict "$(ge "$r2" 0.8)"); relay peak RSS < 64 MiB: $(mib "${HWM[hoody]}") MiB — $(verdict "$(lt "${HWM[hoody]}" 65536)")"
  echo "- start → first /health 200 < 50 ms: $START_FRESH ms fresh, $START_EXIST ms existing dir — $(verdict "$(lt "$START_FRESH" 50)")"
  echo "- idle RSS < 30 MiB: $(mib "$IDLE_FRESH_KIB") MiB — $(verdict "$(lt "$IDLE_FRESH_KIB" 30720)")"
}

report | tee "${BENCH_OUT:-/dev/null}"
