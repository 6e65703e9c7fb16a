"""A member as one read: who they are, their balance in the program's default currency, their rewards'
value and their tier standing, all as of one instant. Also the lookups that find members by a plain
attribute (an email, a phone) and the page of all members.

`ProfileOperations` is mixed into `Tenant`: each public method is one engine operation."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import instruments, ledger
from .errors import MemberNotFound
from .ledger import Balance
from .model import ZERO, Member, Program
from .tiers import TierProgress, tier_progress


@dataclass(frozen=True, slots=True)
class MemberSummary:
    member: Member
    program: Program
    balance: Balance                 # the program's default point currency
    rewards: Decimal                 # value left of active rewards
    tier: TierProgress | None        # None: the program has no tiers
    credits: Decimal = ZERO          # money left on active store credit
    benefits: int = 0                # benefits redeemable now


class ProfileOperations:
    """Member summaries and member lookups (mixed into `Tenant`, whose plumbing they use)."""

    def _summary(self, member: Member, now) -> MemberSummary:
        program = self.program(member.program_id)
        currency = program.default_currency
        ledger.settle(self.store, member.id, currency, now)
        return MemberSummary(
            member=member, program=program, balance=ledger.balance(self.store, member.id, currency, now),
            rewards=sum((r.value_remaining for r in self.store.open_rewards(member.id, now) if r.is_active(now)), ZERO),
            tier=tier_progress(self.store, program, member, now),
            credits=instruments.credit_balance(self.store, member.id, now),
            benefits=instruments.benefit_balance(self.store, member.id, now))

    def summary(self, member: Member) -> MemberSummary:
        return self.run(lambda now: self._summary(member, now))

    def member_by_attribute(self, name: str, value) -> Member:
        """The active member whose attribute `name` is `value` (e.g. an email), the first one registered."""
        for m in self.store.members_with(name, str(value)):
            if m.active:
                return m
        raise MemberNotFound("member not found", **{name: value})

    def summaries(self, *, match: dict | None = None, offset: int = 0,
                  limit: int = 15) -> tuple[int, list[MemberSummary]]:
        """Active members whose attributes equal every `match` value (or all), in the order they joined: how many,
        and the summaries of the page [offset, offset + limit) only (one attribute's index is read, then the
        others are checked on what it found)."""
        match = dict(match or {})

        def op(now):
            if match:
                (first, value), rest = next(iter(match.items())), list(match.items())[1:]
                found = [m for m in self.store.members_with(first, str(value)) if m.active
                         and all(str(m.attributes.get(k)) == str(v) for k, v in rest)]
                total, rows = len(found), found[offset:offset + limit]
            else:
                total, rows = self.store.member_count(active=True), self.store.member_page(offset, limit)
            return total, [self._summary(m, now) for m in rows]
        return self.run(op)
