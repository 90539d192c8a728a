# Shared by bench/run.sh and bench/context-switches.sh. Source it once WORK (the work dir) is set; it installs the
# clean-up trap, which stops every pid in PIDS and removes WORK (kept with BENCH_KEEP=1). The caller defines say().
PIDS=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() { # N -> N free loopback ports
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_http() { # url [seconds] -> 0 when it answers 200
  local deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$1" || true)" = 200 ] && return 0
    sleep 0.05
  done
  return 1
}

# Writes $WORK/nginx-<name>/nginx.conf: one worker, no access log, every temp path inside the work dir, sendfile on,
# long keep-alive; the caller gives the server block(s). Usage: nginx_conf <name> <http-block-body>
nginx_conf() {
  local dir=$WORK/nginx-$1 user_line=""
  [ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65;
$2
}
CONF
}
