# Shared by bench/run.sh and bench/context-switches.sh: writes $WORK/nginx-<name>/nginx.conf, one worker, no access
# log, every temp path inside the work dir, sendfile on, long keep-alive; the caller gives the server block(s).
# Needs WORK set. Usage: nginx_conf <name> <http-block-body>
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
