"""The SQLite store's figures (issue 13), run by hand, never in CI. Needs wrk and taskset (see run.py).

  python bench/sqlite_store.py all [--duration 6] [--repeat 3]      # compare, workers, history, startup, profile
  python bench/sqlite_store.py big [--entries 1000000]              # disk, RSS and restart on a long ledger
  python bench/sqlite_store.py compare|workers|history|startup|profile [...]
  python bench/sqlite_store.py prep --store sqlite:PATH --entries N  # N ledger entries, in-process

- compare: memory vs sqlite, one worker, run.py's six scenarios, server pinned to core 0 and wrk to core 1, a fresh
  server (and a fresh file) per run, the two stores alternating: req/s and CPU µs per request (utime+stime of the
  server and its children from /proc, divided by the requests wrk counted), and sqlite/memory against the targets
  (read <= 1.2x, write <= 1.5x CPU per request). Writes are checked: the balance moved by as many operations as
  wrk counted answers (plus at most the ones in flight when wrk stopped).
- workers: sqlite with --workers 1 and 2, server and wrk on both cores (not pinned), a read and two writes.
- history: a balance read on a member with N ledger entries (default 100,000) vs the fresh member, both stores.
- big: N entries written through the engine in-process (`prep`), the file's size (.db, -wal), the restarted
  server's RSS and time to the first health 200, and the memory store's RSS at the same count (a server that
  wrote the same entries in-process before serving).
- startup: process start to the first 200 from /__admin/health, memory vs sqlite on a new file vs an existing one.
- profile: one accrue write (the engine's grant, as Altcraft's accrue_points calls it) in-process: memory vs sqlite,
  where sqlite's extra goes (rows pickled, the log append, the fold), cProfile's top functions; then the whole
  request path (aiohttp test server) per call.

How the entries are made (`prep`): the bench world (bench/world.yaml) is opened on the store, then the loop calls
`tenant.grant(member, points, 10.50, origin="accrue")` on its one member, which is the engine call Altcraft's
accrue_points makes for a request without transaction_eid: each adds one ledger entry and one lot (and the indexes
every write keeps). One engine operation each, so the SQLite store commits one log batch per entry, exactly as
served writes do (folded every 512)."""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORLD = HERE / "world.yaml"
PY = sys.executable
SELF = str(Path(__file__).resolve())
sys.path[:0] = [str(HERE), str(ROOT)]

import run as R  # noqa: E402

AMOUNT = Decimal("10.50")              # what prep grants, as the accrue scenarios do
START_BALANCE = Decimal(500_000_000)   # the bench member's one credit (bench/world.yaml)
BALANCE_CHECK = ("POST", "/api/v1.1/loyalty/account/balance", {"Content-Type": "application/json"}, R.ALT_JSON)

# short name -> (run.py scenario, balance change per request for writes, read or write)
SCENARIOS = {
    "gb-read": (R.SCENARIOS[0], None, "read"),
    "alt-read-json": (R.SCENARIOS[1], None, "read"),
    "alt-read-xml": (R.SCENARIOS[2], None, "read"),
    "alt-accrue-json": (R.SCENARIOS[3], AMOUNT, "write"),
    "alt-accrue-xml": (R.SCENARIOS[4], AMOUNT, "write"),
    "gb-redeem": (R.SCENARIOS[5], Decimal(-5), "write"),
}
TARGET = {"read": 1.2, "write": 1.5}


def say(*parts) -> None:
    print(*parts, flush=True)


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


# --- conditions ---------------------------------------------------------------------------------------------------

def conditions() -> dict:
    import aiohttp
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "gateway"], capture_output=True,
                           text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    return {"commit": commit + (" (gateway/ has uncommitted changes)" if dirty else ""), "cpus": os.cpu_count(),
            "cpu": cpu, "python": platform.python_version(), "aiohttp": aiohttp.__version__,
            "sqlite": sqlite3.sqlite_version, "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                                             / 2**30, 1)}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- servers ------------------------------------------------------------------------------------------------------

class Server:
    """`python -m gateway serve --quiet` (or serve-prepped: N entries written in-process first), pinned to `core`."""

    def __init__(self, store: str, *, workers: int = 1, core: str = "0", prepped: int = 0, logdir: Path,
                 count_dir: Path | None = None):
        self.store, self.workers, self.port = store, workers, R.free_port()
        serve = ["serve", "--quiet", "--port", str(self.port), "--store", store, "--fixtures", str(WORLD)]
        if workers > 1:
            serve += ["--workers", str(workers)]
        counting = ["--count-dir", str(count_dir)] if count_dir else []
        cmd = [PY, SELF, "serve-prepped", "--entries", str(prepped), *counting, "--", *serve] \
            if prepped or count_dir else [PY, "-m", "gateway", *serve]
        self.log = tempfile.NamedTemporaryFile("w+", dir=logdir, prefix="server-", suffix=".log", delete=False)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(["taskset", "-c", core, *cmd], stdout=subprocess.DEVNULL, stderr=self.log,
                                     cwd=ROOT)
        self.pid = self.proc.pid

    def ready(self, timeout: float = 120.0) -> float:
        """Wait for the first 200 from /__admin/health: ms since the process was started."""
        deadline = time.perf_counter() + timeout
        url = f"http://127.0.0.1:{self.port}/__admin/health"
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.stderr()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200 and self.owns_port():
                        return (time.perf_counter() - self.t0) * 1000
                    time.sleep(0.005)     # another process answered on our port (it was free while we loaded)
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"no health 200 within {timeout:.0f} s: {self.stderr()}")

    def owns_port(self) -> bool:
        """Whether the listening socket on our port is one of our processes' (a long load leaves the port free
        for minutes: another program on the machine, e.g. a test suite, may take it meanwhile)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == self.port:
                    inodes.add(f[9])
        for pid in [self.pid] + R.children(self.pid):
            for fd in Path(f"/proc/{pid}/fd").glob("*"):
                try:
                    link = os.readlink(fd)
                except OSError:
                    continue
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
        return False

    def rss_kb(self) -> tuple[int, int]:
        """(RSS, peak RSS) of the serving processes (a workers parent and its workers summed)."""
        pids = [self.pid] + R.children(self.pid)
        return sum(R.rss_kb(p) for p in pids), sum(R.rss_kb(p, "VmHWM") for p in pids)

    def stderr(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text().strip()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


NOTICES: list[str] = []


def note_stderr(server: Server, what: str) -> None:
    """Anything a server wrote on stderr other than the expected resume line is kept for the report."""
    rc = server.stop()
    lines = [line for line in server.stderr().splitlines() if "resuming; --fixtures not loaded" not in line]
    if lines or rc not in (0, -15):
        NOTICES.append(f"{what}: exit {rc}; stderr: " + " | ".join(lines[:8]))
        say(f"  !! {NOTICES[-1]}")


def balance(port: int) -> Decimal:
    method, path, headers, body = BALANCE_CHECK
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers, data=body.encode())
    with urllib.request.urlopen(req, timeout=30) as r:
        return Decimal(json.loads(r.read())["data"]["total_balance"])


def settled_balance(port: int) -> Decimal:
    """The balance once it stops moving (requests still queued when wrk stopped are applied first)."""
    last = balance(port)
    while True:
        time.sleep(0.3)
        now = balance(port)
        if now == last:
            return now
        last = now


def measure(server: Server, short: str, args, *, tag: str, core: str) -> dict:
    """Warm-up 2 s, then `args.duration` s measured: req/s, latency, CPU µs per request (the server and its
    workers), non-2xx; for writes, how many operations the balance says were applied."""
    (name, method, path, headers, body, unique), delta, _ = SCENARIOS[short]
    url = f"http://127.0.0.1:{server.port}{path}"
    R.sample_response(server.port, method, path, headers, body.replace("TXID", f"sample-{tag}") if body else body)
    script = lambda run: R.lua(method, headers, body, unique, f"{tag}{run}")
    R.wrk(url, script("w"), 2, args.connections, core)
    before = settled_balance(server.port) if delta is not None else None
    kids = R.children(server.pid)
    kid_cpu0 = [R.tree_cpu_seconds(k) for k in kids]
    res = R.wrk(url, script("m"), args.duration, args.connections, core, server.pid, cpu=R.tree_cpu_seconds)
    if kids:
        spent = [R.tree_cpu_seconds(k) - c for k, c in zip(kids, kid_cpu0)]
        res["split"] = [round(s / sum(spent) * 100) for s in spent] if sum(spent) else []
    if delta is not None:
        res["applied"] = int((settled_balance(server.port) - before) / delta)
    return res


def fmt_run(res: dict) -> str:
    extra = f" applied {res['applied']} of {res['requests']} answered" if "applied" in res else ""
    extra += f" worker CPU split {res['split']}%" if res.get("split") else ""
    extra += f" socket errors {res['socket_errors']}" if res.get("socket_errors") else ""
    return (f"{res['rps']:.0f} req/s p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms {res['cpu_us']:.0f} us CPU/req "
            f"non-2xx {res['errors']}{extra}")


def check_applied(res: dict, what: str, connections: int) -> None:
    if "applied" in res and not res["requests"] <= res["applied"] <= res["requests"] + connections:
        NOTICES.append(f"{what}: the balance moved by {res['applied']} operations, wrk counted {res['requests']} "
                       f"answers")
        say(f"  !! {NOTICES[-1]}")
    if res["errors"] or res.get("socket_errors"):
        NOTICES.append(f"{what}: non-2xx {res['errors']}, socket errors {res.get('socket_errors', 0)}")
        say(f"  !! {NOTICES[-1]}")


def store_url(kind: str, tmp: Path, name: str) -> str:
    return "memory" if kind == "memory" else f"sqlite:{tmp / (name + '.db')}"


def files_size(db: Path) -> dict:
    return {s or "db": (Path(str(db) + s).stat().st_size if Path(str(db) + s).exists() else 0)
            for s in ("", "-wal", "-shm")}


# --- 1. memory vs sqlite --------------------------------------------------------------------------------------------

def compare(args, tmp: Path) -> dict:
    say(f"\n## compare: memory vs sqlite, one worker, server core {args.server_core}, wrk core {args.load_core}, "
        f"{args.duration} s, {args.repeat} repeats, load average {load_average()}")
    shorts = [s for s in SCENARIOS if not args.only or args.only in s]
    runs: dict = {s: {"memory": [], "sqlite": []} for s in shorts}
    n = 0
    for short in shorts:
        for r in range(args.repeat):
            for kind in (("memory", "sqlite") if r % 2 == 0 else ("sqlite", "memory")):
                n += 1
                srv = Server(store_url(kind, tmp, f"compare-{n}"), core=args.server_core, logdir=tmp)
                try:
                    srv.ready()
                    res = measure(srv, short, args, tag=f"c{n}", core=args.load_core)
                finally:
                    note_stderr(srv, f"compare {short} {kind} run {r + 1}")
                for suffix in ("", "-wal", "-shm"):
                    (tmp / f"compare-{n}.db{suffix}").unlink(missing_ok=True)
                runs[short][kind].append(res)
                check_applied(res, f"compare {short} {kind} run {r + 1}", args.connections)
                say(f"{short:16} {kind:6} run {r + 1}: {fmt_run(res)}")
    say("\n| scenario | memory req/s | sqlite req/s | memory CPU µs/req | sqlite CPU µs/req | sqlite/memory CPU "
        "(median; runs) | target | memory/sqlite req/s (median) | non-2xx |")
    say("|---|---|---|---|---|---|---|---|---|")
    table = {}
    for short in shorts:
        m, s = runs[short]["memory"], runs[short]["sqlite"]
        ratios = sorted(b["cpu_us"] / a["cpu_us"] for a, b in zip(m, s))
        slow = median([a["rps"] / b["rps"] for a, b in zip(m, s)])
        kind = SCENARIOS[short][2]
        ok = "✓" if median(ratios) <= TARGET[kind] else "✗"
        errors = sum(x["errors"] for x in m + s)
        table[short] = {"memory": m, "sqlite": s, "cpu_ratio": median(ratios), "cpu_ratios": ratios}
        say(f"| {SCENARIOS[short][0][0]} | {median([x['rps'] for x in m]):.0f} | {median([x['rps'] for x in s]):.0f} | "
            f"{median([x['cpu_us'] for x in m]):.0f} | {median([x['cpu_us'] for x in s]):.0f} | "
            f"**{median(ratios):.2f}** ({', '.join(f'{x:.2f}' for x in ratios)}) | ≤ {TARGET[kind]} {ok} | "
            f"{slow:.2f} | {errors} |")
    return table


# --- 2. workers -----------------------------------------------------------------------------------------------------

def workers(args, tmp: Path) -> dict:
    core = args.workers_core
    say(f"\n## workers: sqlite, --workers 1 vs 2, server cores {core}, wrk cores {core}, {args.duration} s, "
        f"{args.repeat} repeats, load average {load_average()}")
    shorts = [s for s in ("gb-read", "alt-accrue-json", "gb-redeem") if not args.only or args.only in s]
    runs: dict = {s: {1: [], 2: []} for s in shorts}
    n = 0
    for short in shorts:
        for r in range(args.repeat):
            for w in ((1, 2) if r % 2 == 0 else (2, 1)):
                n += 1
                counts = tmp / f"count-{n}"
                counts.mkdir()
                srv = Server(store_url("sqlite", tmp, f"workers-{n}"), workers=w, core=core, logdir=tmp,
                             count_dir=counts)
                try:
                    srv.ready()
                    res = measure(srv, short, args, tag=f"w{n}", core=core)
                finally:
                    note_stderr(srv, f"workers {short} {w} run {r + 1}")
                res["store_work"] = store_work(counts)
                for suffix in ("", "-wal", "-shm"):
                    (tmp / f"workers-{n}.db{suffix}").unlink(missing_ok=True)
                runs[short][w].append(res)
                check_applied(res, f"workers {short} --workers {w} run {r + 1}", args.connections)
                say(f"{short:16} --workers {w} run {r + 1}: {fmt_run(res)}; store work over the server's life: "
                    f"{fmt_work(res['store_work'])}")
    say("\n| scenario | 1 worker req/s | 2 workers req/s | 2/1 req/s (median; runs) | 1 worker CPU µs/req | "
        "2 workers CPU µs/req | 2/1 CPU | 2 workers' CPU split | 2 workers: conflicts per write; replayed batches or rows "
        "per write (medians) | non-2xx |")
    say("|---|---|---|---|---|---|---|---|---|---|")
    for short in shorts:
        one, two = runs[short][1], runs[short][2]
        speed = sorted(b["rps"] / a["rps"] for a, b in zip(one, two))
        cpu = median([b["cpu_us"] / a["cpu_us"] for a, b in zip(one, two)])
        split = "; ".join("/".join(map(str, x.get("split", []))) for x in two)
        say(f"| {SCENARIOS[short][0][0]} | {median([x['rps'] for x in one]):.0f} | "
            f"{median([x['rps'] for x in two]):.0f} | {median(speed):.2f} ({', '.join(f'{x:.2f}' for x in speed)}) | "
            f"{median([x['cpu_us'] for x in one]):.0f} | {median([x['cpu_us'] for x in two]):.0f} | {cpu:.2f} | "
            f"{split} | {median([x['store_work']['conflicts_per_write'] for x in two]):.2f}; "
            f"{median([x['store_work']['replayed_per_write'] for x in two]):.2f} | "
            f"{sum(x['errors'] for x in one + two)} |")
    return runs


def store_work(counts: Path) -> dict:
    """The counts every worker wrote at its clean stop (count_store_work), summed; per kept write."""
    total: dict = {}
    files = [json.loads(f.read_text()) for f in counts.glob("*.json")]
    for got in files:
        if not got["commits"]:
            continue           # the workers parent: it closed its store before forking
        for k, v in got.items():
            total[k] = total.get(k, 0) + v
    kept = total.get("wrote", 0) - total.get("conflicts", 0)
    total["processes"] = sum(1 for got in files if got["commits"])
    total["kept_writes"] = kept
    total["conflicts_per_write"] = total.get("conflicts", 0) / kept if kept else 0.0
    total["replayed_per_write"] = total.get("replayed_batches", 0) / kept if kept else 0.0
    total["catch_up_us_per_write"] = total.get("catch_up_cpu_s", 0.0) / kept * 1e6 if kept else 0.0
    return total


def fmt_work(w: dict) -> str:
    if not w.get("kept_writes"):
        return f"{w.get('processes', 0)} process(es), no writes kept, {w.get('catch_ups', 0)} catch-ups"
    return (f"{w['processes']} process(es), {w['kept_writes']} writes kept, {w['conflicts']} conflicts "
            f"({w['conflicts_per_write']:.2f} per write), {w['replayed_batches']} batches or folded rows replayed from the other "
            f"worker ({w['replayed_per_write']:.2f} per write, catch-up CPU {w['catch_up_us_per_write']:.0f} µs per "
            f"write), {w['folds']} folds")


# --- 3. a long history ----------------------------------------------------------------------------------------------

def prep_file(db: Path, entries: int, tmp: Path) -> dict:
    """`prep` in its own process: the figures it prints last (a JSON line)."""
    out = subprocess.run([PY, SELF, "prep", "--store", f"sqlite:{db}", "--entries", str(entries)],
                         capture_output=True, text=True, cwd=ROOT)
    for line in out.stdout.splitlines()[:-1]:
        say(f"  prep: {line}")
    if out.returncode != 0:
        raise RuntimeError(f"prep failed: {out.stderr}")
    if out.stderr.strip():
        say(f"  prep stderr: {out.stderr.strip()}")
    return json.loads(out.stdout.splitlines()[-1])


def history(args, tmp: Path) -> dict:
    n = args.entries
    say(f"\n## history: a balance read on a member with {n:,} ledger entries vs the fresh member, server core "
        f"{args.server_core}, wrk core {args.load_core}, {args.duration} s, {args.repeat} repeats, load average "
        f"{load_average()}")
    heavy_db = tmp / "history-heavy.db"
    prep = prep_file(heavy_db, n, tmp)
    say(f"  sqlite file with {n:,} entries written in {prep['seconds']:.0f} s ({prep['us_per_entry']:.0f} µs each)")
    servers = {}
    try:
        for key, store, prepped in (("sqlite fresh", store_url("sqlite", tmp, "history-fresh"), 0),
                                    ("sqlite heavy", f"sqlite:{heavy_db}", 0),
                                    ("memory fresh", "memory", 0), ("memory heavy", "memory", n)):
            srv = servers[key] = Server(store, core=args.server_core, prepped=prepped, logdir=tmp)
            ms = srv.ready(timeout=120 + n / 1000)
            got = balance(srv.port)
            want = START_BALANCE + (AMOUNT * n if "heavy" in key else 0)
            rss = srv.rss_kb()
            say(f"  {key}: ready in {ms:.0f} ms, balance {got} ({'as expected' if got == want else f'EXPECTED {want}'})"
                f", RSS {rss[0] / 1024:.0f} MB")
            if got != want:
                NOTICES.append(f"history {key}: balance {got}, expected {want}")
        runs: dict = {}
        shorts = ("gb-read", "alt-read-json")
        order = list(servers)
        for short in shorts:
            for r in range(args.repeat):
                for key in order[r % len(order):] + order[:r % len(order)]:
                    res = measure(servers[key], short, args, tag=f"h{r}", core=args.load_core)
                    runs.setdefault((short, key), []).append(res)
                    check_applied(res, f"history {short} {key} run {r + 1}", args.connections)
                    say(f"{short:14} {key:13} run {r + 1}: {fmt_run(res)}")
    finally:
        for key, srv in servers.items():
            note_stderr(srv, f"history {key}")
    say(f"\n| store | scenario | fresh member CPU µs/req | {n:,} entries CPU µs/req | ratio (median; runs) | "
        f"target | fresh req/s | {n:,} entries req/s |")
    say("|---|---|---|---|---|---|---|---|")
    for store in ("sqlite", "memory"):
        for short in shorts:
            fresh, heavy = runs[(short, f"{store} fresh")], runs[(short, f"{store} heavy")]
            ratios = sorted(b["cpu_us"] / a["cpu_us"] for a, b in zip(fresh, heavy))
            say(f"| {store} | {SCENARIOS[short][0][0]} | {median([x['cpu_us'] for x in fresh]):.0f} | "
                f"{median([x['cpu_us'] for x in heavy]):.0f} | **{median(ratios):.2f}** "
                f"({', '.join(f'{x:.2f}' for x in ratios)}) | ≤ 1.5 {'✓' if median(ratios) <= 1.5 else '✗'} | "
                f"{median([x['rps'] for x in fresh]):.0f} | {median([x['rps'] for x in heavy]):.0f} |")
    return {"prep": prep, "runs": {f"{k[0]} {k[1]}": v for k, v in runs.items()}}


# --- 4. a million entries -------------------------------------------------------------------------------------------

def big(args, tmp: Path) -> dict:
    counts = [int(x) for x in str(args.entries).split(",")]
    say(f"\n## big: {', '.join(f'{c:,}' for c in counts)} ledger entries, load average {load_average()}")
    rows = []
    for n in counts:
        db = tmp / f"big-{n}.db"
        prep = prep_file(db, n, tmp)
        after_prep = files_size(db)
        say(f"  sqlite prep {n:,}: {prep['seconds']:.0f} s ({prep['us_per_entry']:.0f} µs each), prep process RSS "
            f"{prep['rss_kb'] / 1024:.0f} MB (peak {prep['hwm_kb'] / 1024:.0f}), files before its close "
            f"{prep['files_before_close']}, after {after_prep} (close: fold + checkpoint {prep['close_s']:.1f} s), "
            f"{prep['store_rows']:,} rows")
        restarts = []
        for i in range(args.restarts):
            srv = Server(f"sqlite:{db}", core=args.server_core, logdir=tmp)
            try:
                ms = srv.ready(timeout=1800)
                rss = srv.rss_kb()
                got = balance(srv.port)
                read = measure(srv, "gb-read", args, tag=f"b{i}", core=args.load_core) if i == 0 and args.read else None
                live = files_size(db)
            finally:
                note_stderr(srv, f"big restart {n}")
            ok = got == START_BALANCE + AMOUNT * n
            if not ok:
                NOTICES.append(f"big {n}: balance after restart {got}, expected {START_BALANCE + AMOUNT * n}")
            restarts.append({"ms": ms, "rss_kb": rss[0], "hwm_kb": rss[1], "files_live": live, "read": read})
            say(f"  sqlite restart {i + 1}: first health 200 after {ms:.0f} ms, RSS {rss[0] / 1024:.0f} MB (peak "
                f"{rss[1] / 1024:.0f}), balance {'as expected' if ok else got}, files while serving (after the reads) {live}"
                + (f", Gameball read {fmt_run(read)}" if read else ""))
        after_stop = files_size(db)
        say(f"  files after the server's clean stop: {after_stop}")
        workers_start = None
        if args.workers_start:
            srv = Server(f"sqlite:{db}", workers=2, core="0,1", logdir=tmp)
            try:
                ms = srv.ready(timeout=3 * median([r["ms"] for r in restarts]) / 1000 + 300)
                workers_start = f"first health 200 after {ms / 1000:.0f} s, RSS {srv.rss_kb()[0] / 1024:.0f} MB"
            except RuntimeError as exc:
                workers_start = (f"no health 200: the server ended after {(time.perf_counter() - srv.t0):.0f} s "
                                 f"({' '.join(str(exc).split())})")
            finally:
                srv.stop()
            say(f"  --workers 2 on this file: {workers_start}")
        mem = Server("memory", core=args.server_core, prepped=n, logdir=tmp)
        try:
            mem_ms = mem.ready(timeout=7200)
            mem_rss = mem.rss_kb()
            got = balance(mem.port)
            mem_read = measure(mem, "gb-read", args, tag="bm", core=args.load_core) if args.read else None
        finally:
            note_stderr(mem, f"big memory {n}")
        say(f"  memory server with {n:,} entries written in-process: ready after {mem_ms / 1000:.0f} s, RSS "
            f"{mem_rss[0] / 1024:.0f} MB (peak {mem_rss[1] / 1024:.0f}), balance "
            f"{'as expected' if got == START_BALANCE + AMOUNT * n else got}"
            + (f", Gameball read {fmt_run(mem_read)}" if mem_read else ""))
        rows.append({"entries": n, "prep": prep, "after_prep": after_prep, "restarts": restarts,
                     "workers_start": workers_start,
                     "after_stop": after_stop, "memory": {"ready_ms": mem_ms, "rss_kb": mem_rss[0],
                                                          "hwm_kb": mem_rss[1], "read": mem_read}})
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    say("\n| entries | sqlite prep (in-process) | .db MB | -wal MB (serving; after stop) | sqlite restart to health "
        "200 (median) | sqlite RSS MB after restart (peak) | memory RSS MB (peak) |")
    say("|---|---|---|---|---|---|---|")
    for row in rows:
        rs = row["restarts"]
        restart_list = ", ".join(f"{r['ms'] / 1000:.1f}" for r in rs)
        say(f"| {row['entries']:,} | {row['prep']['seconds']:.0f} s ({row['prep']['us_per_entry']:.0f} µs/entry) | "
            f"{row['after_stop']['db'] / 2**20:.0f} | {median([r['files_live']['-wal'] for r in rs]) / 2**20:.1f}; "
            f"{row['after_stop']['-wal'] / 2**20:.1f} | {median([r['ms'] for r in rs]) / 1000:.1f} s "
            f"({restart_list}) | {median([r['rss_kb'] for r in rs]) / 1024:.0f} "
            f"({median([r['hwm_kb'] for r in rs]) / 1024:.0f}) | {row['memory']['rss_kb'] / 1024:.0f} "
            f"({row['memory']['hwm_kb'] / 1024:.0f}) |")
    if len(rows) >= 2 and rows[-1]["entries"] < 1_000_000:
        a, b = rows[0], rows[-1]
        span = b["entries"] - a["entries"]
        say("\nExtrapolated linearly to 1,000,000 entries from the two largest counts (NOT measured):")
        for label, get in (("db MB", lambda r: r["after_stop"]["db"] / 2**20),
                           ("restart s", lambda r: median([x["ms"] for x in r["restarts"]]) / 1000),
                           ("sqlite RSS MB", lambda r: median([x["rss_kb"] for x in r["restarts"]]) / 1024),
                           ("memory RSS MB", lambda r: r["memory"]["rss_kb"] / 1024)):
            slope = (get(b) - get(a)) / span
            say(f"  {label}: {get(b) + slope * (1_000_000 - b['entries']):.0f}")
    return {"rows": rows}


# --- 5. start-up ----------------------------------------------------------------------------------------------------

def startup(args, tmp: Path) -> dict:
    say(f"\n## startup: process start to the first /__admin/health 200 (bench/world.yaml), {args.startups} runs each, "
        f"load average {load_average()}")
    small = tmp / "startup-small.db"
    prep = prep_file(small, 1000, tmp)
    say(f"  the existing small file: bench world + {prep['entries']:,} entries, {files_size(small)}")
    out: dict = {"memory": [], "sqlite, new file": [], "sqlite, existing small file": []}
    for i in range(args.startups):
        kinds = list(out)
        for kind in kinds[i % 3:] + kinds[:i % 3]:
            store = {"memory": "memory", "sqlite, new file": f"sqlite:{tmp / f'startup-new-{i}.db'}",
                     "sqlite, existing small file": f"sqlite:{small}"}[kind]
            srv = Server(store, core="0,1", logdir=tmp)
            try:
                ms = srv.ready()
                rss = srv.rss_kb()[0]
            finally:
                note_stderr(srv, f"startup {kind}")
            out[kind].append((ms, rss))
    say("\n| store | start to first health 200, median (min–max) | RSS after start MB |")
    say("|---|---|---|")
    for kind, runs in out.items():
        ms = sorted(x[0] for x in runs)
        say(f"| {kind} | {median(ms):.0f} ms ({ms[0]:.0f}–{ms[-1]:.0f}) | {median([x[1] for x in runs]) / 1024:.0f} |")
    return out


# --- in-process: prep, serve-prepped, profile -----------------------------------------------------------------------

def open_world(store: str):
    from gateway import cli
    from gateway.store import open_stores
    stores = open_stores(store)
    engine = cli._engine([str(WORLD)], stores)
    tenant = engine.get("bench")
    member = tenant.member("altcraft.email", "bench@example.com")
    return stores, engine, tenant, member, tenant.currency(tenant.program("main"))


def grant_loop(tenant, member, currency, n: int, progress: int = 0) -> None:
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        tenant.grant(member, currency, AMOUNT, origin="accrue", refs={})
        if progress and i % progress == 0:
            say(f"{i:,} entries, {time.perf_counter() - t0:.0f} s, RSS {R.rss_kb(os.getpid()) / 1024:.0f} MB")


def prep(args) -> int:
    """N ledger entries on the bench member, through the engine, in this process (see the module's doc)."""
    stores, engine, tenant, member, currency = open_world(args.store)
    t0, c0 = time.perf_counter(), time.process_time()
    grant_loop(tenant, member, currency, args.entries, args.progress)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss, hwm = R.rss_kb(os.getpid()), R.rss_kb(os.getpid(), "VmHWM")
    entries = len(tenant.store._entries)    # noqa: SLF001 - a count, read only
    open_files = files_size(Path(args.store[len("sqlite:"):])) if args.store.startswith("sqlite:") else {}
    t1 = time.perf_counter()
    stores.close()                          # a clean stop: the log folded
    close_s = time.perf_counter() - t1
    rows = 0
    if args.store.startswith("sqlite:"):
        with sqlite3.connect(args.store[len("sqlite:"):]) as db:
            rows = db.execute("SELECT count(*) FROM row").fetchone()[0]
    print(json.dumps({"entries": args.entries, "store_entries": entries, "seconds": seconds, "cpu_s": cpu,
                      "us_per_entry": seconds / max(args.entries, 1) * 1e6, "rss_kb": rss, "hwm_kb": hwm,
                      "close_s": close_s, "store_rows": rows,
                      "files_before_close": open_files}), flush=True)
    return 0


def serve_prepped(args) -> int:
    """`serve` with N entries written into the bench world in-process before it listens (the memory store's
    long ledger: nothing else can give it one)."""
    from gateway import cli
    build = cli._engine

    def engine_with_entries(paths, stores=None):
        engine = build(paths, stores)
        tenant = engine.get("bench")
        grant_loop(tenant, tenant.member("altcraft.email", "bench@example.com"),
                   tenant.currency(tenant.program("main")), args.entries)
        return engine
    cli._engine = engine_with_entries
    if args.count_dir:
        count_store_work(Path(args.count_dir))
    return cli.main(args.serve)


def count_store_work(where: Path) -> None:
    """In a serving process (each worker): count the SQLite store's commits, conflicts (another worker wrote first:
    the operation runs again), catch-ups and the batches they replay, with their CPU; written to where/PID.json
    when the store closes (a clean stop)."""
    from gateway.engine.ports import StoreConflict
    from gateway.store.sqlite import world as world_mod
    W = world_mod.World
    n = {"commits": 0, "wrote": 0, "conflicts": 0, "catch_ups": 0, "replayed_batches": 0, "folds": 0,
         "commit_cpu_s": 0.0, "catch_up_cpu_s": 0.0, "fold_cpu_s": 0.0}
    commit, catch_up, apply, fold, close = W.commit, W._catch_up, W._apply, W._fold_now, W.close

    def counted_commit(self, store, wrote):
        n["commits"] += 1
        n["wrote"] += bool(wrote)
        c0 = time.process_time()
        try:
            return commit(self, store, wrote)
        except StoreConflict:
            n["conflicts"] += 1
            raise
        finally:
            n["commit_cpu_s"] += time.process_time() - c0

    def counted_catch_up(self):
        n["catch_ups"] += 1
        c0 = time.process_time()
        try:
            return catch_up(self)
        finally:
            n["catch_up_cpu_s"] += time.process_time() - c0

    def counted_apply(self, batches):
        def each():
            for batch in batches:
                n["replayed_batches"] += 1
                yield batch
        return apply(self, each())

    def counted_fold(self):
        n["folds"] += 1
        c0 = time.process_time()
        try:
            return fold(self)
        finally:
            n["fold_cpu_s"] += time.process_time() - c0

    def counted_close(self):
        try:
            return close(self)
        finally:
            (where / f"{os.getpid()}.json").write_text(json.dumps(n))

    W.commit, W._catch_up, W._apply, W._fold_now, W.close = (counted_commit, counted_catch_up, counted_apply,
                                                            counted_fold, counted_close)


class Spent:
    """CPU seconds (process_time: the other processes on the machine do not count) spent inside wrapped callables,
    by label; nested labels overlap (a commit's pickling is in both)."""

    def __init__(self):
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.each: dict[str, list] = {}

    def wrap(self, label: str, fn, keep: bool = False):
        def wrapped(*a, **kw):
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent = time.process_time() - c0
                self.cpu[label] = self.cpu.get(label, 0.0) + spent
                self.calls[label] = self.calls.get(label, 0) + 1
                if keep:
                    self.each.setdefault(label, []).append((spent, time.perf_counter() - w0))
        return wrapped

    def patch(self, owner, name: str, label: str, keep: bool = False, undo: list | None = None):
        real = getattr(owner, name)
        setattr(owner, name, self.wrap(label, real, keep))
        if undo is not None:
            undo.append((owner, name, real))


class _TimedDb:
    """A connection whose execute/executemany are timed (CPU) by what the statement does."""

    def __init__(self, db, spent: Spent, batches: dict):
        self._db, self._spent, self._batches = db, spent, batches

    def __getattr__(self, name):
        return getattr(self._db, name)

    @staticmethod
    def _label(sql: str) -> str:
        from gateway.store.sqlite import world as world_mod
        if sql == world_mod._APPEND:
            return "SQL: append the batch to log (one autocommit statement)"
        if "ON CONFLICT(tenant, kind, key)" in sql:
            return "SQL: fold: upsert the rows"
        if sql.startswith("SELECT version, tenant, body FROM log"):
            return "SQL: fold: read the log"
        return "SQL: " + " ".join(sql.split()[:3])

    def execute(self, sql, *a):
        if a and sql.startswith("INSERT INTO log"):
            self._batches["bytes"] += len(a[0][2])
        return self._spent.wrap(self._label(sql), self._db.execute)(sql, *a)

    def executemany(self, sql, *a):
        return self._spent.wrap(self._label(sql), self._db.executemany)(sql, *a)


def _part_grants(kind: str, tmp: Path, n: int) -> dict:
    """CPU per grant, nothing instrumented."""
    stores, engine, tenant, member, currency = open_world(store_url(kind, tmp, f"part-grants-{kind}"))
    grant_loop(tenant, member, currency, 1024)
    c0 = time.process_time()
    grant_loop(tenant, member, currency, n)
    spent = (time.process_time() - c0) / n * 1e6
    stores.close()
    return {"cpu_us": spent}


def _part_instrumented(tmp: Path, n: int) -> dict:
    """Where a sqlite grant's extra goes: the store's steps wrapped and timed (CPU)."""
    from gateway.store.sqlite import codec, tenant_store as ts_mod, world as world_mod
    stores, engine, tenant, member, currency = open_world(store_url("sqlite", tmp, "part-instrumented"))
    grant_loop(tenant, member, currency, 1024)
    world = stores.world
    spent = Spent()
    kinds: dict = {}
    batches = {"n": 0, "rows": 0, "bytes": 0}
    real_commit = world_mod.World.commit

    def commit(self, store, wrote):
        wrote = list(wrote)
        batches["n"] += 1
        batches["rows"] += len(wrote)
        for kind, _ in wrote:
            kinds[kind] = kinds.get(kind, 0) + 1
        return real_commit(self, store, wrote)

    world_mod.World.commit = commit
    spent.patch(world_mod.World, "commit", "World.commit: all of it (pickling, the append, the fold)")
    spent.patch(world_mod.World, "_fold_now", "World._fold_now: the fold, every 512 commits", keep=True)
    spent.patch(codec, "dumps", "codec.dumps: pickle the rows and the batch")
    spent.patch(codec, "loads", "codec.loads (the fold reads the batches back)")
    spent.patch(ts_mod.SqliteTenantStore, "row_value", "row_value: read each written key's value")
    spent.patch(ts_mod.SqliteTenantStore, "_note", "_note: remember each written key")
    world.db = _TimedDb(world.db, spent, batches)
    c0 = time.process_time()
    grant_loop(tenant, member, currency, n)
    cpu = time.process_time() - c0
    world.db = world.db._db
    stores.close()
    return {"cpu_us": cpu / n * 1e6, "spent": {k: v / n * 1e6 for k, v in spent.cpu.items()},
            "calls": {k: v / n for k, v in spent.calls.items()}, "batches": batches, "kinds": kinds,
            "folds": spent.each.get("World._fold_now: the fold, every 512 commits", [])}


def _part_cprofile(tmp: Path, n: int) -> dict:
    stores, engine, tenant, member, currency = open_world(store_url("sqlite", tmp, "part-cprofile"))
    grant_loop(tenant, member, currency, 1024)
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    grant_loop(tenant, member, currency, n)
    prof.disable()
    stores.close()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(20)
    return {"text": text.getvalue()}


async def _part_pipeline(kind: str, short: str, tmp: Path, n: int) -> dict:
    """The whole request through build_app's pipeline (aiohttp test server and client in this one process): CPU per
    request, the store's steps wrapped and timed, then a cProfile pass timed by CPU."""
    from aiohttp.test_utils import TestClient, TestServer

    from gateway import app as app_mod, journal as journal_mod
    from gateway.app import Config, build_app
    from gateway.store.sqlite import codec, world as world_mod
    stores, engine, tenant, member, currency = open_world(store_url(kind, tmp, f"part-pipeline-{kind}-{short}"))
    (name, method, path, headers, body, unique), _, _ = SCENARIOS[short]
    spent = Spent()
    async with TestClient(TestServer(build_app(engine, Config()))) as client:
        async def call(i):
            data = body.replace("TXID", f"p-{kind}-{i}") if body else None
            r = await client.request(method, path, data=data, headers=headers)
            assert r.status == 200, await r.text()
            await r.read()
        for i in range(300):
            await call(-i - 1)
        c0 = time.process_time()
        for i in range(n):
            await call(i)
        bare = time.process_time() - c0
        undo: list = []
        engine.sync = spent.wrap("engine.sync (catch up: PRAGMA data_version)", engine.sync)
        spent.patch(app_mod.Pipeline, "dispatch", "Pipeline.dispatch (the handler and the engine)", undo=undo)
        spent.patch(app_mod.Pipeline, "journal", "Pipeline.journal (record the call; may flush)", undo=undo)
        spent.patch(journal_mod.SharedJournal, "flush", "SharedJournal.flush (format + INSERT, per 64 calls or 50 ms)",
                    undo=undo)
        spent.patch(world_mod.World, "commit", "World.commit (pickle, append, fold)", undo=undo)
        spent.patch(world_mod.World, "_fold_now", "World._fold_now (every 512)", undo=undo)
        spent.patch(codec, "dumps", "codec.dumps", undo=undo)
        c0 = time.process_time()
        for i in range(n):
            await call(n + i)
        total = time.process_time() - c0
        for owner, attr, real in reversed(undo):
            setattr(owner, attr, real)
        del engine.sync
        figures = {k: v / n * 1e6 for k, v in spent.cpu.items()}
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        for i in range(n):
            await call(2 * n + i)
        prof.disable()
    stores.close()
    own = {f"{file.replace(str(ROOT) + '/', '')}:{line}({func})": (tt / n, nc / n)
           for (file, line, func), (cc, nc, tt, ct, callers) in pstats.Stats(prof).stats.items()}
    return {"bare": bare / n * 1e6, "total": total / n * 1e6, "spent": figures, "own": own}


def part(args) -> int:
    """One profile part in this fresh process (no garbage of another part weighs on it): a JSON line."""
    tmp = Path(args.dir)
    if args.what == "grants":
        out = _part_grants(args.kind, tmp, args.n)
    elif args.what == "instrumented":
        out = _part_instrumented(tmp, args.n)
    elif args.what == "cprofile":
        out = _part_cprofile(tmp, args.n)
    else:
        import asyncio
        out = asyncio.run(_part_pipeline(args.kind, args.scenario, tmp, args.n))
    print(json.dumps(out), flush=True)
    return 0


def run_part(tmp: Path, what: str, n: int, kind: str = "sqlite", scenario: str = "") -> dict:
    out = subprocess.run([PY, SELF, "part", "--what", what, "--n", str(n), "--kind", kind, "--scenario", scenario,
                          "--dir", str(tmp)], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"profile part {what} {kind} {scenario} failed: {out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def _sqlite_floor(tmp: Path, n: int = 4000) -> dict:
    """What one autocommit INSERT of a batch-sized blob costs on this machine in the store's settings (WAL,
    synchronous=NORMAL), and one PRAGMA data_version: the floors under 'append the batch' and 'catch up'."""
    from gateway.store.sqlite import world as world_mod
    out = {}
    for label, sql in (("plain INSERT of a 2,100-byte blob, autocommit", "INSERT INTO log VALUES (?, 't', ?)"),
                       ("the store's checked append (same blob)", world_mod._APPEND),
                       ("PRAGMA data_version (+ fetchone)", "PRAGMA data_version")):
        path = tmp / f"floor-{len(out)}.db"
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID")
        db.execute("CREATE TABLE log(version INTEGER PRIMARY KEY, tenant TEXT NOT NULL, body BLOB NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('folded', 0)")
        blob = os.urandom(2100)
        c0, w0 = time.process_time(), time.perf_counter()
        for v in range(1, n + 1):
            if "WHERE" in sql:
                db.execute(sql, (v, "t", blob, v - 1))
            elif "PRAGMA" in sql:
                db.execute(sql).fetchone()
            else:
                db.execute(sql, (v, blob))
        out[label] = ((time.process_time() - c0) / n * 1e6, (time.perf_counter() - w0) / n * 1e6)
        db.close()
    return out


def profile(args, tmp: Path) -> dict:
    n = args.profile_ops
    say(f"\n## profile: the accrue write's engine operation (tenant.grant, {n:,} ops after 1,024 warm-up), in-process, "
        f"each part in a fresh process, CPU time (process_time), load average {load_average()}")
    per_op: dict = {}
    for r in range(args.repeat):
        for kind in (("memory", "sqlite") if r % 2 == 0 else ("sqlite", "memory")):
            per_op.setdefault(kind, []).append(run_part(tmp, "grants", n, kind)["cpu_us"])
    say(f"  CPU µs per grant ({args.repeat} runs each): " + "; ".join(
        f"{k} median {median(v):.0f} ({', '.join(f'{x:.0f}' for x in v)})" for k, v in per_op.items()))

    ins = run_part(tmp, "instrumented", n)
    b = ins["batches"]
    say(f"  instrumented run: {ins['cpu_us']:.0f} µs CPU per grant (the wrappers add a little); per grant "
        f"{b['rows'] / b['n']:.1f} rows, each pickled, in one log batch of {b['bytes'] / b['n']:,.0f} bytes "
        f"(pickled again); rows per grant by kind: "
        + ", ".join(f"{k} {v / b['n']:.2f}" for k, v in sorted(ins["kinds"].items(), key=lambda kv: -kv[1])))
    folds = ins["folds"]
    if folds:
        say(f"  {len(folds)} folds: {median([f[0] for f in folds]) * 1000:.0f} ms CPU each (median), "
            f"{median([f[1] for f in folds]) * 1000:.0f} ms wall, max {max(f[1] for f in folds) * 1000:.0f} ms wall: "
            f"the write that triggers one waits for it")
    say("\n| where (sqlite grant, instrumented; nested rows overlap) | calls per grant | CPU µs per grant |")
    say("|---|---|---|")
    for key, value in sorted(ins["spent"].items(), key=lambda kv: -kv[1]):
        say(f"| {key} | {ins['calls'][key]:.3f} | {value:.1f} |")
    floor = _sqlite_floor(tmp)
    for label, (c, w) in floor.items():
        say(f"  floor on this machine: {label}: {c:.0f} µs CPU ({w:.0f} µs wall) each")

    prof = run_part(tmp, "cprofile", n)
    say(f"\n  cProfile (timed by CPU), sqlite, {n:,} grants, top functions by own time (cProfile inflates small "
        f"calls):")
    say("\n".join("    " + line for line in prof["text"].splitlines() if line.strip()))

    say(f"\n  the whole request, in-process (aiohttp test server and client in one process: the client's share is "
        f"the same for both stores), {args.profile_requests:,} requests after 300 warm-up, each in a fresh process, "
        f"CPU µs per request:")
    out = {"per_op": per_op, "instrumented": ins, "floor": floor}
    for short in ("alt-accrue-json", "gb-read"):
        runs: dict = {"memory": [], "sqlite": []}
        for r in range(args.repeat):
            for kind in (("memory", "sqlite") if r % 2 == 0 else ("sqlite", "memory")):
                runs[kind].append(run_part(tmp, "pipeline", args.profile_requests, kind, short))
        got = {kind: runs[kind][0] for kind in runs}
        for kind in runs:
            bare = [x["bare"] for x in runs[kind]]
            g = got[kind]
            say(f"    {short:16} {kind:6} median {median(bare):5.0f} µs ({', '.join(f'{x:.0f}' for x in bare)}; server "
                f"+ client, not instrumented); run 1's instrumented pass {g['total']:.0f}, of which: " + "; ".join(
                    f"{k} {v:.1f}" for k, v in sorted(g["spent"].items(), key=lambda kv: -kv[1])))
        say(f"    {short}: sqlite - memory, median of the paired runs: "
            f"{median([b['bare'] - a['bare'] for a, b in zip(runs['memory'], runs['sqlite'])]):+.0f} µs per request")
        extra = {}
        for key in set(got["memory"]["own"]) | set(got["sqlite"]["own"]):
            s_own = got["sqlite"]["own"].get(key, (0, 0))
            extra[key] = (s_own[0] - got["memory"]["own"].get(key, (0, 0))[0], s_own[1])
        say(f"    cProfile (run 1's third pass, timed by CPU; it inflates small calls): the functions whose own time "
            f"per request grew most, sqlite minus memory, {short}:")
        for key, (diff, calls) in sorted(extra.items(), key=lambda kv: -kv[1][0])[:14]:
            say(f"      {diff * 1e6:+7.1f} µs  {calls:5.2f} calls/request  {key}")
        out[short] = {k: [{kk: vv for kk, vv in x.items() if kk != "own"} for x in v] for k, v in runs.items()}
    return out


# --- main -----------------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def loaded(p, entries=(int, 100_000, "history: the long member's entries")):
        p.add_argument("--duration", type=int, default=6)
        p.add_argument("--connections", type=int, default=32)
        p.add_argument("--repeat", type=int, default=3)
        p.add_argument("--only", default=None, help="scenarios whose short name contains this")
        p.add_argument("--server-core", default="0")
        p.add_argument("--load-core", default="1")
        p.add_argument("--workers-core", default="0,1", help="cores of server and wrk in the workers comparison")
        p.add_argument("--entries", type=entries[0], default=entries[1], help=entries[2])
        p.add_argument("--startups", type=int, default=5)
        p.add_argument("--profile-ops", type=int, default=5120)
        p.add_argument("--profile-requests", type=int, default=2000)
        p.add_argument("--keep", action="store_true", help="keep the temporary directory")
        p.add_argument("--json", default=None, help="write every figure to this file")
    for name in ("all", "compare", "workers", "history", "startup", "profile"):
        loaded(sub.add_parser(name))
    p = sub.add_parser("big")
    loaded(p, (str, "1000000", "entries, or several counts separated by commas (then extrapolated to 1,000,000)"))
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--no-read", dest="read", action="store_false", help="skip the one read run on each big server")
    p.add_argument("--workers-start", action="store_true", help="also start --workers 2 on the big file")
    p.add_argument("--dir", default=None, help="where the big files go (default: a temporary directory)")
    p = sub.add_parser("prep")
    p.add_argument("--store", required=True)
    p.add_argument("--entries", type=int, required=True)
    p.add_argument("--progress", type=int, default=100_000)
    p = sub.add_parser("part")
    for flag in ("--what", "--kind", "--scenario", "--dir"):
        p.add_argument(flag, default="")
    p.add_argument("--n", type=int, default=1000)
    p = sub.add_parser("serve-prepped")
    p.add_argument("--entries", type=int, required=True)
    p.add_argument("--count-dir", default=None, help="count the SQLite store's work (each worker: DIR/PID.json)")
    p.add_argument("serve", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.cmd == "prep":
        return prep(args)
    if args.cmd == "part":
        return part(args)
    if args.cmd == "serve-prepped":
        args.serve = [a for a in args.serve if a != "--"]
        return serve_prepped(args)
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            say(f"{tool} is not installed (Debian: apt-get install wrk util-linux)")
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="lg-sqlite-bench-", dir=getattr(args, "dir", None)))
    info = conditions()
    start = load_average()
    t0 = time.perf_counter()
    say(f"conditions: {json.dumps(info)}; load average at start {start}; files in {tmp}")
    results: dict = {"conditions": info, "load_start": start}
    steps = {"compare": compare, "workers": workers, "history": history, "startup": startup, "profile": profile,
             "big": big}
    todo = ["startup", "compare", "workers", "history", "profile"] if args.cmd == "all" else [args.cmd]
    try:
        for step in todo:
            s0 = time.perf_counter()
            results[step] = steps[step](args, tmp)
            say(f"({step}: {time.perf_counter() - s0:.0f} s, load average now {load_average()})")
    finally:
        results["load_end"] = load_average()
        results["notices"] = NOTICES
        say(f"\nload average at start {start}, at end {results['load_end']}; {time.perf_counter() - t0:.0f} s in all")
        say("notices: " + ("; ".join(NOTICES) if NOTICES else "none (no non-2xx, no socket errors, every write "
                                                               "applied, no server stderr)"))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
