#!/usr/bin/env python3
"""Start -> first relayed 200, and how much of it the relay's core sat idle (issue 13).

On the rig's one pinned core, start-up time is CPU time plus the time the process waits with nothing else to run:
fsync on a fresh storage dir, a page read from disk, a thread blocked on a lock another thread holds while it waits.
This starts each target pinned to CPU 1 (a small upstream on CPU 0), polls its relay URL until it answers 200, and
reports per target the medians of: the wall time, the time CPU 1 was idle between the exec and that answer
(perf's sched_switch events; needs root), the target's page faults and the CPU time of its live threads at the answer.
Targets alternate within each round; every start gets a fresh storage dir.

    bench/startup-idle.py [--runs 8] [--no-idle] NAME=COMMAND ...

COMMAND has {port} and {dir}; for example
    bench/startup-idle.py new='dist/hoody-curl --listen 127.0.0.1:{port} --storage-dir {dir} --allow-cidr 127.0.0.1/32' \\
        naive='/tmp/hoody-bench/build/out/naive-aot/bin/naive-relay --port {port}'
"""
import argparse, http.server, os, re, shlex, shutil, signal, socket, statistics, subprocess, tempfile, threading, time

RELAY_PATH = "/api/v1/curl/request?url=http://127.0.0.1:{up}/1k&response=transparent"


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b"x" * 1024

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data[:12]


def idle_ms(perf_data, start_mono, end_mono):
    """Idle time of CPU 1 (swapper running) between the target's exec and end_mono (both CLOCK_MONOTONIC, as perf's)."""
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "time,event,trace"], capture_output=True, text=True).stdout
    events = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+):\s+(\S+):\s+(.*)", line)
        if m:
            events.append((float(m.group(1)), m.group(2), m.group(3)))
    execs = [t for t, e, _ in events if "exec" in e and t >= start_mono]
    if not execs:
        return None
    start = execs[-1]  # taskset execs the target: the last exec is the target's
    idle, current, last = 0.0, None, start
    for t, e, trace in events:
        if e != "sched:sched_switch":
            continue
        nxt = re.search(r"next_comm=(.*?) next_pid=(\d+)", trace)
        if t < start:
            current = nxt.group(2) if nxt else current
            continue
        if t > end_mono:
            break
        if current == "0":
            idle += t - last
        current, last = (nxt.group(2) if nxt else current), t
    if current == "0":
        idle += end_mono - last
    return idle * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--no-idle", action="store_true", help="skip perf (no idle figure)")
    ap.add_argument("targets", nargs="+")
    args = ap.parse_args()
    targets = [t.split("=", 1) for t in args.targets]
    os.sched_setaffinity(0, {0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = RELAY_PATH.format(up=server.server_address[1])
    work = tempfile.mkdtemp(prefix="hoody-startup-idle.")
    results = {name: {"wall": [], "idle": [], "faults": [], "cpu": []} for name, _ in targets}
    try:
        for run in range(args.runs):
            order = targets[run % len(targets):] + targets[:run % len(targets)]
            for name, command in order:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                data = os.path.join(work, f"{name}-{run}")
                argv = shlex.split(command.format(port=port, dir=data))
                rec, perf_data = None, os.path.join(work, "sched.data")
                if not args.no_idle:
                    rec = subprocess.Popen(["perf", "record", "-q", "-a", "-C", "1", "-e", "sched:sched_switch",
                                            "-e", "sched:sched_process_exec", "-o", perf_data],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(0.5)
                t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
                proc = subprocess.Popen(["taskset", "-c", "1"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                deadline = t0 + 10
                while True:
                    try:
                        if get(port, path).startswith(b"HTTP/1.1 200"):
                            break
                    except OSError:
                        if time.clock_gettime(time.CLOCK_MONOTONIC) > deadline:
                            raise SystemExit(f"{name} did not answer within 10 s")
                        time.sleep(0.001)
                t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
                stat = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
                run_ns = 0
                for tid in os.listdir(f"/proc/{proc.pid}/task"):
                    try:
                        run_ns += int(open(f"/proc/{proc.pid}/task/{tid}/schedstat").read().split()[0])
                    except OSError:
                        pass
                r = results[name]
                r["wall"].append((t1 - t0) * 1000)
                r["faults"].append(int(stat[7]))
                r["cpu"].append(run_ns / 1e6)
                if rec:
                    time.sleep(0.05)
                    rec.send_signal(signal.SIGINT)
                    rec.wait()
                    if (idle := idle_ms(perf_data, t0, t1)) is not None:
                        r["idle"].append(idle)
                proc.terminate()
                proc.wait()
                shutil.rmtree(data, ignore_errors=True)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    med = lambda xs: f"{statistics.median(xs):.1f}" if xs else "–"
    print(f"{args.runs} fresh starts each, pinned to CPU 1, interleaved\n")
    print("| target | start -> first relayed 200 ms | CPU 1 idle ms | minor faults | CPU ms (live threads) | wall per run |")
    print("|---|---:|---:|---:|---:|---|")
    for name, _ in targets:
        r = results[name]
        print(f"| {name} | {med(r['wall'])} | {med(r['idle'])} | {med(r['faults'])} | {med(r['cpu'])} | "
              + " ".join(f"{x:.0f}" for x in r["wall"]) + " |")


if __name__ == "__main__":
    main()
