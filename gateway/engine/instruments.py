"""Store credit and benefits: the instruments a redemption draws from besides rewards and points.

A store credit (a gift card, a credit note) is money with what is left of it, an optional security code and expiry;
a benefit is a countable entitlement (how many are left), each worth `value` money (0: no cash value). Neither is
part of the points economy: they never change a points balance, and credit is not in the combined balance."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from .errors import BenefitNotFound, InsufficientPoints, InvalidRequest, StoreCreditNotFound
from .model import ZERO, Benefit, Member, StoreCredit
from .ports import TenantStore

CREDIT_SEQ = "store_credit"
BENEFIT_SEQ = "benefit"


def _nearest_expiry(records: list, now: datetime) -> list:
    """Active ones, nearest expiry first (never-expiring last), then oldest."""
    live = [r for r in records if r.is_active(now)]
    return sorted(live, key=lambda r: (r.expires_at is None, r.expires_at or now, r.id))


def active_credits(store: TenantStore, member_id: str, now: datetime, *, drawable: bool = False) -> list[StoreCredit]:
    """The member's spendable credits; `drawable`: only those a redeem by amount may draw (no security code: the
    code is the holder's proof, which a redeem by amount does not present)."""
    return [c for c in _nearest_expiry(store.open_store_credits(member_id), now)
            if not (drawable and c.security_code)]


def active_benefits(store: TenantStore, member_id: str, now: datetime) -> list[Benefit]:
    return _nearest_expiry(store.open_benefits(member_id), now)


def credit_balance(store: TenantStore, member_id: str, now: datetime) -> Decimal:
    """Money left on the member's active credits (secured ones too: it is theirs)."""
    return sum((c.value_remaining for c in active_credits(store, member_id, now)), ZERO)


def benefit_balance(store: TenantStore, member_id: str, now: datetime) -> int:
    """How many benefits the member can redeem now (units left of the active ones)."""
    return sum(b.quantity_remaining for b in active_benefits(store, member_id, now))


def issue_credit(store: TenantStore, member: Member, value: Decimal, now: datetime, *,
                 expires_at: datetime | None = None, security_code: str | None = None, name: str | None = None,
                 external_id: str | None = None, meta: dict | None = None) -> StoreCredit:
    c = StoreCredit(id=store.next_seq(CREDIT_SEQ), member_id=member.id, value_initial=value, value_remaining=value,
                    issued_at=now, expires_at=expires_at, security_code=security_code, name=name,
                    external_id=external_id, meta=meta, updated_at=now)
    store.put_store_credit(c)
    return c


def issue_benefit(store: TenantStore, member: Member, handle: str, name: str, quantity: int, now: datetime, *,
                  value: Decimal = ZERO, expires_at: datetime | None = None, meta: dict | None = None) -> Benefit:
    if quantity < 1:
        raise InvalidRequest("the quantity must be at least 1", quantity=quantity)
    b = Benefit(id=store.next_seq(BENEFIT_SEQ), member_id=member.id, handle=handle, name=name,
                quantity_initial=quantity, quantity_remaining=quantity, issued_at=now, value=value,
                expires_at=expires_at, meta=meta, updated_at=now)
    store.put_benefit(b)
    return b


def owned_credit(store: TenantStore, member_id: str, credit_id) -> StoreCredit:
    c = store.store_credit(credit_id)
    if c is None or c.member_id != member_id:
        raise StoreCreditNotFound("credit not found", credit=credit_id)
    return c


def owned_benefit(store: TenantStore, member_id: str, benefit_id) -> Benefit:
    b = store.benefit(benefit_id)
    if b is None or b.member_id != member_id:
        raise BenefitNotFound("benefit not found", benefit=benefit_id)
    return b


def check_credit_spend(c: StoreCredit, amount: Decimal, security_code: str | None, now: datetime) -> None:
    """A spend of one named credit: its code when it has one, active, and the whole amount covered (a card
    is never partly charged: the till asks for the rest another way)."""
    if c.security_code and security_code != c.security_code:
        raise InvalidRequest("the security code is invalid", security_code=security_code)
    if not c.is_active(now):
        raise InvalidRequest("the credit has expired or has nothing left", credit=c.id)
    if amount > c.value_remaining:
        raise InsufficientPoints("the amount exceeds the credit's balance", requested=str(amount),
                                 available=str(c.value_remaining))


def check_benefit_use(b: Benefit, count: int, now: datetime, field: str = "count") -> None:
    if not b.is_active(now):
        raise InvalidRequest(f"the {field.replace('_', ' ')} is invalid: the benefit has expired or none is left",
                             **{field: count})
    if count > b.quantity_remaining:
        raise InvalidRequest(f"the {field.replace('_', ' ')} must not be greater than {b.quantity_remaining}",
                             **{field: count})


def take_credit(store: TenantStore, c: StoreCredit, amount: Decimal, now: datetime) -> tuple:
    """Draw `amount` from a credit: the redemption item it makes."""
    store.put_store_credit(replace(c, value_remaining=c.value_remaining - amount, updated_at=now))
    return ("credit", c.id, amount, amount)


def take_benefit(store: TenantStore, b: Benefit, count: int, now: datetime) -> tuple:
    store.put_benefit(replace(b, quantity_remaining=b.quantity_remaining - count, updated_at=now))
    return ("benefit", b.id, b.value * count, Decimal(count))


def give_credit(store: TenantStore, credit_id: int, amount: Decimal, now: datetime) -> None:
    c = store.store_credit(credit_id)
    store.put_store_credit(replace(c, value_remaining=c.value_remaining + amount, updated_at=now))


def give_benefit(store: TenantStore, benefit_id: int, count: Decimal, now: datetime) -> None:
    b = store.benefit(benefit_id)
    store.put_benefit(replace(b, quantity_remaining=b.quantity_remaining + int(count), updated_at=now))


def draw_credits(store: TenantStore, member_id: str, left: Decimal, now: datetime) -> list[tuple]:
    """Up to `left` money from the member's drawable credits, nearest expiry first, partly where needed."""
    items = []
    for c in active_credits(store, member_id, now, drawable=True):
        if left <= 0:
            break
        part = min(c.value_remaining, left)
        items.append(take_credit(store, c, part, now))
        left -= part
    return items


def draw_benefits(store: TenantStore, member_id: str, left: Decimal, now: datetime) -> list[tuple]:
    """Whole benefits worth money, nearest expiry first, as many as fit in `left` (never more than asked)."""
    items = []
    for b in active_benefits(store, member_id, now):
        if left <= 0:
            break
        if b.value <= 0 or b.value > left:
            continue
        n = min(b.quantity_remaining, int((left / b.value).to_integral_value(rounding=ROUND_FLOOR)))
        if n > 0:
            items.append(take_benefit(store, b, n, now))
            left -= b.value * n
    return items


def drawable_value(store: TenantStore, member_id: str, now: datetime) -> dict[str, Decimal]:
    """What the `credits` and `benefits` strategies could draw at most."""
    return {"credits": sum((c.value_remaining for c in active_credits(store, member_id, now, drawable=True)), ZERO),
            "benefits": sum((b.value * b.quantity_remaining for b in active_benefits(store, member_id, now)), ZERO)}
