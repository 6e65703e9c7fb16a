"""Engine figures -> Gameball bodies: numbers for points and money (money rounded to cents),
timestamps as offset-less UTC."""
from __future__ import annotations

from ...engine.ledger import Balance
from ...engine.tiers import TierProgress
from ..format import money, naive_iso


def balance(b: Balance, money_currency: str) -> dict:
    return {
        "totalPointsBalance": b.total,
        "totalPointsValue": money(b.value(b.total)),
        "availablePointsBalance": b.available,
        "availablePointsValue": money(b.value(b.available)),
        "pendingPoints": b.pending,
        "pendingPointsValue": money(b.value(b.pending)),
        "currency": money_currency,
        "pointsName": b.currency.name,
        "nextExpiringPointsAmount": b.next_expiring_amount,
        "nextExpiringPointsValue": money(b.value(b.next_expiring_amount)),
        "nextExpiringPointsDate": naive_iso(b.next_expiring_at),
        "totalEarnedPoints": b.lifetime_earned,
    }


def tier_level(tier, order: int) -> dict:
    return {"order": order, "name": tier.name, "minProgress": tier.value_min, "icon": tier.info.get("icon") or ""}


def tier(progress: TierProgress, tiers) -> dict:
    order = {t.id: i + 1 for i, t in enumerate(sorted(tiers, key=lambda t: t.value_min))}
    return {"current": tier_level(progress.current, order[progress.current.id]),
            "next": tier_level(progress.next, order[progress.next.id]) if progress.next else None,
            "progress": progress.next_progress}
