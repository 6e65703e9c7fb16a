"""Every member's balance of one point currency, kept ordered by value and by when it last changed, so that listing
all members' balances costs a page, not the tenant.

A member of a program has a balance (zero at first) of each of its program's currencies while it is active. The
figure kept is the available balance (what a balance read answers), with the instant it last changed:
  - after every engine operation, for the members and currencies it wrote (`catch_up`, from the store's feed of
    touched records);
  - when time alone changes it (points expiring or becoming available, a hold or a two-phase transaction timing
    out): each member's next such instant is kept as a wakeup, and a read first brings the members whose wakeup has
    passed up to date (`wake`), dated at that instant.
So a read costs the wakeups due (each once) and the page."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable

from . import ledger
from .model import Member, PointCurrency, Program
from .ports import TenantStore


def scope(program_id: str, currency_id: str) -> str:
    """The index a currency's balances are kept under (currency ids are unique within a program only)."""
    return f"{program_id}/{currency_id}"


def next_change(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime) -> datetime | None:
    """The next instant the member's available balance changes by time alone (live state only)."""
    cid = currency.id
    times = []
    for lot in store.lots_by_expiry(member_id, cid):
        if lot.expires_at is None:
            break
        if lot.expires_at > now and lot.remaining > 0 and not lot.provisional:
            times.append(lot.expires_at)
            break
    times += [l.available_at for l in store.lots_available_after(member_id, cid, now)]
    times += [h.expires_at for h in store.active_holds(member_id, cid) if h.expires_at > now]
    times += [e.deadline for e in store.temporary_entries(member_id, cid) if e.deadline and e.deadline > now]
    return min(times) if times else None


def refresh(store: TenantStore, member: Member | None, currency: PointCurrency, now: datetime) -> None:
    """Bring one member's balance of one currency up to date (dropped when the member is gone or inactive)."""
    if member is None:
        return
    key = scope(member.program_id, currency.id)
    if not member.active:
        store.put_standing(key, member.id, None, None)
        store.put_wakeup(member.id, currency.id, None)
        return
    value = ledger.balance(store, member.id, currency, now).available     # exact without settling first
    old = store.standing(key, member.id)
    if old is None or old[0] != value:
        store.put_standing(key, member.id, value, now)
    store.put_wakeup(member.id, currency.id, next_change(store, member.id, currency, now))


ProgramLookup = Callable[[str], "Program | None"]   # program id -> the program as configured now, or None


def catch_up(store: TenantStore, programs: ProgramLookup, now: datetime) -> None:
    """Refresh what the operation just wrote (called at the end of every engine operation)."""
    touched = store.take_touched()
    if not touched:
        return
    for member_id, currency_id in touched:
        member = store.member(member_id)
        if member is None:
            continue
        program = programs(member.program_id)
        if program is None:
            continue
        for currency in (program.currencies if currency_id is None else
                         [c for c in program.currencies if c.id == currency_id]):
            refresh(store, member, currency, now)
    store.take_touched()        # what refreshing itself wrote (expiries settled) is already counted


def wake(store: TenantStore, programs: ProgramLookup, now: datetime) -> None:
    """Refresh the members whose balance time has changed since, one instant at a time in order, each as of that
    instant (nothing was written for them in between: a write refreshes and reschedules)."""
    while True:
        due = store.due_wakeups(now)
        if not due:
            break
        at, member_id, currency_id = due[0]
        member = store.member(member_id)
        program = programs(member.program_id) if member is not None else None
        currency = program.currency(currency_id) if program is not None else None
        if currency is None:
            store.put_wakeup(member_id, currency_id, None)
            continue
        refresh(store, member, currency, at)
    store.take_touched()


def open_currency(store: TenantStore, program: Program, currency: PointCurrency, members: Iterable[Member],
                  now: datetime) -> None:
    """A currency added to a program: each of its active members has a zero balance of it."""
    for m in members:
        if m.program_id == program.id and m.active:
            store.put_standing(scope(program.id, currency.id), m.id,
                               ledger.balance(store, m.id, currency, now).available, now)
