"""Tenant reads that page a member's live state (a mixin of Tenant: each public method is one engine
operation, at one instant of the tenant clock): the spendable lots, after holds."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import ledger, lots
from .lots import LotPage
from .model import Member, PointCurrency

if TYPE_CHECKING:
    from .ports import TenantStore


class ReadOperations:
    store: "TenantStore"

    def lot_page(self, member: Member, currency: PointCurrency, *, newest_first: bool = True, offset: int = 0,
                 limit: int = 50) -> LotPage:
        """The member's spendable lots by earning time, each with what holds leave of it (they add up to the
        available balance); a page of them and their count (see lots.py)."""
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return lots.page(self.store, member.id, currency, now, newest_first=newest_first, offset=offset,
                             limit=limit)
        return self.run(op)
