#!/usr/bin/env bash
# User-space instructions per relayed 1 KiB request (issue 13), counted by valgrind's callgrind: the sidecar runs
# under callgrind, a warm-up load runs, the counters are zeroed, wrk relays for a fixed time (32 connections, GET
# bridge, transparent, a static nginx upstream), and the dumped total is divided by the requests wrk counted.
# Instruction counts do not move with the machine's load the way CPU time does (repeat runs: the total within ~5%,
# the libcurl column within ~1%), so this compares two builds of one change where paired CPU figures drown in noise. Kernel work is not counted, and
# under callgrind the sidecar runs ~50x slower (per-millisecond caches, such as the log timestamp, hit less). The last
# column counts only what runs inside curl_multi_socket_action (libcurl, and the header and body callbacks it makes).
#
#   bench/instructions.sh [BIN...]     default dist/hoody-curl; several binaries are measured one after another
#
# Knobs: INSN_SECS=15 (measured seconds), INSN_CONNS=32, INSN_MODE=get|post|json (the GET bridge with
# response=transparent, the rig's POST workload, or the GET bridge with response=json), BENCH_KEEP=1 (keep the work
# dir, with callgrind's files for callgrind_annotate).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${INSN_SECS:-15}
CONNS=${INSN_CONNS:-32}
MODE=${INSN_MODE:-get}
case "$MODE" in get|post|json) ;; *) echo "INSN_MODE must be get, post or json" >&2; exit 2 ;; esac

say() { printf '==> %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in valgrind callgrind_control callgrind_annotate wrk curl python3 taskset; do
  command -v "$tool" >/dev/null 2>&1 || die "missing $tool (apt-get install -y valgrind wrk curl python3 util-linux)"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "missing nginx (apt-get install -y nginx-light)"

BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$ROOT/dist/hoody-curl")
for b in "${BINS[@]}"; do [ -x "$b" ] || die "$b is missing: run ./build.sh first"; done

WORK=$(mktemp -d /tmp/hoody-insn.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"

read -r PORT_UP PORT_HC <<<"$(free_ports 2)"
mkdir -p "$WORK/www"
head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
chmod 644 "$WORK"/www/*
nginx_conf upstream "  server { listen 127.0.0.1:$PORT_UP; root $WORK/www; }"
dir=$WORK/nginx-upstream
taskset -c 0 "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
PIDS+=("$!")
wait_http "http://127.0.0.1:$PORT_UP/1k.bin" 10 || die "nginx did not start"

URL="http://127.0.0.1:$PORT_HC/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$PORT_UP%2F1k.bin&response=transparent"
LOAD_URL=$URL
WRK_ARGS=()
if [ "$MODE" = json ]; then
  LOAD_URL="http://127.0.0.1:$PORT_HC/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$PORT_UP%2F1k.bin&response=json"
elif [ "$MODE" = post ]; then
  # The rig's POST workload (../shared/bench): the same relayed GET, described by a JSON body.
  LOAD_URL="http://127.0.0.1:$PORT_HC/api/v1/curl/request"
  cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"url":"http://127.0.0.1:$PORT_UP/1k.bin","method":"GET","response":"transparent"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  WRK_ARGS=(-s "$WORK/post.lua")
fi
echo "| binary | requests | instructions | instructions per request | of which inside libcurl's curl_multi_socket_action |"
echo "|---|---:|---:|---:|---:|"
n=0
for b in "${BINS[@]}"; do
  n=$((n + 1))
  out=$WORK/callgrind-$n.out
  valgrind --tool=callgrind --callgrind-out-file="$out" "$b" --listen "127.0.0.1:$PORT_HC" \
    --storage-dir "$WORK/data-$n" --allow-cidr 127.0.0.1/32 >"$WORK/sidecar-$n.log" 2>&1 &
  VG=$!
  PIDS+=("$VG")
  wait_http "$URL" 120 || { tail -20 "$WORK/sidecar-$n.log" >&2; die "$b did not answer under valgrind"; }
  taskset -c 0 wrk -t1 -c"$CONNS" -d8s "${WRK_ARGS[@]}" "$LOAD_URL" >/dev/null
  callgrind_control -z "$VG" >/dev/null 2>&1
  requests=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECS}s" "${WRK_ARGS[@]}" "$LOAD_URL" | awk '/requests in/ { print $1 }')
  callgrind_control -d "$VG" >/dev/null 2>&1
  kill -TERM "$VG"; wait "$VG" 2>/dev/null || true
  dump=$(ls -t "$out".* | head -1)
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ -n "$total" ] || die "no measurement for $b (see $WORK)"
  # libcurl's share (with the callbacks it makes into the sidecar) is steadier than the total: the total also carries
  # the sidecar's timers, trims and collections, which land in the measured window or not (repeat runs: ±5%).
  curl=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | awk '/:curl_multi_socket_action / && /libcurl/ { gsub(",", "", $1); print $1; exit }' || true)
  echo "| $b | $requests | $total | $((total / requests)) | $(( ${curl:-0} / requests )) |"
done
