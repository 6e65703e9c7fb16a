"""Draft transactions: recorded now, applied to the ledger only when completed.

A draft changes no balance. Completing applies it as a credit or debit under the currency's
rules; a rule that refuses it (insufficient points, caps, max balance) rejects the draft with a
reason instead of failing the call. A draft still open when its ttl passes becomes expired.
Completing the draft of an order marks the order processed (see orders.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from .ports import TenantStore
from . import ledger
from .errors import InsufficientPoints, InvalidAmount, InvalidState, LimitExceeded, TransactionNotFound
from .model import Draft, PointCurrency


def direction_of(direction: str | None, amount) -> tuple[str, object]:
    """(direction, amount without its sign) of a signed amount: the sign gives the direction unless it is named;
    a negative amount named a credit is refused (a credit that reads as a debit: applying either is a guess).
    A named debit may be sent positive or negative. A non-number is left for check_points to refuse."""
    if not isinstance(amount, (int, Decimal)) or isinstance(amount, bool):
        return direction or "credit", amount
    if amount < 0:
        if direction == "credit":
            raise InvalidAmount("a credit's amount cannot be negative", amount=str(amount))
        return "debit", -amount
    return direction or "credit", amount


def refresh(store: TenantStore, d: Draft, now: datetime) -> Draft:
    """The draft as of now: one still open past its ttl is expired (written so)."""
    if d.status == "draft" and d.expires_at is not None and d.expires_at <= now:
        d = replace(d, status="expired", updated_at=d.expires_at)
        store.put_draft(d)
    return d


def get(store: TenantStore, draft_id: str, now: datetime) -> Draft:
    d = store.draft(draft_id)
    if d is None:
        raise TransactionNotFound("transaction not found", transaction=draft_id)
    return refresh(store, d, now)


def create(store: TenantStore, member_id: str, currency: PointCurrency, direction: str, amount, now: datetime, *,
           ttl_sec: int | None = None, event_time: datetime | None = None, lot_minutes: int | None = None,
           meta: dict | None = None, negative: bool | None = None, order_id: str | None = None) -> Draft:
    d = Draft(id=ledger.new_id(), member_id=member_id, currency_id=currency.id, direction=direction,
              amount=amount, created_at=now, expires_at=now + timedelta(seconds=ttl_sec) if ttl_sec else None,
              event_time=event_time or now, lot_expires_in_minutes=lot_minutes, meta=meta or {}, updated_at=now,
              negative=direction == "debit" if negative is None else negative, order_id=order_id,
              entry_mark=store.seq_value("entry"))
    store.put_draft(d)
    return d


def _lot_expiry(store: TenantStore, entry_id: str) -> datetime | None:
    """When the points a credit entry added expire."""
    e = store.entry(entry_id)
    lot = store.lot(e.lots[0][0]) if e is not None and e.kind == "credit" and e.lots else None
    return lot.expires_at if lot is not None else None


def complete(store: TenantStore, d: Draft, currency: PointCurrency, now: datetime) -> Draft:
    if d.status != "draft":
        raise InvalidState(f"transaction is {d.status}", transaction=d.id, status=d.status)
    ledger.settle(store, d.member_id, currency, now)
    try:
        with store.atomic():   # a refused ledger change must not leave half of itself behind
            if d.direction == "credit":
                expires = now + timedelta(minutes=d.lot_expires_in_minutes) if d.lot_expires_in_minutes else None
                e = ledger.credit(store, d.member_id, currency, d.amount, now, earned_at=now, available_at=now,
                                  expires_at=expires, origin="transaction", refs={"draft": d.id})
            else:
                e = ledger.debit(store, d.member_id, currency, d.amount, now, origin="transaction",
                                 refs={"draft": d.id})
    except (InsufficientPoints, LimitExceeded) as exc:
        out = replace(d, status="rejected", reject_reason=exc.message, rejected_at=now, updated_at=now)
    else:
        total = ledger.balance(store, d.member_id, currency, now)
        out = replace(d, status="completed", entry_id=e.id, amount=e.amount, completed_at=now, updated_at=now,
                      balance_after=total.available,
                      lot_expires_at=_lot_expiry(store, e.id) if d.direction == "credit" else None)
        if d.order_id is not None:
            order = store.order(d.order_id)
            if order is not None:
                store.put_order(replace(order, processed_at=now, updated_at=now))
    store.put_draft(out)
    return out


def cancel(store: TenantStore, d: Draft, now: datetime) -> Draft:
    if d.status != "draft":
        raise InvalidState(f"transaction is {d.status}", transaction=d.id, status=d.status)
    out = replace(d, status="cancelled", cancelled_at=now, updated_at=now)
    store.put_draft(out)
    return out
