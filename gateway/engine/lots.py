"""A member's spendable lots as a page: what each lot still gives once holds have taken theirs.

A hold reserves points without touching lots; the debit that uses it takes from the lots soonest-expiring
first. So a hold is shown as taking from those same lots now (soonest-expiring first), and the lots listed
add up to the available balance exactly: a lot a hold takes whole is not listed, one it takes in part is
listed with what is left. Pending (not yet available) and provisional lots are not spendable: not listed.

Cost: the holds and the front of the expiry index they cover (live state), the pending lots (bounded by
the return window), and the page, found by position in the store's earning-order index. Never the member's
history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice

from . import ledger
from .model import ZERO, Lot, PointCurrency
from .ports import TenantStore


@dataclass(frozen=True, slots=True)
class LotPage:
    count: int                               # spendable lots listed, all pages together
    lots: tuple[tuple[Lot, Decimal], ...]    # (lot, what it still gives) for the page


def held_parts(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime) -> dict[str, Decimal]:
    """lot id -> points of it the member's active holds take, soonest-expiring lots first (as a debit would)."""
    held = ledger.balance(store, member_id, currency, now).held     # already capped at what is spendable
    parts: dict[str, Decimal] = {}
    if held <= 0:
        return parts
    for lot in store.lots_by_expiry(member_id, currency.id):
        if held <= 0:
            break
        if not _spendable(lot, now):
            continue
        part = min(lot.remaining, held)
        parts[lot.id] = part
        held -= part
    return parts


def _spendable(lot: Lot, now: datetime) -> bool:
    return (not lot.provisional and lot.remaining > 0 and lot.available_at <= now
            and (lot.expires_at is None or lot.expires_at > now))


def page(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime, *, newest_first: bool,
         offset: int, limit: int) -> LotPage:
    """Spendable lots by earning time (then id), each with what is left of it after holds; `count` for all pages.
    Call after ledger.settle (expired lots are closed then)."""
    taken = held_parts(store, member_id, currency, now)
    skipped = {l.id for l in store.provisional_lots(member_id, currency.id)}
    skipped |= {l.id for l in store.lots_available_after(member_id, currency.id, now)}
    skipped |= {lot_id for lot_id, part in taken.items() if part >= store.lot(lot_id).remaining}
    total = store.open_lot_count(member_id, currency.id)
    # where the page starts in the store's order: `offset` listed lots, plus the skipped ones before them
    ranks = sorted(store.lot_position(member_id, currency.id, store.lot(i)) for i in skipped)
    if newest_first:
        ranks = sorted(total - 1 - r for r in ranks)
    start = offset
    for r in ranks:
        if r <= start:
            start += 1
    listed = (l for l in store.lots_by_earning(member_id, currency.id, newest_first, start)
              if l.id not in skipped and _spendable(l, now))
    rows = tuple((l, l.remaining - taken.get(l.id, ZERO)) for l in islice(listed, limit))
    return LotPage(count=total - len(skipped), lots=rows)
