#!/usr/bin/env python3
"""Paired CPU per relayed request (1 KiB body unless --size) for several relays, in one run (issue 13).

On a VM whose speed moves from one run to the next (the naive relay alone: 43 to 67 µs per request across consecutive
3 s runs, thirteenth session), a single cell per target says little. This starts every target at once, pinned to CPU 1
(wrk and a static nginx upstream on CPU 0). It runs short wrk cells in rounds and rotates the order each round. It
reports each target's median CPU time per request (its process, user + system), median req/s, and the median of the
per-round ratios to the first target.

    bench/paired.py [--rounds 6] [--secs 3] [--conns 256] NAME=COMMAND ...

COMMAND is a relay's command line with {port} (and optionally {dir}, a fresh folder) to fill in. It must serve the
rig's relay URL, /api/v1/curl/request?url=...&response=transparent (NAME/json=COMMAND: the same URL with response=json,
for the json envelope against the transparent relay of the same binary). For example:

    bench/paired.py naive='/tmp/hoody-bench/build/out/naive-aot/bin/naive-relay --port {port}' \\
        new='dist/hoody-curl --listen 127.0.0.1:{port} --storage-dir {dir} --allow-cidr 127.0.0.1/32'
"""
import argparse, os, re, shlex, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--secs", type=int, default=3)
    ap.add_argument("--conns", type=int, default=256)
    ap.add_argument("--size", type=int, default=1024, help="upstream body size in bytes (default 1024)")
    ap.add_argument("targets", nargs="+", metavar="NAME=COMMAND")
    args = ap.parse_args()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"missing {tool} (apt-get install -y wrk util-linux)")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        sys.exit("missing nginx (apt-get install -y nginx-light)")
    tick = os.sysconf("SC_CLK_TCK")

    work = tempfile.mkdtemp(prefix="hoody-paired.")
    os.chmod(work, 0o755)
    procs = []
    try:
        os.makedirs(f"{work}/www")
        with open(f"{work}/www/body.bin", "wb") as f:
            f.write(os.urandom(args.size))
        os.chmod(f"{work}/www/body.bin", 0o644)
        up_port = free_port()
        with open(f"{work}/nginx.conf", "w") as f:
            f.write(f"worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log; daemon off;\n"
                    f"events {{ worker_connections 4096; }}\n"
                    f"http {{ access_log off; keepalive_requests 1000000;\n"
                    f"  server {{ listen 127.0.0.1:{up_port}; root {work}/www; }} }}\n")
        procs.append(subprocess.Popen(["taskset", "-c", "0", nginx, "-p", work, "-c", f"{work}/nginx.conf", "-e", f"{work}/error.log"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        upstream = f"http://127.0.0.1:{up_port}/body.bin"
        if not wait_http(upstream, 10):
            sys.exit("nginx did not start")

        targets = []
        for spec in args.targets:
            name, _, command = spec.partition("=")
            if not command:
                sys.exit(f"not NAME=COMMAND: {spec}")
            name, _, mode = name.partition("/")
            mode = mode or "transparent"
            if mode not in ("transparent", "json"):
                sys.exit(f"response mode must be transparent or json: {spec}")
            port = free_port()
            folder = f"{work}/data-{name}"
            argv = shlex.split(command.replace("{port}", str(port)).replace("{dir}", folder))
            p = subprocess.Popen(["taskset", "-c", "1", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(p)
            url = f"http://127.0.0.1:{port}/api/v1/curl/request?url={urllib.parse.quote(upstream, safe='')}&response={mode}"
            if not wait_http(url, 30):
                sys.exit(f"{name} did not answer at {url}")
            targets.append((name, p, url))

        def cell(target, secs):
            c0 = cpu_ticks(target[1].pid)
            out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", f"-c{args.conns}", f"-d{secs}s", target[2]],
                                 capture_output=True, text=True).stdout
            c1 = cpu_ticks(target[1].pid)
            n = int(re.search(r"(\d+) requests in", out).group(1))
            return (c1 - c0) * 1e6 / tick / n, n / secs

        for t in targets:
            cell(t, 2)  # warm-up
        results = {t[0]: [] for t in targets}
        for r in range(args.rounds):
            k = r % len(targets)
            for t in targets[k:] + targets[:k]:
                results[t[0]].append(cell(t, args.secs))
            print(f"round {r}: " + "  ".join(f"{n} {v[-1][0]:.1f} µs {v[-1][1]:,.0f}/s" for n, v in results.items()), flush=True)

        base = targets[0][0]
        print(f"\n{args.size} B bodies, {args.conns} connections, {args.rounds} rounds of {args.secs} s (medians; ratios: median of the per-round ratios to {base})\n")
        print(f"| target | CPU µs/req | req/s | CPU ×{base} | req/s ×{base} |")
        print("|---|---:|---:|---:|---:|")
        for name, rows in results.items():
            cpu = statistics.median(x[0] for x in rows)
            rps = statistics.median(x[1] for x in rows)
            cr = statistics.median(rows[i][0] / results[base][i][0] for i in range(args.rounds))
            rr = statistics.median(rows[i][1] / results[base][i][1] for i in range(args.rounds))
            print(f"| {name} | {cpu:.1f} | {rps:,.0f} | {cr:.3f} | {rr:.3f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
