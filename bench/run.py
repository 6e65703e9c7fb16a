"""Load benchmark, run by hand (`make bench`), never in CI: the gateway against a bare aiohttp
server returning a fixed body of the same size, same machine, server and load generator on
different cores (taskset), wrk as the load generator. Prints req/s, p50, p99 and gateway/bare.

  python bench/run.py [--duration 10] [--connections 32] [--only NAME]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

GB = {"apikey": "bench-gb", "secretkey": "bench-gb-secret"}
ALT_JSON = json.dumps({"token": "bench-altcraft", "loyalty_program_id": 123, "points_currency_eid": "starts",
                       "matching": "email", "email": "bench@example.com"})
ALT_XML = ("<xml><token>bench-altcraft</token><loyalty_program_id>123</loyalty_program_id>"
           "<points_currency_eid>starts</points_currency_eid><matching>email</matching>"
           "<email>bench@example.com</email></xml>")
ACCRUE_JSON = json.dumps({"token": "bench-altcraft", "loyalty_program_id": 123, "matching": "email",
                          "email": "bench@example.com", "amount": "10.50"})
ACCRUE_XML = ("<xml><token>bench-altcraft</token><loyalty_program_id>123</loyalty_program_id><matching>email</matching>"
              "<email>bench@example.com</email><amount>10.50</amount></xml>")

# name, method, path, headers, body, per-request unique field (wrk lua counter), kind
SCENARIOS = [
    ("gameball balance read", "GET", "/api/v4.0/integrations/customers/bench-1/balance", GB, None, None),
    ("altcraft balance read (JSON)", "POST", "/api/v1.1/loyalty/account/balance",
     {"Content-Type": "application/json"}, ALT_JSON, None),
    ("altcraft balance read (XML)", "POST", "/api/v1.1/loyalty/account/balance",
     {"Content-Type": "application/xml"}, ALT_XML, None),
    ("altcraft accrue (JSON write)", "POST", "/api/v1.1/loyalty/accrue_points",
     {"Content-Type": "application/json"}, ACCRUE_JSON, None),
    ("altcraft accrue (XML write)", "POST", "/api/v1.1/loyalty/accrue_points",
     {"Content-Type": "application/xml"}, ACCRUE_XML, None),
    ("gameball redeem (JSON write)", "POST", "/api/v4.0/integrations/transactions/redeem",
     {**GB, "Content-Type": "application/json"},
     '{"customerId":"bench-1","transactionId":"TXID","transactionTime":"2026-01-01T00:00:00Z","points":5}', "TXID"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def lua(method: str, headers: dict, body: str | None, unique: str | None, run: str = "") -> str:
    """wrk script; `unique` in the body is replaced per request by an id no other run has used."""
    lines = [f'wrk.method = "{method}"']
    for k, v in headers.items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    if body is not None and unique is None:
        lines.append(f"wrk.body = {json.dumps(body)}")
    if unique:
        lines += ["local counter = 0", "local thread_id = 0",
                  "function setup(thread) thread_id = thread_id + 1; thread:set('tid', thread_id) end",
                  "function request()", "  counter = counter + 1",
                  f"  local b = string.gsub({json.dumps(body)}, '{unique}', 'bench-{run}-' .. tostring(tid) .. '-' .. counter)",
                  f'  return wrk.format("{method}", nil, nil, b)', "end"]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process: CPU per request stays meaningful on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (a `serve --workers N` parent's workers)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, of its children that ended (cutime + cstime), and of its live children, all
    the way down: the CPU of `serve --workers N` (the parent and every worker)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(tree_cpu_seconds(c) for c in children(pid))


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (or its peak, `VmHWM`) in kB, from /proc/<pid>/status."""
    m = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(m.group(1)) if m else 0


def wrk(url: str, script: str, duration: int, connections: int, core: str, pid: int | None = None,
        cpu=cpu_seconds) -> dict:
    """One wrk run; `cpu(pid)` (default: the process's own CPU) before and after gives CPU per request."""
    cpu0 = cpu(pid) if pid else 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(["taskset", "-c", core, "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", f.name, url], capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    cpu_us = (cpu(pid) - cpu0) / total * 1e6 if pid and total else float("nan")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": int(non2xx.group(1)) if non2xx else 0,
            "cpu_us": cpu_us, "requests": total,
            "socket_errors": sum(int(x) for x in socket_errors.groups()) if socket_errors else 0}


def sample_response(port: int, method: str, path: str, headers: dict, body: str | None) -> tuple[bytes, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers,
                                 data=body.replace("TXID", "sample").encode() if body else None)
    with urllib.request.urlopen(req) as r:
        return r.read(), r.headers.get_content_type()


def startup_ms(runs: int = 5) -> list[float]:
    """Process start to the first 200 from /__admin/health (all four specs loaded and compiled)."""
    out = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        p = subprocess.Popen([PY, "-m", "gateway", "serve", "--quiet", "--port", str(port)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/health", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.005)
            out.append((time.perf_counter() - t0) * 1000)
        finally:
            p.terminate()
            p.wait()
    return out


def measure(args, method, path, headers, body, unique):
    """One gateway run and one bare run of a scenario: (answer size, gateway figures, bare figures)."""
    port = free_port()
    log = [] if args.request_log else ["--quiet"]      # the request log goes to /dev/null when on
    gw = subprocess.Popen(["taskset", "-c", args.server_core, PY, "-m", "gateway", "serve", *log, "--port", str(port),
                           "--fixtures", str(HERE / "world.yaml")], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        wait(port)
        sample, ctype = sample_response(port, method, path, headers, body)
        script = lambda run: lua(method, headers, body, unique, run)
        wrk(f"http://127.0.0.1:{port}{path}", script("warm"), 2, args.connections, args.load_core)   # warm-up
        g = wrk(f"http://127.0.0.1:{port}{path}", script("gw"), args.duration, args.connections, args.load_core,
                gw.pid)
    finally:
        gw.terminate()
        gw.wait()
    bport = free_port()
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        f.write(sample)
    bare = subprocess.Popen(["taskset", "-c", args.server_core, PY, str(HERE / "bare_server.py"), str(bport),
                             f.name, ctype], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(bport)
        wrk(f"http://127.0.0.1:{bport}{path}", script("bwarm"), 2, args.connections, args.load_core)
        b = wrk(f"http://127.0.0.1:{bport}{path}", script("bare"), args.duration, args.connections, args.load_core,
                bare.pid)
    finally:
        bare.terminate()
        bare.wait()
        os.unlink(f.name)
    return len(sample), g, b


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--only", default=None)
    ap.add_argument("--repeat", type=int, default=1, help="runs per scenario; the table shows medians")
    ap.add_argument("--server-core", default="0")
    ap.add_argument("--load-core", default="1")
    ap.add_argument("--request-log", action="store_true", help="serve with the request log on (serve's default)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    ms = sorted(startup_ms())
    print(f"start-up to first /__admin/health 200: median {ms[len(ms) // 2]:.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f})",
          flush=True)
    rows = []
    for name, method, path, headers, body, unique in SCENARIOS:
        if args.only and args.only not in name:
            continue
        runs = [measure(args, method, path, headers, body, unique) for _ in range(args.repeat)]
        size = runs[0][0]
        g = {k: statistics.median(r[1][k] for r in runs) for k in runs[0][1]}
        b = {k: statistics.median(r[2][k] for r in runs) for k in runs[0][2]}
        ratios = sorted(r[1]["rps"] / r[2]["rps"] for r in runs)
        rows.append((name, size, g, b, statistics.median(ratios)))
        print(f"{name}: gateway {g['rps']:.0f} req/s p50 {g['p50']:.2f} ms p99 {g['p99']:.2f} ms "
              f"{g['cpu_us']:.0f} us CPU/req (non-2xx {g['errors']:.0f}); bare {b['rps']:.0f} req/s "
              f"{b['cpu_us']:.0f} us CPU/req; ratio median {statistics.median(ratios):.2f} "
              f"(runs: {', '.join(f'{x:.2f}' for x in ratios)})", flush=True)
    print()
    print(f"| scenario ({args.connections} connections, {args.duration}s, median of {args.repeat}) | body bytes "
          "| gateway req/s | p50 ms | p99 ms | CPU us/req | bare req/s | bare p99 ms | bare CPU us/req | gateway/bare req/s | bare/gateway CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, size, g, b, ratio in rows:
        print(f"| {name} | {size} | {g['rps']:.0f} | {g['p50']:.2f} | {g['p99']:.2f} | {g['cpu_us']:.0f} | "
              f"{b['rps']:.0f} | {b['p99']:.2f} | {b['cpu_us']:.0f} | {ratio:.2f} | "
              f"{b['cpu_us'] / g['cpu_us']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
