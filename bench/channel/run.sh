#!/usr/bin/env bash
# Request-channel benchmark (issue 10): 1,000 streams over 8 sockets (1 KiB bodies) with the sidecar's RSS,
# 1 KiB req/s over one channel socket vs the REST GET bridge at the same concurrency, and one large body
# over a binary channel vs the transparent relay. Loopback only; load and upstream on core 0, sidecar on
# core 1; every process started here is stopped by PID on exit.
#
#   bench/channel/run.sh        # from the repo root, after ./build.sh
#
# Knobs: SOCKETS (8) STREAMS (1000) CONCURRENCY (32) DURATION (5, seconds per rate cell) BIG_MIB (100) BIG_REPS (3) BENCH_BIN (dist/hoody-curl)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/channel"
BIN=${BENCH_BIN:-$ROOT/dist/hoody-curl}
SOCKETS=${SOCKETS:-8} STREAMS=${STREAMS:-1000} CONCURRENCY=${CONCURRENCY:-32} DURATION=${DURATION:-5} BIG_MIB=${BIG_MIB:-100} BIG_REPS=${BIG_REPS:-3}
[ -x "$BIN" ] || { echo "build first: ./build.sh" >&2; exit 1; }
WORK=$(mktemp -d /tmp/hoody-ch-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'; }
wait_http() { for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "not ready: $1" >&2; return 1; }
NODE="node --experimental-websocket --no-warnings"

UP_PORT=$(free_port)
taskset -c 0 node "$HERE/upstream.js" "$UP_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$UP_PORT/ok"
SC_PORT=$(free_port)
taskset -c 1 "$BIN" --listen "127.0.0.1:$SC_PORT" --storage-dir "$WORK/data" --allow-cidr 127.0.0.1/32 --log-level warning >"$WORK/sidecar.log" 2>&1 &
SC_PID=$!
PIDS+=("$SC_PID")
wait_http "http://127.0.0.1:$SC_PORT/health"
SC="http://127.0.0.1:$SC_PORT" UP="http://127.0.0.1:$UP_PORT"

echo "# channel bench $(date -u +%Y-%m-%dT%H:%M:%SZ), binary $(sha256sum "$BIN" | cut -c1-16), load avg $(cut -d' ' -f1-3 /proc/loadavg)"
echo 5 > "/proc/$SC_PID/clear_refs" 2>/dev/null || true
echo "fanout: $(taskset -c 0 $NODE "$HERE/load.js" fanout "$SC" "$UP" "$SOCKETS" "$STREAMS")"
echo "fanout_rss_kb: peak=$(awk '/^VmHWM:/{print $2}' /proc/$SC_PID/status) now=$(awk '/^VmRSS:/{print $2}' /proc/$SC_PID/status)"
echo "rate: $(taskset -c 0 $NODE "$HERE/load.js" rate "$SC" "$UP" "$CONCURRENCY" "$DURATION")"
echo "big: $(taskset -c 0 $NODE "$HERE/load.js" big "$SC" "$UP" "$BIG_MIB" "$BIG_REPS")"
echo "load avg after: $(cut -d' ' -f1-3 /proc/loadavg)"
