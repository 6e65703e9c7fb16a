"""A member's statement in one point currency: its ledger entries in the order they were written, one page at a
time, each with how it moved the balance and the balance around it.

Every entry is listed (credits, debits, expirations, reversals; temporary ones with their status), so a page is
one read of the store's per-member entry index (`entries_page`): it costs the page, not the member's past. The
balance figures are the member's total balance (available + pending) that the engine recorded right after the
entry (for a temporary transaction committed since: after its commit); `balance_before` is that figure less the
entry's signed amount. A temporary entry undone before it applied (rolled back, timed out, cancelled while
temporary) moved nothing: both are the balance before it. The engine records no figure on an expiration (time
applies it): both are None there. Figures are as recorded: a later rollback or a hold's lapse (no entry of their
own) shows in the next record's `balance_before` only."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .errors import TransactionNotFound
from .model import Entry
from .ports import TenantStore


@dataclass(frozen=True, slots=True)
class StatementRow:
    entry: Entry
    direction: str                       # credit | debit: how it moved the balance
    balance_before: Decimal | None
    balance_after: Decimal | None
    available_at: datetime | None = None    # a credit: when its points became (or become) available
    expires_at: datetime | None = None      # a credit: when its points expire (None: never)


@dataclass(frozen=True, slots=True)
class StatementPage:
    rows: tuple[StatementRow, ...]
    total: int                           # the member's entries in this currency, all pages together
    next_after: str | None               # the last row's entry id when more rows follow (the next page's cursor)


def direction(store: TenantStore, e: Entry) -> str:
    if e.kind == "credit":
        return "credit"
    if e.kind == "cancel":               # a reversal moves the balance the other way
        reversed_entry = store.entry(e.reverses) if e.reverses else None
        return "debit" if reversed_entry is not None and reversed_entry.kind == "credit" else "credit"
    return "debit"                       # debit, expire


def row(store: TenantStore, e: Entry) -> StatementRow:
    moved = direction(store, e)
    after = e.total_after if e.kind != "expire" else None
    before = None if after is None else after - (e.amount if moved == "credit" else -e.amount)
    if before is not None and (e.status == "rolled_back" or (e.status == "cancelled" and e.reversed_amount <= 0)):
        after = before          # undone before it applied: it moved nothing
    available_at = expires_at = None
    if e.kind == "credit" and e.lots:
        lot = store.lot(e.lots[0][0])
        if lot is not None:
            available_at, expires_at = lot.available_at, lot.expires_at
    return StatementRow(entry=e, direction=moved, balance_before=before, balance_after=after,
                        available_at=available_at, expires_at=expires_at)


def page(store: TenantStore, member_id: str, currency_id: str, after: str | None, limit: int) -> StatementPage:
    """Rows after the entry `after` (None: from the first), oldest first, at most `limit`. `after` must be one of
    this member's entries in this currency (else TransactionNotFound)."""
    after_seq = None
    if after is not None:
        cursor = store.entry(after)
        if cursor is None or cursor.member_id != member_id or cursor.currency_id != currency_id:
            raise TransactionNotFound("transaction not found", transaction=after)
        after_seq = cursor.seq
    entries = store.entries_page(member_id, currency_id, after_seq=after_seq, limit=limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    return StatementPage(rows=tuple(row(store, e) for e in entries), total=store.entries_count(member_id, currency_id),
                         next_after=entries[-1].id if more and entries else None)
