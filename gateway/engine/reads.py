"""Tenant reads that page a member's live state (a mixin of Tenant: each public method is one engine
operation, at one instant of the tenant clock): the spendable lots, after holds; every member's balance of a
currency."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import ledger, lots, standings
from .lots import LotPage
from .model import Member, PointCurrency, Program

if TYPE_CHECKING:
    from .ports import TenantStore


@dataclass(frozen=True, slots=True)
class MemberBalances:
    count: int                                          # members with a balance of the currency, all pages
    rows: tuple[tuple[Member, Decimal, datetime], ...]  # (member, available, when it last changed) for the page


class ReadOperations:
    store: "TenantStore"

    def member_balances(self, program: Program, currency: PointCurrency, *, order_by: str = "updated_at",
                        descending: bool = True, offset: int = 0, limit: int = 50) -> MemberBalances:
        """Every active member's available balance of `currency`, ordered by `value` or `updated_at` (then member),
        one page of it (see standings.py: the cost of the page and of the balances time changed since)."""
        def op(now):
            standings.wake(self.store, self.find_program, now)
            key = standings.scope(program.id, currency.id)
            rows = self.store.standings(key, order_by, descending, offset, limit)
            return MemberBalances(count=self.store.standing_count(key),
                                  rows=tuple((self.store.member(m), v, at) for m, v, at in rows))
        return self.run(op)

    def lot_page(self, member: Member, currency: PointCurrency, *, newest_first: bool = True, offset: int = 0,
                 limit: int = 50) -> LotPage:
        """The member's spendable lots by earning time, each with what holds leave of it (they add up to the
        available balance); a page of them and their count (see lots.py)."""
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return lots.page(self.store, member.id, currency, now, newest_first=newest_first, offset=offset,
                             limit=limit)
        return self.run(op)
