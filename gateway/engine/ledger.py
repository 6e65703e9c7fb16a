"""The points ledger of one member in one point currency: lots, holds, entries.

Every function takes the tenant store and `now` (from the tenant clock) and runs inside the
caller's `store.atomic()`. `settle` is called first by every operation, reads included: it
applies what time alone has done (lots expiring, holds and temporary entries timing out),
so figures are computed from live lots only and never cost more as history grows."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from .ports import TenantStore
from . import expiry, limits
from .errors import InsufficientPoints, InvalidState, InvalidTime, LimitExceeded
from .model import ZERO, Entry, Hold, Lot, PointCurrency, Totals


_ids = random.Random()
if hasattr(os, "register_at_fork"):   # `serve --workers N` forks: each worker draws its own ids, never its sibling's
    os.register_at_fork(after_in_child=_ids.seed)


def new_id() -> str:
    """A version-4 UUID from a fast PRNG: record ids need to be unique, not secret."""
    n = (_ids.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Balance:
    currency: PointCurrency
    available: Decimal        # spendable now: available lots minus active holds
    pending: Decimal          # earned, not yet available (return window, uncommitted credits)
    held: Decimal
    lifetime_earned: Decimal
    next_expiring_amount: Decimal
    next_expiring_at: datetime | None
    as_of: datetime

    @property
    def total(self) -> Decimal:
        return self.available + self.pending

    def value(self, points: Decimal) -> Decimal:
        return points * self.currency.value


def expiry_order(lot: Lot):
    return (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.id)


def new_entry(store: TenantStore, member_id: str, currency_id: str, kind: str, amount: Decimal,
              at: datetime, **kw) -> Entry:
    return Entry(id=kw.pop("id", None) or new_id(), seq=store.next_seq("entry"), member_id=member_id,
                 currency_id=currency_id, kind=kind, amount=amount, at=at, **kw)


def _bump(store: TenantStore, member_id: str, currency_id: str, **delta: Decimal) -> Totals:
    t = store.totals(member_id, currency_id)
    t = replace(t, **{k: getattr(t, k) + v for k, v in delta.items()})
    store.put_totals(member_id, currency_id, t)
    return t


# --- time ----------------------------------------------------------------------------------

def settle(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime) -> None:
    cid = currency.id
    for e in store.temporary_entries(member_id, cid):
        if e.deadline is not None and e.deadline <= now:
            rollback(store, e, now, status="rolled_back", reason="timeout")
    for h in store.active_holds(member_id, cid):
        if h.expires_at <= now:
            store.put_hold(replace(h, state="expired"))
    due = []
    for lot in store.lots_by_expiry(member_id, cid):
        if lot.expires_at is None or lot.expires_at > now:
            break
        if lot.remaining > 0 and not lot.provisional:
            due.append(lot)
    for lot in due:
        entry = new_entry(store, member_id, cid, "expire", lot.remaining, lot.expires_at,
                          origin="expiry", lots=((lot.id, lot.remaining),))
        store.put_entry(entry)
        _bump(store, member_id, cid, expired=lot.remaining)
        store.put_lot(replace(lot, remaining=ZERO))


def balance(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime) -> Balance:
    """From the running sum and what is live now: pending lots (bounded by the return window), the front of the
    expiry index, active holds. Never a scan of the member's history."""
    cid = currency.id
    expired = pending = next_amount = ZERO
    next_at: datetime | None = None
    for lot in store.lots_by_expiry(member_id, cid):     # stops at the first lot that expires later
        if lot.provisional or lot.remaining <= 0:
            continue
        if lot.expires_at is None:
            break
        if lot.expires_at <= now:
            expired += lot.remaining                      # not settled yet: counts nowhere
            continue
        next_at = lot.expires_at                          # the soonest: all lots expiring then, summed by the store
        next_amount = store.expiring_sum(member_id, cid, next_at)
        break
    for lot in store.lots_available_after(member_id, cid, now):
        if not lot.provisional and (lot.expires_at is None or lot.expires_at > now):
            pending += lot.remaining
    provisional = sum((l.remaining for l in store.provisional_lots(member_id, cid)), ZERO)
    spendable = store.open_sum(member_id, cid) - expired - pending
    held = sum((h.amount for h in store.active_holds(member_id, cid) if h.expires_at > now), ZERO)
    totals = store.totals(member_id, cid)
    held = min(held, spendable)   # held points that expired meanwhile hold nothing: never a negative balance
    return Balance(currency=currency, available=spendable - held, pending=pending + provisional, held=held,
                   lifetime_earned=totals.earned - totals.cancelled, next_expiring_amount=next_amount,
                   next_expiring_at=next_at, as_of=now)


def after(store: TenantStore, entry: Entry, currency: PointCurrency, now: datetime) -> Entry:
    """The entry with the member's figures right after it (replays answer with these, not today's)."""
    b = balance(store, entry.member_id, currency, now)
    return replace(entry, balance_after=b.available, total_after=b.total, recorded_at=entry.recorded_at or now)


def pending_until(currency: PointCurrency, earned_at: datetime) -> datetime:
    """When points earned at `earned_at` become available: after the currency's return window."""
    return earned_at + timedelta(days=currency.pending_days)


def expiry_for(currency: PointCurrency, available_at: datetime) -> datetime | None:
    if currency.expiry_rule is not None and not currency.fixed_expiry:
        return expiry.expires_at(currency.expiry_rule, available_at)
    if currency.fixed_expiry:
        day, month = (int(x) for x in currency.fixed_expiry.split("/"))
        candidate = available_at.replace(month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
        if candidate <= available_at:
            candidate = candidate.replace(year=candidate.year + 1)
        return candidate
    if currency.expiry_days is None:
        return None
    return available_at + timedelta(days=currency.expiry_days)


# --- credits -------------------------------------------------------------------------------

def credit(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal, now: datetime, *,
           earned_at: datetime | None = None, available_at: datetime | None = None,
           expires_at: datetime | None = None, pending_days: int | None = None,
           provisional: bool = False, deadline: datetime | None = None, origin: str = "",
           refs: dict | None = None, counts_for_tier: bool = True, entry_id: str | None = None,
           money: Decimal | None = None, expires_after_days: int | None = None, description: str | None = None,
           meta: dict | None = None, never_expires: bool = False) -> Entry:
    """Add a lot. Rules of the currency (max balance, per-operation cap) apply here. `never_expires`: the lot
    has no expiry, whatever the currency's rule."""
    rules = currency.rules
    if rules.max_credit is not None and amount > rules.max_credit:
        raise LimitExceeded("credit exceeds the per-operation limit", limit=str(rules.max_credit))
    if rules.max_balance is not None:
        b = balance(store, member_id, currency, now)
        room = rules.max_balance - b.total
        if amount > room:
            if rules.overtaking == "partial" and room > 0:
                amount = room
            else:
                raise LimitExceeded("credit would exceed the maximum balance", limit=str(rules.max_balance))
    if not provisional:
        limits.admit(store, member_id, currency, "credit", amount, now)
    earned_at = earned_at or now
    if available_at is None:
        days = currency.pending_days if pending_days is None else pending_days
        available_at = earned_at + timedelta(days=days)
    if expires_at is None and expires_after_days:     # this credit's own life, counted from availability
        expires_at = available_at + timedelta(days=expires_after_days)
    if expires_at is None and not never_expires:
        expires_at = expiry_for(currency, available_at)
    if expires_at is not None and expires_at <= available_at:
        raise InvalidTime("points would expire before they become available",
                          available_at=available_at.isoformat(), expires_at=expires_at.isoformat())
    entry_id = entry_id or new_id()
    lot = Lot(id=new_id(), member_id=member_id, currency_id=currency.id, amount=amount, remaining=amount,
              earned_at=earned_at, available_at=available_at, expires_at=expires_at, entry_id=entry_id,
              provisional=provisional, counts_for_tier=counts_for_tier)
    entry = new_entry(store, member_id, currency.id, "credit", amount, earned_at, id=entry_id,
                      status="temporary" if provisional else "committed", origin=origin,
                      refs=refs or {}, lots=((lot.id, amount),), deadline=deadline, money=money,
                      description=description, meta=meta)
    store.put_lot(lot)
    if not provisional:
        _bump(store, member_id, currency.id, earned=amount)
        if counts_for_tier:
            store.add_tier_credit(member_id, earned_at, amount, source=entry_id)
    store.put_entry(after(store, entry, currency, now))
    return store.entry(entry_id)


def activate(store: TenantStore, entry: Entry, now: datetime) -> Decimal:
    """Make a credit's pending points available now (returns how many were pending)."""
    moved = ZERO
    for lot_id, _ in entry.lots:
        lot = store.lot(lot_id)
        if lot and lot.available_at > now and lot.remaining > 0:
            moved += lot.remaining
            store.put_lot(replace(lot, available_at=now))
    return moved


# --- debits --------------------------------------------------------------------------------

def spend_lot(store: TenantStore, lot: Lot, currency: PointCurrency, amount: Decimal, now: datetime, *,
              origin: str = "", refs: dict | None = None) -> Entry:
    """Spend `amount` from one given lot (a record issued partly used), whether or not it is available yet."""
    if amount > lot.remaining:
        raise InsufficientPoints("not enough points left in the lot", requested=str(amount),
                                 remaining=str(lot.remaining))
    store.put_lot(replace(lot, remaining=lot.remaining - amount))
    _bump(store, lot.member_id, currency.id, spent=amount)
    entry = new_entry(store, lot.member_id, currency.id, "debit", amount, now, origin=origin, refs=refs or {},
                      lots=((lot.id, amount),))
    store.put_entry(after(store, entry, currency, now))
    return store.entry(entry.id)


def _take(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal, now: datetime):
    """Consume available lots soonest-expiring first; returns (lot id, amount) pairs."""
    plan, left = [], amount
    for lot in store.lots_by_expiry(member_id, currency.id):   # plan first: no writes while iterating
        if left <= 0:
            break
        if lot.provisional or lot.available_at > now or lot.remaining <= 0 \
                or (lot.expires_at is not None and lot.expires_at <= now):
            continue
        part = min(lot.remaining, left)
        plan.append((lot, part))
        left -= part
    if left > 0:   # the caller checked availability; reaching here is a bug, and atomic() undoes it
        raise InsufficientPoints("not enough points", requested=str(amount))
    for lot, part in plan:
        store.put_lot(replace(lot, remaining=lot.remaining - part))
    return tuple((lot.id, part) for lot, part in plan)


def check_debit(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal,
                now: datetime) -> Balance:
    rules = currency.rules
    if rules.max_debit is not None and amount > rules.max_debit:
        raise LimitExceeded("debit exceeds the per-operation limit", limit=str(rules.max_debit))
    b = balance(store, member_id, currency, now)
    if amount > b.available:
        raise InsufficientPoints("insufficient points", requested=str(amount), available=str(b.available))
    if rules.min_balance is not None and b.available - amount < rules.min_balance:
        raise LimitExceeded("debit would take the balance below its minimum", limit=str(rules.min_balance))
    return b


def debit(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal, now: datetime, *,
          origin: str = "", refs: dict | None = None, hold: Hold | None = None,
          entry_id: str | None = None) -> Entry:
    """Spend points now. With `hold`, the held points are what is spent (the hold becomes used)."""
    entry_id = entry_id or new_id()
    if hold is not None:
        if hold.state != "active" or hold.expires_at <= now:
            raise InvalidState("hold is not active", hold=hold.id, state=hold.state)
        store.put_hold(replace(hold, state="used", used_by=entry_id))   # its points count as available again
    check_debit(store, member_id, currency, amount, now)
    limits.admit(store, member_id, currency, "debit", amount, now)
    taken = _take(store, member_id, currency, amount, now)
    _bump(store, member_id, currency.id, spent=amount)
    entry = new_entry(store, member_id, currency.id, "debit", amount, now, id=entry_id, origin=origin,
                      refs=refs or {}, lots=taken, hold_id=hold.id if hold else None)
    store.put_entry(after(store, entry, currency, now))
    return store.entry(entry_id)


def place_hold(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal, now: datetime,
               expires_at: datetime, *, hold_id: str | None = None, entry_id: str | None = None) -> Hold:
    check_debit(store, member_id, currency, amount, now)
    h = Hold(id=hold_id or new_id(), member_id=member_id, currency_id=currency.id, amount=amount,
             created_at=now, expires_at=expires_at, entry_id=entry_id)
    store.put_hold(h)
    return h


def release_hold(store: TenantStore, hold: Hold, state: str = "released") -> Hold:
    if hold.state != "active":
        raise InvalidState("hold is not active", hold=hold.id, state=hold.state)
    h = replace(hold, state=state)
    store.put_hold(h)
    return h


# --- temporary entries (two-phase) --------------------------------------------------------------

def temporary_debit(store: TenantStore, member_id: str, currency: PointCurrency, amount: Decimal,
                    now: datetime, deadline: datetime, *, origin: str = "", refs: dict | None = None) -> Entry:
    """Reserve points until commit, rollback or `deadline` (a hold backs the entry)."""
    entry_id = new_id()
    hold = place_hold(store, member_id, currency, amount, now, deadline, entry_id=entry_id)
    entry = new_entry(store, member_id, currency.id, "debit", amount, now, id=entry_id, status="temporary",
                      origin=origin, refs=refs or {}, hold_id=hold.id, deadline=deadline)
    store.put_entry(after(store, entry, currency, now))
    return store.entry(entry_id)


def commit(store: TenantStore, entry: Entry, currency: PointCurrency, now: datetime) -> Entry:
    if entry.status != "temporary":
        raise InvalidState(f"transaction is {entry.status}, not temporary", transaction=entry.id)
    if entry.kind == "credit":
        limits.admit(store, entry.member_id, currency, "credit", entry.amount, now)
        for lot_id, _ in entry.lots:
            lot = store.lot(lot_id)
            store.put_lot(replace(lot, provisional=False))
            _bump(store, entry.member_id, entry.currency_id, earned=lot.amount)
            if lot.counts_for_tier:
                store.add_tier_credit(entry.member_id, lot.earned_at, lot.amount, source=entry.id)
    else:
        hold = store.hold(entry.hold_id)
        store.put_hold(replace(hold, state="used", used_by=entry.id))
        check_debit(store, entry.member_id, currency, entry.amount, now)   # reserved points may have expired
        limits.admit(store, entry.member_id, currency, "debit", entry.amount, now)
        taken = _take(store, entry.member_id, currency, entry.amount, now)
        _bump(store, entry.member_id, entry.currency_id, spent=entry.amount)
        entry = replace(entry, lots=taken)
    out = after(store, replace(entry, status="committed", deadline=None), currency, now)
    store.put_entry(out)
    return out


def rollback(store: TenantStore, entry: Entry, now: datetime, *, status: str = "rolled_back",
             reason: str = "") -> Entry:
    """Undo a temporary entry: drop its provisional lot, or release its hold."""
    if entry.status != "temporary":
        raise InvalidState(f"transaction is {entry.status}, not temporary", transaction=entry.id)
    if entry.kind == "credit":
        for lot_id, _ in entry.lots:
            lot = store.lot(lot_id)
            store.put_lot(replace(lot, remaining=ZERO, provisional=False))
    else:
        hold = store.hold(entry.hold_id)
        if hold is not None and hold.state == "active":
            store.put_hold(replace(hold, state="released"))
    out = replace(entry, status=status, deadline=None, refs={**entry.refs, **({"reason": reason} if reason else {})})
    store.put_entry(out)
    return out


# --- reversals -------------------------------------------------------------------------------

def reverse(store: TenantStore, entry: Entry, currency: PointCurrency, now: datetime, *,
            amount: Decimal | None = None, origin: str = "cancel", refs: dict | None = None) -> Entry:
    """Cancel (all or part of) a committed entry.

    A credit: takes back what remains of its lot, up to `amount` (what was already spent or is held
    stays: a balance never goes negative).
    A debit: restores the points to the lots they came from, with their expiry."""
    if entry.status not in ("committed",):
        raise InvalidState(f"transaction is {entry.status}", transaction=entry.id)
    left_to_reverse = entry.amount - entry.reversed_amount
    if left_to_reverse <= 0:
        raise InvalidState("transaction is already fully reversed", transaction=entry.id)
    want = left_to_reverse if amount is None else min(amount, left_to_reverse)
    cid = entry.currency_id
    parts = []
    if entry.kind == "credit":
        remaining_total = ZERO
        for lot_id, _ in entry.lots:
            lot = store.lot(lot_id)
            remaining_total += lot.remaining if lot else ZERO
        if remaining_total < want:
            raise InsufficientPoints("points of this credit were already spent", requested=str(want),
                                     remaining=str(remaining_total))
        left = want
        for lot_id, _ in entry.lots:
            lot = store.lot(lot_id)
            part = min(lot.remaining, left)
            if part > 0:
                store.put_lot(replace(lot, remaining=lot.remaining - part))
                parts.append((lot_id, part))
                left -= part
        _bump(store, entry.member_id, cid, cancelled=want)
        raw_held = sum((h.amount for h in store.active_holds(entry.member_id, cid) if h.expires_at > now), ZERO)
        now_b = balance(store, entry.member_id, currency, now)
        if raw_held > now_b.available + now_b.held:    # the points are reserved: refuse, atomic() undoes
            raise InsufficientPoints("points of this credit are held", held=str(raw_held))
        if any(store.lot(l).counts_for_tier for l, _ in entry.lots if store.lot(l)):
            store.add_tier_credit(entry.member_id, entry.at, -want, source=entry.id)
    elif entry.kind == "debit":
        left, already = want, entry.reversed_amount   # earlier partial reversals gave back the tail first
        for lot_id, took in reversed(entry.lots):
            if left <= 0:
                break
            skip = min(already, took)
            already -= skip
            took -= skip
            if took <= 0:
                continue
            lot = store.lot(lot_id)
            part = min(took, left)
            store.put_lot(replace(lot, remaining=lot.remaining + part))
            parts.append((lot_id, part))
            left -= part
        _bump(store, entry.member_id, cid, spent=-want)
    else:
        raise InvalidState(f"a {entry.kind} entry cannot be reversed", transaction=entry.id)
    new_status = "cancelled" if want == left_to_reverse else entry.status
    store.put_entry(replace(entry, reversed_amount=entry.reversed_amount + want, status=new_status))
    rev = new_entry(store, entry.member_id, cid, "cancel", want, now, origin=origin, refs=refs or {},
                    lots=tuple(parts), reverses=entry.id)
    rev = after(store, rev, currency, now)
    store.put_entry(rev)
    return rev
