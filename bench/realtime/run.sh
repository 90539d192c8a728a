#!/usr/bin/env bash
# Realtime load benchmark (issue 9): the sync SSE passthrough under 256 concurrent streams and the
# /ws job-event fan-out to 200 subscribers. Loopback only; the load generator and the upstream are
# pinned to core 0, the sidecar to core 1; every process started here is stopped by PID on exit.
#
#   bench/realtime/run.sh            # from the repo root, after ./build.sh
#
# Knobs: STREAMS (256) EVENTS (50) INTERVAL_MS (10) SUBSCRIBERS (200) JOBS (1000) BENCH_BIN (dist/hoody-curl)
#        PARTS ("passthrough ws"), SIDECAR_FLAGS (extra flags for the passthrough sidecar, e.g. --no-sse to
#        measure the plain transparent relay of the same streams)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/realtime"
BIN=${BENCH_BIN:-$ROOT/dist/hoody-curl}
STREAMS=${STREAMS:-256} EVENTS=${EVENTS:-50} INTERVAL_MS=${INTERVAL_MS:-10}
SUBSCRIBERS=${SUBSCRIBERS:-200} JOBS=${JOBS:-1000}
PARTS=${PARTS:-passthrough ws}
SIDECAR_FLAGS=${SIDECAR_FLAGS:-}
[ -x "$BIN" ] || { echo "build first: ./build.sh" >&2; exit 1; }
command -v node >/dev/null || { echo "node is required" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d /tmp/hoody-rt-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
wait_http() { for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not ready: $1" >&2; return 1; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }

UP_PORT=$(free_port)
taskset -c 0 node "$HERE/sse-upstream.js" "$UP_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UP_PORT/ok"

start_sidecar() {
  SC_PORT=$(free_port)
  taskset -c 1 "$BIN" --listen "127.0.0.1:$SC_PORT" --storage-dir "$WORK/data-$SC_PORT" --allow-cidr 127.0.0.1/32 \
    --log-level warning "$@" >"$WORK/sidecar-$SC_PORT.log" 2>&1 &
  SC_PID=$!
  PIDS+=("$SC_PID")
  wait_http "http://127.0.0.1:$SC_PORT/health"
}

echo "# realtime bench $(date -u +%Y-%m-%dT%H:%M:%SZ), binary $(sha256sum "$BIN" | cut -c1-16), load avg $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Passthrough: STREAMS concurrent GET-bridge streams x EVENTS events, one per INTERVAL_MS.
if [[ " $PARTS " == *" passthrough "* ]]; then
# shellcheck disable=SC2086
start_sidecar --max-sse-concurrent $((STREAMS * 2)) $SIDECAR_FLAGS
node "$HERE/load.js" passthrough "http://127.0.0.1:$SC_PORT" "http://127.0.0.1:$UP_PORT" 4 10 1 >/dev/null # warm-up
sleep 1
BASE_RSS=$(rss_kb "$SC_PID")
echo 5 > "/proc/$SC_PID/clear_refs" 2>/dev/null || true # reset VmHWM to the current RSS
PASS=$(taskset -c 0 node "$HERE/load.js" passthrough "http://127.0.0.1:$SC_PORT" "http://127.0.0.1:$UP_PORT" "$STREAMS" "$EVENTS" "$INTERVAL_MS")
PEAK_RSS=$(hwm_kb "$SC_PID")
sleep 2
AFTER_RSS=$(rss_kb "$SC_PID")
METRICS=$(curl -fs "http://127.0.0.1:$SC_PORT/metrics" | grep -E '^hoody_curl_sse_(promoted_total|streams_open|capacity)' | tr '\n' ' ')
echo "passthrough: $PASS"
echo "passthrough_rss_kb: baseline=$BASE_RSS peak=$PEAK_RSS growth=$((PEAK_RSS - BASE_RSS)) after=$AFTER_RSS"
echo "passthrough_metrics: $METRICS"
kill "$SC_PID"; wait "$SC_PID" 2>/dev/null || true
fi

# 2. /ws fan-out: SUBSCRIBERS subscribers, JOBS async jobs.
[[ " $PARTS " == *" ws "* ]] || exit 0
start_sidecar --max-concurrent-jobs 16 --max-pending-jobs $((JOBS * 2))
WS=$(taskset -c 0 node "$HERE/load.js" ws "http://127.0.0.1:$SC_PORT" "http://127.0.0.1:$UP_PORT" "$SUBSCRIBERS" "$JOBS")
echo "ws: $WS"
echo "ws_rss_kb: peak=$(hwm_kb "$SC_PID")"
echo "ws_metrics: $(curl -fs "http://127.0.0.1:$SC_PORT/metrics" | grep -E '^hoody_curl_(job_events|ws_subscribers)' | tr '\n' ' ')"
