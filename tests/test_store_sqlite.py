"""The SQLite store in-process: two engines on one file stand for two workers (the same code a `--workers 2`
process runs), so their races can be made to happen at a chosen instant. What a user would check: a write made
through one is seen through the other, the same points are never spent twice, a write that cannot be kept changes
nothing and says so, the file refuses what is not a store, and its rows run no code."""
from __future__ import annotations

import pickle
import sqlite3
from decimal import Decimal

import pytest

import invariants
from gateway import fixtures
from gateway.app import Config, build_app
from gateway.engine import Engine
from gateway.engine.errors import InsufficientPoints, StoreUnavailable
from gateway.store import StoreError, open_stores
from gateway.store.sqlite import codec
from gateway.store.sqlite import world as world_module
from helpers import ALTCRAFT_TOKEN, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW, OMNEO, CheckedClient, demo_tenant


@pytest.fixture
def path(tmp_path):
    return tmp_path / "world.db"


@pytest.fixture
def two(path):
    """Two engines over one file, the demo tenant written by the first: (first's demo, second's demo)."""
    a_stores = open_stores(f"sqlite:{path}")
    a = Engine(a_stores)
    a.add(demo_tenant(stores=a_stores))
    b_stores = open_stores(f"sqlite:{path}")
    b = Engine(b_stores)
    yield a.get("demo"), b.get("demo")
    a_stores.close()
    b_stores.close()


def figures(t, member="alice"):
    m = t.member_by_id(member)
    b = t.balance(m, t.program("main").default_currency)
    return b.available, b.pending, b.held


def test_a_write_through_one_worker_is_read_through_the_other(two):
    a, b = two
    pts = a.program("main").default_currency
    before = figures(b)
    a.credit(a.member_by_id("alice"), pts, Decimal(25), available_at=a.now(), origin="manual")
    b.store.world.sync()
    assert figures(b) == (before[0] + 25, before[1], before[2]) == figures(a)
    assert b.store.export() == a.store.export()


def test_a_debit_racing_another_workers_write_runs_again_on_the_new_state(two):
    """Worker A reads the balance, worker B spends from it before A commits: A's commit finds the file moved on,
    undoes its copy and runs the debit again under the write lock, so the two debits never spend the same points."""
    a, b = two
    pts = a.program("main").default_currency
    available = figures(a)[0]
    raced = []

    def a_debit(now):
        if not raced:          # only on the first run: B spends all but 10 points in between
            raced.append(b.debit(b.member_by_id("alice"), pts, available - 10, origin="manual"))
        from gateway.engine import ledger
        return ledger.debit(a.store, "alice", pts, Decimal(30), now, origin="manual")

    with pytest.raises(InsufficientPoints):
        a.run(a_debit)
    b.store.world.sync()
    assert figures(a)[0] == figures(b)[0] == 10
    assert a.store.entries_count("alice", pts.id) == b.store.entries_count("alice", pts.id)
    invariants.check(a)
    invariants.check(b)


def test_a_debit_that_still_fits_after_the_race_is_applied_once(two):
    a, b = two
    pts = a.program("main").default_currency
    available = figures(a)[0]
    runs = []

    def a_debit(now):
        runs.append(now)
        if len(runs) == 1:
            b.credit(b.member_by_id("alice"), pts, Decimal(5), available_at=b.now(), origin="manual")
        from gateway.engine import ledger
        return ledger.debit(a.store, "alice", pts, Decimal(30), now, origin="manual")

    entry = a.run(a_debit)
    assert len(runs) == 2                      # the first run was undone, the second kept
    b.store.world.sync()
    assert figures(a)[0] == figures(b)[0] == available + 5 - 30
    assert b.store.entry(entry.id) == entry
    assert [e.id for e in b.store.entries_page("alice", pts.id)] == [e.id for e in a.store.entries_page("alice", pts.id)]


def test_tenants_clock_and_removal_are_shared(two, path):
    a, b = two
    a.set_clock(NOW.replace(year=NOW.year + 1), frozen=True)
    b_engine = Engine(open_stores(f"sqlite:{path}"))      # a third worker, started now
    assert b_engine.get("demo").now() == a.now()
    b.store.world.sync()
    assert b.now() == a.now() and b.clock.frozen


def test_a_write_that_cannot_be_kept_changes_nothing(two):
    """The disk is full (the file may not grow): the operation is refused as store_unavailable and neither the
    worker's copy nor the file holds any of it."""
    a, b = two
    pts = a.program("main").default_currency
    db = a.store.world.db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    before = a.store.export()
    alice = a.member_by_id("alice")
    with pytest.raises(StoreUnavailable) as caught:
        for i in range(200):         # until a write needs a new page
            a.credit(alice, pts, Decimal(1), available_at=a.now(), origin="manual", refs={"note": "x" * 2000})
            before = a.store.export()
    assert caught.value.code == "store_unavailable"
    assert a.store.export() == before
    db.execute("PRAGMA max_page_count = 1073741823")
    b.store.world.sync()
    assert b.store.export() == a.store.export()
    invariants.check(a)


def test_restart_resumes_every_tenant_exactly(path):
    stores = open_stores(f"sqlite:{path}")
    engine = Engine(stores)
    engine.add(demo_tenant(stores=stores))
    t = engine.get("demo")
    pts = t.program("main").default_currency
    t.credit(t.member_by_id("bob"), pts, Decimal("12.5"), available_at=t.now(), origin="manual")
    t.debit(t.member_by_id("alice"), pts, Decimal(7), origin="manual")
    other = demo_tenant(stores=stores)
    other.id, other.credentials = "second", {}
    engine.add(other)
    engine.remove("second")
    stores.close()
    reopened = open_stores(f"sqlite:{path}")
    assert reopened.held() == ["demo"]              # named without being loaded (a parent of workers)
    again = Engine(reopened)
    assert [x.id for x in again] == ["demo"]
    assert again.get("demo").store.export() == t.store.export()
    assert again.get("demo").now() == t.now()
    invariants.check(again.get("demo"))


def test_files_that_are_not_a_store_are_refused_with_a_reason(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00not sqlite at all" * 100)
    with pytest.raises(StoreError, match="is not a loyalty-gateway store"):
        open_stores(f"sqlite:{junk}")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t(x)")
    with pytest.raises(StoreError, match="an SQLite database but not a loyalty-gateway store"):
        open_stores(f"sqlite:{other}")
    newer = tmp_path / "newer.db"
    open_stores(f"sqlite:{newer}").close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer loyalty-gateway"):
        open_stores(f"sqlite:{newer}")
    with pytest.raises(StoreError, match="does not exist"):
        open_stores(f"sqlite:{tmp_path}/missing/world.db")
    with pytest.raises(StoreError, match="unknown option"):
        open_stores(f"sqlite:{tmp_path}/w.db?fast=1")
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(StoreError, match=f"cannot open the store {tmp_path}/plain/world.db: {tmp_path}/plain is "
                                         f"not a directory$"):
        open_stores(f"sqlite:{tmp_path}/plain/world.db")
    damaged = tmp_path / "damaged.db"
    open_stores(f"sqlite:{damaged}").close()
    with sqlite3.connect(damaged) as db:
        db.execute("DROP TABLE journal")
    with pytest.raises(StoreError, match=f"^{damaged} is a damaged loyalty-gateway store: journal, journal_tenant "
                                         f"missing$"):
        open_stores(f"sqlite:{damaged}")
    cut = tmp_path / "cut.db"                       # a store cut in half (a bad copy): damaged, not a stranger
    stores = open_stores(f"sqlite:{cut}")
    Engine(stores)
    fixtures.build(fixtures.demo_document(), stores=stores)
    stores.close()
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    with pytest.raises(StoreError, match=f"^{cut} is a damaged SQLite database \\(database disk image is malformed\\)"):
        open_stores(f"sqlite:{cut}")


def test_a_locked_file_is_refused_at_start(path):
    open_stores(f"sqlite:{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            open_stores(f"sqlite:{path}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_rows_rebuild_records_and_refuse_anything_else():
    t = demo_tenant()
    lot = next(iter(t.store._lots.values()))
    assert codec.loads(codec.dumps(lot)) == lot
    assert codec.loads(codec.dumps({"a": (Decimal("1.5"), NOW, None)})) == {"a": (Decimal("1.5"), NOW, None)}

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    with pytest.raises(codec.CorruptRow, match="builtins.print"):
        codec.loads(pickle.dumps(Evil()))
    with pytest.raises(codec.CorruptRow):
        codec.loads(b"\x80\x05garbage")


# --- over HTTP: a write the disk refuses is the vendor's own 5xx, and nothing of it is kept ---------------------

class _DiskFull:
    """The world's connection, except that appending a log batch fails as SQLite does on a full disk."""

    def __init__(self, db):
        self._db = db

    def execute(self, sql, *args):
        if sql is world_module._APPEND:
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


DISK_FULL = [
    ("gameball", "POST", "/api/v4.0/integrations/transactions/manual", {"headers": GB, "json": {
        "customerId": BOB["gameball"], "transactionId": "full-1", "username": "ops", "reason": "bonus", "points": 10}},
     503, lambda b: (b["code"], b["type"]) == (5003, "SERVER_ERROR")),
    ("omneo", "POST", "/api/v3/points", {"headers": OMNEO, "json": {
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 10, "issued_at": None}},
     503, lambda b: b == {"message": "Service Unavailable"}),
    ("brevo", "POST", f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions", {"headers": BREVO, "json": {
        "amount": 10, "balanceDefinitionId": BREVO_BDID, "contactId": BOB["brevo"], "autoComplete": True}},
     500, lambda b: b["code"] == "internal_error"),
    ("altcraft", "POST", "/api/v1.1/loyalty/accrue_points", {"json": {
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": BOB["email"], "amount": "10"}},
     200, lambda b: b["error"] == 500 and b["error_text"] == "Internal error"),
]


@pytest.mark.parametrize("vendor,method,url,kw,status,shape", DISK_FULL, ids=[d[0] for d in DISK_FULL])
async def test_disk_full_is_the_vendors_own_5xx_and_keeps_nothing(aiohttp_client, path, vendor, method, url, kw,
                                                                  status, shape):
    stores = open_stores(f"sqlite:{path}")
    try:
        engine = Engine(stores)
        engine.add(demo_tenant(stores=stores))
        t = engine.get("demo")
        client = CheckedClient(await aiohttp_client(build_app(engine, Config(validate_responses=True))))
        before = t.store.export()
        world = t.store.world
        world.db = _DiskFull(world.db)
        resp = await client.request(method, url, **kw)
        body = await resp.json()
        assert resp.status == status and shape(body), (resp.status, body)
        world.db = world.db._db
        assert t.store.export() == before
        again = Engine(open_stores(f"sqlite:{path}"))          # and the file holds none of it
        assert again.get("demo").store.export() == before
        again.stores.close()
        resp = await client.request(method, url, **kw)          # the disk has room again: the same call is kept
        assert resp.status in (200, 201), await resp.text()
        invariants.check(t)
    finally:
        stores.close()


# --- over HTTP: identical twins racing on two workers --------------------------------------------------------

ACCRUE = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": BOB["email"],
          "amount": "25", "transaction_eid": "twin-1"}
TWINS = [
    ("altcraft", "/api/v1.1/loyalty/accrue_points", {"json": ACCRUE},
     lambda b: (b["error"], b["data"]["transaction_eid"], b["data"]["amount"]) == (0, "twin-1", "25.00")),
    ("gameball", "/api/v4.0/integrations/transactions/manual", {"headers": GB, "json": {
        "customerId": BOB["gameball"], "transactionId": "twin-1", "username": "ops", "reason": "bonus", "points": 25}},
     None),
]


@pytest.mark.parametrize("vendor,url,kw,shape", TWINS, ids=[t[0] for t in TWINS])
async def test_identical_twins_racing_on_two_workers_apply_once(aiohttp_client, path, vendor, url, kw, shape):
    """Worker A looks the key up before worker B's identical request is kept, and writes after: A's write loses the
    race (conflict, re-run under the lock, the key is taken by an identical request) and A answers as a replay of
    B's, exactly as a replay on one worker is answered; the points are applied once."""
    a_stores = open_stores(f"sqlite:{path}")
    a = Engine(a_stores)
    a.add(demo_tenant(stores=a_stores))
    b_stores = open_stores(f"sqlite:{path}")
    b = Engine(b_stores)
    try:
        a_http = CheckedClient(await aiohttp_client(build_app(a, Config(validate_responses=True))))
        b_http = CheckedClient(await aiohttp_client(build_app(b, Config(validate_responses=True))))
        a.get("demo").store.world.sync()                 # A is up to date now ...
        first = await b_http.post(url, **kw)             # ... B keeps the request ...
        world = a.get("demo").store.world
        world.sync, synced = (lambda: None), world.sync  # ... and A's call starts before it sees that
        try:
            second = await a_http.post(url, **kw)
        finally:
            world.sync = synced
        replay = await b_http.post(url, **kw)            # a plain replay, on one worker
        bodies = [await r.json() for r in (first, second, replay)]
        for body in bodies:
            body.pop("requestId", None)                  # Gameball's error bodies: one per call
        assert first.status == 200 and (second.status, bodies[1]) == (replay.status, bodies[2]), bodies
        if shape is not None:                            # Altcraft answers a replay with the first answer
            assert all(shape(body) for body in bodies), bodies
        else:                                            # Gameball's demo tenant refuses a replay: 9004
            assert (second.status, bodies[1]["code"]) == (422, 9004), bodies
        a.sync()
        for t in (a.get("demo"), b.get("demo")):
            bob = t.member_by_id("bob")
            assert t.balance(bob, t.program("main").default_currency).available == Decimal(25)
            invariants.check(t)
    finally:
        a_stores.close()
        b_stores.close()


def test_a_row_no_gateway_wrote_is_one_clear_line_at_start(path, capsys):
    """A store whose rows were tampered with (a pickled object of a class no store writes) refuses to start:
    exit 2 and one `--store:` line naming the file, never a traceback, and nothing runs the row's code."""
    from gateway.cli import main
    stores = open_stores(f"sqlite:{path}")
    Engine(stores).add(demo_tenant(stores=stores))
    stores.close()
    db = sqlite3.connect(path)
    (key,) = db.execute("SELECT key FROM row LIMIT 1").fetchone()
    db.execute("UPDATE row SET body = ? WHERE key = ?", (pickle.dumps(sqlite3.connect), key))
    db.commit()
    db.close()
    assert main(["serve", "--store", f"sqlite:{path}", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"loyalty-gateway: error: --store: cannot resume the store {path}: the store holds a value of "
                   f"_sqlite3.connect, which no gateway store writes"], err
