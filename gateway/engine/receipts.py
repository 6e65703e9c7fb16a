"""Receipts: purchases recorded with their lines, earning points through the rates (engine/rates.py).

- Recording a receipt earns, in the program's default currency, the points its lines earn (each line its money
  at the rate the earning rule picks for it, whole points rounded down; no lines: the total), through the
  currency's return window (pending from when it was transacted), and as tier points. A receipt that earns
  nothing is still recorded. A void receipt earns nothing.
- Updating a receipt (the same business id sent again) makes its points follow it: voiding it takes back all it
  earned; lowering its total (a return) takes back the same share of its points (whole points, down, of what
  is kept); raising it earns the rise through today's rates. Points already spent cannot be taken back: the
  update is refused and nothing changes (a balance never goes negative).
- An estimate computes what a receipt would earn and changes nothing.

`ReceiptOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Mapping

from . import ledger
from .amounts import check_money, check_points
from .errors import DuplicateKey, InvalidAmount, ReceiptNotFound
from .model import ZERO, EarnRate, Entry, Member, Program, Receipt
from .point_records import window
from .rates import issue_days

EXTERNAL = "receipt.external_id"      # refs: business id -> receipt id
REF = "receipt.receipt_ref"           # refs: "<member id>/<receipt ref>" -> receipt ids
ORIGIN = "purchase"


@dataclass(frozen=True, slots=True)
class Line:
    """One purchase line: its money and the product attributes rates may name (sku, category, brand, product)."""

    money: Decimal
    attributes: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    points: Decimal                      # redeemable points it earns
    tier_points: Decimal                 # tier points it earns (the same points count for tiers)
    lines: tuple[tuple[EarnRate | None, Decimal], ...]   # per line: the rate, whole points
    available_at: datetime               # when the points become spendable (after the return window)
    value: Decimal = ZERO                # the points' money value (at the currency's value per point)


class ReceiptOperations:
    """Receipts (mixed into `Tenant`, whose plumbing they use)."""

    # --- the rule ------------------------------------------------------------------------------------
    def _estimate(self, program: Program, total: Decimal, lines: list[Line] | None, location, transacted_at,
                  is_void: bool, now: datetime) -> Estimate:
        pairs = [(l.money, l.attributes) for l in lines] if lines else None
        earned = () if is_void else tuple(self.lines_earn(program, total, pairs, location=location, now=now))
        points = sum((p for _, p in earned), ZERO)
        currency = program.default_currency
        return Estimate(points=points, tier_points=points, lines=earned,
                        available_at=ledger.pending_until(currency, transacted_at), value=points * currency.value)

    def estimate_receipt(self, member: Member | None, total, lines: list[Line] | None = None, *, location=None,
                         transacted_at: datetime | None = None, is_void: bool = False) -> Estimate:
        """What recording this receipt would earn now. Changes nothing."""
        program = self.program(member.program_id) if member is not None else self.only_program()
        money = check_money(total, allow_zero=True)

        def op(now):
            return self._estimate(program, money, lines, location, self.check_not_future(transacted_at or now),
                                  is_void, now)
        return self.run(op)

    # --- writes --------------------------------------------------------------------------------------
    def record_receipt(self, member: Member, total, lines: list[Line] | None = None, *, transacted_at: datetime,
                       external_id: str | None = None, receipt_ref: str | None = None, location_id: int | None = None,
                       location=None, is_void: bool = False, info: Mapping[str, Any] | None = None) -> Receipt:
        """Record a purchase and earn what it earns (see the module's rule). `external_id` is unique."""
        program = self.program(member.program_id)
        currency = program.default_currency
        money = check_money(total, allow_zero=True)

        def op(now):
            at = self.check_not_future(transacted_at)
            if external_id is not None and self.store.ref(EXTERNAL, external_id) is not None:
                raise DuplicateKey("the external id has already been taken", external_id=external_id)
            est = self._estimate(program, money, lines, location if location is not None else location_id, at,
                                 is_void, now)
            rid = self.store.next_seq("receipt")
            entries = ()
            if est.points > 0:
                e = ledger.credit(self.store, member.id, currency, check_points(currency, est.points), now,
                                  earned_at=at, origin=ORIGIN, money=money,
                                  expires_after_days=issue_days(est.lines[0][0]),
                                  refs={"receipt": rid, **({"rate": est.lines[0][0].id} if est.lines[0][0] else {})})
                entries = (e.id,)
            r = Receipt(id=rid, member_id=member.id, currency_id=currency.id, total=money, original_total=money,
                        transacted_at=at, points=est.points, entries=entries,
                        rate_id=est.lines[0][0].id if est.lines and est.lines[0][0] else None,
                        line_points=tuple(p for _, p in est.lines), external_id=external_id,
                        receipt_ref=receipt_ref, location_id=location_id, is_void=is_void, created_at=now,
                        updated_at=now, info=dict(info or {}))
            self.store.put_receipt(r)
            if external_id is not None:
                self.store.put_ref(EXTERNAL, external_id, {"id": rid})
            if receipt_ref is not None:
                key = f"{member.id}/{receipt_ref}"
                prior = self.store.ref(REF, key) or {"ids": ()}
                self.store.put_ref(REF, key, {"ids": tuple(prior["ids"]) + (rid,)})
            return r
        return self.run(op)

    def update_receipt(self, receipt_id: int, total, *, is_void: bool = False, lines: list[Line] | None = None,
                       location=None, info: Mapping[str, Any] | None = None,
                       receipt_ref: str | None = None) -> Receipt:
        """Update a recorded purchase: its points follow its new total, or all go if it is void."""
        money = check_money(total, allow_zero=True)

        def op(now):
            r = self.receipt(receipt_id)
            member = self.member_by_id(r.member_id)
            program = self.program(member.program_id)
            currency = self.currency(program, r.currency_id)
            ledger.settle(self.store, member.id, currency, now)
            if r.is_void and not is_void:
                raise InvalidAmount("a void transaction cannot be restored", transaction=r.id)
            entries, points = r.entries, r.points
            if is_void:
                target = ZERO
            elif money < r.total:
                target = (r.points * money / r.total).to_integral_value(rounding=ROUND_FLOOR) if r.total else ZERO
            else:
                target = None
            if target is not None and target < points:
                self._take_back(r, currency, points - target, now)
                points = target
            elif target is None and money > r.total:
                rise = self._estimate(program, money - r.total, None, location if location is not None
                                      else r.location_id, now, False, now)
                if rise.points > 0:
                    e = ledger.credit(self.store, member.id, currency, check_points(currency, rise.points), now,
                                      origin=ORIGIN, money=money - r.total, refs={"receipt": r.id},
                                      expires_after_days=issue_days(rise.lines[0][0]))
                    entries += (e.id,)
                    points += rise.points
            updated = replace(r, total=money, points=points, entries=entries, is_void=is_void or r.is_void,
                              updated_at=now, info={**r.info, **(info or {})},
                              receipt_ref=receipt_ref if receipt_ref is not None else r.receipt_ref)
            self.store.put_receipt(updated)
            if receipt_ref is not None and receipt_ref != r.receipt_ref:
                key = f"{member.id}/{receipt_ref}"
                prior = self.store.ref(REF, key) or {"ids": ()}
                self.store.put_ref(REF, key, {"ids": tuple(prior["ids"]) + (r.id,)})
            return updated
        return self.run(op)

    def _take_back(self, r: Receipt, currency, amount: Decimal, now: datetime) -> None:
        """Reverse `amount` of what the receipt's credits earned, the latest credit first."""
        left = amount
        for entry_id in reversed(r.entries):
            if left <= 0:
                break
            e = self.store.entry(entry_id)
            part = min(left, e.amount - e.reversed_amount)
            if part > 0:
                ledger.reverse(self.store, e, currency, now, amount=part, origin="return",
                               refs={"receipt": r.id})
                left -= part

    # --- reads ---------------------------------------------------------------------------------------
    def receipt(self, receipt_id: int, member: Member | None = None) -> Receipt:
        r = self.store.receipt(receipt_id)
        if r is None or (member is not None and r.member_id != member.id):
            raise ReceiptNotFound("transaction not found", transaction=receipt_id)
        return r

    def receipt_by_external_id(self, external_id: str) -> Receipt | None:
        ref = self.store.ref(EXTERNAL, external_id)
        return self.store.receipt(ref["id"]) if ref else None

    def receipts(self, member: Member, *, offset: int = 0, limit: int = 15,
                 newest_first: bool = False) -> tuple[int, list[Receipt]]:
        """The member's receipts, in the order recorded (or newest first): how many, and the page only."""
        total = self.store.receipt_count(member.id)
        start, count = window(total, offset, limit, newest_first)
        rows = self.store.receipts(member.id, start, count)
        return total, list(reversed(rows)) if newest_first else rows

    def find_receipts(self, member: Member, *, receipt_ref: str | None = None,
                      external_id: str | None = None) -> list[Receipt]:
        """The member's receipts with this receipt ref and/or business id (index lookups)."""
        found = None
        if receipt_ref is not None:
            ref = self.store.ref(REF, f"{member.id}/{receipt_ref}")
            found = [self.store.receipt(i) for i in (ref or {"ids": ()})["ids"]]
            found = [r for r in found if r.receipt_ref == receipt_ref]
        if external_id is not None:
            r = self.receipt_by_external_id(external_id)
            mine = [r] if r is not None and r.member_id == member.id else []
            found = mine if found is None else [x for x in found if x in mine]
        return found or []
