"""Earn rates: how many points a unit of money spent earns, and for which purchases.

The rule (every dialect's earning goes through it):
  - A rate applies at `now` when it is published, not archived, inside [start_time, end_time), at the purchase's
    location if it names one, and to the item if it names a product attribute (`type` sku|category|brand|product
    with `code`); a rate with no type (or `default`/`spend`) applies to all spend.
  - Of the applicable rates, the highest `priority` wins; at equal priority a rate that names a product, then one
    that names a location, beats a general one; then the newest.
  - No applicable rate: the program's own `earn_per_money` (the fixtures' base rate).
Points are whole, rounded down, per purchase line (or on the total when the purchase has no lines). A rate with an
issue period in days or weeks makes the points it earns expire that long after they become available (instead of
the currency's rule).

Rates are kept as store records (`earn_rate`: id -> EarnRate; `earn_rates`: program id -> the ids), so they are
tenant state: in snapshots, undone with the operation that wrote them.

`RateOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Mapping

from .amounts import check_money, to_decimal
from .errors import DuplicateKey, InvalidAmount, InvalidTime, RateNotFound
from .model import EarnRate, Program

KIND = "earn_rate"
INDEX = "earn_rates"
GENERAL = (None, "", "default", "spend")
PRODUCT = ("sku", "category", "brand", "product")
MAX_RATE = Decimal(1000000)


def program_rates(store, program: Program) -> list[EarnRate]:
    return [r for r in (store.record(KIND, i) for i in store.record(INDEX, program.id) or ()) if r is not None]


def applies(rate: EarnRate, now: datetime, location: Any = None, item: Mapping[str, Any] | None = None) -> bool:
    if not rate.is_published or rate.is_archived:
        return False
    if (rate.start_time is not None and now < rate.start_time) or (rate.end_time is not None and now >= rate.end_time):
        return False
    if rate.location is not None or rate.location_id is not None:
        if location is None or str(location) not in (str(rate.location), str(rate.location_id)):
            return False
    if rate.type not in GENERAL:
        if rate.type not in PRODUCT or not item or str(item.get(rate.type)) != str(rate.code):
            return False
    return True


def best(rates: list[EarnRate], now: datetime, location: Any = None,
         item: Mapping[str, Any] | None = None) -> EarnRate | None:
    found = [r for r in rates if applies(r, now, location, item)]
    if not found:
        return None
    return max(found, key=lambda r: (r.priority, r.type not in GENERAL,
                                     r.location is not None or r.location_id is not None, r.id))


def issue_days(rate: EarnRate | None) -> int | None:
    """How long points earned at this rate live, in days from when they become available, if the rate says so in
    days or weeks (`info.issue_period` / `issue_period_type`); other period types are kept, not applied."""
    if rate is None:
        return None
    period, kind = rate.info.get("issue_period"), rate.info.get("issue_period_type")
    if not isinstance(period, int) or period < 1:
        return None
    return {"days": period, "weeks": 7 * period}.get(kind)


def whole(points: Decimal) -> Decimal:
    return points.to_integral_value(rounding=ROUND_FLOOR)


class RateOperations:
    """Earn rates and what purchases earn through them (mixed into `Tenant`, whose plumbing they use)."""

    # --- the earning rule ---------------------------------------------------------------------------
    def earn_rate(self, program: Program, now: datetime | None = None, *, location: Any = None,
                  item: Mapping[str, Any] | None = None) -> tuple[EarnRate | None, Decimal]:
        """The rate a purchase (line) earns at, and its points per unit of money (the program's base rate when
        no rate applies)."""
        rate = best(program_rates(self.store, program), now or self.now(), location, item)
        return rate, (rate.rate if rate is not None else program.earn_per_money)

    def lines_earn(self, program: Program, total, lines=None, *, location: Any = None,
                   now: datetime | None = None) -> list[tuple[EarnRate | None, Decimal]]:
        """What a purchase earns, line by line: [(rate, whole points)]. `lines` is [(money, item attributes)];
        without lines, the total is one line. Each line is rounded down on its own."""
        now = now or self.now()
        lines = list(lines or [(check_money(total, allow_zero=True), None)])
        out = []
        for money, item in lines:
            rate, per = self.earn_rate(program, now, location=location, item=item)
            out.append((rate, whole(max(to_decimal(money), Decimal(0)) * per)))
        return out

    # --- configuration ------------------------------------------------------------------------------
    def rates(self, *, offset: int = 0, limit: int = 15) -> tuple[int, list[EarnRate]]:
        """Every program's rates, in the order they were created: how many, and the page."""
        found = [r for p in self.programs_now() for r in program_rates(self.store, p)]
        return len(found), found[offset:offset + limit]

    def rate(self, rate_id: int) -> EarnRate:
        r = self.store.record(KIND, rate_id)
        if r is None:
            raise RateNotFound("rate not found", rate=rate_id)
        return r

    def rate_by_handle(self, program: Program, handle: str) -> EarnRate:
        for r in program_rates(self.store, program):
            if r.handle == handle:
                return r
        raise RateNotFound("rate not found", handle=handle)

    def _check_rate(self, program: Program, r: EarnRate) -> EarnRate:
        value = to_decimal(r.rate)
        if value < 0 or value > MAX_RATE:
            raise InvalidAmount("rate must be between 0 and 1000000", rate=str(value))
        if r.start_time is not None and r.end_time is not None and r.end_time <= r.start_time:
            raise InvalidTime("the end time must be a date after start time", end_time=r.end_time.isoformat())
        for other in program_rates(self.store, program):
            if other.handle == r.handle and other.id != r.id:
                raise DuplicateKey("the handle has already been taken", handle=r.handle)
        return replace(r, rate=value)

    def create_rate(self, program: Program, handle: str, rate, **fields) -> EarnRate:
        def op(now):
            r = self._check_rate(program, EarnRate(id=self.store.next_seq(KIND), program_id=program.id,
                                                   handle=handle, rate=rate, created_at=now, updated_at=now,
                                                   **fields))
            self.store.put_record(KIND, r.id, r)
            self.store.put_record(INDEX, program.id, tuple(self.store.record(INDEX, program.id) or ()) + (r.id,))
            return r
        return self.run(op)

    def update_rate(self, rate_id: int, **changes) -> EarnRate:
        def op(now):
            old = self.rate(rate_id)
            info = {**old.info, **changes.pop("info", {})}
            r = self._check_rate(self.program(old.program_id), replace(old, updated_at=now, info=info, **changes))
            self.store.put_record(KIND, r.id, r)
            return r
        return self.run(op)

    def delete_rate(self, rate_id: int) -> EarnRate:
        """Remove a rate: purchases earn by the others from now on (points it earned stay as they are)."""
        def op(now):
            r = self.rate(rate_id)
            self.store.put_record(KIND, r.id, None)
            self.store.put_record(INDEX, r.program_id,
                                  tuple(i for i in self.store.record(INDEX, r.program_id) or () if i != r.id))
            return r
        return self.run(op)

    def calculate_rate(self, program: Program, price, *, handle: str | None = None, type: str | None = None,
                       code: str | None = None, location: Any = None) -> tuple[EarnRate | None, Decimal]:
        """What `price` would earn now (whole points, down): through the rate named by `handle`, else through the
        rate the earning rule picks for an item of (`type`, `code`) at `location`. Changes nothing."""
        money = check_money(price, allow_zero=True)

        def op(now):
            if handle is not None:
                rate = self.rate_by_handle(program, handle)
                return rate, whole(money * rate.rate)
            item = {type: code} if type in PRODUCT and code is not None else None
            rate, per = self.earn_rate(program, now, location=location, item=item)
            return rate, whole(money * per)
        return self.run(op)
