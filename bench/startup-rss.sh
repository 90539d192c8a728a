#!/usr/bin/env bash
# Start-up (exec -> first 200 from /health) and idle RSS of the published binary, N runs, medians.
#   bench/startup-rss.sh [BIN] [RUNS]
set -euo pipefail
BIN=${1:-$(dirname "$0")/../dist/hoody-curl}
RUNS=${2:-15}
PORT=$((20000 + RANDOM % 20000))
times=(); rss=(); cpu=()
TICK=$(getconf CLK_TCK)
for i in $(seq "$RUNS"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  "$BIN" --listen 127.0.0.1:$PORT --storage-dir "$dir/data" --log-level warning >/dev/null 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$PORT/health"; do sleep 0.001; done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
  # CPU time (user + system) the process had used when it first answered: steadier than wall time on a busy machine.
  cpu+=($(awk -v t="$TICK" '{print int(($14 + $15) * 1000 / t)}' /proc/$pid/stat))
  sleep 2
  rss+=($(awk '/VmRSS/ {print $2}' /proc/$pid/status))
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "runs=$RUNS start_to_health_ms_median=$(median "${times[@]}") cpu_ms_at_ready_median=$(median "${cpu[@]}") idle_rss_kib_median=$(median "${rss[@]}")"
echo "start_ms: ${times[*]}"
echo "rss_kib: ${rss[*]}"
