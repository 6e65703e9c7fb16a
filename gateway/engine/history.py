"""A member's transaction history in one currency: the drafts and the ledger's other balance movements, as typed
rows, filtered by status and direction, sorted by time and paged, from an index the store keeps ordered and counted
(a page costs the page, never the member's past).

What a row says is what the balance says (the rows completed so far, less the points expired, are the points
spendable or held):
  - a draft, with its status as of now (a draft past its ttl is expired);
  - a credit or debit not made by a draft, with a non-zero amount:
      `draft` while it does not count in the balance yet: a two-phase (temporary) transaction, or a credit whose
      points are still pending (a return window): it becomes `completed` when they become available;
      `completed` once it moved the balance (also when reversed since: the reversal is a row of its own);
      `cancelled` / `expired` when a two-phase transaction was rolled back (by a call / by its timeout);
  - a reversal of one of those, as a movement the other way, with the status of what it reverses (a reversal of
    a credit still pending is pending with it);
  - not expirations (time, not a transaction).
A debit is negative, a credit positive (one convention, however the amount was sent).
A draft is placed after the entries written before it was created, then by creation order.

The index is kept by `catch_up` (after every engine operation: the entries and drafts written since) and by
`refresh` (on a read: rows whose status time or a later call may change -- open drafts, two-phase transactions,
pending credits and their reversals -- all live state)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping

from . import drafts
from .model import Draft, Entry, Lot
from .ports import TenantStore


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: str                             # the draft's id, or the ledger entry's
    direction: str                      # credit | debit (how it moves the balance)
    amount: Decimal                     # positive
    signed_amount: Decimal              # a debit negative, a credit positive
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


def _signed(direction: str, amount: Decimal) -> Decimal:
    return -amount if direction == "debit" else amount


# --- what a row says ------------------------------------------------------------------------------

def _credit_lot(store: TenantStore, e: Entry) -> Lot | None:
    return store.lot(e.lots[0][0]) if e.kind == "credit" and e.lots else None


def _pending(store: TenantStore, e: Entry, now: datetime) -> bool:
    """A credit whose points are not available yet."""
    lot = _credit_lot(store, e)
    return lot is not None and lot.available_at > now


def entry_state(store: TenantStore, e: Entry, now: datetime) -> tuple[str, str, bool] | None:
    """(direction, status, watch) of a ledger entry's row, or None when it is not listed."""
    if e.refs.get("draft") or e.amount <= 0:
        return None
    if e.kind in ("credit", "debit"):
        if e.status == "temporary":
            return e.kind, "draft", True
        if e.status == "rolled_back":
            return e.kind, "expired" if e.refs.get("reason") == "timeout" else "cancelled", False
        if e.status == "cancelled" and e.reversed_amount <= 0:      # rolled back before it applied
            return e.kind, "cancelled", False
        if _pending(store, e, now):
            return e.kind, "draft", True
        return e.kind, "completed", False
    if e.kind == "cancel" and e.reverses:      # a reversal moves the balance the other way
        reversed_entry = store.entry(e.reverses)
        if reversed_entry is None:
            return None
        if reversed_entry.kind == "credit":
            return "debit", "draft" if _pending(store, reversed_entry, now) else "completed", \
                _pending(store, reversed_entry, now)
        return "credit", "completed", False
    return None


def _draft_state(d: Draft) -> tuple[str, str, bool]:
    return d.direction, d.status, d.status == "draft"


# --- keeping the index --------------------------------------------------------------------------------

def _index_entry(store: TenantStore, e: Entry, now: datetime) -> None:
    state = entry_state(store, e, now)
    if state is not None:
        store.put_history_row(e.member_id, e.currency_id, e.id, (e.at, 2 * e.seq, 0), *state)


def catch_up(store: TenantStore, now: datetime) -> None:
    """Index the entries and drafts written since the last call (called at the end of every engine operation)."""
    seq = store.history_cursor("entry")
    if store.seq_value("entry") > seq:
        for e in store.entries_page(after_seq=seq):
            _index_entry(store, e, now)
            seq = e.seq
        store.set_history_cursor("entry", seq)
    position = store.history_cursor("draft")
    if store.draft_total() > position:
        for d in store.drafts_after(position):
            store.put_history_row(d.member_id, d.currency_id, d.id, (d.created_at, 2 * d.entry_mark + 1, position),
                                  *_draft_state(d))
            position += 1
        store.set_history_cursor("draft", position)


def refresh(store: TenantStore, member_id: str, currency_id: str, now: datetime) -> None:
    """Bring the rows whose status may have changed (by time, or by a later call) up to now."""
    for row_id in store.history_watched(member_id, currency_id):
        key = store.history_row(row_id)[0]
        d = store.draft(row_id)
        if d is not None:
            d = drafts.refresh(store, d, now)
            store.put_history_row(member_id, currency_id, row_id, key, *_draft_state(d))
            continue
        e = store.entry(row_id)
        state = entry_state(store, e, now) if e is not None else None
        if state is not None:
            store.put_history_row(member_id, currency_id, row_id, key, *state)


# --- reading ---------------------------------------------------------------------------------------------

def _draft_row(d: Draft) -> HistoryRow:
    return HistoryRow(id=d.id, direction=d.direction, amount=d.amount, signed_amount=_signed(d.direction, d.amount),
                      status=d.status, created_at=d.created_at, completed_at=d.completed_at,
                      cancelled_at=d.cancelled_at, rejected_at=d.rejected_at, reject_reason=d.reject_reason,
                      lot_expires_at=d.lot_expires_at if d.status == "completed" else None, meta=dict(d.meta or {}))


def _entry_row(store: TenantStore, e: Entry, direction: str, status: str) -> HistoryRow:
    lot = _credit_lot(store, e)
    if e.kind == "cancel":
        completed_at = e.at
        reversed_entry = store.entry(e.reverses)
        reversed_lot = _credit_lot(store, reversed_entry) if reversed_entry is not None else None
        if reversed_lot is not None and reversed_lot.available_at > e.at:   # counted when the credit is
            completed_at = reversed_lot.available_at
    else:
        completed_at = max(e.at, lot.available_at) if lot is not None else e.at
    # a rolled-back entry keeps no time of its rollback: its row has no cancelled_at
    return HistoryRow(id=e.id, direction=direction, amount=e.amount, signed_amount=_signed(direction, e.amount),
                      status=status, created_at=e.at, completed_at=completed_at if status == "completed" else None,
                      lot_expires_at=lot.expires_at if lot is not None and status == "completed" else None,
                      is_draft=False)


def page(store: TenantStore, member_id: str, currency_id: str, now: datetime, *, status: str | None = None,
         direction: str | None = None, newest_first: bool = True, offset: int = 0,
         limit: int | None = None) -> HistoryPage:
    """The rows matching `status` / `direction`, their count, and the page [offset, offset + limit)."""
    catch_up(store, now)
    refresh(store, member_id, currency_id, now)
    ids = store.history_ids(member_id, currency_id, status, direction, newest_first=newest_first, offset=offset,
                            limit=limit)
    rows = []
    for row_id in ids:
        _, moved, row_status, _ = store.history_row(row_id)
        d = store.draft(row_id)
        rows.append(_draft_row(d) if d is not None else _entry_row(store, store.entry(row_id), moved, row_status))
    return HistoryPage(count=store.history_count(member_id, currency_id, status, direction), rows=tuple(rows))
