"""A member's transaction history in one currency: the drafts (every status) and the ledger's other committed
balance movements, as typed rows, filtered, sorted by time and paged.

What is listed:
  - every draft, its status as of now (a draft past its ttl is expired);
  - credits and debits not made by a draft, once committed (or cancelled after having moved the balance),
    with a non-zero amount, as completed;
  - reversals of those, as a movement the other way (a reversed credit is a debit);
  - not expirations (time, not a transaction), nor two-phase entries that never committed.
A draft is placed after the entries written before it was created, then by creation order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

from .ports import TenantStore
from . import drafts
from .model import Draft, Entry


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: str                             # the draft's id, or the ledger entry's
    direction: str                      # credit | debit (how it moved the balance)
    amount: Decimal                     # positive
    signed_amount: Decimal              # with the sign it was given (entries: debits negative)
    status: str                         # draft | completed | rejected | cancelled | expired
    created_at: datetime
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    lot_expires_at: datetime | None = None   # a completed credit: when the points it added expire
    meta: Mapping[str, Any] = field(default_factory=dict)
    is_draft: bool = True


@dataclass(frozen=True, slots=True)
class HistoryPage:
    count: int                          # rows matching the filters, all pages together
    rows: tuple[HistoryRow, ...]


def _draft_row(d: Draft) -> HistoryRow:
    return HistoryRow(id=d.id, direction=d.direction, amount=d.amount, signed_amount=d.signed_amount,
                      status=d.status, created_at=d.created_at, completed_at=d.completed_at,
                      cancelled_at=d.cancelled_at, rejected_at=d.rejected_at, reject_reason=d.reject_reason,
                      lot_expires_at=d.lot_expires_at if d.status == "completed" else None, meta=dict(d.meta or {}))


def _entry_direction(store: TenantStore, e: Entry) -> str | None:
    """How a ledger entry made outside drafts moved the balance, or None when it is not listed."""
    if e.refs.get("draft") or e.amount <= 0:
        return None
    if e.kind in ("credit", "debit"):
        moved = e.status == "committed" or (e.status == "cancelled" and e.reversed_amount > 0)
        return e.kind if moved else None
    if e.kind == "cancel" and e.reverses:      # a reversal moves the balance the other way
        reversed_entry = store.entry(e.reverses)
        return "debit" if reversed_entry is not None and reversed_entry.kind == "credit" else "credit"
    return None


def _entry_row(store: TenantStore, e: Entry, direction: str) -> HistoryRow:
    expiry = None
    if e.kind == "credit" and e.lots:
        lot = store.lot(e.lots[0][0])
        expiry = lot.expires_at if lot is not None else None
    return HistoryRow(id=e.id, direction=direction, amount=e.amount,
                      signed_amount=-e.amount if direction == "debit" else e.amount, status="completed",
                      created_at=e.at, completed_at=e.at, lot_expires_at=expiry, is_draft=False)


def page(store: TenantStore, member_id: str, currency_id: str, now: datetime, *, status: str | None = None,
         direction: str | None = None, newest_first: bool = True, offset: int = 0,
         limit: int | None = None) -> HistoryPage:
    """The rows matching `status` / `direction`, their count, and the page [offset, offset + limit).

    Selecting and counting reads the member's drafts and entries in this currency; the rows themselves
    (lot expiries) are built for the page only."""
    found: list[tuple[tuple, Callable[[], HistoryRow]]] = []
    for position, d in enumerate(store.drafts(member_id, currency_id)):
        d = drafts.refresh(store, d, now)
        if (status is None or d.status == status) and (direction is None or d.direction == direction):
            found.append(((d.created_at, d.entry_mark + 0.5, position), lambda d=d: _draft_row(d)))
    if status in (None, "completed"):
        for e in store.entries(member_id, currency_id):
            moved = _entry_direction(store, e)
            if moved is not None and (direction is None or moved == direction):
                found.append(((e.at, e.seq, 0), lambda e=e, moved=moved: _entry_row(store, e, moved)))
    found.sort(key=lambda f: f[0], reverse=newest_first)
    chosen = found[offset:] if limit is None else found[offset:offset + limit]
    return HistoryPage(count=len(found), rows=tuple(build() for _, build in chosen))
