"""Tenant operations on rewards beyond issuing them: paged reads, changes, deletion, extension, and the reward
definitions a program issues from (a mixin of Tenant: each public method is one engine operation, atomic, at one
instant of the tenant clock).

Reward definitions are program configuration (engine/program_config.py), so every dialect sees a change from the
next call. A definition rewards were issued from cannot be deleted (refused, not
cascaded)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .amounts import check_money
from .errors import InvalidAmount, InvalidRequest, InvalidState, RewardDefinitionNotFound, RewardNotFound
from .model import Member, Program, Reward, RewardDefinition

if TYPE_CHECKING:
    from .ports import TenantStore

DAYS_PER = {"days": 1, "weeks": 7}


def money_field(field: str, value, *, allow_zero: bool = True) -> Decimal:
    """A money amount for a named field, refused in that field's name."""
    try:
        return check_money(value, allow_zero=allow_zero)
    except InvalidAmount as exc:
        raise InvalidRequest(f"the {field.replace('_', ' ')}{exc.message[len('amount'):]}",
                             **{field: str(value)}) from None


class RewardOperations:
    store: "TenantStore"

    # --- rewards ------------------------------------------------------------------------------------
    def rewards_page(self, member: Member | None, offset: int, limit: int) -> tuple[list[Reward], int]:
        """Newest first: a member's rewards (None: the tenant's) and how many there are."""
        mid = member.id if member is not None else None
        return self.store.reward_page(mid, offset, limit), self.store.reward_count(mid)

    def reward(self, reward_id: int, member: Member | None = None) -> Reward:
        """A reward by id; not found when it belongs to another member than `member`."""
        r = self.store.reward(reward_id)
        if r is None or (member is not None and r.member_id != member.id):
            raise RewardNotFound("reward not found", reward=reward_id)
        return r

    def update_reward(self, reward_id: int, *, value_initial=None, value_remaining=None,
                      expires_at: datetime | None = None, clear_expiry: bool = False,
                      meta: Any = None, set_meta: bool = False) -> Reward:
        """Change a reward's values, expiry or meta. What is left never exceeds what was issued."""
        r = self.reward(reward_id)
        initial = r.value_initial if value_initial is None else money_field("value_initial", value_initial,
                                                                            allow_zero=False)
        remaining = r.value_remaining if value_remaining is None else money_field("value_remaining", value_remaining)
        if remaining > initial:
            field = "value_remaining" if value_remaining is not None else "value_initial"
            text = ("the value remaining must not be greater than the value initial" if field == "value_remaining"
                    else "the value initial must not be less than the value remaining")
            raise InvalidRequest(text, **{field: str(remaining if field == "value_remaining" else initial)})

        def op(now):
            changed = replace(r, value_initial=initial, value_remaining=remaining,
                              expires_at=None if clear_expiry else (expires_at or r.expires_at),
                              meta=meta if set_meta else r.meta, updated_at=now)
            self.store.put_reward(changed)
            return changed
        return self.run(op)

    def delete_reward(self, reward_id: int) -> None:
        self.reward(reward_id)
        self.run(lambda now: self.store.delete_reward(reward_id))

    def extend_rewards(self, member: Member, reward_ids: list[int], *, days: int | None = None,
                       until: datetime | None = None) -> list[Reward]:
        """Push the expiry of some of a member's rewards: by `days` past the current expiry (or past now for one
        that never expired... that has none), or to `until`. A reward is extended once; all or none are."""
        rewards = []
        for n, rid in enumerate(reward_ids):
            r = self.store.reward(rid)
            if r is None or r.member_id != member.id:
                raise InvalidRequest(f"the selected ids.{n} is invalid", **{f"ids.{n}": rid})
            if r.extended_at is not None:
                raise InvalidState(f"the reward {rid} has already been extended", **{f"ids.{n}": rid})
            rewards.append(r)

        def op(now):
            out = []
            for r in rewards:
                base = max(r.expires_at or now, now) if days is not None else None
                new_expiry = base + timedelta(days=days) if days is not None else until
                changed = replace(r, expires_at=new_expiry, extended_at=now, updated_at=now)
                self.store.put_reward(changed)
                out.append(changed)
            return out
        return self.run(op)

    # --- reward definitions ------------------------------------------------------------------------
    def reward_definition(self, definition_id: int) -> tuple[RewardDefinition, Program]:
        for p in self.programs_now():
            for d in p.reward_definitions:
                if d.id == definition_id:
                    return d, p
        raise RewardDefinitionNotFound("reward definition not found", reward_definition=definition_id)

    def reward_definitions(self) -> list[tuple[RewardDefinition, Program]]:
        """Every program's definitions, by id (configuration: a handful, not history)."""
        return sorted(((d, p) for p in self.programs_now() for d in p.reward_definitions),
                      key=lambda dp: dp[0].id)

    def _check_handle(self, handle: str, except_id: int | None = None) -> None:
        if any(d.handle == handle and d.id != except_id for d, _ in self.reward_definitions()):
            raise InvalidRequest("the handle has already been taken", handle=handle)

    @staticmethod
    def _period_days(period: int | None, period_type: str | None) -> int | None:
        return None if period is None else period * DAYS_PER.get(period_type or "days", 1)

    def create_reward_definition(self, program: Program, *, name: str, handle: str, value=0,
                                 period: int | None = None, period_type: str | None = None,
                                 info: dict | None = None) -> RewardDefinition:
        self._check_handle(handle)
        amount = money_field("value", value)

        def op(now):
            new_id = max((d.id for d, _ in self.reward_definitions()), default=0) + 1
            stamp = now.isoformat()
            d = RewardDefinition(id=new_id, handle=handle, name=name, value=amount,
                                 period_days=self._period_days(period, period_type),
                                 info={**(info or {}), "created_at": stamp, "updated_at": stamp})
            self._replace_program(program.id, reward_definitions=self.program(program.id).reward_definitions + (d,))
            return d
        return self.run(op)

    def update_reward_definition(self, definition_id: int, *, name: str | None = None, handle: str | None = None,
                                 value=None, period: int | None = None, period_type: str | None = None,
                                 clear_period: bool = False, info: dict | None = None) -> RewardDefinition:
        d, program = self.reward_definition(definition_id)
        if handle is not None:
            self._check_handle(handle, except_id=d.id)
        amount = d.value if value is None else money_field("value", value)

        def op(now):
            days = None if clear_period else (self._period_days(period, period_type) if period is not None
                                              else d.period_days)
            changed = replace(d, name=name or d.name, handle=handle or d.handle, value=amount, period_days=days,
                              info={**d.info, **(info or {}), "updated_at": now.isoformat()})
            current = self.program(program.id)
            self._replace_program(program.id, reward_definitions=tuple(
                changed if x.id == d.id else x for x in current.reward_definitions))
            return changed
        return self.run(op)

    def delete_reward_definition(self, definition_id: int) -> None:
        d, program = self.reward_definition(definition_id)
        uses = self.store.definition_uses(d.id)
        if uses:
            raise InvalidState(f"the reward definition is in use by {uses} reward{'s' if uses > 1 else ''}",
                               reward_definition=d.id, uses=uses)
        current = self.program(program.id)
        self.run(lambda now: self._replace_program(program.id, reward_definitions=tuple(
            x for x in current.reward_definitions if x.id != d.id)))
