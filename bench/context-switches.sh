#!/usr/bin/env bash
# Context switches per MiB relayed (issue 13): one 100 MiB body through nginx (reverse proxy) and through
# hoody-curl (GET bridge, transparent), interleaved, with the client and the static upstream on core 0 and
# the relay alone on core 1, as in ../shared/bench/run.sh. A relay's count is the sum over all its threads
# (and nginx's master and worker) of voluntary + nonvoluntary switches in /proc/<pid>/task/*/status,
# taken just before and just after each download. See bench/README.md.
#
#   bench/context-switches.sh         6 interleaved rounds, a Markdown table on stdout
#
# Knobs: CS_ROUNDS=6, BENCH_BIN=path (default dist/hoody-curl), BENCH_KEEP=1 (keep the work dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${CS_ROUNDS:-6}
LOAD_CPU=0
RELAY_CPU=1

say() { printf '==> %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in nginx curl python3 taskset; do
  command -v "$tool" >/dev/null 2>&1 || [ "$tool" = nginx -a -x /usr/sbin/nginx ] \
    || die "missing $tool (apt-get install -y nginx-light curl python3 util-linux)"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ "$(nproc --all)" -ge 2 ] || die "needs at least 2 cores"

BIN_SRC=${BENCH_BIN:-$ROOT/dist/hoody-curl}
[ -x "$BIN_SRC" ] || die "$BIN_SRC is missing: run ./build.sh first"

WORK=$(mktemp -d /tmp/hoody-cs.XXXXXX)
chmod 755 "$WORK"
# shellcheck source=lib/common.sh
. "$ROOT/bench/lib/common.sh"

BIN=$WORK/hoody-curl
cp "$BIN_SRC" "$BIN"
read -r PORT_UP PORT_NGX PORT_HC <<<"$(free_ports 3)"

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom >"$WORK/www/1k.bin"
head -c 104857600 /dev/urandom >"$WORK/www/100m.bin"
chmod 644 "$WORK"/www/*

nginx_conf upstream "  server { listen 127.0.0.1:$PORT_UP; root $WORK/www; }"
# The proxy as ../shared/bench configures it: buffering on, buffers for 64 KiB bodies, never to disk.
nginx_conf proxy "  upstream static_up { server 127.0.0.1:$PORT_UP; keepalive 64; }
  server {
    listen 127.0.0.1:$PORT_NGX;
    location / {
      proxy_pass http://static_up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering on;
      proxy_buffer_size 16k;
      proxy_buffers 8 64k;
      proxy_busy_buffers_size 128k;
      proxy_max_temp_file_size 0;
    }
  }"

start_nginx() { # name cpu port -> echo master pid
  local dir=$WORK/nginx-$1
  taskset -c "$2" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$3/1k.bin" 10 || { cat "$dir/error.log" >&2; die "nginx $1 did not start"; }
  NGINX_MASTER=$pid
}
start_nginx upstream "$LOAD_CPU" "$PORT_UP"
start_nginx proxy "$RELAY_CPU" "$PORT_NGX"
NGX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

taskset -c "$RELAY_CPU" "$BIN" --listen "127.0.0.1:$PORT_HC" --storage-dir "$WORK/hc-data" \
  --allow-cidr 127.0.0.1/32 --log-level warning >>"$WORK/hoody-curl.log" 2>&1 &
HC_PID=$!
PIDS+=("$HC_PID")
wait_http "http://127.0.0.1:$PORT_HC/health" 20 || { tail -20 "$WORK/hoody-curl.log" >&2; die "hoody-curl did not start"; }

url_for() {
  case $1 in
    nginx) echo "http://127.0.0.1:$PORT_NGX/100m.bin" ;;
    hoody-curl) echo "http://127.0.0.1:$PORT_HC/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A$PORT_UP%2F100m.bin&response=transparent" ;;
  esac
}
pids_for() { case $1 in nginx) echo "$NGX_PIDS" ;; hoody-curl) echo "$HC_PID" ;; esac; }

want=$(sha256sum "$WORK/www/100m.bin" | cut -d' ' -f1)
for t in nginx hoody-curl; do
  got=$(curl -s --max-time 60 "$(url_for $t)" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$want" ] || die "$t returned wrong bytes"
done
say "both relays return the right bytes; $ROUNDS interleaved rounds of one 100 MiB download each"

switches() { # pids... -> total voluntary + nonvoluntary over all their threads
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done \
    | awk '/^voluntary_ctxt_switches/ { s += $2 } /^nonvoluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

RESULTS=$WORK/results.txt
: >"$RESULTS"
for r in $(seq "$ROUNDS"); do
  for t in nginx hoody-curl; do
    # shellcheck disable=SC2046
    before=$(switches $(pids_for $t))
    speed=$(taskset -c "$LOAD_CPU" curl -s -o /dev/null --max-time 120 -w '%{speed_download}' "$(url_for $t)")
    # shellcheck disable=SC2046
    after=$(switches $(pids_for $t))
    echo "$t $speed $((after - before))" >>"$RESULTS"
    say "round $r $t: $(awk -v s="$speed" 'BEGIN { printf "%.0f", s / 1e6 }') MB/s, $((after - before)) switches"
  done
done

python3 - "$RESULTS" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, speed, sw = line.split()
    rows.setdefault(t, []).append((float(speed) / 1e6, int(sw) / 100))
print(f"Context switches per MiB, one 100 MiB download per round, {len(rows['nginx'])} interleaved rounds "
      f"(load average after: {sys.argv[2]}):\n")
print("| relay | MB/s median (range) | switches / MiB median (range) |")
print("|---|---|---|")
for t in ("nginx", "hoody-curl"):
    mb = [m for m, _ in rows[t]]; cs = [c for _, c in rows[t]]
    print(f"| {t} | {statistics.median(mb):,.0f} ({min(mb):,.0f}–{max(mb):,.0f}) "
          f"| {statistics.median(cs):.2f} ({min(cs):.2f}–{max(cs):.2f}) |")
EOF
