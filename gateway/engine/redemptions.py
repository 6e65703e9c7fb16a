"""Redeeming a money amount across a member's instruments, in the order asked (Omneo's redeem).

Rewards are drawn nearest-expiry first and may be consumed partly; points are converted at the
currency's value, whole points rounded up (a redemption never takes less than it gives), and
spent soonest-expiring first. A redemption can be reversed as a whole within the program's
reversal window."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .ports import TenantStore
from . import ledger
from .errors import (AlreadyReversed, EntryCancelled, InsufficientPoints, NotReversible, RedemptionNotFound,
                     ReversalWindowClosed)
from .model import ZERO, Member, Program, Redemption, Reward

KIND = "redemption"
PART = "redemption_part"
CENT = Decimal("0.01")


def _active_rewards(store: TenantStore, member_id: str, now: datetime) -> list[Reward]:
    rewards = [r for r in store.rewards(member_id) if r.is_active(now)]
    return sorted(rewards, key=lambda r: (r.expires_at is None, r.expires_at or now, r.id))


def available_by_strategy(store: TenantStore, program: Program, member: Member, now: datetime) -> dict[str, Decimal]:
    currency = program.default_currency
    ledger.settle(store, member.id, currency, now)
    points = ledger.balance(store, member.id, currency, now).available
    return {"rewards": sum((r.value_remaining for r in _active_rewards(store, member.id, now)), ZERO),
            "points": (points * currency.value).quantize(CENT, rounding=ROUND_FLOOR)}


def redeem(store: TenantStore, program: Program, member: Member, amount: Decimal, strategies: list[str],
           strict: bool, now: datetime, *, meta: dict | None = None, refs: dict | None = None) -> Redemption:
    """Draw `amount` (money) from the instruments in `strategies` order."""
    available = available_by_strategy(store, program, member, now)
    coverable = sum((available.get(s, ZERO) for s in dict.fromkeys(strategies)), ZERO)
    if coverable <= 0:
        raise InsufficientPoints("nothing available to redeem", requested=str(amount))
    if strict and coverable < amount:
        raise InsufficientPoints("the amount exceeds the available balance", requested=str(amount),
                                 available=str(coverable))
    left, items = amount, []
    currency = program.default_currency
    for strategy in dict.fromkeys(strategies):
        if left <= 0:
            break
        if strategy == "rewards":
            for r in _active_rewards(store, member.id, now):
                if left <= 0:
                    break
                part = min(r.value_remaining, left)
                store.put_reward(replace(r, value_remaining=r.value_remaining - part, updated_at=now))
                items.append(("reward", r.id, part, part))
                left -= part
        elif strategy == "points" and available["points"] > 0:
            money = min(left, available["points"])
            points = (money / currency.value).quantize(Decimal(1).scaleb(-currency.decimals), rounding=ROUND_CEILING)
            b = ledger.balance(store, member.id, currency, now)
            points = min(points, b.available)
            if points > 0:
                e = ledger.debit(store, member.id, currency, points, now, origin="redemption", refs=refs)
                items.append(("point", e.id, money, points))
                left -= money
    total = amount - left
    red = Redemption(id=store.next_seq(KIND), member_id=member.id, kind="redeem", total=total,
                     items=tuple(items), created_at=now, meta=meta, refs=refs or {},
                     part_ids=_part_ids(store, items))
    store.put_record(KIND, red.id, red)
    return red


def _part_ids(store: TenantStore, items) -> tuple[int, ...]:
    """Ids for a redemption's parts, numbered per tenant: each reward, and each lot a points debit took from."""
    count = sum(1 if instrument == "reward" else len(store.entry(record_id).lots)
                for instrument, record_id, _money, _units in items)
    return tuple(store.next_seq(PART) for _ in range(count))


def get(store: TenantStore, redemption_id: int) -> Redemption:
    r = store.record(KIND, redemption_id)
    if r is None:
        raise RedemptionNotFound("redemption not found", redemption=redemption_id)
    return r


def reverse(store: TenantStore, program: Program, red: Redemption, now: datetime, *,
            meta: dict | None = None) -> Redemption:
    """Give back everything a redemption took, as a new redemption of kind `reversal`. Refused, with the reason:
    not a redemption (NotReversible), reversed before (AlreadyReversed), points it spent were cancelled meanwhile
    (EntryCancelled), or the window has passed (ReversalWindowClosed): states of the record before the clock."""
    if red.kind != "redeem":
        raise NotReversible("only a redemption can be reversed", redemption=red.id)
    if red.reversed_by is not None:
        raise AlreadyReversed("redemption has already been reversed", redemption=red.id)
    for instrument, record_id, _money, _units in red.items:      # a fact about the state before the clock
        entry = store.entry(record_id) if instrument != "reward" else None
        if entry is not None and (entry.status != "committed" or entry.reversed_amount >= entry.amount):
            raise EntryCancelled("points this redemption spent have been cancelled since", redemption=red.id,
                                 transaction=entry.id)
    if now - red.created_at > timedelta(minutes=program.reversal_window_minutes):
        raise ReversalWindowClosed(f"a redemption can only be reversed within {program.reversal_window_minutes} "
                                   "minutes", redemption=red.id, minutes=program.reversal_window_minutes)
    currency = program.default_currency
    items = []
    for instrument, record_id, money, units in red.items:
        if instrument == "reward":
            r = store.reward(record_id)
            store.put_reward(replace(r, value_remaining=r.value_remaining + money, updated_at=now))
            items.append(("reward", record_id, money, units))
        else:
            entry = store.entry(record_id)
            ledger.settle(store, red.member_id, currency, now)
            ledger.reverse(store, entry, currency, now, origin="reversal")
            items.append(("point", record_id, money, units))
    rev = Redemption(id=store.next_seq(KIND), member_id=red.member_id, kind="reversal", total=red.total,
                     items=tuple(items), created_at=now, reverses=red.id, meta=meta,
                     part_ids=_part_ids(store, items))
    store.put_record(KIND, rev.id, rev)
    store.put_record(KIND, red.id, replace(red, reversed_by=rev.id))
    return rev
