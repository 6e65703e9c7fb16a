"""The tier records a member has reached, as the engine keeps tiers: a member's tier is state (engine/tiers.py:
attained, maintained or dropped on its anniversary, or assigned), with the instant it was achieved, and no history
of the tiers passed on the way. So the record reached is the current tier's, brought up to now by the same
evaluation every dialect's tier read uses, with its place among the program's tiers (by minimum, from 0)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import Member, Program, Tier
from .ports import TenantStore
from .tiers import ordered, tier_progress


@dataclass(frozen=True, slots=True)
class ReachedTier:
    tier: Tier
    order: int              # the tier's place among the program's tiers by minimum, from 0
    reached_at: datetime


def tiers_reached(store: TenantStore, program: Program, member: Member, now: datetime) -> list[ReachedTier]:
    """The current tier's record (none when the program has no tiers)."""
    progress = tier_progress(store, program, member, now)
    if progress is None:
        return []
    order = next(i for i, t in enumerate(ordered(program)) if t.id == progress.current.id)
    return [ReachedTier(tier=progress.current, order=order, reached_at=progress.achieved_at)]
