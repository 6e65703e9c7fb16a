"""Tier standing: a member's tier is state (attained, maintained or dropped on its anniversary, or assigned),
evaluated from the member's tier-points movements.

Model [gateway choice after Omneo's tiers concept, documented in specs/omneo.yaml]:
- Attain: the member moves up as soon as the points of the rolling window (`tier_window_days`, 365) reach a higher
  tier's `value_min`; `achieved_at` is the movement that got there, `credit` the window's points over that minimum.
  Attaining never moves a member down.
- Maintain: on the anniversary (achieved or last maintained + 1 year, 23:59:59) the member keeps the tier when the
  points since the cycle began plus `credit` reach `value_maintain`; else drops to the highest tier whose
  `value_min` the window's points meet (never up). A new cycle starts with no credit.
- Assign: a member can be put on an assignable tier by hand; the cycle starts then.
- A tier changed or added by configuration applies from the next evaluation (a member whose window already meets a
  new, higher minimum attains it then).

Cost: the status is kept in the store with the instant it was evaluated to; an evaluation looks at the movements
written since (each movement is looked at once), and the figures are window sums over the store's running totals
(O(log n)): a tier read costs what it returns, not the member's history."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from .ports import TenantStore
from .model import ZERO, Member, Program, Tier, TierStatus

STATUS = "tier_status"
MEMBERS = "tier_members"     # tier id -> how many members' status is on it


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
    assigned_at: datetime | None = None
    maintained_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    since_achieved: Decimal | None = None     # tier points after achieved_at (current_progress: since the cycle began)

    @property
    def is_floor(self) -> bool:
        return self.prev is None


def _add_year(d: datetime) -> datetime:
    try:
        return d.replace(year=d.year + 1)
    except ValueError:   # 29 February
        return d.replace(year=d.year + 1, day=28)


def anniversary(at: datetime) -> datetime:
    return datetime.combine(_add_year(at).date(), time(23, 59, 59), tzinfo=at.tzinfo)


def ordered(program: Program) -> list[Tier]:
    return sorted(program.tiers, key=lambda t: (t.value_min, t.id))


def _window(store: TenantStore, program: Program, member_id: str, at: datetime) -> Decimal:
    return store.tier_sum(member_id, at - timedelta(days=program.tier_window_days), at)


def _reached(tiers: list[Tier], total: Decimal) -> int:
    return max(i for i, t in enumerate(tiers) if t.value_min <= total or i == 0)


def _index(tiers: list[Tier], tier_id: int) -> int | None:
    return next((i for i, t in enumerate(tiers) if t.id == tier_id), None)


def _attain(status: TierStatus, tier: Tier, at: datetime, total: Decimal) -> TierStatus:
    return replace(status, tier_id=tier.id, achieved_at=at, anniversary_at=anniversary(at),
                   credit=max(ZERO, total - tier.value_min), assigned_at=None, maintained_at=None)


def evaluate(store: TenantStore, program: Program, member: Member, now: datetime) -> TierStatus | None:
    """The member's tier status brought up to `now` (and kept): anniversaries and attainments in time order."""
    tiers = ordered(program)
    if not tiers:
        return None
    old = store.record(STATUS, member.id)
    status = old or TierStatus(member_id=member.id, tier_id=tiers[0].id, achieved_at=member.joined_at,
                               anniversary_at=anniversary(member.joined_at), evaluated_at=member.joined_at,
                               created_at=member.joined_at)
    cur = _index(tiers, status.tier_id)
    if cur is None:       # its tier was removed from the configuration: back to the floor, attain from there
        cur, status = 0, replace(status, tier_id=tiers[0].id)
    since = status.evaluated_at or member.joined_at
    window = timedelta(days=program.tier_window_days)
    if now > since:
        # the movements since the last evaluation, each with its window's sum, in time order (one pass)
        pending = store.tier_window_sums(member.id, since, now, window)
        head = next(pending, None)
        while True:
            horizon = min(status.anniversary_at, now)
            while head is not None and head[0].at <= horizon:
                credit, total = head
                head = next(pending, None)
                if credit.amount > 0 and cur + 1 < len(tiers):
                    up = _reached(tiers, total)
                    if up > cur:
                        cur, status = up, _attain(status, tiers[up], credit.at, total)
                        horizon = min(status.anniversary_at, now)
            if status.anniversary_at > now:
                break
            at = status.anniversary_at
            tier = tiers[cur]
            start = status.maintained_at or status.achieved_at
            if store.tier_sum(member.id, start, at) + status.credit >= tier.value_maintain:
                status = replace(status, maintained_at=at, anniversary_at=anniversary(at), credit=ZERO)
            else:
                total = _window(store, program, member.id, at)
                cur = min(cur, _reached(tiers, total))
                status = _attain(status, tiers[cur], at, total)
        status = replace(status, evaluated_at=now)
    total = _window(store, program, member.id, now)
    up = _reached(tiers, total)
    if up > cur:               # a configuration change put a higher tier within reach
        cur, status = up, _attain(status, tiers[up], now, total)
    if old is None or status.tier_id != old.tier_id or status != old:
        if old is None or status.tier_id != old.tier_id or status.achieved_at != old.achieved_at \
                or status.anniversary_at != old.anniversary_at:
            status = replace(status, updated_at=now)
        keep(store, old, status)
    return status


def keep(store: TenantStore, old: TierStatus | None, status: TierStatus) -> None:
    """Write the status and the count of members on each tier (what refuses deleting a tier in use)."""
    if old is None or old.tier_id != status.tier_id:
        if old is not None:
            store.put_record(MEMBERS, old.tier_id, (store.record(MEMBERS, old.tier_id) or 1) - 1)
        store.put_record(MEMBERS, status.tier_id, (store.record(MEMBERS, status.tier_id) or 0) + 1)
    store.put_record(STATUS, status.member_id, status)


def progress(store: TenantStore, program: Program, member: Member, status: TierStatus,
             now: datetime) -> TierProgress:
    """The figures of a status at `now`: window sums over running totals, O(log n)."""
    tiers = ordered(program)
    idx = _index(tiers, status.tier_id) or 0
    current = tiers[idx]
    nxt = tiers[idx + 1] if idx + 1 < len(tiers) else None
    window = timedelta(days=program.tier_window_days)
    total = store.tier_sum(member.id, now - window, now)
    start = status.maintained_at or status.achieved_at
    cycle = store.tier_sum(member.id, start, now)
    first = store.tier_first_after(member.id, now - window)
    return TierProgress(
        current=current, next=nxt, prev=tiers[idx - 1] if idx > 0 else None, points_window=total,
        current_credit=status.credit, current_progress=cycle,
        current_remain=max(ZERO, current.value_maintain - cycle - status.credit),
        next_progress=total, next_remain=max(ZERO, nxt.value_min - total) if nxt else None,
        achieved_at=status.achieved_at, anniversary_at=status.anniversary_at,
        next_progress_change_at=(first + window) if first is not None and first <= now else None,
        assigned_at=status.assigned_at, maintained_at=status.maintained_at,
        created_at=status.created_at, updated_at=status.updated_at or status.created_at,
        since_achieved=cycle if status.maintained_at is None else store.tier_sum(member.id, status.achieved_at, now))


def tier_progress(store: TenantStore, program: Program, member: Member, now: datetime) -> TierProgress | None:
    status = evaluate(store, program, member, now)
    return None if status is None else progress(store, program, member, status, now)
