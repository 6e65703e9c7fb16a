"""Points given outright, points a purchase earns and burns, and refunds: the rules, in one place.

- A **grant** (an accrual, an adjustment, a points record) is not paid for: it has no return window and is
  available from the moment it is granted, unless the caller says when.
- A **purchase** is one operation: the member (joined now if new), the points burned from a hold, and the
  points the money paid earns (whole points, rounded down, through the return window), linked by a `Payment`
  record (`paid_with`) so a refund gives the burned points back in proportion.
- A **refund** gives back (part of) a payment or a redemption, in proportion to the money refunded (the
  `Payment` record keeps `refunded_money`). A manual adjustment or a reversal is not refundable.

`PaymentOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR
from typing import Any

from . import ledger
from .amounts import check_money, check_points, to_decimal
from .errors import (AlreadyCancelled, HoldNotFound, InvalidState, LimitExceeded, MemberInactive, NotRefundable,
                     TransactionNotFound)
from .model import ZERO, Entry, Member, Payment, PointCurrency, Program

MANUAL = "manual"     # the origin of a manual adjustment: corrected by another adjustment, never refunded
REFUNDABLE_KINDS = ("credit", "debit")
KIND = "payment"      # store records: entry id -> Payment


def payment(store, entry_id: str) -> Payment:
    """The refund record of an entry (an empty one if none was kept yet)."""
    return store.record(KIND, entry_id) or Payment(entry_id)


@dataclass(frozen=True, slots=True)
class Purchase:
    """What one purchase wrote: the credit for the money paid (zero points if it earned nothing) and the debit
    that burned a hold, if any."""

    earned: Entry
    burned: Entry | None = None


def check_refundable(entry: Entry) -> None:
    """A refund gives back a payment or a redemption: not a reversal, not a manual adjustment."""
    if entry.kind not in REFUNDABLE_KINDS:
        raise NotRefundable(f"a {entry.kind} entry cannot be reversed", transaction=entry.id)
    if entry.origin == MANUAL:
        raise NotRefundable(f"a {entry.origin} transaction cannot be reversed", transaction=entry.id)


class PaymentOperations:
    """Grants, purchases and refunds (mixed into `Tenant`, whose plumbing they use)."""

    # --- grants ---------------------------------------------------------------------------------------
    def grant(self, member: Member, currency: PointCurrency, amount, *, earned_at: datetime | None = None,
              available_at: datetime | None = None, expires_at: datetime | None = None,
              expires_after_days: int | None = None, temporary: bool = False, timeout_sec: int | None = None,
              money=None, key=None, fingerprint=None, origin: str = "", refs: dict | None = None,
              description: str | None = None, meta: dict | None = None) -> Entry:
        """Points given outright: available from now (no return window) unless `available_at` says when.

        `temporary`: counted as pending until committed, rolled back or timed out (`timeout_sec`, else the
        currency's)."""
        value = check_points(currency, amount, rounding=currency.rules.credit_rounding)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            deadline = now + timedelta(seconds=timeout_sec or currency.temp_timeout_sec) if temporary else None
            e = ledger.credit(self.store, member.id, currency, value, now, earned_at=earned_at,
                              available_at=available_at or now, expires_at=expires_at,
                              expires_after_days=expires_after_days, provisional=temporary, deadline=deadline,
                              origin=origin, refs=refs, money=money, description=description, meta=meta)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    # --- purchases ------------------------------------------------------------------------------------
    def purchase(self, program: Program, identity: tuple[str, Any], money_paid, *, attributes: dict | None = None,
                 hold_id: str | None = None, pending_days: int | None = None, key=None, fingerprint=None,
                 origin: str = "order", refs: dict | None = None) -> Purchase:
        """A purchase by the member with `identity` (joining `program` now if there is none), in its program's
        default currency: burn the hold `hold_id` (the member's, active), then earn for the money paid (a
        payment that earns nothing is still recorded, as a zero credit). All of it, or nothing."""
        kind, value = identity

        def op(now):
            member = self.store.find_member(kind, str(value))
            if member is None:
                member = self.add_member(program, {kind: str(value)}, attributes=attributes)
            elif not member.active:
                raise MemberInactive("member is not registered in the program", **{kind: value})
            own = self.program(member.program_id)
            currency = own.default_currency
            burned = self._burn_hold(hold_id, member, now, origin, refs) if hold_id is not None else None
            e = self._earning(member, currency, check_money(money_paid, allow_zero=True), now,
                              pending_days=pending_days, origin=origin, refs=refs)
            if burned is not None:
                self.store.put_record(KIND, e.id, Payment(e.id, paid_with=(burned.id,)))
            self._claim(key, fingerprint, e.id)
            return Purchase(e, burned)
        return self.run(op)

    def _burn_hold(self, hold_id: str, member: Member, now: datetime, origin: str, refs: dict | None) -> Entry:
        h = self.store.hold(hold_id)
        if h is None:
            raise HoldNotFound("hold not found", hold=hold_id)
        owner = self.member_by_id(h.member_id)
        currency = self.currency(self.program(owner.program_id), h.currency_id)
        ledger.settle(self.store, owner.id, currency, now)
        h = self.store.hold(hold_id)
        if h.state != "active" or h.member_id != member.id:
            raise HoldNotFound(f"hold is {h.state}" if h.state != "active" else "hold belongs to another member",
                               hold=hold_id, state=h.state)
        return ledger.debit(self.store, owner.id, currency, h.amount, now, hold=h, origin=origin, refs=refs)

    def purchase_of(self, entry_id: str) -> Purchase:
        """The purchase a credit entry records (its burn, if it was paid with points)."""
        e = self.entry(entry_id)
        paid_with = payment(self.store, e.id).paid_with
        return Purchase(e, self.store.entry(paid_with[0]) if paid_with else None)

    # --- refunds --------------------------------------------------------------------------------------
    def refund(self, entry_id: str, money=None, *, member: Member | None = None, key=None, fingerprint=None,
               origin: str = "refund", refs: dict | None = None) -> Entry:
        """Reverse (part of) a committed credit or debit, in proportion to the money refunded.

        Without `money`, or with the transaction's original money, everything not refunded yet is refunded.
        Earned points taken back are whole, rounded down. What the transaction was paid with
        (`Payment.paid_with`: points a purchase burned) is given back in the same proportion. `member`: the
        transaction must be this member's (else not found)."""
        def op(now):
            e = self.entry(entry_id)
            if member is not None and e.member_id != member.id:
                raise TransactionNotFound("transaction not found for this member", transaction=entry_id)
            check_refundable(e)
            e, currency = self._settled_entry(entry_id, now)
            if e.status in ("cancelled", "rolled_back") or (e.amount > 0 and e.amount - e.reversed_amount <= 0):
                raise AlreadyCancelled("transaction already fully reversed", transaction=e.id)
            if e.status != "committed":
                raise InvalidState(f"transaction is {e.status}", transaction=e.id)
            pay = payment(self.store, e.id)
            asked = money
            if e.money is not None and (asked is None or to_decimal(asked) == e.money):
                asked = e.money - pay.refunded_money     # the original amount, or none: all that is left
            points, full, m = None, True, None
            if e.money is not None and e.money <= 0 and pay.paid_with:
                # paid with points only: no money to refund, so any refund gives everything back, once
                asked = None
            if asked is not None:
                m = check_money(asked)
                if e.money is None or e.money <= 0:
                    points = check_points(currency, (m / currency.value).to_integral_value(rounding=ROUND_FLOOR),
                                          allow_zero=True)
                    full = False
                else:
                    left = e.money - pay.refunded_money
                    if m > left:
                        raise LimitExceeded("refund exceeds what remains of the transaction", remaining=str(left))
                    full = m == left
                    points = None if full else (e.amount * m / e.money).to_integral_value(rounding=ROUND_FLOOR)
                    pay = replace(pay, refunded_money=pay.refunded_money + m)
                    self.store.put_record(KIND, e.id, pay)
            if e.amount == 0:          # a payment that earned nothing: only its money is refunded
                points = ZERO
                if full:
                    e = replace(e, status="cancelled")
                    self.store.put_entry(e)
            if points is not None and points <= 0:
                rev = ledger.new_entry(self.store, e.member_id, e.currency_id, "cancel", ZERO, now, origin=origin,
                                       refs=refs or {}, reverses=e.id)
                self.store.put_entry(rev)
            else:
                rev = ledger.reverse(self.store, e, currency, now, amount=points, origin=origin, refs=refs)
            if m is not None:
                rev = replace(rev, money=m)
                self.store.put_entry(rev)
            for paid_id in pay.paid_with:      # given back in the same proportion
                pe = self.store.entry(paid_id)
                if pe is None or pe.status != "committed" or pe.amount - pe.reversed_amount <= 0:
                    continue
                if full:
                    part = None
                elif e.money:
                    part = (pe.amount * m / e.money).to_integral_value(rounding=ROUND_FLOOR)
                else:                        # nothing paid in money: no proportion to give back
                    part = ZERO
                if part is None or part > 0:
                    ledger.reverse(self.store, pe, currency, now, amount=part, origin=origin,
                                   refs={**(refs or {}), "with": rev.id})
            self._claim(key, fingerprint, rev.id)
            return rev
        return self.run(op)
