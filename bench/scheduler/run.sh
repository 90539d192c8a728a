#!/usr/bin/env bash
# hoody-curl scheduler benchmark: N enabled `*/1 * * * * *` schedules (one firing per schedule per
# second) against a local upstream, measured for a while; reports the firing lag (actual - planned)
# from two sources:
#   * the hoody_curl_schedule_lag_seconds histogram on /metrics (difference of two scrapes, quantiles
#     interpolated inside buckets), the moment the scheduler handed each firing to the job service;
#   * every job the schedules created: created_at minus the whole second it was planned for (exact,
#     millisecond resolution), plus how many jobs completed and whether firings were skipped.
#
#   bench/scheduler/run.sh          run, print a Markdown report
#
# Knobs (environment):
#   SCHED_BENCH_SCHEDULES=200   schedules          SCHED_BENCH_DURATION=20  measured seconds
#   SCHED_BENCH_WARMUP=3        seconds skipped after the schedules exist
#   SCHED_BENCH_BIN=path        binary (default dist/hoody-curl, built with ./build.sh if missing)
#   SCHED_BENCH_FLAGS="..."     extra sidecar flags (e.g. "--max-concurrent-jobs 16")
#   SCHED_BENCH_KEEP=1          keep the temp work dir (sidecar log, raw data)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${SCHED_BENCH_SCHEDULES:-200}
DURATION=${SCHED_BENCH_DURATION:-20}
WARMUP=${SCHED_BENCH_WARMUP:-3}
BIN=${SCHED_BENCH_BIN:-$ROOT/dist/hoody-curl}
EXTRA_FLAGS=${SCHED_BENCH_FLAGS:-}

say() { printf '==> %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3)"
command -v curl >/dev/null 2>&1 || die "curl is required (apt-get install -y curl)"
if [ ! -x "$BIN" ]; then
  say "no binary at $BIN: building it"
  "$ROOT/build.sh"
fi

WORK=$(mktemp -d /tmp/hoody-sched-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${SCHED_BENCH_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- the upstream: a threaded HTTP server answering 200 "ok" ---------------------------------------
UPSTREAM_PORT=$(free_port)
cat >"$WORK/upstream.py" <<'EOF'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$WORK/upstream.py" "$UPSTREAM_PORT" &
PIDS+=($!)

# ---- the sidecar ------------------------------------------------------------------------------------
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# shellcheck disable=SC2086
"$BIN" --listen "127.0.0.1:$PORT" --storage-dir "$WORK/data" --allow-cidr 127.0.0.1/32 --log-level warning $EXTRA_FLAGS \
  >"$WORK/sidecar.log" 2>&1 &
PIDS+=($!)
SIDECAR_PID=$!
for _ in $(seq 1 200); do
  curl -fs "$BASE/health" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fs "$BASE/health" >/dev/null || { cat "$WORK/sidecar.log" >&2; die "the sidecar did not start"; }
curl -fs "http://127.0.0.1:$UPSTREAM_PORT/" >/dev/null || die "the upstream did not start"

say "creating $N schedules '*/1 * * * * *' against http://127.0.0.1:$UPSTREAM_PORT/"
python3 - "$BASE" "$UPSTREAM_PORT" "$N" >"$WORK/ids.txt" <<'EOF'
import json, sys, urllib.request
base, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    body = json.dumps({"cron": "*/1 * * * * *", "name": f"bench-{i}",
                       "request": {"url": f"http://127.0.0.1:{port}/?s={i}", "job_name": f"bench-{i}"}}).encode()
    req = urllib.request.Request(base + "/api/v1/curl/schedule", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 201, r.status
        print(json.load(r)["schedule_id"])
EOF

sleep "$WARMUP"
curl -fs "$BASE/metrics" >"$WORK/metrics.before"
START=$(date -u +%s.%N)
say "measuring for ${DURATION}s"
sleep "$DURATION"
END=$(date -u +%s.%N)
curl -fs "$BASE/metrics" >"$WORK/metrics.after"
RSS_KB=$(awk '/VmRSS/ {print $2}' "/proc/$SIDECAR_PID/status")
CPU_TICKS=$(awk '{print $14 + $15}' "/proc/$SIDECAR_PID/stat")
# Let the last second's jobs finish before reading them back.
sleep 3
curl -fs "$BASE/api/v1/curl/jobs" >"$WORK/jobs.json"

# ---- the report -------------------------------------------------------------------------------------
python3 - "$WORK" "$N" "$DURATION" "$START" "$END" "$RSS_KB" "$CPU_TICKS" "$(getconf CLK_TCK)" <<'EOF'
import json, math, os, platform, re, sys, datetime, subprocess
work, n, duration, start, end, rss_kb, cpu_ticks, clk = sys.argv[1:9]
n, duration, start, end = int(n), int(duration), float(start), float(end)

def scrape(path):
    buckets, total, count, firings, enabled = {}, 0.0, 0, {}, None
    for line in open(path):
        m = re.match(r'hoody_curl_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m: buckets[math.inf if m[1] == "+Inf" else float(m[1])] = float(m[2])
        m = re.match(r'hoody_curl_schedule_lag_seconds_sum (\S+)', line)
        if m: total = float(m[1])
        m = re.match(r'hoody_curl_schedule_lag_seconds_count (\S+)', line)
        if m: count = int(float(m[1]))
        m = re.match(r'hoody_curl_schedule_firings_total\{result="([^"]+)"\} (\S+)', line)
        if m: firings[m[1]] = int(float(m[2]))
        m = re.match(r'hoody_curl_schedules_enabled (\S+)', line)
        if m: enabled = int(float(m[1]))
    return buckets, total, count, firings, enabled

b0, s0, c0, f0, _ = scrape(f"{work}/metrics.before")
b1, s1, c1, f1, enabled = scrape(f"{work}/metrics.after")
edges = sorted(b1)
cum = [(e, b1[e] - b0.get(e, 0)) for e in edges]
count = c1 - c0

def hist_q(q):
    target = q * count
    prev_edge, prev_cum = 0.0, 0.0
    for edge, c in cum:
        if c >= target:
            if math.isinf(edge): return prev_edge
            width = c - prev_cum
            return prev_edge + (edge - prev_edge) * ((target - prev_cum) / width if width else 0)
        prev_edge, prev_cum = edge, c
    return prev_edge

jobs = json.load(open(f"{work}/jobs.json"))["items"]
def ts(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
window = [j for j in jobs if j.get("schedule_id") and start <= ts(j["created_at"]) < end]
lags = sorted((ts(j["created_at"]) - math.floor(ts(j["created_at"]))) * 1000 for j in window)
def q(values, p):
    if not values: return float("nan")
    return values[min(len(values) - 1, int(math.ceil(p * len(values))) - 1)]
statuses = {}
for j in window: statuses[j["status"]] = statuses.get(j["status"], 0) + 1
seconds = {}
for j in window: seconds[math.floor(ts(j["created_at"]))] = seconds.get(math.floor(ts(j["created_at"])), 0) + 1
per_second = sorted(seconds.values())

def fsync_ms():
    import sqlite3, tempfile, time
    d = tempfile.mkdtemp(); c = sqlite3.connect(os.path.join(d, "t.db"), isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=FULL"); c.execute("CREATE TABLE t(a)")
    t = time.perf_counter()
    for _ in range(300):
        c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO t VALUES (?)", ("x" * 500,)); c.execute("COMMIT")
    return (time.perf_counter() - t) / 300 * 1000

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
cpu_s = int(cpu_ticks) / int(clk)

print(f"## Scheduler firing lag — {n} schedules `*/1 * * * * *`, {duration} s measured")
print()
load = open("/proc/loadavg").read().split()[:3]
print(f"Machine: {os.cpu_count()} cores ({cpu}), {int(mem)//1024} MiB RAM, Linux {platform.release()}; "
      f"load average at the end {' '.join(load)}; SQLite WAL commit with synchronous=FULL: {fsync_ms():.2f} ms.")
print()
print("| source | firings | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| /metrics histogram (interpolated) | {count} | {hist_q(0.5)*1000:.1f} | {hist_q(0.9)*1000:.1f} | {hist_q(0.99)*1000:.1f} | — |")
print(f"| job created_at − planned second (exact) | {len(lags)} | {q(lags,0.5):.1f} | {q(lags,0.9):.1f} | {q(lags,0.99):.1f} | {lags[-1] if lags else float('nan'):.1f} |")
print()
print("(The exact column takes the whole second a job was created in as its planned time, so it is only right while lags stay under 1 s.)")
print()
delta = {k: f1.get(k, 0) - f0.get(k, 0) for k in f1}
print(f"- schedules enabled: {enabled}; firings in the window by result: " + ", ".join(f"{k} {v}" for k, v in sorted(delta.items())))
print(f"- expected firings: {n * duration}; jobs created in the window: {len(window)} "
      f"(per second min {per_second[0] if per_second else 0}, max {per_second[-1] if per_second else 0})")
print(f"- jobs of the window by status 3 s after: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
print(f"- sidecar: RSS {int(rss_kb)//1024} MiB, CPU {cpu_s:.1f} s over the whole run ({cpu_s/(duration+3):.0%} of one core on average)")
EOF
