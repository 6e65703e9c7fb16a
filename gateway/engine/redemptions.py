"""Redeeming a money amount across a member's instruments, in the order asked (Omneo's redeem).

Rewards are drawn nearest-expiry first and may be consumed partly; points are converted at the
currency's value, whole points rounded up (a redemption never takes less than it gives), and
spent soonest-expiring first. A redemption can be reversed as a whole within the program's
reversal window."""
from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from itertools import combinations, islice

from .ports import TenantStore
from . import instruments, ledger
from .errors import (AlreadyReversed, CurrencyNotFound, EntryCancelled, InsufficientPoints, InvalidAmount,
                     InvalidState, NotReversible, RedemptionNotFound, ReversalWindowClosed)
from .model import ZERO, Member, Program, Redemption, Reward
from typing import Any

KIND = "redemption"
PART = "redemption_part"
CENT = Decimal("0.01")


def _active_rewards(store: TenantStore, member_id: str, now: datetime) -> list[Reward]:
    rewards = [r for r in store.open_rewards(member_id, now) if r.is_active(now)]
    return sorted(rewards, key=lambda r: (r.expires_at is None, r.expires_at or now, r.id))


def available_by_strategy(store: TenantStore, program: Program, member: Member, now: datetime) -> dict[str, Decimal]:
    currency = program.default_currency
    ledger.settle(store, member.id, currency, now)
    points = ledger.balance(store, member.id, currency, now).available
    return {"rewards": sum((r.value_remaining for r in _active_rewards(store, member.id, now)), ZERO),
            "points": (points * currency.value).quantize(CENT, rounding=ROUND_FLOOR),
            **instruments.drawable_value(store, member.id, now)}


def to_base(program: Program, amount: Decimal, code: str | None) -> tuple[Decimal, Decimal | None]:
    """`amount` asked in money currency `code` as the program's own money (cents, half-up), and the rate used
    (one unit of the program's money is worth `rate` of `code`); no code: the amount as it is."""
    if code is None:
        return amount, None
    rate = program.currency_rates.get(code)
    if rate is None:
        raise CurrencyNotFound("currency not configured", currency=code)
    base = (amount / rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if base <= 0:
        raise InvalidAmount(f"amount must be worth at least 0.01 {program.money_currency}", currency=code)
    return base, rate


def redeem(store: TenantStore, program: Program, member: Member, amount: Decimal, strategies: list[str],
           strict: bool, now: datetime, *, meta: dict | None = None, refs: dict | None = None,
           in_currency: str | None = None, benefits: list[tuple[int, int]] | None = None) -> Redemption:
    """Draw `amount` (money, in `in_currency` when given: converted to the program's money at its rate) from the
    instruments in `strategies` order. `benefits` (benefit id, count), checked by the caller, are redeemed first
    whatever the amount; their value counts toward it."""
    asked = amount
    amount, rate = to_base(program, amount, in_currency)
    items = [instruments.take_benefit(store, store.benefit(bid), n, now) for bid, n in benefits or ()]
    named = sum((m for _, _, m, _ in items), ZERO)
    left = amount - named
    available = available_by_strategy(store, program, member, now)
    coverable = sum((available.get(s, ZERO) for s in dict.fromkeys(strategies)), ZERO)
    if left > 0 and coverable <= 0 and not items:
        raise InsufficientPoints("nothing available to redeem", requested=str(amount))
    if strict and coverable < left:
        raise InsufficientPoints("the amount exceeds the available balance", requested=str(amount),
                                 available=str(coverable + named))
    currency = program.default_currency
    for strategy in dict.fromkeys(strategies):
        if left <= 0:
            break
        if strategy in ("credits", "benefits"):
            drawn = (instruments.draw_credits if strategy == "credits" else instruments.draw_benefits)(
                store, member.id, left, now)
            items += drawn
            left -= sum((m for _, _, m, _ in drawn), ZERO)
        elif strategy == "rewards":
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
    if strict and left > 0:     # whole benefits could not make up the amount exactly (undone with the operation)
        raise InsufficientPoints("the amount exceeds the available balance", requested=str(amount))
    if not items:               # only benefits worth more than the amount were on offer
        raise InsufficientPoints("nothing available to redeem", requested=str(amount))
    total = amount - left
    localised = None
    if rate is not None:   # all of it: what was asked; part of it: what that part is worth there
        localised = asked if left == 0 else (total * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    red = Redemption(id=store.next_seq(KIND), member_id=member.id, kind="redeem", total=total,
                     items=tuple(items), created_at=now, meta=meta, refs=refs or {},
                     part_ids=_part_ids(store, items), currency=in_currency, total_localised=localised,
                     returned=tuple(ZERO for _ in items))
    _keep(store, red)
    return red


def record_redeem(store: TenantStore, member: Member, items: list[tuple], now: datetime, *,
                  meta: dict | None = None, refs: dict | None = None) -> Redemption:
    """A redemption of records already drawn (one named credit, one named benefit): its total is their value."""
    red = Redemption(id=store.next_seq(KIND), member_id=member.id, kind="redeem",
                     total=sum((m for _, _, m, _ in items), ZERO), items=tuple(items), created_at=now, meta=meta,
                     refs=refs or {}, part_ids=_part_ids(store, items), returned=tuple(ZERO for _ in items))
    _keep(store, red)
    return red


def _part_ids(store: TenantStore, items) -> tuple[int, ...]:
    """Ids for a redemption's parts, numbered per tenant: each reward, and each lot a points debit took from."""
    count = sum(len(store.entry(record_id).lots) if instrument == "point" else 1
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
    for (instrument, record_id, money, _units), back in zip(red.items, _returned(red)):   # before the clock
        entry = store.entry(record_id) if instrument == "point" and back < money else None
        if entry is not None and (entry.status != "committed" or entry.reversed_amount >= entry.amount):
            raise EntryCancelled("points this redemption spent have been cancelled since", redemption=red.id,
                                 transaction=entry.id)
    if now - red.created_at > timedelta(minutes=program.reversal_window_minutes):
        raise ReversalWindowClosed(f"a redemption can only be reversed within {program.reversal_window_minutes} "
                                   "minutes", redemption=red.id, minutes=program.reversal_window_minutes)
    currency = program.default_currency
    returned = _returned(red)
    if all(_left(item, back) <= 0 for item, back in zip(red.items, returned)):
        raise AlreadyReversed("everything this redemption took has been returned", redemption=red.id)
    items = []
    for (instrument, record_id, money, units), back in zip(red.items, returned):
        if _left((instrument, record_id, money, units), back) <= 0:
            continue
        if instrument == "benefit":       # `back` counts benefits: what is left of them, at its share of the value
            instruments.give_benefit(store, record_id, units - back, now)
            items.append(("benefit", record_id, money * (units - back) / units, units - back))
        elif instrument == "credit":
            instruments.give_credit(store, record_id, money - back, now)
            items.append(("credit", record_id, money - back, money - back))
        elif instrument == "reward":
            r = store.reward(record_id)
            store.put_reward(replace(r, value_remaining=r.value_remaining + money - back, updated_at=now))
            items.append(("reward", record_id, money - back, money - back))
        else:
            entry = store.entry(record_id)
            ledger.settle(store, red.member_id, currency, now)
            cancel = ledger.reverse(store, entry, currency, now, origin="reversal")
            # after a return, only what was left comes back: the parts are those of the cancel entry
            items.append(("point", record_id if back <= 0 else cancel.id, money - back,
                          entry.amount - entry.reversed_amount))
    total = sum((m for _, _, m, _ in items), ZERO)
    rev = Redemption(id=store.next_seq(KIND), member_id=red.member_id, kind="reversal", total=total,
                     items=tuple(items), created_at=now, reverses=red.id, meta=meta, refs=dict(red.refs or {}),
                     part_ids=_part_ids(store, items), currency=red.currency,
                     total_localised=_localised(program, red, total))
    _keep(store, rev)
    store.put_record(KIND, red.id, replace(red, reversed_by=rev.id, returned=tuple(_full(i) for i in red.items)))
    return rev


INSTRUMENT = {"rewards": "reward", "points": "point",      # strategy -> the instrument a redemption item is of
              "credits": "credit", "benefits": "benefit"}


def give_back(store: TenantStore, program: Program, red: Redemption, amount: Decimal | None, now: datetime, *,
              meta: dict | None = None, in_currency: str | None = None,
              strategies: list[str] | None = None) -> Redemption:
    """Return `amount` (money, in `in_currency` when given) of a redemption to the records it drew from, last drawn
    first, at most what it took and has not given back (no amount: all of it); a new redemption of kind `return`.
    Unlike a reversal, a return has no time window (goods come back days later)."""
    if red.kind != "redeem":
        raise NotReversible("only a redemption can be returned", redemption=red.id)
    returned = list(_returned(red))
    # benefits come back through give_back_benefits (whole ones, not money)
    left_total = sum((m - back for (i, _, m, _), back in zip(red.items, returned) if i != "benefit"), ZERO)
    if left_total <= 0:
        raise AlreadyReversed("everything this redemption took has been returned", redemption=red.id)
    wanted = None if not strategies else {INSTRUMENT.get(x) for x in strategies}
    if wanted is not None:      # only to the balances named: what is left of the items drawn from them
        left_total = sum((m - back for (i, _, m, _), back in zip(red.items, returned) if i in wanted), ZERO)
        if left_total <= 0:
            raise AlreadyReversed("nothing taken from those balances is left to return", redemption=red.id)
    want = left_total if amount is None else to_base(program, amount, in_currency)[0]
    if want > left_total:
        raise InvalidAmount(f"amount must not be greater than {left_total}, what is left to return",
                            redemption=red.id, left=str(left_total))
    points = program.default_currency
    left, items = want, []
    for i in reversed(range(len(red.items))):
        if left <= 0:
            break
        instrument, record_id, money, units = red.items[i]
        if (wanted is not None and instrument not in wanted) or instrument == "benefit":
            continue
        part = min(money - returned[i], left)
        if part <= 0:
            continue
        if instrument == "credit":
            instruments.give_credit(store, record_id, part, now)
            items.append(("credit", record_id, part, part))
        elif instrument == "reward":
            r = store.reward(record_id)
            store.put_reward(replace(r, value_remaining=r.value_remaining + part, updated_at=now))
            items.append(("reward", record_id, part, part))
        else:
            entry = store.entry(record_id)
            ledger.settle(store, red.member_id, points, now)
            if returned[i] + part >= money:      # the last of it: every point still out, no rounding left over
                back = entry.amount - entry.reversed_amount
            else:                                # in proportion, rounded down (never more than was taken)
                back = (units * part / money).quantize(Decimal(1).scaleb(-points.decimals), rounding=ROUND_FLOOR)
            if back > 0:
                cancel = ledger.reverse(store, entry, points, now, amount=back, origin="return")
                items.append(("point", cancel.id, part, back))
        returned[i] += part
        left -= part
    if amount is not None and in_currency is not None:    # asked in a currency: the return is in it
        code, localised = in_currency, amount
    else:
        code, localised = red.currency, _localised(program, red, want)
    ret = Redemption(id=store.next_seq(KIND), member_id=red.member_id, kind="return", total=want,
                     items=tuple(items), created_at=now, reverses=red.id, meta=meta, refs=dict(red.refs or {}),
                     part_ids=_part_ids(store, items), currency=code, total_localised=localised)
    _keep(store, ret)
    store.put_record(KIND, red.id, replace(red, returned=tuple(returned)))
    return ret


def give_back_benefits(store: TenantStore, red: Redemption, now: datetime, *,
                       meta: dict | None = None) -> Redemption:
    """Give back every benefit a redemption took and has not given back (whole ones): a new redemption of kind
    `return` holding only those. Refused when the redemption took none, or all have come back."""
    if red.kind != "redeem":
        raise NotReversible("only a redemption can be returned", redemption=red.id)
    returned = list(_returned(red))
    held = [i for i, item in enumerate(red.items) if item[0] == "benefit"]
    if not held:
        raise InvalidState("the redemption has no benefits to return", redemption=red.id)
    items = []
    for i in held:
        _, record_id, money, units = red.items[i]
        if units - returned[i] > 0:
            instruments.give_benefit(store, record_id, units - returned[i], now)
            items.append(("benefit", record_id, money * (units - returned[i]) / units, units - returned[i]))
            returned[i] = units
    if not items:
        raise AlreadyReversed("every benefit of this redemption has been returned", redemption=red.id)
    total = sum((m for _, _, m, _ in items), ZERO)
    ret = Redemption(id=store.next_seq(KIND), member_id=red.member_id, kind="return", total=total,
                     items=tuple(items), created_at=now, reverses=red.id, meta=meta, refs=dict(red.refs or {}),
                     part_ids=_part_ids(store, items), currency=None, total_localised=None)
    _keep(store, ret)
    store.put_record(KIND, red.id, replace(red, returned=tuple(returned)))
    return ret


def _full(item) -> Decimal:
    """All of an item, in what `returned` counts for it: benefits by number, everything else by money."""
    return item[3] if item[0] == "benefit" else item[2]


def _left(item, back: Decimal) -> Decimal:
    return _full(item) - back


def _returned(red: Redemption) -> tuple[Decimal, ...]:
    return red.returned if len(red.returned) == len(red.items) else tuple(ZERO for _ in red.items)


def _localised(program: Program, red: Redemption, total: Decimal) -> Decimal | None:
    rate = program.currency_rates.get(red.currency) if red.currency else None
    return None if rate is None else (total * rate).quantize(CENT, rounding=ROUND_HALF_UP)


# --- reading: one page at a time -------------------------------------------------------------------------
# Indexes (store.index_record): every redemption under ALL, under its member, and under its member and the set
# of instruments it touched (`reward`, `point`, `point+reward`, `benefit+credit`..., `none`); every part under PART
# ALL and, for a redeem, under the record it drew from (`reward:<id>`, `credit:<id>`, `benefit:<id>`,
# `point:<credit entry seq>`).

ALL = "all"
# every set of instruments, each sorted and joined as _signature writes it
SIGNATURES = ("none",) + tuple("+".join(c) for n in range(1, 5)
                               for c in combinations(("benefit", "credit", "point", "reward"), n))


def _signature(red: Redemption) -> str:
    return "+".join(sorted({i for i, *_ in red.items})) or "none"


def touched(store: TenantStore, red: Redemption) -> list[tuple[str, Any, Decimal]]:
    """Each record a redemption touched, in part order: (instrument, record key, value in its unit); a points
    debit (or its cancel) is one part per lot, keyed by the credit entry that made the lot."""
    out = []
    for instrument, record_id, money, units in red.items:
        if instrument != "point":       # a reward or a credit by its money, a benefit by its number
            out.append((instrument, record_id, units if instrument == "benefit" else money))
        else:
            for lot_id, pts in store.entry(record_id).lots:
                out.append(("point", store.lot(lot_id).entry_id, pts))
    return out


def _keep(store: TenantStore, red: Redemption) -> None:
    store.put_record(KIND, red.id, red)
    store.index_record(KIND, ALL, red.id)
    store.index_record(KIND, f"member:{red.member_id}", red.id)
    store.index_record(KIND, f"member:{red.member_id}:{_signature(red)}", red.id)
    for position, (part_id, (instrument, key, _value)) in enumerate(zip(red.part_ids, touched(store, red))):
        store.put_record(PART, part_id, (red.id, position))
        store.index_record(PART, ALL, part_id)
        if red.kind == "redeem":
            record = store.entry(key).seq if instrument == "point" else key
            store.index_record(PART, f"{instrument}:{record}", part_id)


def page(store: TenantStore, member_id: str | None, offset: int, limit: int,
         has: dict[str, bool] | None = None) -> tuple[list[Redemption], int]:
    """Newest first: one page of a member's (or the tenant's) redemptions and how many there are, optionally only
    those that did (True) or did not (False) touch an instrument (`reward`, `point`, `benefit`, `credit`)."""
    has = {k: v for k, v in (has or {}).items() if v is not None}
    if member_id is None or not has:
        key = ALL if member_id is None else f"member:{member_id}"
        if has:
            raise ValueError("filters need a member")
        ids = islice(store.indexed(KIND, key), offset, offset + limit)
        return [store.record(KIND, i) for i in ids], store.indexed_count(KIND, key)
    keys = [f"member:{member_id}:{sig}" for sig in SIGNATURES
            if all((k in sig.split("+")) == v for k, v in has.items())]
    merged = heapq.merge(*(store.indexed(KIND, k) for k in keys), key=lambda i: -i)
    ids = islice(merged, offset, offset + limit)
    return [store.record(KIND, i) for i in ids], sum(store.indexed_count(KIND, k) for k in keys)


def part(store: TenantStore, part_id: int) -> tuple[Redemption, int]:
    """A redemption part (item) by id: its redemption and its position there."""
    found = store.record(PART, part_id)
    if found is None:
        raise RedemptionNotFound("redemption item not found", redemption_item=part_id)
    return store.record(KIND, found[0]), found[1]


def parts_page(store: TenantStore, offset: int, limit: int) -> tuple[list[tuple[Redemption, int]], int]:
    ids = islice(store.indexed(PART, ALL), offset, offset + limit)
    return [part(store, i) for i in ids], store.indexed_count(PART, ALL)


def times_redeemed(store: TenantStore, instrument: str, record: Any) -> int:
    """How many redemption parts drew from one record (a reward id, a point's credit entry seq)."""
    return store.indexed_count(PART, f"{instrument}:{record}")
