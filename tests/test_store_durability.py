"""`serve --store sqlite:PATH` as a real process, killed and restarted (issue 13): what the README promises of the
SQLite store and of `--workers N`, checked from outside, as a user would.

- SIGKILL in the middle of a write storm (one worker, then two): after a restart on the same file every write
  that was answered with a success is there, exactly once; nothing that was refused or never sent is; what was in
  flight is there at most once; replaying an acknowledged write is answered as a replay and changes nothing; the
  four dialects agree on every balance and the ledger invariants hold in the file.
- a parent killed with SIGKILL takes its workers with it, and the port is free again;
- two workers never spend the same points: 1,000 concurrent 10-point redeems of 1,000 points, 100 succeed;
- the control plane (tenants, clock, faults, journal, health) is one, whichever worker answers;
- start-up refuses what it cannot serve with one `--store:` line, exit 2, no traceback.

The heavy tests are marked as one xdist group (`--dist loadgroup`) so that they do not run side by side; they pass
side by side too (pyproject pins pytest below 9.2, with which pytest-xdist 3.8 stops honouring groups)."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import invariants
import storm as S
from gateway.engine import Engine
from gateway.store import open_stores
from gateway.store.sqlite import SCHEMA_VERSION
from processes import TIMEOUT, Gateway, Refusal, alive, assert_clean_stop, cpu_ticks, fails, port_free, wait_until

HEAVY = pytest.mark.xdist_group("store_processes")
KILL_AFTER = 300          # acknowledged writes before the SIGKILL


def store_args(db: Path, workers: int = 1) -> list[str]:
    return ["--port", "0", "--quiet", "--store", f"sqlite:{db}"] + (["--workers", str(workers)] if workers > 1 else [])


def balances(g: Gateway) -> dict[str, Decimal]:
    """Each demo member's available points, the four dialects agreeing on them."""
    return {name: S.agreed_balance(S.read_all(g, who)) for name, who in S.MEMBERS.items()}


def in_process(db: Path):
    """Open the file as a new gateway would (no process in between): (demo tenant, the factory to close)."""
    stores = open_stores(f"sqlite:{db}")
    return Engine(stores).get("demo"), stores


# --- SIGKILL in the middle of a write storm ---------------------------------------------------------------------

def _storm_then_sigkill(serve, db: Path, workers: int, prefix: str) -> tuple[S.Storm, dict[str, Decimal]]:
    """Serve `db`, storm it, SIGKILL the whole process group once KILL_AFTER writes are acknowledged.
    Returns the storm (each write's outcome) and the balances before it."""
    g = serve(*store_args(db, workers))
    if workers > 1:
        assert (g.worker_count, len(g.workers())) == (workers, workers), g.workers()
    before = balances(g)
    assert before == {"alice": 1400, "bob": 0}
    storm = S.Storm(g.url, S.mixed_writes(6000, prefix), connections=16).start()
    try:
        storm.wait_acked(KILL_AFTER, timeout=25)
        pids = [g.pid] + g.workers()
        g.kill()                                     # SIGKILL: parent and workers, no clean stop
    finally:
        storm.stop()
    storm.join(TIMEOUT)
    assert not any(alive(pid) for pid in pids)
    outcome = storm.summary()
    assert outcome["acked"] >= KILL_AFTER and outcome.get("unsent", 0) > 0, outcome    # killed mid-storm
    return storm, before


def _check_restart(g: Gateway, storm: S.Storm, before: dict[str, Decimal]) -> dict[str, Decimal]:
    """Every acknowledged write is held exactly once, nothing refused or unsent is, the in-flight ones at most
    once; the balances are what the writes held make them; replays of acknowledged writes change nothing.
    Returns the balances."""
    now = balances(g)
    for name, who in S.MEMBERS.items():
        mine = [w for w in storm.writes if w.member == name]
        held = S.applied_ids(g, who, mine)
        twice = {i: n for i, n in held.items() if n != 1}
        assert not twice, f"{name}: writes applied more than once: {twice}"
        outcome = {w.id: w.outcome for w in mine}
        lost = [w.id for w in mine if w.outcome == "acked" and w.id not in held]
        assert not lost, f"{name}: {len(lost)} acknowledged writes lost, e.g. {lost[:5]}"
        phantom = [(i, outcome[i]) for i in held if outcome[i] not in ("acked", "unknown")]
        assert not phantom, f"{name}: writes held that were refused or never sent: {phantom[:5]}"
        points = {w.id: w.points for w in mine}
        assert now[name] == before[name] + sum(points[i] for i in held), (name, now[name], before[name])
        acked = sum(w.points for w in mine if w.outcome == "acked")
        unknown = [w.points for w in mine if w.outcome == "unknown"]
        low = before[name] + acked + sum(p for p in unknown if p < 0)
        high = before[name] + acked + sum(p for p in unknown if p > 0)
        assert low <= now[name] <= high, (name, low, now[name], high)

    # replaying what was acknowledged: Gameball refuses the id as already used, Altcraft answers its first answer
    again = [w for w in storm.by("acked") if w.vendor in ("gameball", "altcraft")]
    assert len({w.kind for w in again}) == 6, {w.kind for w in again}      # every Gameball and Altcraft kind
    for w, status, raw in S.replay(g.url, again):
        if w.vendor == "gameball":
            body = json.loads(raw)
            assert (status, body["code"], body["type"]) == (422, 9004, "TRANSACTIONS_ERROR"), (w.id, status, body)
        else:
            first = next(x for x in storm.writes if x.id == w.id)
            assert (status, raw) == (200, first.answer), (w.id, status, raw, first.answer)
    assert balances(g) == now
    return now


def _check_file(db: Path, expected: dict[str, Decimal]) -> None:
    """The file, opened in this process: the ledger invariants hold and the balances are the ones served."""
    tenant, stores = in_process(db)
    try:
        invariants.check(tenant)
        pts = tenant.program("main").default_currency
        assert {name: tenant.balance(tenant.member_by_id(name), pts).available for name in S.MEMBERS} == expected
    finally:
        stores.close()


@HEAVY
def test_sigkill_mid_storm_keeps_every_acknowledged_write_once(serve, tmp_path):
    db = tmp_path / "world.db"
    storm, before = _storm_then_sigkill(serve, db, 1, "one")
    g = serve(*store_args(db))
    after = _check_restart(g, storm, before)
    assert assert_clean_stop(g) == []
    _check_file(db, after)


@HEAVY
def test_sigkill_mid_storm_with_two_workers_then_the_parent_alone(serve, tmp_path):
    db = tmp_path / "world.db"
    storm, before = _storm_then_sigkill(serve, db, 2, "two")
    g = serve(*store_args(db, 2))
    workers = g.workers()
    assert len(workers) == 2, workers
    after = _check_restart(g, storm, before)

    os.kill(g.pid, signal.SIGKILL)                   # the parent only: its workers see the lifeline close
    g.proc.wait(TIMEOUT)
    wait_until(lambda: not any(alive(pid) for pid in workers), 15, f"workers {workers} gone after their parent")
    wait_until(lambda: port_free(g.port), 15, f"port {g.port} free")
    with socket.socket() as s:                       # nobody listens there: it can be bound and listened on
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", g.port))
        s.listen()
    _check_file(db, after)


# --- two workers, one balance -----------------------------------------------------------------------------------

@HEAVY
def test_a_thousand_concurrent_redeems_over_two_workers_spend_the_points_once(serve, tmp_path):
    db = tmp_path / "world.db"
    g = serve(*store_args(db, 2))
    workers = g.workers()
    assert len(workers) == 2, workers
    bob = S.BOB
    status, body = g.post(f"{S.GBW}/transactions/manual", {"customerId": bob["gameball"], "transactionId": "fund",
                                                          "username": "ops", "reason": "funds", "points": 1000}, S.GB)
    assert (status, body["points"]) == (200, 1000), body
    assert balances(g)["bob"] == 1000

    redeems = [S.gameball_redeem(f"spend-{n:04d}", bob, 10) for n in range(1000)]
    storm = S.Storm(g.url, redeems, connections=100)
    spread: dict[int, int] = {}
    storm.before_close = lambda: spread.update(g.connections_by_worker())     # the connections are still open
    ticks = {pid: cpu_ticks(pid) for pid in workers}
    storm.run(timeout=60)
    worked = {pid: cpu_ticks(pid) - ticks[pid] for pid in workers}

    assert storm.summary() == {"acked": 100, "refused": 900}, storm.summary()
    for w in storm.by("refused"):
        body = json.loads(w.answer)
        assert (w.status, body["code"], body["type"]) == (422, 9008, "TRANSACTIONS_ERROR"), (w.status, body)
        assert body["message"].startswith("Insufficient balance points."), body
    # both workers answered: each held some of the client's connections and spent CPU on them
    assert set(spread) == set(workers) and all(n > 0 for n in spread.values()), spread
    assert all(n >= 3 for n in worked.values()), worked

    assert balances(g)["bob"] == 0
    status, page = g.post(f"{S.GBW}/transactions?customerId={bob['gameball']}&limit=200", headers=S.GB,
                          method="GET")
    assert status == 200 and not page["hasMore"], page
    rows = page["transactions"]
    assert sorted((r["type"], r["direction"]) for r in rows) == [("ManualAccumulation", "+")] + [
        ("Redemption", "-")] * 100, rows
    assert {r["transactionId"] for r in rows if r["type"] == "Redemption"} == {w.id for w in storm.by("acked")}
    assert all(r["points"] == 10 for r in rows if r["type"] == "Redemption")
    _, entries = S.ledger_entries(g, bob)
    assert sorted(e["kind"] for e in entries) == ["credit"] + ["debit"] * 100
    assert assert_clean_stop(g) == []
    _check_file(db, {"alice": Decimal(1400), "bob": Decimal(0)})


# --- the control plane is one ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """One `--workers 2` gateway for the module's control-plane and journal tests (each makes a tenant of its own
    and leaves the demo tenant alone); stopped cleanly at the end (SIGTERM: exit 0, nothing on stderr)."""
    where = tmp_path_factory.mktemp("two")
    g = Gateway(where, *store_args(where / "world.db", 2))
    g.db = where / "world.db"
    pids = g.workers()
    try:
        assert (g.worker_count, len(pids)) == (2, 2), pids        # "... (2 workers)", and two children
        yield g
        assert assert_clean_stop(g) == []
        wait_until(lambda: not any(alive(pid) for pid in pids), TIMEOUT, "the workers stopped with their parent")
    finally:
        g.kill()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _same_everywhere(g: Gateway, path: str, status: int = 200, headers=None):
    """The answer of every worker to a read: the same status and body. Returns the body."""
    answers = g.on_each_worker("GET", path, headers=headers)
    bodies = {json.dumps(body, sort_keys=True) for _, body in answers.values()}
    assert {s for s, _ in answers.values()} == {status} and len(bodies) == 1, answers
    return next(iter(answers.values()))[1]


@HEAVY
def test_the_control_plane_is_the_same_whichever_worker_answers(two_workers):
    from gateway import __version__
    from gateway.vendors import registry
    g = two_workers
    workers = g.workers()
    status, listed = g.post("/__admin/tenants", method="GET")
    assert status == 200
    tenants = len(listed["tenants"])              # the demo, and those the module's other tests made
    health = {"status": "ok", "version": __version__, "tenants": tenants,
              "vendors": {name: registry.spec(name).version for name in ("omneo", "altcraft", "gameball", "brevo")},
              "store": {"kind": "sqlite", "path": str(g.db), "schema": 1, "sync": "normal"}, "workers": 2}
    assert _same_everywhere(g, "/__admin/health") == health

    # a tenant created through one worker is served by both
    status, created = g.post("/__admin/tenants", {})
    assert status == 201, created
    tid, creds = created["tenant"], created["credentials"]
    gb = {"apikey": creds["gameball"]["apikey"], "secretkey": creds["gameball"]["secretkey"]}
    assert _same_everywhere(g, "/__admin/health") == {**health, "tenants": tenants + 1}
    ids = sorted([t["tenant"] for t in listed["tenants"]] + [tid])
    listed = g.on_each_worker("GET", "/__admin/tenants")          # (each tenant's `now` runs: ids only)
    assert {pid: (status, sorted(t["tenant"] for t in body["tenants"])) for pid, (status, body) in listed.items()} \
        == {pid: (200, ids) for pid in workers}
    balance = _same_everywhere(g, f"{S.GBW}/customers/user-123/balance", headers=gb)
    assert (balance["availablePointsBalance"], balance["pendingPoints"]) == (1400, 400)

    # a clock moved and frozen through one worker is the same on both: 30 days on, the pending points matured
    status, clock = g.post(f"/__admin/tenants/{tid}/clock", method="GET")
    assert status == 200 and clock["frozen"] is False
    later = (datetime.fromisoformat(clock["now"].replace("Z", "+00:00")) + timedelta(days=30)).astimezone(timezone.utc)
    status, moved = g.post(f"/__admin/tenants/{tid}/clock", {"now": later.isoformat().replace("+00:00", "Z"),
                                                             "frozen": True}, method="PUT")
    assert status == 200 and moved["frozen"] is True, moved
    time.sleep(0.05)                              # frozen: a later read on either worker says the same instant
    assert _same_everywhere(g, f"/__admin/tenants/{tid}/clock") == moved
    balance = _same_everywhere(g, f"{S.GBW}/customers/user-123/balance", headers=gb)
    assert (balance["availablePointsBalance"], balance["pendingPoints"]) == (1800, 0)
    status, demo_clock = g.post("/__admin/tenants/demo/clock", method="GET")
    assert status == 200 and demo_clock["frozen"] is False         # another tenant's clock did not move

    # the journal is one: cleared through one worker, it is empty through both
    time.sleep(0.3)                               # the lines each worker buffers (50 ms) are written by now
    status, _ = g.post(f"/__admin/tenants/{tid}/journal", method="DELETE")
    assert status == 204
    assert _same_everywhere(g, f"/__admin/tenants/{tid}/journal?vendor=gameball") == {"entries": [], "count": 0}

    # a fault armed through one worker fires its 6 times in all, whichever worker the calls reach
    status, fault = g.post(f"/__admin/tenants/{tid}/faults", {"vendor": "gameball", "kind": "error",
                                                               "case": "rate_limit",
                                                               "operation": "get_customer_balance", "times": 6})
    assert status == 201, fault
    listed = _same_everywhere(g, f"/__admin/tenants/{tid}/faults")
    assert [(f["id"], f["case"], f["times"], f["fired"]) for f in listed["faults"]] == [(fault["id"], "rate_limit",
                                                                                         6, 0)]
    calls = [g.request("GET", f"{S.GBW}/customers/user-123/balance", headers=gb) for _ in range(24)]
    assert [status for status, _, _ in calls] == [429] * 6 + [200] * 18, [(s, w) for s, _, w in calls]
    assert {json.loads(raw)["code"] for status, raw, _ in calls if status == 429} == {4029}
    assert {who for _, _, who in calls} == set(workers)     # both workers served: one count, not one each
    listed = _same_everywhere(g, f"/__admin/tenants/{tid}/faults")
    assert [(f["id"], f["fired"]) for f in listed["faults"]] in ([], [(fault["id"], 6)]), listed

    # the journal holds the 24 calls, whichever worker answered them, read through either
    def journal_agrees():
        answers = g.on_each_worker("GET", f"/__admin/tenants/{tid}/journal?vendor=gameball&limit=1000")
        bodies = [body for _, body in answers.values()]
        return bodies[0] if all(b == bodies[0] for b in bodies) and bodies[0]["count"] == 24 else None
    journal = wait_until(journal_agrees, 5, "both workers' journals list the same 24 gameball calls")
    assert [e["status"] for e in journal["entries"]] == [200] * 18 + [429] * 6        # newest first
    assert [e["fault"]["case"] for e in journal["entries"] if "fault" in e] == ["rate_limit"] * 6
    assert {e["path"] for e in journal["entries"]} == {f"{S.GBW}/customers/user-123/balance"}


# --- the journal of two workers ------------------------------------------------------------------------------------

def _new_tenant(g: Gateway) -> tuple[str, dict]:
    status, created = g.post("/__admin/tenants", {})
    assert status == 201, created
    gb = created["credentials"]["gameball"]
    return created["tenant"], {"apikey": gb["apikey"], "secretkey": gb["secretkey"]}


@HEAVY
def test_the_journal_lists_the_calls_of_two_workers_newest_first(two_workers):
    """Calls answered alternately by worker A and worker B: the journal lists them newest first, as answered."""
    g = two_workers
    tid, gb = _new_tenant(g)
    pins = g.pinned()
    try:
        for trial in range(3):
            answered = []
            for n in range(8):
                for pid, conn in pins.items():
                    customer = ("user-123", "user-456")[n % 2]
                    status, _ = conn.call("GET", f"{S.GBW}/customers/{customer}/balance", headers=gb)
                    assert status == 200
                    answered.append(f"{S.GBW}/customers/{customer}/balance")
            time.sleep(0.3)                       # every worker's buffered lines are written by now
            status, journal = g.post(f"/__admin/tenants/{tid}/journal?vendor=gameball&limit=100", method="GET")
            assert status == 200 and journal["count"] == 16, journal
            ats = [e["at"] for e in journal["entries"]]
            assert ats == sorted(ats, reverse=True), f"trial {trial}: not newest first: {ats}"
            assert [e["path"] for e in journal["entries"]] == answered[::-1]
            status, _ = g.post(f"/__admin/tenants/{tid}/journal", method="DELETE")
            assert status == 204
    finally:
        for conn in pins.values():
            conn.close()


@HEAVY
def test_a_journal_cleared_through_one_worker_forgets_the_calls_of_the_other(two_workers):
    """Worker A answers a call (its journal line waits in A's buffer up to 50 ms) and worker B clears the journal
    at once: the cleared journal lists nothing, through either worker, once A's buffer is written."""
    g = two_workers
    tid, gb = _new_tenant(g)
    (a, to_a), (b, to_b) = g.pinned().items()
    try:
        for trial in range(5):
            status, _ = to_a.call("GET", f"{S.GBW}/customers/user-123/balance", headers=gb)     # A answers ...
            assert status == 200
            status, _ = to_b.call("DELETE", f"/__admin/tenants/{tid}/journal")                 # ... B clears
            assert status == 204
            time.sleep(0.2)                       # A's buffered line would be written by now
            for conn in (to_a, to_b):
                status, journal = conn.call("GET", f"/__admin/tenants/{tid}/journal?vendor=gameball")
                assert (status, journal) == (200, {"entries": [], "count": 0}), f"trial {trial}: {journal}"
    finally:
        to_a.close()
        to_b.close()


# --- start-up refusals: one `--store:` line, exit 2 ----------------------------------------------------------------
# Every bad start of the module is launched at once by the `refusals` fixture (each costs a Python start-up, about
# a second), and each test reads its own; one xdist group, so that (where groups are honoured) they launch once.

REFUSALS = pytest.mark.xdist_group("store_refusals")


def test_two_workers_on_the_memory_store_are_refused(tmp_path):
    assert fails(tmp_path, "--port", "0", "--workers", "2") == [
        "--workers 2 needs a store the workers share: the memory store lives in one process; use --store sqlite:PATH"]


def _made_by_serve(where: Path) -> tuple[Path, object]:
    """A store file written by a real `serve` (one write: 5 points to user-456, then a clean stop), and user-456's
    Gameball `totalPointsBalance` before that write."""
    db = where / "world.db"
    g = Gateway(where, *store_args(db))
    try:
        status, before = g.post(f"{S.GBW}/customers/user-456/balance", headers=S.GB, method="GET")
        assert status == 200
        status, _ = g.post(f"{S.GBW}/transactions/manual", {"customerId": "user-456", "transactionId": "t-1",
                                                            "username": "ops", "reason": "r", "points": 5}, S.GB)
        assert status == 200
        assert assert_clean_stop(g) == []
    finally:
        g.kill()
    return db, before["totalPointsBalance"]


def _sql(db: Path, *statements: tuple) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(*statement)
    finally:
        conn.close()


class Case:
    """One bad start: the store path given, its bytes before (when it is a file), the refusal."""

    def __init__(self, where: Path, db: Path):
        self.db = db
        self.before = db.read_bytes() if db.is_file() else None
        self.refusal = Refusal(where, "--port", "0", "--store", f"sqlite:{db}")

    def line(self) -> str:
        lines = self.refusal.lines()
        assert len(lines) == 1 and lines[0].startswith("--store: "), lines
        return lines[0]


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    made, _ = _made_by_serve(root)

    def place(name: str, file: str = "world.db", copy: bool = False) -> Path:
        (root / name).mkdir()
        db = root / name / file
        if copy:
            for suffix in ("", "-wal"):
                if Path(f"{made}{suffix}").exists():
                    shutil.copy(f"{made}{suffix}", f"{db}{suffix}")
        return db

    files = {"missing": place("missing").parent / "nowhere" / "world.db", "directory": place("directory")}
    files["directory"].mkdir()
    files["text"] = place("text", "notes.txt")
    files["text"].write_text("shopping list\n- milk\n- eggs\n" * 20)
    files["other"] = place("other", "app.db")
    _sql(files["other"], ("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)",))
    files["newer"] = place("newer", copy=True)
    _sql(files["newer"], (f"PRAGMA user_version = {SCHEMA_VERSION + 1}",))
    (root / "plain").write_text("a file, not a folder\n")
    files["under_a_file"] = root / "plain" / "world.db"
    files["dropped"] = place("dropped", copy=True)
    _sql(files["dropped"], ("DROP TABLE journal",))
    files["tampered"] = place("tampered", copy=True)
    conn = sqlite3.connect(files["tampered"], isolation_level=None)
    (key,) = conn.execute("SELECT key FROM row LIMIT 1").fetchone()
    conn.execute("UPDATE row SET body = ? WHERE key = ?", (pickle.dumps(sqlite3.connect), key))
    conn.close()
    files["locked"] = place("locked", copy=True)
    holder = sqlite3.connect(files["locked"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    cases = {}
    try:
        for name, db in files.items():
            cases[name] = Case(root, db)
        yield cases
    finally:
        for case in cases.values():
            case.refusal.kill()
        holder.execute("ROLLBACK")
        holder.close()


@REFUSALS
def test_a_store_in_a_directory_that_does_not_exist(refusals):
    case = refusals["missing"]
    line = case.line()
    assert line.startswith(f"--store: cannot open the store {case.db}: ") and line.endswith(
        f"{case.db.parent} does not exist"), line
    assert not case.db.parent.exists()


@REFUSALS
def test_a_store_that_is_a_directory(refusals):
    case = refusals["directory"]
    assert case.line() == f"--store: cannot open the store {case.db}: it is a directory"


@REFUSALS
def test_a_store_that_is_a_text_file(refusals):
    case = refusals["text"]
    assert case.line() == f"--store: {case.db} is not a loyalty-gateway store (not an SQLite database)"
    assert case.db.read_bytes() == case.before


@REFUSALS
def test_a_store_that_is_another_programs_database(refusals):
    case = refusals["other"]
    assert case.line() == f"--store: {case.db} is an SQLite database but not a loyalty-gateway store"
    assert case.db.read_bytes() == case.before                 # not turned into a store


@REFUSALS
def test_a_store_another_process_holds_locked(refusals):
    """The fixture holds `BEGIN EXCLUSIVE` on a real store: the gateway waits 2 s for it, then says so."""
    case = refusals["locked"]
    assert case.line() == f"--store: the store {case.db} is locked by another process (waited 2 s)"
    assert case.refusal.elapsed >= 2


@REFUSALS
def test_a_store_with_a_newer_schema(refusals):
    case = refusals["newer"]
    assert case.line() == (f"--store: {case.db} was written by a newer loyalty-gateway (store schema "
                           f"{SCHEMA_VERSION + 1}); this one reads schema {SCHEMA_VERSION}")


@REFUSALS
def test_a_store_whose_parent_is_a_file(refusals):
    case = refusals["under_a_file"]
    assert case.line() == f"--store: cannot open the store {case.db}: {case.db.parent} is not a directory"


@REFUSALS
def test_a_store_with_a_table_dropped(refusals):
    case = refusals["dropped"]
    assert case.line() == f"--store: {case.db} is a damaged loyalty-gateway store: journal, journal_tenant missing"


@REFUSALS
def test_a_store_with_a_row_no_gateway_wrote(refusals):
    case = refusals["tampered"]
    assert case.line() == (f"--store: cannot resume the store {case.db}: the store holds a value of "
                           f"_sqlite3.connect, which no gateway store writes")


# --- resuming with workers -----------------------------------------------------------------------------------------

@HEAVY
def test_two_workers_resume_a_store_and_say_the_fixtures_are_not_loaded(serve, tmp_path):
    """The parent names the tenants the file holds (it does not load them: each worker does), says once that
    --fixtures are not loaded, and every worker serves the state the first run left (its 5-point credit)."""
    db, before = _made_by_serve(tmp_path)
    fixtures_file = tmp_path / "other.yaml"
    fixtures_file.write_text("not even read: the store already holds a tenant\n")
    g = serve(*store_args(db, 2), "--fixtures", str(fixtures_file))
    assert g.tenants == "demo"
    answers = g.on_each_worker("GET", f"{S.GBW}/customers/user-456/balance", headers=S.GB)
    assert len(answers) == 2
    for status, after in answers.values():
        assert status == 200
        assert after["totalPointsBalance"] == before + 5
    assert g.stop()[0] == 0
    assert g.stderr() == ("loyalty-gateway: the store already holds demo: resuming; --fixtures not loaded (reset a "
                          "tenant through /__admin, or start on a new file)\n")
