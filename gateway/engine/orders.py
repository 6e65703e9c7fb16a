"""Orders (a draft transaction to be paid, due at a date, processed when its draft completes) and balance
records (a member's balance of one currency, opened explicitly, at most one per member and currency).

Every function takes the tenant store and `now` and runs inside the caller's `store.atomic()`; the draft of
an order is made by drafts.create, and drafts.complete marks the order processed."""
from __future__ import annotations

from datetime import datetime

from .ports import TenantStore
from . import ledger
from .errors import DuplicateKey, NotInFuture
from .model import BalanceRecord, Draft, Order, PointCurrency, Totals


def check_expiry(expires_at: datetime | None, now: datetime) -> None:
    """An order's expiry, when given, must be ahead of the tenant clock."""
    if expires_at is not None and expires_at <= now:
        raise NotInFuture("the expiry must be in the future", field="expires_at", at=expires_at.isoformat(),
                          now=now.isoformat())


def new_id() -> str:
    return ledger.new_id()


def create(store: TenantStore, order_id: str, draft: Draft, now: datetime, *, due_at: datetime,
           expires_at: datetime | None = None, source: str | None = None, meta: dict | None = None) -> Order:
    """The order `draft` pays (the draft was created with order_id=`order_id`)."""
    check_expiry(expires_at, now)
    order = Order(id=order_id, member_id=draft.member_id, currency_id=draft.currency_id, draft_id=draft.id,
                  direction=draft.direction, amount=draft.amount, due_at=due_at, created_at=now,
                  expires_at=expires_at, source=source, meta=dict(meta or {}), negative=draft.negative,
                  updated_at=now)
    store.put_order(order)
    return order


def open_balance(store: TenantStore, member_id: str, currency: PointCurrency, now: datetime) -> BalanceRecord:
    """Open the member's balance record of `currency`: empty, expiring when points available now would.

    A member has a balance of every currency its program had when it joined (all at zero) and of any currency it
    has points or transactions in: only a currency added to the program since, and not used yet, can be opened,
    once (DuplicateKey otherwise)."""
    member = store.member(member_id)
    if (store.balance_record(member_id, currency.id) is not None
            or currency.created_at is None or member is None or member.joined_at >= currency.created_at
            or store.open_lot_count(member_id, currency.id) > 0 or store.totals(member_id, currency.id) != Totals()
            or store.history_count(member_id, currency.id) > 0):
        raise DuplicateKey("the member already has a balance of this currency", member=member_id,
                           currency=currency.id)
    record = BalanceRecord(id=ledger.new_id(), member_id=member_id, currency_id=currency.id, created_at=now,
                           expires_at=ledger.expiry_for(currency, now))
    store.put_balance_record(record)
    return record
