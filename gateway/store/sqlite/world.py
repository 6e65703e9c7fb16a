"""One SQLite file holding every tenant of a gateway, shared by its workers.

Each worker keeps its own copy of each tenant in memory (SqliteTenantStore) and the file is the truth:
- a write: the engine operation runs on the copy; its rows are committed in ONE transaction (`BEGIN IMMEDIATE`)
  that first checks no other worker committed since this copy was brought up to date. If one did, the memory
  writes are undone and the engine runs the operation again, this time holding the write lock from the start
  (StoreConflict): two workers never both spend the same points.
- a read: `PRAGMA data_version` says whether another connection committed; if so, the rows written since the
  world version this worker has seen are replayed into its copies (tenants added, replaced or removed too).
- the clock and high-water mark are rows of their tenant; faults and the journal have their own tables.
WAL journal, `synchronous=NORMAL`: a committed write survives the process being killed (SIGKILL); only a
power cut can lose the last commits (`?sync=full` closes that too, at an fsync per write)."""
from __future__ import annotations

import os
import re
import sqlite3
from typing import Any, Iterable

from ...engine.clock import Clock
from ...engine.errors import StoreUnavailable
from ...engine.ports import StoreConflict
from .. import StoreError
from . import codec
from .tenant_store import SqliteTenantStore, key_of

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4C475753      # "LGWS": marks the file as a loyalty-gateway store

FOLD_EVERY = 512      # committed operations kept as log batches before they are folded into the rows

_TABLES = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE tenant(id TEXT PRIMARY KEY, version INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE row(tenant TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
                 created INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY(tenant, kind, key)) WITHOUT ROWID;
CREATE INDEX row_version ON row(version);
CREATE TABLE log(version INTEGER PRIMARY KEY, tenant TEXT NOT NULL, body BLOB NOT NULL);
CREATE TABLE journal(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, answered INTEGER NOT NULL,
                     vendor TEXT, operation TEXT, status INTEGER, body TEXT NOT NULL);
CREATE INDEX journal_tenant ON journal(tenant, answered);
CREATE TABLE journal_cleared(tenant TEXT PRIMARY KEY, answered INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE fault(id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, body BLOB NOT NULL);
INSERT INTO meta VALUES ('folded', 0), ('faults', 0);
"""
_NAMES = tuple(re.findall(r"CREATE (?:TABLE|INDEX) (\w+)", _TABLES))    # what a whole store holds

# The world's version is the last log batch's (the folded-up-to mark when the log is empty). A batch is written only
# if it follows the version the writer has caught up to: one statement checks and writes (a conflict writes nothing).
_VERSION = "SELECT coalesce((SELECT max(version) FROM log), (SELECT value FROM meta WHERE key = 'folded'))"
_APPEND = f"INSERT INTO log(version, tenant, body) SELECT ?, ?, ? WHERE ({_VERSION}) = ?"

_UPSERT = ("INSERT INTO row(tenant, kind, key, version, created, body) VALUES (?, ?, ?, ?, ?, ?) "
           "ON CONFLICT(tenant, kind, key) DO UPDATE SET version = excluded.version, body = excluded.body")


def _created(version: int, position: int) -> int:
    """A row's place in the order rows were first written (a tenant loads in that order)."""
    return (version << 32) | position


def _sqlite_header(path: str) -> bool:
    """Whether the file starts as every SQLite database does (a damaged store is told apart from a stranger)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class StoreFileError(StoreError):
    """The store file cannot serve: a clear one-line reason (the CLI exits 2 with it)."""


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


class World:
    """The open store file: its connection, what this worker has seen of it, and its tenants' copies."""

    def __init__(self, path: str, *, sync: str = "normal", busy_timeout: float = 30.0):
        self.path = path
        self.sync_mode = sync
        self.version = 0                      # the world version this worker's copies hold
        self.faults_version = 0
        self.applying = False                 # replaying rows: the stores note nothing
        self.stores: dict[str, SqliteTenantStore] = {}
        self.tenant_versions: dict[str, int] = {}
        self.engine: Any = None               # the Engine whose tenants live here (bind)
        self.faults: Any = None               # the SqliteFaults reading the fault table, if any
        self._in_tx = False
        self._lock_next = False
        self._dv: int | None = None
        self._folded_at: int | None = None      # the log is folded up to this version (None: read it)
        self.on_close: list = []                # called before the file is closed (buffered journal lines)
        self.closed = False
        self.db = self._open(busy_timeout)

    # --- opening ----------------------------------------------------------------------------------------------
    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        where = self.path
        parent = os.path.dirname(os.path.abspath(where))
        if not os.path.isdir(parent):
            why = f"{parent} is not a directory" if os.path.exists(parent) else f"directory {parent} does not exist"
            raise StoreFileError(f"cannot open the store {where}: {why}")
        if os.path.isdir(where):
            raise StoreFileError(f"cannot open the store {where}: it is a directory")
        try:
            db = sqlite3.connect(where, isolation_level=None, timeout=2.0, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreFileError(f"cannot open the store {where}: {_reason(exc)}") from None
        try:
            self._prepare(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            text = _reason(exc)
            if "not a database" in text or "malformed" in text:
                if _sqlite_header(where):
                    raise StoreFileError(f"{where} is a damaged SQLite database ({text}): restore it from a copy or "
                                         f"start on a new file") from None
                raise StoreFileError(f"{where} is not a loyalty-gateway store (not an SQLite database)") from None
            if "locked" in text or "busy" in text:
                raise StoreFileError(f"the store {where} is locked by another process (waited 2 s)") from None
            raise StoreFileError(f"cannot open the store {where}: {text}") from None
        except StoreFileError:
            db.close()
            raise
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        return db

    def _prepare(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (tables or app_id):
            raise StoreFileError(f"{self.path} is an SQLite database but not a loyalty-gateway store")
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreFileError(f"cannot use the store {self.path}: its file system does not support SQLite's WAL")
        db.execute(f"PRAGMA synchronous = {'FULL' if self.sync_mode == 'full' else 'NORMAL'}")
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:    # new: make it a store
                for statement in filter(str.strip, _TABLES.split(";")):   # inside the transaction: two
                    db.execute(statement)                                # processes creating it: one wins
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                present = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
                if missing := [name for name in _NAMES if name not in present]:
                    raise StoreFileError(f"{self.path} is a damaged loyalty-gateway store: "
                                         f"{', '.join(missing)} missing")
            if version > SCHEMA_VERSION:
                raise StoreFileError(f"{self.path} was written by a newer loyalty-gateway (store schema {version}); "
                                     f"this one reads schema {SCHEMA_VERSION}")
            if version < SCHEMA_VERSION:     # no older schema was ever released: nothing to migrate from
                raise StoreFileError(f"{self.path} has store schema {version}, which this version cannot migrate")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self.closed:
            return
        for hook in self.on_close:
            hook()
        self.closed = True
        try:
            self.fold()
        except (StoreUnavailable, sqlite3.Error):
            pass             # the log stays; the next start replays it
        self.db.close()

    # --- what this worker has seen ------------------------------------------------------------------------------
    def bind(self, engine) -> None:
        """Serve `engine`'s tenants from this file: load every tenant it holds into the engine."""
        self.engine = engine
        try:
            self._catch_up_locked(True)
        except codec.CorruptRow as exc:
            raise StoreFileError(f"cannot resume the store {self.path}: {exc}") from None

    def _version(self) -> int:
        return self.db.execute(_VERSION).fetchone()[0]

    def _meta(self, key: str) -> int:
        return self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def sync(self) -> None:
        """Bring this worker's copies up to what other workers committed (cheap when nothing was)."""
        if self._in_tx:
            return
        dv = self.db.execute("PRAGMA data_version").fetchone()[0]
        if dv == self._dv:
            return
        self._dv = dv
        self._catch_up_locked(True)

    def _catch_up_locked(self, snapshot: bool) -> None:
        own = snapshot and not self._in_tx
        if own:
            self.db.execute("BEGIN")
        try:
            self._catch_up()
        finally:
            if own:
                self.db.execute("COMMIT")

    def _catch_up(self) -> None:
        version = self._version()
        if self.faults is not None:
            faults_version = self._meta("faults")
            if faults_version != self.faults_version:
                self.faults.reload(self.db)
                self.faults_version = faults_version
        if version == self.version or self.engine is None:
            return
        reloaded = set()
        known = dict(self.db.execute("SELECT id, version FROM tenant").fetchall())
        for tid in [t for t in self.stores if t not in known]:
            self.stores.pop(tid, None)
            self.tenant_versions.pop(tid, None)
            self.engine.unregister(tid)
        for tid, tversion in known.items():
            if self.tenant_versions.get(tid) != tversion:
                self._load_tenant(tid, tversion)
                reloaded.add(tid)
        changed: set[str] = set()
        self.applying = True
        try:
            start = self.version
            folded = self._folded_at = self._meta("folded")
            if folded > start:      # batches this worker had not read were folded into rows meanwhile
                rows = self.db.execute("SELECT tenant, kind, body FROM row WHERE version > ? ORDER BY created",
                                       (start,))
                self._apply((tid, [(kind, None, body)]) for tid, kind, body in rows if tid not in reloaded)
                start = folded
            batches = self.db.execute("SELECT tenant, body FROM log WHERE version > ? ORDER BY version", (start,))
            changed = self._apply((tid, codec.loads(body)) for tid, body in batches if tid not in reloaded)
        finally:
            self.applying = False
        for tid in changed:
            tenant = self.engine.get(tid)
            self._tenant_meta(tenant)
            tenant.store.take_touched()     # the worker that wrote these rows already refreshed what they touch
        self.version = version

    def _apply(self, batches) -> set[str]:
        """Replay (tenant, [(kind, key text, row bytes), ...]) into the tenants' copies; the tenants changed."""
        changed = set()
        loads = codec.loads
        for tid, items in batches:
            store = self.stores.get(tid)
            if store is None:
                continue
            for kind, _, row in items:
                store.apply_row(kind, *loads(row))
            changed.add(tid)
        return changed

    def _load_tenant(self, tid: str, tversion: int) -> None:
        from ...engine.tenant import Tenant
        body = self.db.execute("SELECT body FROM tenant WHERE id = ?", (tid,)).fetchone()[0]
        doc = codec.loads(body)
        store = SqliteTenantStore()
        self.stores[tid] = store
        self.applying = True
        try:
            rows = self.db.execute("SELECT kind, body FROM row WHERE tenant = ? ORDER BY created", (tid,))
            self._apply((tid, [(kind, None, row)]) for kind, row in rows)
            batches = self.db.execute("SELECT body FROM log WHERE version > ? AND tenant = ? ORDER BY version",
                                      (tversion, tid))
            self._apply((tid, codec.loads(batch)) for batch, in batches)
        finally:
            self.applying = False
        store.take_touched()
        store.world, store.tenant_id = self, tid
        tenant = Tenant(id=tid, programs=doc["programs"], store=store, clock=Clock(),
                        credentials=doc["credentials"], settings=doc["settings"], source=doc["source"])
        self._tenant_meta(tenant)
        self.tenant_versions[tid] = tversion
        self.engine.register(tenant)

    @staticmethod
    def _tenant_meta(tenant) -> None:
        """The tenant's clock and high-water mark as its store holds them."""
        state = tenant.store.meta("clock")
        if state is not None:
            tenant.clock.load(state)
        high_water = tenant.store.meta("high_water")
        if high_water is not None and (tenant.high_water is None or high_water > tenant.high_water):
            tenant.high_water = high_water

    # --- transactions -------------------------------------------------------------------------------------------
    def begin(self, store: SqliteTenantStore) -> None:
        """An engine operation starts. Normally nothing to do: the call caught up when it arrived, and the commit
        checks that nobody wrote since. Retrying after a conflict: take the write lock first, then catch up."""
        if self._lock_next:
            self._lock_next = False
            self._begin_immediate()
            self._catch_up()

    def _begin_immediate(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable("the store could not be written", reason=_reason(exc)) from None
        self._in_tx = True

    def abandon(self, store: SqliteTenantStore) -> None:
        if self._in_tx:
            self._in_tx = False
            self.db.execute("ROLLBACK")

    def commit(self, store: SqliteTenantStore, wrote: Iterable[tuple[str, tuple]]) -> None:
        """Write the current value of each key the operation wrote, as ONE log batch in one statement. It is written
        only if it follows the version this worker's copies hold: otherwise another worker wrote first (conflict)."""
        dumps = codec.dumps
        items = [(kind, key_of(*key), dumps((key, store.row_value(kind, key)))) for kind, key in wrote]
        if not items:
            self.abandon(store)
            return
        body = dumps(items)       # each row already in its final bytes: folding copies them, decoding nothing
        version = self.version + 1
        try:
            moved = self.db.execute(_APPEND, (version, store.tenant_id, body, self.version)).rowcount
            if moved != 1:           # another worker wrote since this copy caught up: run again, under the lock
                self.abandon(store)
                self._lock_next = True
                raise StoreConflict
            if self._in_tx:          # the retry's transaction, held since before it caught up
                self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback_quietly()
            raise StoreUnavailable("the store could not be written", reason=_reason(exc)) from None
        finally:
            self._in_tx = False
        self.version = version
        if version - self._folded() >= FOLD_EVERY:
            self._fold_now()

    def _fold_now(self) -> None:
        """Fold, as its own transaction (compaction: the operation is already kept, whatever happens here)."""
        try:
            self._begin_immediate()
            try:
                self._fold(self._version())
                self.db.execute("COMMIT")
            finally:
                self._in_tx = False
        except (sqlite3.Error, StoreUnavailable):
            self._rollback_quietly()
            self._folded_at = None          # read again next time; the log stays until a fold succeeds

    def _folded(self) -> int:
        if self._folded_at is None:
            self._folded_at = self._meta("folded")
        return self._folded_at

    def _fold(self, upto: int) -> None:
        """Fold the log batches up to `upto` into the rows (each key's last value), inside the open transaction:
        the log stays short, a restart loads rows, and a key written by many operations is one row."""
        latest: dict[tuple, list] = {}
        for version, tid, body in self.db.execute("SELECT version, tenant, body FROM log WHERE version <= ? "
                                                  "ORDER BY version", (upto,)).fetchall():
            for i, (kind, text, row) in enumerate(codec.loads(body)):
                k = (tid, kind, text)
                found = latest.get(k)
                if found is None:
                    latest[k] = [version, _created(version, i), row]
                else:
                    found[0], found[2] = version, row
        self.db.executemany(_UPSERT, ((tid, kind, text, version, created, row)
                                      for (tid, kind, text), (version, created, row) in latest.items()))
        self.db.execute("DELETE FROM log WHERE version <= ?", (upto,))
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'folded'", (upto,))
        self._folded_at = upto

    def fold(self) -> None:
        """Fold the whole log now (a clean stop: the next start loads rows only)."""
        if self._version() > self._meta("folded"):
            self._fold_now()

    def _rollback_quietly(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # --- tenants -----------------------------------------------------------------------------------------------
    def attach(self, tenant) -> None:
        """Write a whole tenant (new, or replacing the one of its id): its description and every row."""
        store = tenant.store
        if not isinstance(store, SqliteTenantStore):      # built on another store (a test's, a user's): copied
            store = tenant.store = SqliteTenantStore.restore(store.export())
        store._meta["clock"] = tenant.clock.state()
        if tenant.high_water is not None:
            store._meta["high_water"] = tenant.high_water
        doc = codec.dumps({"programs": dict(tenant.programs), "credentials": tenant.credentials,
                           "settings": tenant.settings, "source": tenant.source})
        self._locked_write(lambda version: self._write_tenant(tenant.id, store, doc, version))
        store.world, store.tenant_id = self, tenant.id
        self.stores[tenant.id] = store
        self.tenant_versions[tenant.id] = self.version

    def _write_tenant(self, tid: str, store: SqliteTenantStore, doc: bytes, version: int) -> None:
        self.db.execute("DELETE FROM row WHERE tenant = ?", (tid,))
        self.db.execute("DELETE FROM log WHERE tenant = ?", (tid,))
        self.db.execute("INSERT INTO tenant VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
                        "body = excluded.body", (tid, version, doc))
        self.db.executemany("INSERT INTO row(tenant, kind, key, version, created, body) VALUES (?, ?, ?, ?, ?, ?)",
                            ((tid, kind, key_of(*key), version, _created(version, i),
                              codec.dumps((key, store.row_value(kind, key))))
                             for i, (kind, key) in enumerate(store.all_rows())))

    def forget(self, tid: str) -> None:
        def drop(version: int) -> None:
            for table, column in (("row", "tenant"), ("log", "tenant"), ("tenant", "id"), ("journal", "tenant"),
                                  ("journal_cleared", "tenant"), ("fault", "tenant")):
                self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (tid,))
            self.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'faults'")
        self._locked_write(drop)
        self.stores.pop(tid, None)
        self.tenant_versions.pop(tid, None)

    def _locked_write(self, write) -> None:
        """A control-plane write (tenants): under the lock, after catching up, as one transaction that moves the
        world's version on (other workers then look at the tenants again)."""
        def statements(db) -> int:
            self._catch_up()
            version = self.version + 1
            write(version)
            db.execute(_APPEND, (version, "", codec.dumps([]), self.version))
            return version
        self.version = self.write(statements)

    def write(self, statements) -> Any:
        """A few statements as one locked transaction (faults, the journal): `statements(db)` returns a value."""
        self._begin_immediate()
        try:
            out = statements(self.db)
            self.db.execute("COMMIT")
            return out
        except sqlite3.Error as exc:
            self._rollback_quietly()
            raise StoreUnavailable("the store could not be written", reason=_reason(exc)) from None
        except BaseException:
            self._rollback_quietly()
            raise
        finally:
            self._in_tx = False

    def held(self) -> list[str]:
        return [tid for (tid,) in self.db.execute("SELECT id FROM tenant ORDER BY id")]

    def tenant_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM tenant").fetchone()[0]
