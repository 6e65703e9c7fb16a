"""Reads of a member's account beyond its balance: the statement (ledger pages), points expiring in a period,
the tiers reached. A mixin of Tenant (like draft_ops.py): each method is one engine operation, settled first so
what time has done (expirations, timed-out temporary entries) is in the answer."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from . import ledger
from .errors import InvalidTime
from .expiring import expiring_between
from .model import Member, PointCurrency
from .statement import StatementPage, page
from .tier_history import ReachedTier, tiers_reached

MAX_PAGE = 1000


class AccountOperations:
    def statement(self, member: Member, currency: PointCurrency, *, after: str | None = None,
                  limit: int = 20) -> StatementPage:
        """One page of the member's ledger in this currency, oldest first, after the entry `after`."""
        limit = max(1, min(int(limit), MAX_PAGE))

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return page(self.store, member.id, currency.id, after, limit)
        return self.run(op)

    def expiring_points(self, member: Member, currency: PointCurrency, start: datetime, end: datetime) -> Decimal:
        """Points whose expiry falls in [start, end] (refused when the period ends before it starts)."""
        if end < start:
            raise InvalidTime("the period ends before it starts", start=start.isoformat(), end=end.isoformat())

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return expiring_between(self.store, member.id, currency.id, start, end)
        return self.run(op)

    def tiers_reached(self, member: Member) -> list[ReachedTier]:
        program = self.program(member.program_id)
        return self.run(lambda now: tiers_reached(self.store, program, member, now))
