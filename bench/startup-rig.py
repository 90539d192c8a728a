#!/usr/bin/env python3
"""Start -> first relayed 200 the way the shared rig measures it, with where each start's CPU went (issue 13).

The rig (../shared/bench/run.sh) starts the relay under test through `bash -c "exec RELAY_CMD"` and its anchors
directly, all pinned to CPU 1; it waits until the port accepts a TCP connection, then asks for a relayed 1 KiB file
from an nginx upstream on CPU 0 until the answer is 200. `bench/startup-idle.py` (fresh-dir starts, GET polling, a
Python upstream) does not reproduce that cell: on 2026-12-02 it put us level with the naive relay while the rig put
us 20 ms behind it. This copies the rig's way, interleaving the targets per round.

    bench/startup-rig.py [--runs 10] [--perf [--per-thread N]] NAME=COMMAND ...

COMMAND has {port} and {dir} (a fresh folder per start). Every target runs in a small work folder, as the rig runs
them in its WORK folder: ASP.NET's default builders watch their content root, the current folder, and the naive relay
started 21 ms later from this repository's root (89 against 68 ms, 2026-12-02) than from an empty folder. `NAME=bash:COMMAND` starts it through `bash -c "exec ..."`
as the rig starts RELAY_CMD. With --perf, `perf record -C 1` (cpu-clock, 4 kHz; needs root) runs across all starts,
and for each target the samples of its process between spawn and first answer are summed by thread, shared object
and symbol (ms per start, at perf's own pace). Example:

    bench/startup-rig.py --perf \\
        naive='/tmp/hoody-bench/build/out/naive-aot/bin/naive-relay --port {port}' \\
        hoody='bash:dist/hoody-curl --listen 127.0.0.1:{port} --storage-dir {dir} --allow-cidr 127.0.0.1/32'
"""
import argparse, collections, http.client, os, re, shlex, shutil, signal, socket, statistics, subprocess, tempfile, time

HZ = 4000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relayed_status(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def start_upstream(work):
    """nginx serving /1k.bin on CPU 0, as the rig's static upstream."""
    www = os.path.join(work, "www")
    os.makedirs(www)
    with open(os.path.join(www, "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"worker_processes 1; daemon off; pid {work}/nginx.pid; error_log {work}/nginx.err;\n"
                f"events {{}}\nhttp {{ access_log off; server {{ listen 127.0.0.1:{port}; root {www}; }} }}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(["taskset", "-c", "0", nginx, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.01)
    proc.kill()
    raise SystemExit("nginx did not start (apt-get install -y nginx-light)")


def one_start(argv, port, path, log, cwd):
    """Spawn pinned to CPU 1 in cwd; wait for the port, then for a relayed 200. Returns (t0, t1, pid) on CLOCK_MONOTONIC."""
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    proc = subprocess.Popen(["taskset", "-c", "1"] + argv, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
    deadline = t0 + 20
    try:
        while True:
            if time.clock_gettime(time.CLOCK_MONOTONIC) > deadline or proc.poll() is not None:
                raise SystemExit(f"{argv[0]} did not listen (exit {proc.poll()})")
            with socket.socket() as s:
                s.settimeout(1.0)
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.001)
        last = None
        while True:
            if time.clock_gettime(time.CLOCK_MONOTONIC) > deadline:
                raise SystemExit(f"{argv[0]} did not answer 200 within 20 s (last: {last})")
            try:
                last = relayed_status(port, path)
                if last == 200:
                    break
            except OSError as e:
                last = e
            time.sleep(0.001)
        return t0, time.clock_gettime(time.CLOCK_MONOTONIC), proc.pid
    finally:
        time.sleep(0.05)
        proc.terminate()
        proc.wait()


def breakdown(perf_data, windows, per_thread=0):
    out = subprocess.run(["perf", "script", "-i", perf_data, "-F", "comm,pid,tid,time,ip,sym,dso"],
                         capture_output=True, text=True).stdout
    samples = []
    for line in out.splitlines():
        m = re.match(r"\s*(.+?)\s+(\d+)/(\d+)\s+([\d.]+):\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$", line)
        if m:
            samples.append((float(m.group(4)), m.group(1), int(m.group(2)), m.group(5), m.group(6).split("/")[-1]))
    for name, ws in windows.items():
        comm, dso, sym = collections.Counter(), collections.Counter(), collections.Counter()
        for t0, t1, pid in ws:
            for t, c, p, s, d in samples:
                if p == pid and t0 <= t <= t1:
                    comm[c] += 1
                    dso[d] += 1
                    sym[(c[:15], d, s[:70])] += 1
        k = len(ws) * HZ / 1000
        print(f"\n{name}: {sum(comm.values()) / k:.1f} ms of CPU 1 per start in its process (perf's pace)")
        print("  by thread: " + ", ".join(f"{c} {v / k:.1f}" for c, v in comm.most_common(8)))
        print("  by object: " + ", ".join(f"{d} {v / k:.1f}" for d, v in dso.most_common(8)))
        for (c, d, s), v in sym.most_common(15):
            print(f"  {v / k:5.2f}  {c:15s} {d:24s} {s}")
        for thread, _ in comm.most_common(8) if per_thread else []:
            print(f"  {thread}:")
            for (c, d, s), v in [(key, v) for key, v in sym.most_common() if key[0] == thread[:15]][:per_thread]:
                print(f"    {v / k:5.2f}  {d:24s} {s}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--perf", action="store_true", help="record CPU 1 with perf and break each start down")
    ap.add_argument("--per-thread", type=int, default=0, metavar="N", help="with --perf, also each thread's top N symbols")
    ap.add_argument("targets", nargs="+")
    args = ap.parse_args()
    targets = [t.split("=", 1) for t in args.targets]
    os.sched_setaffinity(0, {0})
    work = tempfile.mkdtemp(prefix="hoody-startup-rig.")
    os.chmod(work, 0o755)  # nginx's worker runs as nobody
    upstream, up_port = start_upstream(work)
    path = f"/api/v1/curl/request?url=http%3A%2F%2F127.0.0.1%3A{up_port}%2F1k.bin&response=transparent"
    windows = collections.defaultdict(list)
    rec = None
    perf_data = os.path.join(work, "perf.data")
    try:
        if args.perf:
            rec = subprocess.Popen(["perf", "record", "-q", "-a", "-C", "1", "-e", "cpu-clock", "-F", str(HZ),
                                    "-o", perf_data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        for run in range(args.runs):
            for name, command in targets[run % len(targets):] + targets[:run % len(targets)]:
                port = free_port()
                line = command.format(port=port, dir=os.path.join(work, f"{name}-{run}"))
                shell = line.startswith("bash:")
                argv = shlex.split(line[5:] if shell else line)
                if os.path.exists(argv[0]):
                    argv[0] = os.path.abspath(argv[0])  # the targets run in the work folder
                argv = ["bash", "-c", "exec " + shlex.join(argv)] if shell else argv
                with open(os.path.join(work, f"{name}.log"), "ab") as log:
                    windows[name].append(one_start(argv, port, path, log, work))
        if rec:
            rec.send_signal(signal.SIGINT)
            rec.wait()
        print(f"{args.runs} starts each, pinned to CPU 1, interleaved; start -> first relayed 200 (ms)\n")
        print("| target | median | each start |")
        print("|---|---:|---|")
        for name, ws in windows.items():
            ms = [(t1 - t0) * 1000 for t0, t1, _ in ws]
            print(f"| {name} | {statistics.median(ms):.1f} | {' '.join(f'{x:.0f}' for x in ms)} |")
        if rec:
            breakdown(perf_data, windows, args.per_thread)
    finally:
        if rec and rec.poll() is None:
            rec.kill()
        upstream.terminate()
        upstream.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
