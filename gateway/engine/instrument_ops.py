"""Tenant operations on store credit and benefits: issuing them, their balances, redeeming one named credit or
benefit, a redeem that names benefits, and giving back the benefits a redemption took (a mixin of Tenant: each
public method is one engine operation, atomic, at one instant of the tenant clock)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import instruments, redemptions
from .amounts import check_money
from .errors import InvalidRequest
from .model import Benefit, Member, Redemption, StoreCredit

if TYPE_CHECKING:
    from .ports import TenantStore


class InstrumentOperations:
    store: "TenantStore"

    # --- issuing and reading ----------------------------------------------------------------------
    def issue_store_credit(self, member: Member, value, *, expires_at: datetime | None = None,
                           security_code: str | None = None, name: str | None = None,
                           external_id: str | None = None, meta: dict | None = None) -> StoreCredit:
        amount = check_money(value)
        return self.run(lambda now: instruments.issue_credit(
            self.store, member, amount, now, expires_at=expires_at, security_code=security_code, name=name,
            external_id=external_id, meta=meta))

    def issue_benefit(self, member: Member, handle: str, name: str, quantity: int = 1, *, value=0,
                      expires_at: datetime | None = None, meta: dict | None = None) -> Benefit:
        worth = check_money(value, allow_zero=True)
        return self.run(lambda now: instruments.issue_benefit(self.store, member, handle, name, int(quantity), now,
                                                              value=worth, expires_at=expires_at, meta=meta))

    def store_credit(self, credit_id: int, member: Member) -> StoreCredit:
        return instruments.owned_credit(self.store, member.id, credit_id)

    def benefit(self, benefit_id: int, member: Member) -> Benefit:
        return instruments.owned_benefit(self.store, member.id, benefit_id)

    def credit_balance(self, member: Member, now: datetime | None = None) -> Decimal:
        return instruments.credit_balance(self.store, member.id, now or self.now())

    def benefit_balance(self, member: Member, now: datetime | None = None) -> int:
        return instruments.benefit_balance(self.store, member.id, now or self.now())

    # --- redeeming --------------------------------------------------------------------------------
    def redeem_store_credit(self, member: Member, credit_id: int, amount, *, security_code: str | None = None,
                            meta: dict | None = None, refs: dict | None = None) -> Redemption:
        """Spend `amount` of one of the member's credits (its security code when it has one): all of it or none."""
        credit = instruments.owned_credit(self.store, member.id, credit_id)
        value = check_money(amount)

        def op(now):
            instruments.check_credit_spend(credit, value, security_code, now)
            item = instruments.take_credit(self.store, credit, value, now)
            return redemptions.record_redeem(self.store, member, [item], now, meta=meta, refs=refs)
        return self.run(op)

    def redeem_benefit(self, member: Member, benefit_id: int, count: int = 1, *,
                       meta: dict | None = None) -> Redemption:
        """Use `count` of one of the member's benefits."""
        benefit = instruments.owned_benefit(self.store, member.id, benefit_id)

        def op(now):
            instruments.check_benefit_use(benefit, count, now)
            item = instruments.take_benefit(self.store, benefit, count, now)
            return redemptions.record_redeem(self.store, member, [item], now, meta=meta)
        return self.run(op)

    def redeem_value_with_benefits(self, member: Member, amount, strategies: list[str], benefits: list[dict], *,
                                   strict: bool = False, meta: dict | None = None, refs: dict | None = None,
                                   currency: str | None = None) -> Redemption:
        """A redeem by amount (redeem_value) that also names benefits ({id, quantity}) to use first;
        a benefit named is one of the member's own, active, with that many left (refused in `benefits.N.*`)."""
        program = self.program(member.program_id)
        value = check_money(amount)

        def op(now):
            named = self._named_benefits(member, benefits, now)
            return redemptions.redeem(self.store, program, member, value, strategies, strict, now, meta=meta,
                                      refs=refs, in_currency=currency, benefits=named)
        return self.run(op)

    def _named_benefits(self, member: Member, benefits: list[dict], now: datetime) -> list[tuple[int, int]]:
        """(benefit id, count) per benefit named ({id, quantity}); the same one named twice counts twice."""
        out: dict[int, int] = {}
        for n, ask in enumerate(benefits):
            b = self.store.benefit(ask.get("id"))
            if b is None or b.member_id != member.id:
                field = f"benefits.{n}.id"
                raise InvalidRequest(f"the selected {field} is invalid", **{field: ask.get("id")})
            count = int(ask.get("quantity") or 1)
            instruments.check_benefit_use(b, out.get(b.id, 0) + count, now, field=f"benefits.{n}.quantity")
            out[b.id] = out.get(b.id, 0) + count
        return list(out.items())

    def return_redemption_benefits(self, redemption_id: int, *, meta: dict | None = None) -> Redemption:
        """Give back every benefit a redemption took (and has not given back)."""
        red = redemptions.get(self.store, redemption_id)
        return self.run(lambda now: redemptions.give_back_benefits(self.store, redemptions.get(self.store, red.id),
                                                                   now, meta=meta))

    def instruments_of(self, red: Redemption) -> dict[str, Any]:
        """The credit and benefit records a redemption touched, by (instrument, id), as they are now."""
        out: dict[tuple[str, Any], Any] = {}
        for instrument, record_id, *_ in red.items:
            if instrument == "credit":
                out[(instrument, record_id)] = self.store.store_credit(record_id)
            elif instrument == "benefit":
                out[(instrument, record_id)] = self.store.benefit(record_id)
        return out
