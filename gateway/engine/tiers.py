"""Tier standing from the rolling window of tier credits (earned points, reversals negative).

Model [gateway choice, documented in the README]: the current tier is the highest whose
`value_min` is met by the points earned in the last `tier_window_days`; it was achieved when
the running sum inside the window first reached that floor; maintenance progress is the credit
carried at achievement plus what was earned since."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from .ports import TenantStore
from .model import ZERO, Member, Program, Tier


@dataclass(frozen=True, slots=True)
class TierProgress:
    current: Tier
    next: Tier | None
    prev: Tier | None
    points_window: Decimal
    current_credit: Decimal
    current_progress: Decimal
    current_remain: Decimal
    next_progress: Decimal
    next_remain: Decimal | None
    achieved_at: datetime
    anniversary_at: datetime
    next_progress_change_at: datetime | None

    @property
    def is_floor(self) -> bool:
        return self.prev is None


def _add_year(d: datetime) -> datetime:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:   # 29 February
        return d.replace(year=d.year + 1, day=28)


def tier_progress(store: TenantStore, program: Program, member: Member, now: datetime) -> TierProgress | None:
    tiers = sorted(program.tiers, key=lambda t: t.value_min)
    if not tiers:
        return None
    since = now - timedelta(days=program.tier_window_days)
    credits = [(at, amt) for at, amt in store.tier_credits(member.id, since) if at <= now]
    total = sum((a for _, a in credits), ZERO)
    idx = max(i for i, t in enumerate(tiers) if t.value_min <= total or i == 0)
    current = tiers[idx]
    achieved_at, at_achievement = max(member.joined_at, since), ZERO
    if current.value_min > 0:
        running = ZERO
        for at, amt in credits:
            running += amt
            if running >= current.value_min:
                achieved_at, at_achievement = at, running
                break
    credit = max(ZERO, at_achievement - current.value_min)
    progress = total - at_achievement if current.value_min > 0 else total
    nxt = tiers[idx + 1] if idx + 1 < len(tiers) else None
    anniversary = datetime.combine(_add_year(achieved_at).date(), time(23, 59, 59), tzinfo=achieved_at.tzinfo)
    return TierProgress(
        current=current, next=nxt, prev=tiers[idx - 1] if idx > 0 else None, points_window=total,
        current_credit=credit, current_progress=progress,
        current_remain=max(ZERO, current.value_maintain - progress - credit),
        next_progress=total, next_remain=max(ZERO, nxt.value_min - total) if nxt else None,
        achieved_at=achieved_at, anniversary_at=anniversary,
        next_progress_change_at=(credits[0][0] + timedelta(days=program.tier_window_days)) if credits else None,
    )
