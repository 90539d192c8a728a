#!/usr/bin/env bash
# Soak: does hoody-curl give memory back after load? (issue 16 item 7)
# Starts a static nginx upstream and the sidecar, records the sidecar's idle RSS, drives a mixed load
# through it (transparent and json relays of 1 KiB to 2 MiB bodies, session requests, async submits)
# for SOAK_DURATION seconds, then samples RSS every 10 s for 60 s of idleness. The target: RSS one
# minute after the load is within 2x the start-up idle RSS. Prints a Markdown report.
#
# Knobs: SOAK_DURATION=120 (seconds of load)  SOAK_CONNECTIONS=16  BENCH_BIN=dist/hoody-curl
#        BENCH_OUT=file (also write the report there)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${SOAK_DURATION:-120}
CONNS=${SOAK_CONNECTIONS:-16}
BIN=${BENCH_BIN:-$ROOT/dist/hoody-curl}
say() { printf '==> %s\n' "$*" >&2; }
for tool in nginx wrk curl; do command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] || { say "missing $tool (apt-get install nginx-light wrk curl)"; exit 1; }; done
[ -x "$BIN" ] || { say "no binary at $BIN: run ./build.sh"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/hoody-soak.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody when started by root
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
wait_http() { for _ in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# ---- upstream: nginx serving fixed files ------------------------------------------------------------
UP_PORT=$(free_port)
mkdir -p "$WORK/www" "$WORK/nginx"
head -c 1024 /dev/urandom > "$WORK/www/1k"
head -c $((64 * 1024)) /dev/urandom | base64 -w 100 > "$WORK/www/64k.txt"
head -c $((2 * 1024 * 1024)) /dev/urandom > "$WORK/www/2m"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 100000;
  server { listen 127.0.0.1:$UP_PORT; root $WORK/www;
    location /cookie { add_header Set-Cookie "soak=\$msec; Path=/"; return 200 "ok"; } } }
CONF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
wait_http "http://127.0.0.1:$UP_PORT/1k" || { say "nginx did not start"; exit 1; }

# ---- sidecar ---------------------------------------------------------------------------------------
PORT=$(free_port)
"$BIN" --listen "127.0.0.1:$PORT" --storage-dir "$WORK/store" --allow-cidr 127.0.0.1/32 --log-level warning \
  --job-retention-days 1 > "$WORK/sidecar.log" 2>&1 &
SIDECAR=$!
PIDS+=($SIDECAR)
wait_http "http://127.0.0.1:$PORT/health" || { say "hoody-curl did not start"; cat "$WORK/sidecar.log" >&2; exit 1; }
B="http://127.0.0.1:$PORT/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT"
curl -fsS -o /dev/null "$B%2F1k&response=transparent"
sleep 5
IDLE=$(rss_kib $SIDECAR)
say "idle RSS ${IDLE} KiB; soaking for ${DURATION}s with $CONNS connections"

# ---- the mixed load ------------------------------------------------------------------------------
cat > "$WORK/mix.lua" <<LUA
local paths = {
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F1k&response=transparent",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F1k&response=json",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F64k.txt&response=json",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F2m&response=json",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F2m&response=transparent",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2Fcookie&response=json&session_id=soak-SID",
  "/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$UP_PORT%2F64k.txt&mode=async",
}
local n = 0
request = function()
  n = n + 1
  local p = paths[(n % #paths) + 1]
  p = string.gsub(p, "SID", tostring(n % 50))
  return wrk.format("GET", p)
end
LUA
PEAK=0
( while kill -0 $SIDECAR 2>/dev/null; do r=$(rss_kib $SIDECAR); echo "$r"; sleep 1; done ) > "$WORK/rss.txt" &
SAMPLER=$!
wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$WORK/mix.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" 2>&1 || true
grep -q "requests in" "$WORK/wrk.txt" || { say "wrk failed:"; cat "$WORK/wrk.txt" >&2; exit 1; }
kill $SAMPLER 2>/dev/null || true
PEAK=$(sort -n "$WORK/rss.txt" | tail -1)
REQS=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
RATE=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
ERRS=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
AFTER=()
for t in 10 20 30 40 50 60; do sleep 10; AFTER+=("$(rss_kib $SIDECAR)"); done
FINAL=${AFTER[5]}
VERDICT=$([ "$FINAL" -le $((2 * IDLE)) ] && echo "**met**" || echo "**missed**")

REPORT=$(cat <<MD
### Soak — $(date -u '+%Y-%m-%d %H:%M UTC')

binary sha256 $(sha256sum "$BIN" | cut -c1-16)…, \`bench/soak.sh\` with SOAK_DURATION=$DURATION, $CONNS connections (wrk -t1), mixed GET-bridge
load (transparent and json relays of 1 KiB, 64 KiB text and 2 MiB bodies, session requests, async submits);
load average before/after: $(cut -d' ' -f1-3 /proc/loadavg)

| | RSS |
|---|---|
| idle after start-up (5 s after the first request) | $((IDLE / 1024)) MiB ($IDLE KiB) |
| peak during the soak | $((PEAK / 1024)) MiB |
| 10 / 20 / 30 / 40 / 50 s after the load | $(for a in "${AFTER[@]:0:5}"; do printf '%s ' "$((a / 1024))"; done)MiB |
| **60 s after the load** | **$((FINAL / 1024)) MiB** ($FINAL KiB) |

Requests: ${REQS:-?} in ${DURATION}s (${RATE:-?}/s), non-2xx: ${ERRS:-0}. Target (issue 16 item 7): RSS one minute
after the load within 2x the start-up idle RSS ($((2 * IDLE / 1024)) MiB): $VERDICT.
MD
)
echo "$REPORT"
[ -z "${BENCH_OUT:-}" ] || echo "$REPORT" > "$BENCH_OUT"
