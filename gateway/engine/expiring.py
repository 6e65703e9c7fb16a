"""Points that expire in a period: what is left of the member's committed lots whose expiry falls in it.

Read from the store's open-lot expiry index (soonest first), stopping at the period's end: it costs the live
lots expiring before then, never the member's past. Provisional points (a temporary accrual) are not counted:
they may never be committed. Held points still count (a hold reserves points, it does not take a lot's)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .model import ZERO
from .ports import TenantStore


def expiring_between(store: TenantStore, member_id: str, currency_id: str, start: datetime,
                     end: datetime) -> Decimal:
    """The points whose expiry is within [start, end] (both inclusive)."""
    total = ZERO
    for lot in store.lots_by_expiry(member_id, currency_id):
        if lot.expires_at is None or lot.expires_at > end:
            break
        if lot.expires_at >= start and lot.remaining > 0 and not lot.provisional:
            total += lot.remaining
    return total
