"""The tiers a member has reached, with when: the same rolling-window model as `tiers.tier_progress` (the
current tier is the highest whose floor the window's earned points meet), read for every tier up to the current
one. A tier with a floor was reached when the window's running sum first met that floor; the floor tier (no
minimum) when the window began for the member (its joining, or the window's start): exactly `tier_progress`'s
`achieved_at` for whichever tier is current."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import ZERO, Member, Program, Tier
from .ports import TenantStore


@dataclass(frozen=True, slots=True)
class ReachedTier:
    tier: Tier
    order: int              # the tier's place among the program's tiers by floor, from 0
    reached_at: datetime


def tiers_reached(store: TenantStore, program: Program, member: Member, now: datetime) -> list[ReachedTier]:
    tiers = sorted(program.tiers, key=lambda t: t.value_min)
    if not tiers:
        return []
    since = now - timedelta(days=program.tier_window_days)
    credits = [(at, amt) for at, amt in store.tier_credits(member.id, since) if at <= now]
    total = sum((a for _, a in credits), ZERO)
    out = []
    for order, tier in enumerate(tiers):
        if order > 0 and tier.value_min > total:
            break
        reached_at = max(member.joined_at, since)
        if tier.value_min > 0:
            running = ZERO
            for at, amt in credits:
                running += amt
                if running >= tier.value_min:
                    reached_at = at
                    break
        out.append(ReachedTier(tier=tier, order=order, reached_at=reached_at))
    return out
