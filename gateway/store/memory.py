"""In-memory tenant store. Writes inside `atomic()` keep an undo log, so a failed engine
operation leaves no trace even if it fails half-way."""
from __future__ import annotations

import bisect
import itertools
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..engine.model import BalanceRecord, Draft, Entry, Hold, Lot, Member, Order, Receipt, Reward, TierCredit, Totals
from . import serial
from ..engine.ports import StoreFactory, TenantStore

_MISSING = object()
_FAR = datetime.max.replace(tzinfo=timezone.utc)


def _exp_key(lot: Lot):
    return (lot.expires_at or _FAR, lot.earned_at, lot.id)


def _plain(value) -> bool:
    """An attribute value worth indexing (a string or a number, not a nested document)."""
    return isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool)


def _avail_key(lot: Lot):
    return (lot.available_at, lot.id)


def _entry_list(member_id, currency_id, lot_credits) -> tuple:
    """The key of the entry list a filter reads (the contract's filters, and no others, are indexed)."""
    if currency_id is not None and (member_id is None or lot_credits):
        raise ValueError("entries are indexed by currency within a member only, point records by member or tenant")
    return member_id, currency_id, lot_credits


class _Atomic:
    """A unit of work: the undo log is replayed backwards if the block raises; nested = a savepoint."""

    __slots__ = ("store", "mark", "outer")

    def __init__(self, store: "MemoryTenantStore"):
        self.store = store

    def __enter__(self) -> None:
        s = self.store
        self.outer = s._undo is None
        if self.outer:
            s._undo = []
        self.mark = len(s._undo)

    def __exit__(self, exc_type, exc, tb) -> bool:
        s = self.store
        if exc_type is not None:
            while len(s._undo) > self.mark:
                s._undo.pop()()
        if self.outer:
            s._undo = None
        return False


FORMAT = 2   # the snapshot's store format: 2 since drafts, orders, balance records and payments are typed records


class MemoryTenantStore(TenantStore):
    def __init__(self) -> None:
        self._members: dict[str, Member] = {}
        self._index: dict[tuple[str, str], str] = {}
        self._by_attribute: dict[tuple[str, str], dict[str, None]] = {}   # (attribute, value) -> member ids
        self._active_members: dict[str, None] = {}                         # ordered set, join order
        self._lots: dict[str, Lot] = {}
        self._open: dict[tuple[str, str], dict[str, None]] = {}   # ordered set of lot ids
        # indexes over open lots, so figures cost what is live now, not what history holds
        self._by_exp: dict[tuple[str, str], list] = {}      # sorted (expires_at, earned_at, id)
        self._by_avail: dict[tuple[str, str], list] = {}    # sorted (available_at, id)
        self._by_earned: dict[tuple[str, str], list] = {}   # sorted (earned_at, id): pages of open lots
        self._open_sum: dict[tuple[str, str], Decimal] = {}  # remaining of open, committed lots
        self._expiring: dict[tuple, Decimal] = {}   # (member, currency, expires_at) -> remaining of committed lots
        self._provisional: dict[tuple[str, str], dict[str, None]] = {}
        self._holds: dict[str, Hold] = {}
        self._active_holds: dict[tuple[str, str], dict[str, None]] = {}
        self._entries: dict[str, Entry] = {}
        # THE entry index: (member|None, currency|None, lot credits only) -> sorted (seq, id): every entry is in
        # its member's, the tenant's and its member's-in-its-currency list; a credit with a lot also in 2 more
        self._entry_lists: dict[tuple, list[tuple[int, str]]] = {}
        self._rolled_back: dict[tuple, int] = {}    # same keys -> how many of the list's entries are rolled back
        self._reversals: dict[str, list[str]] = {}  # entry id -> ids of the entries reversing it
        self._temporary: dict[tuple[str, str], dict[str, None]] = {}
        self._totals: dict[tuple[str, str], Totals] = {}
        self._tier: dict[str, list[tuple[datetime, Decimal]]] = {}
        self._tier_ids: dict[str, list[int]] = {}          # parallel to _tier: the movements' ids
        self._tier_prefix: dict[str, list[Decimal]] = {}   # parallel to _tier: running totals
        self._tier_rows: dict[int, TierCredit] = {}
        self._tier_order: list[int] = []                    # every movement id, ascending
        self._tier_by_source: dict[tuple[str, str], list[int]] = {}
        self._refs: dict[tuple[str, str], Any] = {}
        self._rewards: dict[int, Reward] = {}
        self._member_rewards: dict[str, list[int]] = {}
        self._reward_ids: list[int] = []                  # every reward id, ascending
        self._definition_uses: dict[int, int] = {}        # reward definition id -> rewards issued from it
        self._open_rewards: dict[str, list] = {}          # member -> sorted (expires_at or far, id), value left
        self._records: dict[tuple[str, str], Any] = {}
        self._drafts: dict[str, Draft] = {}
        self._member_drafts: dict[tuple[str, str], list[str]] = {}   # (member, currency) -> ids, creation order
        self._orders: dict[str, Order] = {}
        self._receipts: dict[int, Receipt] = {}
        self._member_receipts: dict[str, list[int]] = {}
        self._balance_records: dict[tuple[str, str], BalanceRecord] = {}
        self._limit_use: dict[tuple[str, str, str], tuple[list, list, list]] = {}   # -> (ats, counts, sums)
        self._used: dict[tuple, int] = {}      # (program, currency) -> records of members in it (lots, entries ...)
        # members' balances per currency, ordered (engine/standings.py keeps them; derived, not exported)
        self._dirty: dict[tuple[str, str | None], None] = {}   # (member, currency or None: all) written since
        self._standing: dict[tuple[str, str], tuple] = {}      # (currency, member) -> (value, updated_at)
        self._by_value: dict[str, list] = {}                   # currency -> sorted (value, updated_at, member)
        self._by_update: dict[str, list] = {}                  # currency -> sorted (updated_at, member)
        self._wakeups: list = []                                # sorted (at, member, currency)
        self._wakeup_of: dict[tuple[str, str], Any] = {}        # currency id -> records of members in it (lots, entries, ...)
        self._draft_order: list[str] = []      # every draft id, in creation order (all members)
        # the transaction-history index (kept by engine/history.py; derived, so not exported: after a restore
        # its cursor is back at zero and the engine rebuilds it)
        self._hrows: dict[str, tuple] = {}     # row id -> (member, currency, key, direction, status, watch)
        self._hlists: dict[tuple, list] = {}   # (member, currency, status|None, direction|None) -> sorted keys
        self._hwatch: dict[tuple[str, str], dict[str, None]] = {}
        self._hcursor: dict[str, int] = {}
        self._seq: dict[str, int] = {}
        self._indexes: dict[tuple[str, str], list[int]] = {}     # (index, key) -> record ids, in added order
        self._by_time: dict[str, list[tuple[datetime, int, str]]] = {}    # currency -> sorted (at, seq, id)
        self._meta: dict[str, Any] = {}       # the tenant's clock and high-water mark (not exported: a
                                              # snapshot carries them in its own `clock` and `high_water`)
        self._undo: list | None = None

    # --- unit of work -------------------------------------------------------------------
    def atomic(self) -> "_Atomic":
        return _Atomic(self)

    def _set(self, d: dict, key, value) -> None:
        if self._undo is not None:
            old = d.get(key, _MISSING)
            self._undo.append(lambda: d.__setitem__(key, old) if old is not _MISSING else d.pop(key, None))
        d[key] = value

    def _discard(self, d: dict, key) -> None:
        if key in d:
            if self._undo is not None:
                old = d[key]
                self._undo.append(lambda: d.__setitem__(key, old))
            del d[key]

    def _insort(self, lst: list, item) -> None:
        bisect.insort(lst, item)
        if self._undo is not None:
            self._undo.append(lambda: lst.pop(bisect.bisect_left(lst, item)))

    def _unsort(self, lst: list, item) -> None:
        i = bisect.bisect_left(lst, item)
        if i < len(lst) and lst[i] == item:
            del lst[i]
            if self._undo is not None:
                self._undo.append(lambda: bisect.insort(lst, item))

    def _append(self, lst: list, item) -> None:
        if self._undo is not None:
            self._undo.append(lambda: lst.remove(item))
        lst.append(item)

    def wrote(self) -> bool:
        return bool(self._undo)

    def meta(self, name, default=None):
        return self._meta.get(name, default)

    def put_meta(self, name, value) -> None:
        self._set(self._meta, name, value)

    def next_seq(self, name: str) -> int:
        n = self._seq.get(name, 0) + 1
        self._set(self._seq, name, n)
        return n

    # --- members --------------------------------------------------------------------------
    def member(self, member_id):
        return self._members.get(member_id)

    def find_member(self, kind, value):
        mid = self._index.get((kind, str(value)))
        return self._members.get(mid) if mid else None

    def members(self):
        return list(self._members.values())

    def put_member(self, member: Member) -> None:
        old = self._members.get(member.id)
        self._touch(member.id, None)
        if old is not None:
            for k, v in old.identities.items():
                if self._index.get((k, str(v))) == old.id:
                    self._discard(self._index, (k, str(v)))
        self._set(self._members, member.id, member)
        for k, v in member.identities.items():
            self._set(self._index, (k, str(v)), member.id)
        for k, v in (old.attributes.items() if old is not None else ()):
            ids = self._by_attribute.get((k, str(v)))
            if ids is not None and _plain(v) and str(member.attributes.get(k)) != str(v):
                self._discard(ids, member.id)
        for k, v in member.attributes.items():
            if _plain(v):
                if (k, str(v)) not in self._by_attribute:
                    self._set(self._by_attribute, (k, str(v)), {})
                if member.id not in self._by_attribute[(k, str(v))]:
                    self._set(self._by_attribute[(k, str(v))], member.id, None)
        if member.active:
            if member.id not in self._active_members:
                self._set(self._active_members, member.id, None)
        else:
            self._discard(self._active_members, member.id)

    def members_with(self, attribute, value):
        ids = self._by_attribute.get((attribute, str(value)))
        return [self._members[i] for i in ids] if ids else []

    def member_count(self, active=True):
        return len(self._active_members) if active else len(self._members)

    def member_page(self, offset, limit):
        ids = itertools.islice(self._active_members, offset, offset + limit)
        return [self._members[i] for i in ids]

    # --- lots, holds, entries -----------------------------------------------------------------
    def lot(self, lot_id):
        return self._lots.get(lot_id)

    def open_lots(self, member_id, currency_id):
        ids = self._open.get((member_id, currency_id))
        return [self._lots[i] for i in ids] if ids else []

    def limit_use(self, member_id, currency_id, direction, since):
        ats, counts, sums = self._limit_use.get((member_id, currency_id, direction), ([], [0], [Decimal(0)]))
        i = bisect.bisect_left(ats, since)
        return counts[-1] - counts[i], sums[-1] - sums[i]

    def add_limit_use(self, member_id, currency_id, direction, at, amount) -> None:
        key = (member_id, currency_id, direction)
        if key not in self._limit_use:
            self._set(self._limit_use, key, ([], [0], [Decimal(0)]))
        ats, counts, sums = self._limit_use[key]
        if ats and at < ats[-1]:     # the engine clock never goes back; a back-dated use counts as the latest
            at = ats[-1]
        self._append(ats, at)
        self._append(counts, counts[-1] + 1)
        self._append(sums, sums[-1] + amount)

    def _touch(self, member_id: str, currency_id: str | None) -> None:
        if (member_id, currency_id) not in self._dirty:
            self._set(self._dirty, (member_id, currency_id), None)

    def take_touched(self):
        out = list(self._dirty)
        for key in out:
            self._discard(self._dirty, key)
        return out

    def standing(self, currency_id, member_id):
        return self._standing.get((currency_id, member_id))

    def put_standing(self, currency_id, member_id, value, updated_at) -> None:
        old = self._standing.get((currency_id, member_id))
        for d in (self._by_value, self._by_update):
            if currency_id not in d:
                self._set(d, currency_id, [])
        if old is not None:
            self._unsort(self._by_value[currency_id], (old[0], old[1], member_id))
            self._unsort(self._by_update[currency_id], (old[1], member_id))
        if value is None:
            self._discard(self._standing, (currency_id, member_id))
            return
        self._set(self._standing, (currency_id, member_id), (value, updated_at))
        self._insort(self._by_value[currency_id], (value, updated_at, member_id))
        self._insort(self._by_update[currency_id], (updated_at, member_id))

    def standing_count(self, currency_id):
        return len(self._by_update.get(currency_id, ()))

    def standings(self, currency_id, order_by="updated_at", descending=True, offset=0, limit=50):
        idx = self._by_value.get(currency_id, ()) if order_by == "value" else self._by_update.get(currency_id, ())
        n = len(idx)
        positions = range(n - 1 - offset, max(-1, n - 1 - offset - limit), -1) if descending \
            else range(offset, min(n, offset + limit))
        out = []
        for i in positions:
            member_id = idx[i][-1]
            value, updated_at = self._standing[(currency_id, member_id)]
            out.append((member_id, value, updated_at))
        return out

    def put_wakeup(self, member_id, currency_id, at) -> None:
        old = self._wakeup_of.get((member_id, currency_id))
        if old == at:
            return
        if old is not None:
            self._unsort(self._wakeups, (old, member_id, currency_id))
            self._discard(self._wakeup_of, (member_id, currency_id))
        if at is not None:
            self._insort(self._wakeups, (at, member_id, currency_id))
            self._set(self._wakeup_of, (member_id, currency_id), at)

    def due_wakeups(self, now):
        i = bisect.bisect_right(self._wakeups, (now, "\uffff", "\uffff"))
        return list(self._wakeups[:i])

    def _use(self, member_id: str, currency_id: str) -> None:
        member = self._members.get(member_id)
        key = (member.program_id if member is not None else None, currency_id)
        self._set(self._used, key, self._used.get(key, 0) + 1)

    def currency_used(self, program_id, currency_id):
        return self._used.get((program_id, currency_id), 0) > 0 or self._used.get((None, currency_id), 0) > 0

    def put_lot(self, lot: Lot) -> None:
        old = self._lots.get(lot.id)
        self._touch(lot.member_id, lot.currency_id)
        if old is None:
            self._use(lot.member_id, lot.currency_id)
        self._set(self._lots, lot.id, lot)
        key = (lot.member_id, lot.currency_id)
        for d, factory in ((self._open, dict), (self._by_exp, list), (self._by_avail, list),
                           (self._provisional, dict), (self._by_earned, list)):
            if key not in d:
                self._set(d, key, factory())
        was_open = old is not None and (old.remaining > 0 or old.provisional)
        is_open = lot.remaining > 0 or lot.provisional
        if was_open and (not is_open or _exp_key(old) != _exp_key(lot) or _avail_key(old) != _avail_key(lot)):
            self._unsort(self._by_exp[key], _exp_key(old))
            self._unsort(self._by_avail[key], _avail_key(old))
        if is_open and (not was_open or _exp_key(old) != _exp_key(lot) or _avail_key(old) != _avail_key(lot)):
            self._insort(self._by_exp[key], _exp_key(lot))
            self._insort(self._by_avail[key], _avail_key(lot))
        if was_open and not is_open:
            self._unsort(self._by_earned[key], (old.earned_at, old.id))
        elif is_open and not was_open:
            self._insort(self._by_earned[key], (lot.earned_at, lot.id))
        open_ids = self._open[key]
        if is_open:
            if lot.id not in open_ids:
                self._set(open_ids, lot.id, None)
        else:
            self._discard(open_ids, lot.id)
        if lot.provisional:
            if lot.id not in self._provisional[key]:
                self._set(self._provisional[key], lot.id, None)
        else:
            self._discard(self._provisional[key], lot.id)
        before = old.remaining if old is not None and not old.provisional else Decimal(0)
        after = lot.remaining if not lot.provisional else Decimal(0)
        if before != after:
            self._set(self._open_sum, key, self._open_sum.get(key, Decimal(0)) + after - before)
        if old is not None and old.expires_at is not None and before:
            k = (*key, old.expires_at)
            left = self._expiring[k] - before
            if left:
                self._set(self._expiring, k, left)
            else:
                self._discard(self._expiring, k)
        if lot.expires_at is not None and after:
            k = (*key, lot.expires_at)
            self._set(self._expiring, k, self._expiring.get(k, Decimal(0)) + after)

    def lots_by_expiry(self, member_id, currency_id):
        for _, _, lot_id in self._by_exp.get((member_id, currency_id), ()):
            yield self._lots[lot_id]

    def lots_available_after(self, member_id, currency_id, at):
        idx = self._by_avail.get((member_id, currency_id), ())
        i = bisect.bisect_right(idx, (at, "\uffff"))
        return [self._lots[lot_id] for _, lot_id in idx[i:]]

    def lots_by_earning(self, member_id, currency_id, newest_first=False, start=0):
        idx = self._by_earned.get((member_id, currency_id), ())
        positions = range(len(idx) - 1 - start, -1, -1) if newest_first else range(start, len(idx))
        for i in positions:
            yield self._lots[idx[i][1]]

    def lot_position(self, member_id, currency_id, lot):
        return bisect.bisect_left(self._by_earned.get((member_id, currency_id), ()), (lot.earned_at, lot.id))

    def open_lot_count(self, member_id, currency_id):
        return len(self._by_earned.get((member_id, currency_id), ()))

    def provisional_lots(self, member_id, currency_id):
        ids = self._provisional.get((member_id, currency_id))
        return [self._lots[i] for i in ids] if ids else []

    def expiring_sum(self, member_id, currency_id, at):
        return self._expiring.get((member_id, currency_id, at), Decimal(0))

    def open_sum(self, member_id, currency_id):
        return self._open_sum.get((member_id, currency_id), Decimal(0))

    def hold(self, hold_id):
        return self._holds.get(hold_id)

    def active_holds(self, member_id, currency_id):
        ids = self._active_holds.get((member_id, currency_id))
        return [self._holds[i] for i in ids] if ids else []

    def put_hold(self, hold: Hold) -> None:
        self._touch(hold.member_id, hold.currency_id)
        if hold.id not in self._holds:
            self._use(hold.member_id, hold.currency_id)
        self._set(self._holds, hold.id, hold)
        key = (hold.member_id, hold.currency_id)
        if key not in self._active_holds:
            self._set(self._active_holds, key, {})
        active = self._active_holds[key]
        if hold.state == "active":
            self._set(active, hold.id, None)
        else:
            self._discard(active, hold.id)

    def entry(self, entry_id):
        return self._entries.get(entry_id)

    def seq_value(self, name: str) -> int:
        return self._seq.get(name, 0)

    def entries_page(self, member_id=None, currency_id=None, *, lot_credits=False, after_seq=None,
                     before_seq=None, offset=0, limit=None, newest_first=False):
        idx = self._entry_lists.get(_entry_list(member_id, currency_id, lot_credits), ())
        lo = 0 if after_seq is None else bisect.bisect_right(idx, (after_seq, "\uffff"))
        hi = len(idx) if before_seq is None else bisect.bisect_left(idx, (before_seq, ""))
        if newest_first:
            hi -= offset
            start = lo if limit is None else max(lo, hi - limit)
            return [self._entries[idx[i][1]] for i in range(hi - 1, start - 1, -1)]
        lo += offset
        stop = hi if limit is None else min(hi, lo + limit)
        return [self._entries[idx[i][1]] for i in range(lo, stop)]

    def entries_count(self, member_id=None, currency_id=None, *, lot_credits=False, applied=False):
        key = _entry_list(member_id, currency_id, lot_credits)
        return len(self._entry_lists.get(key, ())) - (self._rolled_back.get(key, 0) if applied else 0)

    def reversals(self, entry_id):
        return [self._entries[i] for i in self._reversals.get(entry_id, ())]

    def entries_between(self, currency_id, start, end):
        idx = self._by_time.get(currency_id, ())
        i = bisect.bisect_left(idx, start, key=lambda t: t[0])
        for at, _, eid in idx[i:]:
            if at > end:
                break
            yield self._entries[eid]

    def temporary_entries(self, member_id, currency_id):
        ids = self._temporary.get((member_id, currency_id))
        return [self._entries[i] for i in ids] if ids else []

    @staticmethod
    def _entry_keys(entry: Entry) -> list[tuple]:
        """The lists an entry is in: the member's, the tenant's, the member's in its currency; a credit that
        created a lot also the member's and the tenant's point records."""
        keys = [(entry.member_id, None, False), (None, None, False), (entry.member_id, entry.currency_id, False)]
        if entry.kind == "credit" and entry.lots:
            keys += [(entry.member_id, None, True), (None, None, True)]
        return keys

    def _index_entry(self, entry: Entry) -> None:
        """Add a new entry to its lists (appended: entries come in seq order; a restore too), with ONE undo step."""
        item, lists = (entry.seq, entry.id), []
        for key in self._entry_keys(entry):
            lst = self._entry_lists.get(key)
            if lst is None:
                lst = self._entry_lists[key] = []    # an empty list left by an undo reads as none
            if lst and lst[-1] > item:
                bisect.insort(lst, item)
            else:
                lst.append(item)
            lists.append(lst)
        idx = self._by_time.get(entry.currency_id)
        if idx is None:
            idx = self._by_time[entry.currency_id] = []
        timed = (entry.at, entry.seq, entry.id)
        bisect.insort(idx, timed)
        if self._undo is not None:
            def undo():
                for lst in lists:
                    if lst[-1] == item:
                        lst.pop()
                    else:
                        del lst[bisect.bisect_left(lst, item)]
                del idx[bisect.bisect_left(idx, timed)]
            self._undo.append(undo)

    def put_entry(self, entry: Entry) -> None:
        old = self._entries.get(entry.id)
        is_new = old is None
        self._touch(entry.member_id, entry.currency_id)
        if is_new:
            self._use(entry.member_id, entry.currency_id)
        self._set(self._entries, entry.id, entry)
        if is_new:
            self._index_entry(entry)
            if entry.reverses is not None:
                if entry.reverses not in self._reversals:
                    self._set(self._reversals, entry.reverses, [])
                self._append(self._reversals[entry.reverses], entry.id)
        change = (entry.status == "rolled_back") - (old is not None and old.status == "rolled_back")
        if change:
            for key in self._entry_keys(entry):
                self._set(self._rolled_back, key, self._rolled_back.get(key, 0) + change)
        if entry.status == "temporary" or (old is not None and old.status == "temporary"):
            key = (entry.member_id, entry.currency_id)
            if key not in self._temporary:
                self._set(self._temporary, key, {})
            temp = self._temporary[key]
            if entry.status == "temporary":
                self._set(temp, entry.id, None)
            else:
                self._discard(temp, entry.id)

    def totals(self, member_id, currency_id):
        return self._totals.get((member_id, currency_id)) or Totals()

    def put_totals(self, member_id, currency_id, totals: Totals) -> None:
        self._set(self._totals, (member_id, currency_id), totals)

    def add_tier_credit(self, member_id, at, amount, source=None, credit_id=None) -> int:
        """Kept sorted by `at` with parallel ids and running totals (prefix sums): appending is O(1), a back-dated
        movement shifts the totals after it."""
        if member_id not in self._tier:
            self._set(self._tier, member_id, [])
        if member_id not in self._tier_ids:
            self._set(self._tier_ids, member_id, [])
            self._set(self._tier_prefix, member_id, [])
        credits, ids, prefix = self._tier[member_id], self._tier_ids[member_id], self._tier_prefix[member_id]
        item = (at, amount)
        i = bisect.bisect_right(credits, at, key=lambda c: c[0])
        cid = credit_id if credit_id is not None else self.next_seq("tier_credit")
        row = TierCredit(id=cid, member_id=member_id, at=at, amount=amount, source=source)
        credits.insert(i, item)
        ids.insert(i, cid)
        prefix.insert(i, (prefix[i - 1] if i else Decimal(0)) + amount)
        for j in range(i + 1, len(prefix)):
            prefix[j] += amount
        self._set(self._tier_rows, cid, row)
        self._insort(self._tier_order, cid)
        if source is not None:
            key = (member_id, source)
            if key not in self._tier_by_source:
                self._set(self._tier_by_source, key, [])
            self._append(self._tier_by_source[key], cid)
        if self._undo is not None:
            def undo():
                k = ids.index(cid)
                del credits[k], ids[k], prefix[k]
                for j in range(k, len(prefix)):
                    prefix[j] -= amount
            self._undo.append(undo)
        return cid

    def _tier_total(self, member_id, until) -> Decimal:
        """Tier points with at <= until."""
        credits = self._tier.get(member_id, ())
        i = bisect.bisect_right(credits, until, key=lambda c: c[0])
        return self._tier_prefix[member_id][i - 1] if i else Decimal(0)

    def tier_sum(self, member_id, after, until):
        if until <= after:
            return Decimal(0)
        return self._tier_total(member_id, until) - self._tier_total(member_id, after)

    def tier_window_sums(self, member_id, after, until, window):
        credits = self._tier.get(member_id, ())
        if not credits:
            return
        ids, prefix = self._tier_ids[member_id], self._tier_prefix[member_id]
        start = bisect.bisect_right(credits, after, key=lambda c: c[0])
        end = bisect.bisect_right(credits, until, key=lambda c: c[0])
        if start >= end:
            return
        lo = bisect.bisect_right(credits, credits[start][0] - window, key=lambda c: c[0])
        hi = start
        for k in range(start, end):
            at = credits[k][0]
            while lo < len(credits) and credits[lo][0] <= at - window:
                lo += 1
            while hi < len(credits) and credits[hi][0] <= at:
                hi += 1
            yield self._tier_rows[ids[k]], prefix[hi - 1] - (prefix[lo - 1] if lo else Decimal(0))

    def tier_first_after(self, member_id, after):
        credits = self._tier.get(member_id, ())
        i = bisect.bisect_right(credits, after, key=lambda c: c[0])
        return credits[i][0] if i < len(credits) else None

    def tier_credit(self, credit_id):
        return self._tier_rows.get(credit_id)

    def tier_credit_page(self, member_id, offset, limit):
        ids = self._tier_order if member_id is None else self._tier_ids.get(member_id, [])
        end = len(ids) - offset
        return [self._tier_rows[i] for i in reversed(ids[max(0, end - limit):max(0, end)])]

    def tier_credit_count(self, member_id):
        return len(self._tier_order if member_id is None else self._tier_ids.get(member_id, ()))

    def tier_credits_by_source(self, member_id, source):
        return [self._tier_rows[i] for i in self._tier_by_source.get((member_id, source), ())]

    # --- refs, rewards, records ---------------------------------------------------------------
    def ref(self, scope, key):
        return self._refs.get((scope, key))

    def put_ref(self, scope, key, value) -> None:
        self._set(self._refs, (scope, key), value)

    def rewards(self, member_id):
        return [self._rewards[i] for i in self._member_rewards.get(member_id, ())]

    def reward(self, reward_id):
        return self._rewards.get(reward_id)

    def put_reward(self, reward: Reward) -> None:
        old = self._rewards.get(reward.id)
        if old is None:
            if reward.member_id not in self._member_rewards:
                self._set(self._member_rewards, reward.member_id, [])
            self._append(self._member_rewards[reward.member_id], reward.id)
            self._insort(self._reward_ids, reward.id)
        if old is None or old.definition_id != reward.definition_id:
            if old is not None:
                self._set(self._definition_uses, old.definition_id, self._definition_uses.get(old.definition_id, 1) - 1)
            self._set(self._definition_uses, reward.definition_id,
                      self._definition_uses.get(reward.definition_id, 0) + 1)
        self._set(self._rewards, reward.id, reward)
        self._reindex_reward(old, reward)

    def _reindex_reward(self, old, new) -> None:
        """Keep `_open_rewards`: rewards with value left, by expiry."""
        member_id = (new or old).member_id
        if member_id not in self._open_rewards:
            self._set(self._open_rewards, member_id, [])
        index = self._open_rewards[member_id]
        if old is not None and old.value_remaining > 0:
            self._unsort(index, (old.expires_at or _FAR, old.id))
        if new is not None and new.value_remaining > 0:
            self._insort(index, (new.expires_at or _FAR, new.id))

    def open_rewards(self, member_id, now):
        index = self._open_rewards.get(member_id, ())
        i = bisect.bisect_right(index, (now, float("inf")))
        return [self._rewards[rid] for _, rid in index[i:]]

    def reward_page(self, member_id, offset, limit):
        ids = self._reward_ids if member_id is None else self._member_rewards.get(member_id, [])
        end = len(ids) - offset
        return [self._rewards[i] for i in reversed(ids[max(0, end - limit):max(0, end)])]

    def reward_count(self, member_id):
        return len(self._reward_ids if member_id is None else self._member_rewards.get(member_id, ()))

    def delete_reward(self, reward_id) -> None:
        reward = self._rewards.get(reward_id)
        if reward is None:
            return
        self._unsort(self._reward_ids, reward_id)
        self._unsort(self._member_rewards[reward.member_id], reward_id)
        self._set(self._definition_uses, reward.definition_id, self._definition_uses.get(reward.definition_id, 1) - 1)
        self._discard(self._rewards, reward_id)
        self._reindex_reward(reward, None)

    def definition_uses(self, definition_id):
        return self._definition_uses.get(definition_id, 0)
    # --- receipts ---
    def receipt(self, receipt_id):
        return self._receipts.get(receipt_id)

    def put_receipt(self, receipt: Receipt) -> None:
        if receipt.id not in self._receipts:
            if receipt.member_id not in self._member_receipts:
                self._set(self._member_receipts, receipt.member_id, [])
            self._append(self._member_receipts[receipt.member_id], receipt.id)
        self._set(self._receipts, receipt.id, receipt)

    def receipts(self, member_id, offset, limit):
        return [self._receipts[i] for i in self._member_receipts.get(member_id, [])[offset:offset + limit]]

    def receipt_count(self, member_id):
        return len(self._member_receipts.get(member_id, ()))

    # --- drafts, orders, balance records ---
    def draft(self, draft_id):
        return self._drafts.get(draft_id)

    def drafts(self, member_id, currency_id):
        return [self._drafts[i] for i in self._member_drafts.get((member_id, currency_id), ())]

    def put_draft(self, draft: Draft) -> None:
        if draft.id not in self._drafts:
            self._use(draft.member_id, draft.currency_id)
            self._append(self._draft_order, draft.id)
            key = (draft.member_id, draft.currency_id)
            if key not in self._member_drafts:
                self._set(self._member_drafts, key, [])
            self._append(self._member_drafts[key], draft.id)
        self._set(self._drafts, draft.id, draft)

    def drafts_after(self, position):
        return [self._drafts[i] for i in self._draft_order[position:]]

    def draft_total(self):
        return len(self._draft_order)

    # --- the transaction-history index --------------------------------------------------------------
    def history_cursor(self, name):
        return self._hcursor.get(name, 0)

    def set_history_cursor(self, name, value) -> None:
        self._set(self._hcursor, name, value)

    def history_row(self, row_id):
        row = self._hrows.get(row_id)
        return None if row is None else row[2:]

    def put_history_row(self, member_id, currency_id, row_id, key, direction, status, watch) -> None:
        old = self._hrows.get(row_id)
        full = (*key, row_id)
        if old is not None:
            if old[2:] == (key, direction, status, watch):
                return
            for lk in ((member_id, currency_id, old[4], None), (member_id, currency_id, old[4], old[3]),
                       (member_id, currency_id, None, old[3]), (member_id, currency_id, None, None)):
                self._unsort(self._hlists[lk], (*old[2], row_id))
        for lk in ((member_id, currency_id, status, None), (member_id, currency_id, status, direction),
                   (member_id, currency_id, None, direction), (member_id, currency_id, None, None)):
            if lk not in self._hlists:
                self._set(self._hlists, lk, [])
            self._insort(self._hlists[lk], full)
        self._set(self._hrows, row_id, (member_id, currency_id, key, direction, status, watch))
        wk = (member_id, currency_id)
        if wk not in self._hwatch:
            self._set(self._hwatch, wk, {})
        if watch:
            self._set(self._hwatch[wk], row_id, None)
        else:
            self._discard(self._hwatch[wk], row_id)

    def history_watched(self, member_id, currency_id):
        return list(self._hwatch.get((member_id, currency_id), ()))

    def history_count(self, member_id, currency_id, status=None, direction=None):
        return len(self._hlists.get((member_id, currency_id, status, direction), ()))

    def history_ids(self, member_id, currency_id, status=None, direction=None, *, newest_first=True, offset=0,
                    limit=None):
        keys = self._hlists.get((member_id, currency_id, status, direction), ())
        n = len(keys)
        if newest_first:
            hi = n - offset
            lo = 0 if limit is None else max(0, hi - limit)
            return [keys[i][-1] for i in range(hi - 1, lo - 1, -1)] if hi > 0 else []
        stop = n if limit is None else min(n, offset + limit)
        return [keys[i][-1] for i in range(offset, stop)]

    def order(self, order_id):
        return self._orders.get(order_id)

    def put_order(self, order: Order) -> None:
        self._set(self._orders, order.id, order)

    def balance_record(self, member_id, currency_id):
        return self._balance_records.get((member_id, currency_id))

    def put_balance_record(self, record: BalanceRecord) -> None:
        if (record.member_id, record.currency_id) not in self._balance_records:
            self._use(record.member_id, record.currency_id)
        self._set(self._balance_records, (record.member_id, record.currency_id), record)

    def record(self, kind, record_id):
        return self._records.get((kind, str(record_id)))

    def put_record(self, kind, record_id, value) -> None:
        self._set(self._records, (kind, str(record_id)), value)

    # --- store credit and benefits: typed rows of the generic records (so snapshots carry them), with the ids of
    # each member's live ones (value or quantity left) kept as one record per member ---------------------------
    def store_credit(self, credit_id):
        return self._records.get(("store_credit", str(credit_id)))

    def put_store_credit(self, credit) -> None:
        self._put_instrument("store_credit", credit, credit.value_remaining > 0)

    def open_store_credits(self, member_id):
        return [self._records[("store_credit", str(i))] for i in self._records.get(("open_store_credit", member_id), ())]

    def benefit(self, benefit_id):
        return self._records.get(("benefit", str(benefit_id)))

    def put_benefit(self, benefit) -> None:
        self._put_instrument("benefit", benefit, benefit.quantity_remaining > 0)

    def open_benefits(self, member_id):
        return [self._records[("benefit", str(i))] for i in self._records.get(("open_benefit", member_id), ())]

    def _put_instrument(self, kind: str, record, live: bool) -> None:
        self._set(self._records, (kind, str(record.id)), record)
        key = ("open_" + kind, record.member_id)
        ids = tuple(self._records.get(key, ()))
        if live and record.id not in ids:
            self._set(self._records, key, tuple(sorted(ids + (record.id,))))
        elif not live and record.id in ids:
            self._set(self._records, key, tuple(i for i in ids if i != record.id))

    # --- record indexes ------------------------------------------------------------------------
    def index_record(self, index, key, record_id) -> None:
        k = (index, key)
        if k not in self._indexes:
            self._set(self._indexes, k, [])
        self._append(self._indexes[k], record_id)

    def indexed(self, index, key, newest_first=True):
        ids = self._indexes.get((index, key), ())
        return reversed(ids) if newest_first else iter(ids)

    def indexed_count(self, index, key):
        return len(self._indexes.get((index, key), ()))

    # --- snapshots ------------------------------------------------------------------------------
    def export(self) -> dict:
        """Everything, JSON-safe and exact (see serial.py), marked with the store format it is written in."""
        return serial.dump(dict(self.export_sections()))

    def export_sections(self) -> list[tuple[str, Any]]:
        """The sections of `export`, each a fresh list (or dict) of the records as they are now: later writes
        change none of them."""
        return list({
            "format": FORMAT,
            "seq": dict(self._seq),
            "members": list(self._members.values()),
            "lots": list(self._lots.values()),
            "holds": list(self._holds.values()),
            "entries": [self._entries[eid] for _, eid in self._entry_lists.get((None, None, False), ())],
            "totals": [[m, c, t] for (m, c), t in self._totals.items()],
            # each movement (at, amount), then (id, source) of each in the same order
            "tier": [[m, list(credits), [[i, self._tier_rows[i].source] for i in self._tier_ids.get(m, ())]]
                     for m, credits in self._tier.items()],
            "refs": [[scope, key, value] for (scope, key), value in self._refs.items()],
            "rewards": list(self._rewards.values()),
            # drafts, orders and balance records travel as typed rows of `records` (the snapshot format is
            # fixed by specs/admin.yaml); restore sends each back to its own table by its record type
            "records": [[kind, rid, value] for (kind, rid), value in self._records.items()]
            + [["draft", i, self._drafts[i]] for ids in self._member_drafts.values() for i in ids]
            + [["order", o.id, o] for o in self._orders.values()]
            + [["balance_record", f"{r.member_id}/{r.currency_id}", r] for r in self._balance_records.values()]
            + [["record_index", f"{i}/{k}", list(ids)] for (i, k), ids in self._indexes.items()]
            + [["receipt", str(r.id), r] for ids in self._member_receipts.values()
               for r in (self._receipts[i] for i in ids)]
            # the movements balance limits count (their windows), per member, currency and direction
            + [["limit_use", f"{m}/{c}/{d}", {"member": m, "currency": c, "direction": d, "at": list(ats),
                                               "counts": list(counts), "sums": list(sums)}]
               for (m, c, d), (ats, counts, sums) in self._limit_use.items()],
        }.items())

    @classmethod
    def restore(cls, data: dict) -> "MemoryTenantStore":
        if data.get("format") != FORMAT:
            # format 1 (0.1.0) kept refunds, orders and draft signs in refs and vendor blobs the engine no longer
            # reads: restoring it would be silently wrong (a refund paid twice), so it is refused
            raise ValueError(f"store format {data.get('format', 1)}, written by an older loyalty-gateway; this one "
                             f"restores format {FORMAT} only: take the snapshot again with this version")
        d = serial.load(data)
        store = cls()
        for m in d["members"]:
            store.put_member(m)
        for lot in d["lots"]:
            store.put_lot(lot)
        for h in d["holds"]:
            store.put_hold(h)
        for e in d["entries"]:
            store.put_entry(e)
        for m, c, t in d["totals"]:
            store.put_totals(m, c, t)
        for m, credits, *rows in d["tier"]:     # the running totals are rebuilt from the movements
            ids = rows[0] if rows else [[None, None]] * len(credits)
            for (at, amt), (rid, source) in zip(credits, ids):
                store.add_tier_credit(m, at, amt, source, credit_id=rid)
        for scope, key, value in d["refs"]:
            store.put_ref(scope, key, value)
        for r in d["rewards"]:
            store.put_reward(r)
        for kind, rid, value in d["records"]:
            if isinstance(value, Draft):
                store.put_draft(value)
            elif isinstance(value, Order):
                store.put_order(value)
            elif isinstance(value, BalanceRecord):
                store.put_balance_record(value)
            elif kind == "record_index":
                index, _, key = rid.partition("/")
                store._indexes[(index, key)] = list(value)
            elif isinstance(value, Receipt):
                store.put_receipt(value)
            elif kind == "limit_use":
                store._limit_use[(value["member"], value["currency"], value["direction"])] = (
                    list(value["at"]), list(value["counts"]), list(value["sums"]))
            else:
                store.put_record(kind, rid, value)
        store._seq = dict(d["seq"])
        store._seq["tier_credit"] = max(store._seq.get("tier_credit", 0), max(store._tier_order, default=0))
        return store


class MemoryStores(StoreFactory):
    """`memory`: each tenant's state in this process's memory (the default; gone with the process)."""

    url = "memory"

    def new(self, tenant_id: str) -> MemoryTenantStore:
        return MemoryTenantStore()

    def restore(self, tenant_id: str, data: dict) -> MemoryTenantStore:
        return MemoryTenantStore.restore(data)
