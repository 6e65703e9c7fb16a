"""Tenant operations on drafts, orders, balance records and the transaction history (a mixin of Tenant:
each public method is one engine operation, atomic, at one instant of the tenant clock)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from . import drafts, history, ledger, orders
from .amounts import check_points
from .errors import TransactionNotFound
from .history import HistoryPage
from .model import BalanceRecord, Draft, Member, Order, PointCurrency, Program

if TYPE_CHECKING:
    from .ports import TenantStore


class DraftOperations:
    store: "TenantStore"

    @staticmethod
    def _draft_value(currency: PointCurrency, direction: str, amount):
        rounding = currency.rules.credit_rounding if direction == "credit" else currency.rules.debit_rounding
        return check_points(currency, amount, rounding=rounding)

    def _owned_draft(self, draft_id: str, program: Program | None, now: datetime) -> tuple[Draft, PointCurrency]:
        """The draft as of now and its currency; not found when it belongs to a member of another program."""
        d = drafts.get(self.store, draft_id, now)
        member = self.member_by_id(d.member_id)
        if program is not None and member.program_id != program.id:
            raise TransactionNotFound("transaction not found", transaction=draft_id)
        return d, self.currency(self.program(member.program_id), d.currency_id)

    # --- drafts (recorded now, applied on completion) ----------------------------------------------------
    def create_draft(self, member: Member, currency: PointCurrency, direction: str | None, amount, *,
                     auto_complete: bool = False, ttl_sec: int | None = None, event_time: datetime | None = None,
                     lot_minutes: int | None = None, meta: dict | None = None,
                     negative: bool | None = None) -> Draft:
        """A draft, completed at once with `auto_complete`. `lot_minutes` (the life of the points a credit
        adds) applies only to a draft completed at once; `direction` None: the amount's sign gives it (see
        drafts.direction_of); `negative`: the amount is shown negative (by default a debit's)."""
        direction, amount = drafts.direction_of(direction, amount)
        value = self._draft_value(currency, direction, amount)

        def op(now):
            d = drafts.create(self.store, member.id, currency, direction, value, now, ttl_sec=ttl_sec,
                              event_time=event_time, lot_minutes=lot_minutes if auto_complete else None,
                              meta=meta, negative=negative)
            return drafts.complete(self.store, d, currency, now) if auto_complete else d
        return self.run(op)

    def draft(self, draft_id: str) -> Draft:
        return self.run(lambda now: drafts.get(self.store, draft_id, now))

    def complete_draft(self, draft_id: str, *, program: Program | None = None) -> Draft:
        """Apply the draft (or reject it with a reason); its order, if any, becomes processed. With `program`,
        a draft of another program's member is not found."""
        def op(now):
            d, currency = self._owned_draft(draft_id, program, now)
            return drafts.complete(self.store, d, currency, now)
        return self.run(op)

    def cancel_draft(self, draft_id: str, *, program: Program | None = None) -> Draft:
        def op(now):
            d, _ = self._owned_draft(draft_id, program, now)
            return drafts.cancel(self.store, d, now)
        return self.run(op)

    # --- orders, balance records --------------------------------------------------------------------
    def create_order(self, member: Member, currency: PointCurrency, direction: str | None, amount, *, due_at: datetime,
                     expires_at: datetime | None = None, source: str | None = None, meta: dict | None = None,
                     negative: bool | None = None) -> Order:
        """An order and the draft that pays it (the draft's id is the order's draft_id). The expiry, when
        given, must be in the future (NotInFuture, field expires_at), checked before the amount."""
        direction, amount = drafts.direction_of(direction, amount)

        def op(now):
            orders.check_expiry(expires_at, now)
            value = self._draft_value(currency, direction, amount)
            order_id = orders.new_id()
            d = drafts.create(self.store, member.id, currency, direction, value, now, meta=meta, negative=negative,
                              order_id=order_id)
            return orders.create(self.store, order_id, d, now, due_at=due_at, expires_at=expires_at, source=source,
                                 meta=meta)
        return self.run(op)

    def order(self, order_id: str) -> Order:
        o = self.store.order(order_id)
        if o is None:
            raise TransactionNotFound("order not found", order=order_id)
        return o

    def open_balance_record(self, member: Member, currency: PointCurrency) -> BalanceRecord:
        """The member's balance record of `currency` (DuplicateKey when it already has one)."""
        return self.run(lambda now: orders.open_balance(self.store, member.id, currency, now))

    # --- history ----------------------------------------------------------------------------------------
    def history(self, member: Member, currency: PointCurrency, *, status: str | None = None,
                direction: str | None = None, newest_first: bool = True, offset: int = 0,
                limit: int | None = None) -> HistoryPage:
        """The member's transactions in `currency` (see history.py), filtered, sorted by time, paged."""
        def op(now):
            ledger.settle(self.store, member.id, currency, now)    # timed-out reservations are expired rows then
            return history.page(self.store, member.id, currency.id, now, status=status, direction=direction,
                                newest_first=newest_first, offset=offset, limit=limit)
        return self.run(op)
