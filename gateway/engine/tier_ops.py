"""Tenant operations on tiers: the tier definitions (program configuration: a change replaces the program, so
every dialect reports tiers by the new definitions from the next call), tier points added by hand and their
reads, and manual assignment (a mixin of Tenant: each public method is one engine operation, atomic, at one
instant of the tenant clock). Standing itself is gateway/engine/tiers.py."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import tiers
from .errors import InvalidRequest, InvalidState, TierDefinitionNotFound, TierPointNotFound
from .model import ZERO, Member, PointCurrency, Program, Tier, TierCredit

if TYPE_CHECKING:
    from .ports import TenantStore

INFO = "tier_point_info"     # what a tier-points movement added by hand was sent with


class TierOperations:
    store: "TenantStore"

    # --- definitions ----------------------------------------------------------------------------------
    def tier_definitions(self) -> list[tuple[Tier, Program]]:
        """Every program's tiers, by id (configuration: a handful)."""
        return sorted(((t, p) for p in self.programs_now() for t in p.tiers),
                      key=lambda tp: tp[0].id)

    def tier_definition(self, tier_id: int) -> tuple[Tier, Program]:
        for t, p in self.tier_definitions():
            if t.id == tier_id:
                return t, p
        raise TierDefinitionNotFound("tier definition not found", tier_definition=tier_id)

    def _check_tier_handle(self, handle: str, except_id: int | None = None) -> None:
        if any(t.handle == handle and t.id != except_id for t, _ in self.tier_definitions()):
            raise InvalidRequest("the handle has already been taken", handle=handle)

    def create_tier_definition(self, program: Program, *, name: str, handle: str, value_min: Decimal,
                               value_maintain: Decimal | None = None, is_floor: bool | None = None,
                               info: dict | None = None) -> Tier:
        self._check_tier_handle(handle)

        def op(now):
            new_id = max((t.id for t, _ in self.tier_definitions()), default=0) + 1
            stamp = now.isoformat()
            tier = Tier(id=new_id, handle=handle, name=name, value_min=Decimal(value_min),
                        value_maintain=Decimal(value_min if value_maintain is None else value_maintain),
                        is_floor=bool(value_min == 0 if is_floor is None else is_floor),
                        info={**(info or {}), "created_at": stamp, "updated_at": stamp})
            self._replace_program(program.id, tiers=self.program(program.id).tiers + (tier,))
            return tier
        return self.run(op)

    def update_tier_definition(self, tier_id: int, *, name: str | None = None, handle: str | None = None,
                               value_min: Decimal | None = None, value_maintain: Decimal | None = None,
                               is_floor: bool | None = None, info: dict | None = None) -> Tier:
        tier, program = self.tier_definition(tier_id)
        if handle is not None:
            self._check_tier_handle(handle, except_id=tier.id)

        def op(now):
            changed = replace(tier, name=name or tier.name, handle=handle or tier.handle,
                              value_min=tier.value_min if value_min is None else Decimal(value_min),
                              value_maintain=tier.value_maintain if value_maintain is None else Decimal(value_maintain),
                              is_floor=tier.is_floor if is_floor is None else is_floor,
                              info={**tier.info, **(info or {}), "updated_at": now.isoformat()})
            self._replace_program(program.id, tiers=tuple(changed if t.id == tier.id else t
                                                          for t in self.program(program.id).tiers))
            return changed
        return self.run(op)

    def delete_tier_definition(self, tier_id: int) -> None:
        """Refused, not cascaded: the lowest tier of a program (every member needs one), or a tier some member's
        status is on."""
        tier, program = self.tier_definition(tier_id)
        if tiers.ordered(program)[0].id == tier.id:
            raise InvalidState("the lowest tier cannot be deleted", tier_definition=tier.id)
        members = self.store.record(tiers.MEMBERS, tier.id) or 0
        if members:
            raise InvalidState(f"the tier definition is in use by {members} profile{'s' if members > 1 else ''}",
                               tier_definition=tier.id, members=members)
        self.run(lambda now: self._replace_program(program.id, tiers=tuple(
            t for t in self.program(program.id).tiers if t.id != tier.id)))

    # --- tier points ------------------------------------------------------------------------------------
    def add_tier_points(self, member: Member, value: Decimal, *, at: datetime | None = None,
                        currency: PointCurrency | None = None, meta: Any = None,
                        accrued_at: datetime | None = None) -> TierCredit:
        """Tier points by hand (negative takes some away); the member's tier is evaluated with them."""
        program = self.program(member.program_id)
        if value == 0:
            raise InvalidRequest("the value must not be 0", value=str(value))

        def op(now):
            when = at or now
            if when > now + self.CLOCK_SKEW:
                raise InvalidRequest("the issued at must not be in the future", issued_at=when.isoformat())
            cid = self.store.add_tier_credit(member.id, when, Decimal(value))
            self.store.put_record(INFO, cid, {"currency": (currency or program.default_currency).id, "meta": meta,
                                              "accrued_at": accrued_at, "recorded_at": now})
            tiers.evaluate(self.store, program, member, now)
            return self.store.tier_credit(cid)
        return self.run(op)

    def tier_point_info(self, credit: TierCredit) -> dict:
        """What a movement was sent with (added by hand), or {}."""
        return self.store.record(INFO, credit.id) or {}

    def tier_points_page(self, member: Member | None, offset: int, limit: int) -> tuple[list[TierCredit], int]:
        """A member's movements, latest first (None: the tenant's, newest first), and how many there are."""
        mid = member.id if member is not None else None
        return self.store.tier_credit_page(mid, offset, limit), self.store.tier_credit_count(mid)

    def tier_point(self, credit_id: int) -> TierCredit:
        c = self.store.tier_credit(credit_id)
        if c is None:
            raise TierPointNotFound("tier point not found", tier_point=credit_id)
        return c

    def tier_points_of(self, member: Member, entry_id: str) -> list[TierCredit]:
        """The member's movements behind one ledger entry (its credit and any reversal of it)."""
        return self.store.tier_credits_by_source(member.id, entry_id)

    # --- standing -------------------------------------------------------------------------------------------
    def assign_tier(self, member: Member, handle: str) -> tiers.TierProgress:
        """Put a member on an assignable tier by hand: a new cycle starts now, with no credit."""
        program = self.program(member.program_id)
        tier = next((t for t in program.tiers if t.handle == handle), None)
        if tier is None:
            raise InvalidRequest("the selected tier is invalid", tier=handle)
        if not tier.info.get("is_assignable", False):
            raise InvalidRequest("the selected tier is not assignable", tier=handle)

        def op(now):
            old = tiers.evaluate(self.store, program, member, now)
            status = replace(old, tier_id=tier.id, achieved_at=now, anniversary_at=tiers.anniversary(now),
                             credit=ZERO, assigned_at=now, maintained_at=None, evaluated_at=now, updated_at=now)
            tiers.keep(self.store, old, status)
            return tiers.progress(self.store, program, member, status, now)
        return self.run(op)
