# paired.py ROUNDS SECS CONNS urlA urlB pid -> per-round cpu us/req A, B, ratio B/A; median ratio (order alternates per round)
import subprocess, sys, statistics, re
R=int(sys.argv[1]); D=sys.argv[2]; C=sys.argv[3]; A=sys.argv[4]; B=sys.argv[5]; pid=sys.argv[6]
def cpu():
    f=open(f"/proc/{pid}/stat").read().rsplit(')',1)[1].split(); return int(f[11])+int(f[12])
def run(u):
    c0=cpu(); out=subprocess.run(["taskset","-c","0","wrk","-t1",f"-c{C}",f"-d{D}s",u],capture_output=True,text=True).stdout; c1=cpu()
    n=int(re.search(r"(\d+) requests in",out).group(1)); return (c1-c0)*10000/n
subprocess.run(["taskset","-c","0","wrk","-t1",f"-c{C}","-d2s",A],capture_output=True); subprocess.run(["taskset","-c","0","wrk","-t1",f"-c{C}","-d2s",B],capture_output=True)
rows=[]
for r in range(R):
    if r%2==0: a=run(A); b=run(B)
    else: b=run(B); a=run(A)
    rows.append((a,b,b/a)); print(f"round {r}: A {a:6.1f} B {b:6.1f} B/A {b/a:5.3f}", flush=True)
print(f"conns {C}: median A {statistics.median(x[0] for x in rows):.1f} B {statistics.median(x[1] for x in rows):.1f} median ratio {statistics.median(x[2] for x in rows):.3f}")
