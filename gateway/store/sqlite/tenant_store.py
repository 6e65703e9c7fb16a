"""One tenant in the SQLite store: the memory store's structures as this worker's copy, every write also a row.

The rows are the truth: each record (member, lot, entry, reward ...) and each ordered or counted fact (a tier
movement, a limit use, a record-index slot, a balance standing, a history row, a sequence, the clock) is ONE
row `(tenant, kind, key) -> body`, upserted when it changes. A unit of work notes which keys it wrote; when the
outermost one ends, the world writes the current value of each of them in ONE SQLite transaction (the keys an
inner savepoint undid are written as they are after the undo). Loading a tenant, or catching up with another
worker's writes, replays rows through the same `put_*` methods, so every read is the memory store's own code:
a worker answers from memory, and the SQLite file is what survives and what other workers share."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from ..memory import MemoryTenantStore
from ..memory import _Atomic   # noqa: PLC2701 - the undo-log unit this one extends

_MISSING = object()
SEP = "\x1f"


def key_of(*parts: Any) -> str:
    return SEP.join(str(p) for p in parts)


class _Unit(_Atomic):
    """The memory store's unit of work, which also commits the rows it wrote (outermost only). A failed commit
    (another worker wrote first, the disk is full) undoes the memory writes too and raises."""

    __slots__ = ()

    def __enter__(self) -> None:
        s = self.store
        if s._undo is None and s.world is not None:
            s.world.begin(s)          # catch up with other workers (or take the write lock, on a retry)
            s._wrote = {}
        super().__enter__()

    def __exit__(self, exc_type, exc, tb) -> bool:
        s = self.store
        if not self.outer or s.world is None:
            return super().__exit__(exc_type, exc, tb)
        wrote, s._wrote = s._wrote, None
        try:
            if exc_type is None:
                s.world.commit(s, wrote)       # raises: the memory writes are undone below
            else:
                s.world.abandon(s)
        except BaseException:
            while s._undo:
                s._undo.pop()()
            s._undo = None
            raise
        return super().__exit__(exc_type, exc, tb)


class SqliteTenantStore(MemoryTenantStore):
    """The memory store plus the keys each unit of work wrote. Detached (no `world`) while it is being built
    (fixtures, a snapshot): then nothing is noted, and attaching writes the whole state at once."""

    def __init__(self) -> None:
        super().__init__()
        self.world = None               # the World it is attached to; None while detached
        self.tenant_id: str | None = None
        self._wrote: dict | None = None   # (kind, key) -> None: what the open unit of work wrote

    def atomic(self) -> _Unit:
        return _Unit(self)

    def wrote(self) -> bool:
        return bool(self._wrote) if self._wrote is not None else super().wrote()

    def _note(self, kind: str, key: tuple) -> None:
        if self._wrote is not None:
            self._wrote[(kind, key)] = None
        elif self.world is not None and not self.world.applying:
            self.world.commit(self, {(kind, key): None})     # a write outside any unit: its own transaction

    # --- the writes, each noting its key ---------------------------------------------------------------------
    def next_seq(self, name):
        n = super().next_seq(name)
        self._note("seq", (name,))
        return n

    def put_member(self, member):
        super().put_member(member)
        self._note("member", (member.id,))

    def put_lot(self, lot):
        super().put_lot(lot)
        self._note("lot", (lot.id,))

    def put_hold(self, hold):
        super().put_hold(hold)
        self._note("hold", (hold.id,))

    def put_entry(self, entry):
        super().put_entry(entry)
        self._note("entry", (entry.id,))

    def put_totals(self, member_id, currency_id, totals):
        super().put_totals(member_id, currency_id, totals)
        self._note("totals", (member_id, currency_id))

    def add_tier_credit(self, member_id, at, amount, source=None, credit_id=None):
        cid = super().add_tier_credit(member_id, at, amount, source, credit_id)
        self._note("tier", (cid,))
        return cid

    def put_ref(self, scope, key, value):
        super().put_ref(scope, key, value)
        self._note("ref", (scope, key))

    def put_reward(self, reward):
        super().put_reward(reward)
        self._note("reward", (reward.id,))

    def delete_reward(self, reward_id):
        super().delete_reward(reward_id)
        self._note("reward", (reward_id,))

    def put_store_credit(self, credit):
        super().put_store_credit(credit)
        self._note("store_credit", (credit.id,))

    def put_benefit(self, benefit):
        super().put_benefit(benefit)
        self._note("benefit", (benefit.id,))

    def put_receipt(self, receipt):
        super().put_receipt(receipt)
        self._note("receipt", (receipt.id,))

    def put_draft(self, draft):
        super().put_draft(draft)
        self._note("draft", (draft.id,))

    def add_limit_use(self, member_id, currency_id, direction, at, amount):
        super().add_limit_use(member_id, currency_id, direction, at, amount)
        n = len(self._limit_use[(member_id, currency_id, direction)][0]) - 1
        self._note("limit", (member_id, currency_id, direction, n))

    def put_standing(self, currency_id, member_id, value, updated_at):
        super().put_standing(currency_id, member_id, value, updated_at)
        self._note("standing", (currency_id, member_id))

    def put_wakeup(self, member_id, currency_id, at):
        super().put_wakeup(member_id, currency_id, at)
        self._note("wakeup", (member_id, currency_id))

    def set_history_cursor(self, name, value):
        super().set_history_cursor(name, value)
        self._note("hcursor", (name,))

    def put_history_row(self, member_id, currency_id, row_id, key, direction, status, watch):
        super().put_history_row(member_id, currency_id, row_id, key, direction, status, watch)
        self._note("hrow", (row_id,))

    def put_order(self, order):
        super().put_order(order)
        self._note("order", (order.id,))

    def put_balance_record(self, record):
        super().put_balance_record(record)
        self._note("balance_record", (record.member_id, record.currency_id))

    def put_record(self, kind, record_id, value):
        super().put_record(kind, record_id, value)
        self._note("record", (kind, str(record_id)))

    def index_record(self, index, key, record_id):
        super().index_record(index, key, record_id)
        self._note("index", (index, key, len(self._indexes[(index, key)]) - 1))

    def put_meta(self, name, value):
        super().put_meta(name, value)
        self._note("meta", (name,))

    # --- rows: a key's current value (None: gone), and back ---------------------------------------------------
    def row_value(self, kind: str, key: tuple) -> Any:
        """What the row (kind, key) holds now, as the tuple `apply_row` takes; None when there is nothing (a
        deleted reward, a dropped standing, a write an inner savepoint undid)."""
        return _VALUE[kind](self, key)

    def apply_row(self, kind: str, key: tuple, value: Any) -> None:
        """Make the memory structures hold `value` for (kind, key): a row read back from the file."""
        _APPLY[kind](self, key, value)

    def all_rows(self) -> Iterator[tuple[str, tuple]]:
        """Every (kind, key) of the state, in an order that replays into an equal store (members before their
        lots, entries by seq, appended lists in order)."""
        yield from (("member", (i,)) for i in self._members)
        yield from (("lot", (i,)) for i in self._lots)
        yield from (("hold", (i,)) for i in self._holds)
        yield from (("entry", (eid,)) for _, eid in self._entry_lists.get((None, None, False), ()))
        yield from (("totals", k) for k in self._totals)
        yield from (("tier", (i,)) for i in self._tier_order)
        yield from (("ref", k) for k in self._refs)
        yield from (("reward", (i,)) for i in self._reward_ids)
        for kind, rid in self._records:
            if kind in ("store_credit", "benefit"):
                yield kind, (int(rid) if str(rid).isdigit() else rid,)
            elif not kind.startswith("open_"):
                yield "record", (kind, rid)
        yield from (("receipt", (r,)) for ids in self._member_receipts.values() for r in ids)
        yield from (("draft", (i,)) for i in self._draft_order)
        yield from (("order", (i,)) for i in self._orders)
        yield from (("balance_record", k) for k in self._balance_records)
        for (m, c, d), (ats, _, _) in self._limit_use.items():
            yield from (("limit", (m, c, d, n)) for n in range(len(ats)))
        for (index, key), ids in self._indexes.items():
            yield from (("index", (index, key, n)) for n in range(len(ids)))
        yield from (("seq", (name,)) for name in self._seq)
        yield from (("standing", k) for k in self._standing)
        yield from (("wakeup", k) for k in self._wakeup_of)
        yield from (("hrow", (i,)) for i in self._hrows)
        yield from (("hcursor", (name,)) for name in self._hcursor)
        yield from (("meta", (name,)) for name in self._meta)


def _limit_value(s: SqliteTenantStore, key: tuple):
    m, c, d, n = key
    lists = s._limit_use.get((m, c, d))
    if lists is None or n >= len(lists[0]):
        return None
    ats, _, sums = lists
    return ats[n], sums[n + 1] - sums[n]


def _index_value(s: SqliteTenantStore, key: tuple):
    index, k, n = key
    ids = s._indexes.get((index, k), ())
    return ids[n] if n < len(ids) else None


def _or_none(value):
    return None if value is _MISSING else (value,)


_VALUE: dict[str, Callable[[SqliteTenantStore, tuple], Any]] = {
    "seq": lambda s, k: s._seq.get(k[0]),
    "member": lambda s, k: s._members.get(k[0]),
    "lot": lambda s, k: s._lots.get(k[0]),
    "hold": lambda s, k: s._holds.get(k[0]),
    "entry": lambda s, k: s._entries.get(k[0]),
    "totals": lambda s, k: s._totals.get(k),
    "tier": lambda s, k: s._tier_rows.get(k[0]),
    "ref": lambda s, k: _or_none(s._refs.get(k, _MISSING)),
    "reward": lambda s, k: s._rewards.get(k[0]),
    "store_credit": lambda s, k: s._records.get(("store_credit", str(k[0]))),
    "benefit": lambda s, k: s._records.get(("benefit", str(k[0]))),
    "receipt": lambda s, k: s._receipts.get(k[0]),
    "draft": lambda s, k: s._drafts.get(k[0]),
    "order": lambda s, k: s._orders.get(k[0]),
    "balance_record": lambda s, k: s._balance_records.get(k),
    "limit": _limit_value,
    "index": _index_value,
    "standing": lambda s, k: s._standing.get(k),
    "wakeup": lambda s, k: s._wakeup_of.get(k),
    "hrow": lambda s, k: s._hrows.get(k[0]),
    "hcursor": lambda s, k: s._hcursor.get(k[0]),
    "record": lambda s, k: _or_none(s._records.get(k, _MISSING)),
    "meta": lambda s, k: _or_none(s._meta.get(k[0], _MISSING)),
}


def _apply_tier(s: SqliteTenantStore, key: tuple, row) -> None:
    if row is not None and row.id not in s._tier_rows:
        s.add_tier_credit(row.member_id, row.at, row.amount, row.source, credit_id=row.id)


def _apply_reward(s: SqliteTenantStore, key: tuple, reward) -> None:
    if reward is not None:
        s.put_reward(reward)
    elif key[0] in s._rewards:
        s.delete_reward(key[0])


def _apply_limit(s: SqliteTenantStore, key: tuple, value) -> None:
    m, c, d, n = key
    have = len(s._limit_use.get((m, c, d), ((),))[0])
    if value is not None and n == have:
        s.add_limit_use(m, c, d, value[0], value[1])


def _apply_index(s: SqliteTenantStore, key: tuple, value) -> None:
    index, k, n = key
    if value is not None and n == len(s._indexes.get((index, k), ())):
        s.index_record(index, k, value)


def _apply_standing(s: SqliteTenantStore, key: tuple, value) -> None:
    s.put_standing(key[0], key[1], *(value if value is not None else (None, None)))


def _apply_hrow(s: SqliteTenantStore, key: tuple, value) -> None:
    if value is not None:
        m, c, k, direction, status, watch = value
        s.put_history_row(m, c, key[0], k, direction, status, watch)


def _when(put):
    """Apply a record's row with `put` (a row that holds nothing: skipped; these records are never deleted)."""
    return lambda s, key, value: put(s, value) if value is not None else None


_APPLY: dict[str, Callable[[SqliteTenantStore, tuple, Any], None]] = {
    "seq": lambda s, k, v: s._seq.__setitem__(k[0], v) if v is not None else None,
    "member": _when(SqliteTenantStore.put_member),
    "lot": _when(SqliteTenantStore.put_lot),
    "hold": _when(SqliteTenantStore.put_hold),
    "entry": _when(SqliteTenantStore.put_entry),
    "totals": lambda s, k, v: s.put_totals(k[0], k[1], v) if v is not None else None,
    "tier": _apply_tier,
    "ref": lambda s, k, v: s.put_ref(k[0], k[1], v[0]) if v is not None else None,
    "reward": _apply_reward,
    "store_credit": _when(SqliteTenantStore.put_store_credit),
    "benefit": _when(SqliteTenantStore.put_benefit),
    "receipt": _when(SqliteTenantStore.put_receipt),
    "draft": _when(SqliteTenantStore.put_draft),
    "order": _when(SqliteTenantStore.put_order),
    "balance_record": _when(SqliteTenantStore.put_balance_record),
    "limit": _apply_limit,
    "index": _apply_index,
    "standing": _apply_standing,
    "wakeup": lambda s, k, v: s.put_wakeup(k[0], k[1], v),
    "hrow": _apply_hrow,
    "hcursor": lambda s, k, v: s.set_history_cursor(k[0], v) if v is not None else None,
    "record": lambda s, k, v: s.put_record(k[0], k[1], v[0]) if v is not None else None,
    "meta": lambda s, k, v: s.put_meta(k[0], v[0]) if v is not None else None,
}
