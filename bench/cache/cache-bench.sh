#!/usr/bin/env bash
# Response-cache benchmark (issue 11): sidecar CPU per request of a 1 KiB cache hit against a 1 KiB relayed
# miss (no-store upstream answer), interleaved in one run; and the MB/s of a 100 MiB hit against nginx serving
# the same file from disk. Everything on 127.0.0.1; the sidecar is pinned to CPU 0, nginx and the load to
# CPU 1. Every process started here is stopped by PID on exit.
#   bench/cache/cache-bench.sh            (after ./build.sh; DURATION=5 ROUNDS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${HOODY_CURL_BIN:-$PWD/dist/hoody-curl}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
WORK="$(mktemp -d /tmp/hoody-cache-bench.XXXXXX)"
UP_PORT="${UP_PORT:-27581}"
SC_PORT="${SC_PORT:-27582}"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

mkdir -p "$WORK"/{www/cached,www/nostore,logs,tmp,data}
chmod 755 "$WORK" "$WORK/www" "$WORK/www/cached" "$WORK/www/nostore" # nginx workers run unprivileged
head -c 1024 /dev/urandom > "$WORK/www/cached/1k.bin"
cp "$WORK/www/cached/1k.bin" "$WORK/www/nostore/1k.bin"
chmod 644 "$WORK"/www/*/*
head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/www/cached/100m.bin"; chmod 644 "$WORK/www/cached/100m.bin"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/logs/nginx.error.log warn;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 100000000;
  default_type application/octet-stream;
  client_body_temp_path $WORK/tmp/c; proxy_temp_path $WORK/tmp/p; fastcgi_temp_path $WORK/tmp/f; uwsgi_temp_path $WORK/tmp/u; scgi_temp_path $WORK/tmp/s;
  server {
    listen 127.0.0.1:$UP_PORT;
    root $WORK/www;
    location /cached/ { add_header Cache-Control "max-age=3600"; }
    location /nostore/ { add_header Cache-Control "no-store"; }
  }
}
CONF
taskset -c 1 nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/nginx.error.log" & PIDS+=($!)
taskset -c 0 "$BIN" --listen "127.0.0.1:$SC_PORT" --storage-dir "$WORK/data" --allow-cidr 127.0.0.1/32 --log-level warning \
  --cache-namespace ctn:bench:cache --cache-mode readwrite --cache-max-object-bytes $((200 * 1024 * 1024)) > "$WORK/logs/sidecar.log" 2>&1 & SC=$!; PIDS+=($SC)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SC_PORT/health" >/dev/null && curl -sf "http://127.0.0.1:$UP_PORT/cached/1k.bin" >/dev/null && break; sleep 0.1; done

enc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
relay() { echo "http://127.0.0.1:$SC_PORT/api/v1/curl/request?url=$(enc "http://127.0.0.1:$UP_PORT$1")&response=transparent"; }
HIT_URL=$(relay /cached/1k.bin)
MISS_URL=$(relay /nostore/1k.bin)
BIG_URL=$(relay /cached/100m.bin)
ticks() { awk '{print $14 + $15}' "/proc/$SC/stat"; }
hz=$(getconf CLK_TCK)

# Prime the cache and check the hit path answers the upstream's exact bytes.
curl -s -o /dev/null "$HIT_URL"; curl -s -o /dev/null "$BIG_URL"
cmp <(curl -s "$HIT_URL") "$WORK/www/cached/1k.bin"
[ "$(curl -s -D - -o /dev/null "$HIT_URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')" = HIT ]
[ "$(curl -s -D - -o /dev/null "$MISS_URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')" = MISS ]

# One wrk cell: prints "requests cpu_seconds".
cell() {
  local url=$1 before after out
  before=$(ticks)
  out=$(taskset -c 1 wrk -t1 -c16 -d"${DURATION}s" "$url")
  after=$(ticks)
  echo "$(echo "$out" | awk '/requests in/{print $1}') $(awk -v a="$after" -v b="$before" -v hz="$hz" 'BEGIN{print (a-b)/hz}')"
}

echo "| round | kind | requests | req/s | sidecar CPU s | CPU µs/request |"
echo "|---|---|---:|---:|---:|---:|"
declare -A US
for r in $(seq "$ROUNDS"); do
  for kind in miss hit; do
    url=$MISS_URL; [ "$kind" = hit ] && url=$HIT_URL
    read -r n cpu < <(cell "$url")
    us=$(awk -v c="$cpu" -v n="$n" 'BEGIN{printf "%.1f", c*1e6/n}')
    US[$kind]="${US[$kind]:-} $us"
    echo "| $r | $kind | $n | $(awk -v n="$n" -v d="$DURATION" 'BEGIN{printf "%.0f", n/d}') | $cpu | $us |"
  done
done
mean() { echo "$1" | awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}'; }
mh=$(mean "${US[hit]}"); mm=$(mean "${US[miss]}")
echo
echo "1 KiB: hit $mh µs CPU/request, relayed miss $mm µs CPU/request, ratio hit/miss = $(awk -v h="$mh" -v m="$mm" 'BEGIN{printf "%.2f", h/m}') (target ≤ 0.50)"

echo
echo "| run | nginx MB/s (file from disk) | hoody-curl hit MB/s | ratio |"
echo "|---|---:|---:|---:|"
ratios=""
for r in $(seq "$ROUNDS"); do
  n=$(taskset -c 1 curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$UP_PORT/cached/100m.bin")
  h=$(taskset -c 1 curl -s -o /dev/null -w '%{speed_download}' "$BIG_URL")
  ratio=$(awk -v h="$h" -v n="$n" 'BEGIN{printf "%.2f", h/n}')
  ratios="$ratios $ratio"
  echo "| $r | $(awk -v x="$n" 'BEGIN{printf "%.0f", x/1e6}') | $(awk -v x="$h" 'BEGIN{printf "%.0f", x/1e6}') | $ratio |"
done
echo
echo "100 MiB hit / nginx: mean ratio $(mean "$ratios") (target ≥ 0.80)"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other sessions share the machine)"
