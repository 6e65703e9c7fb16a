"""Expiry of credited points by a duration in calendar units: `value` days, weeks, months or years after the points
become available, optionally snapped to the start or the end of the period (day, week, month, year) that instant
falls in. Periods are UTC; a week starts on Monday; adding months keeps the day of the month when it exists and
takes the month's last day otherwise (31 Jan + 1 month = 28/29 Feb)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

UNITS = ("day", "week", "month", "year")
SNAPS = ("none", "start", "end")


@dataclass(frozen=True, slots=True)
class ExpiryRule:
    value: int
    unit: str = "day"      # day | week | month | year
    snap: str = "none"     # none | start | end: of the `unit` period the computed instant falls in


def _add_months(at: datetime, months: int) -> datetime:
    total = at.year * 12 + at.month - 1 + months
    year, month = divmod(total, 12)
    day = min(at.day, calendar.monthrange(year, month + 1)[1])
    return at.replace(year=year, month=month + 1, day=day)


def add(at: datetime, value: int, unit: str) -> datetime:
    if unit == "day":
        return at + timedelta(days=value)
    if unit == "week":
        return at + timedelta(weeks=value)
    return _add_months(at, value * (12 if unit == "year" else 1))


def period_start(at: datetime, unit: str) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def expires_at(rule: ExpiryRule, available_at: datetime) -> datetime:
    """When points available at `available_at` expire under `rule` (end of period: its last microsecond)."""
    at = add(available_at, rule.value, rule.unit)
    if rule.snap == "start":
        return period_start(at, rule.unit)
    if rule.snap == "end":
        return add(period_start(at, rule.unit), 1, rule.unit) - timedelta(microseconds=1)
    return at
