"""Tenant operations on redemptions beyond redeeming and reversing: returns, and paged reads (a mixin of Tenant:
each public method is one engine operation, atomic, at one instant of the tenant clock)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import redemptions
from .amounts import check_money
from .model import Member, Redemption

if TYPE_CHECKING:
    from .ports import TenantStore


class RedemptionOperations:
    store: "TenantStore"

    def return_redemption(self, redemption_id: int, amount=None, *, meta: dict | None = None,
                          currency: str | None = None, strategies: list[str] | None = None) -> Redemption:
        """Give back `amount` (all that is left without one) of a redemption to what it drew from."""
        red = redemptions.get(self.store, redemption_id)
        program = self.program(self.member_by_id(red.member_id).program_id)
        value = None if amount is None else check_money(amount)
        return self.run(lambda now: redemptions.give_back(self.store, program, redemptions.get(self.store, red.id),
                                                          value, now, meta=meta, in_currency=currency,
                                                          strategies=strategies))

    def redemptions_page(self, member: Member | None, offset: int, limit: int,
                         has: dict[str, bool] | None = None) -> tuple[list[Redemption], int]:
        """Newest first; a member's (or, without one, the tenant's), optionally by instrument touched."""
        return redemptions.page(self.store, member.id if member is not None else None, offset, limit, has)

    def redemption_part(self, part_id: int) -> tuple[Redemption, int]:
        return redemptions.part(self.store, part_id)

    def redemption_parts_page(self, offset: int, limit: int) -> tuple[list[tuple[Redemption, int]], int]:
        return redemptions.parts_page(self.store, offset, limit)

    def times_redeemed(self, instrument: str, record: Any) -> int:
        return redemptions.times_redeemed(self.store, instrument, record)

    def redemption_touched(self, red: Redemption) -> list[tuple[str, Any, Any]]:
        return redemptions.touched(self.store, red)

    def linked_redemptions_page(self, attribute: str, value, offset: int,
                                limit: int) -> tuple[list[Redemption], int]:
        """The redemptions of the active members linked to another by their attribute `attribute` = `value`
        (the link linked point records use), member by member in the order they joined, each member's newest
        first: one page and how many (one count per linked member, then the page)."""
        linked = [m for m in self.store.members_with(attribute, str(value)) if m.active]
        total, rows, skip, left = 0, [], offset, limit
        for m in linked:
            page, count = redemptions.page(self.store, m.id, skip, max(left, 0))
            total += count
            if left > 0 and skip < count:
                rows += page
                left -= len(page)
            skip = max(0, skip - count)
        return rows, total
