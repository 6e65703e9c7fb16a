"""Balance limits: how many transactions, or how many points, of one direction a member may move in a point currency
within a window of time, checked by the ledger on every movement.

A limit belongs to its currency's configuration (catalog.py adds, changes and deletes them in the currency's draft;
the program's publish makes the draft active); the ledger applies the active version.

What counts: every movement that changes the balance, whatever dialect made it -- a credit once it counts (a
two-phase credit when committed), a debit when it is spent (a hold when it is used) -- counted at the instant the
engine applies it; reversals do not count. The candidate counts too: it passes when what was used in the window
plus it stays within the limit (LimitExceeded otherwise: a draft completing is then rejected with the reason).

The window ends now. A sliding window starts `value` units before now. A calendar window is the current bucket
of `value` units: hours, days and weeks counted from the Unix epoch (weeks from Monday 5 January 1970), months and
years from year 0 (so a 1-unit window is the current calendar hour, day, week, month or year), all in UTC.

Cost: two index lookups per limit (the store keeps running totals per member, currency and direction)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from . import expiry
from .errors import LimitExceeded
from .model import PointCurrency

if TYPE_CHECKING:
    from .ports import TenantStore

UNITS = ("hour", "day", "week", "month", "year")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FIRST_MONDAY = datetime(1970, 1, 5, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class LimitTerms:
    direction: str            # credit | debit
    constraint: str           # count (of transactions) | amount (of points)
    window_value: int
    window_unit: str          # hour | day | week | month | year
    value: Decimal            # the most transactions, or points, in a window
    sliding: bool = False


@dataclass(frozen=True, slots=True)
class BalanceLimit:
    id: str
    currency_id: str
    terms: LimitTerms
    created_at: datetime
    updated_at: datetime


# --- windows -----------------------------------------------------------------------------------------

def window_start(terms: LimitTerms, now: datetime) -> datetime:
    n, unit = terms.window_value, terms.window_unit
    if terms.sliding:
        if unit == "hour":
            return now - timedelta(hours=n)
        back = expiry.add(now, -n, unit) if unit in ("month", "year") else now - timedelta(
            days=n * (7 if unit == "week" else 1))
        return back
    if unit in ("hour", "day", "week"):
        size = timedelta(hours=n) if unit == "hour" else timedelta(days=n * (7 if unit == "week" else 1))
        origin = FIRST_MONDAY if unit == "week" else EPOCH
        return origin + ((now - origin) // size) * size
    months = now.year * 12 + now.month - 1 if unit == "month" else now.year
    bucket = (months // n) * n
    if unit == "month":
        return datetime(bucket // 12, bucket % 12 + 1, 1, tzinfo=timezone.utc)
    return datetime(max(bucket, 1), 1, 1, tzinfo=timezone.utc)


# --- the rule, applied by the ledger ---------------------------------------------------------------------------

def check(store: "TenantStore", member_id: str, currency: PointCurrency, direction: str, amount: Decimal,
          now: datetime) -> None:
    """Refuse a movement that would take the member beyond one of the currency's active limits."""
    for limit in currency.limits:
        t = limit.terms
        if t.direction != direction:
            continue
        count, total = store.limit_use(member_id, currency.id, direction, window_start(t, now))
        used, more = (Decimal(count), Decimal(1)) if t.constraint == "count" else (total, amount)
        if used + more > t.value:
            what = "transactions" if t.constraint == "count" else "points"
            raise LimitExceeded(f"{direction} limit of {t.value} {what} per {t.window_value} {t.window_unit}"
                                f"{'(s)' if t.window_value != 1 else ''} reached", limit=limit.id,
                                used=str(used), value=str(t.value))


def record(store: "TenantStore", member_id: str, currency: PointCurrency, direction: str, amount: Decimal,
           now: datetime) -> None:
    """Count a movement (always: a limit added later counts what happened before it)."""
    if amount > 0:
        store.add_limit_use(member_id, currency.id, direction, now, amount)


def admit(store: "TenantStore", member_id: str, currency: PointCurrency, direction: str, amount: Decimal,
          now: datetime) -> None:
    check(store, member_id, currency, direction, amount, now)
    record(store, member_id, currency, direction, amount, now)
