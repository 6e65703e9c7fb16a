"""A tenant: one isolated world (programs, members, ledger, clock) and the operations on it.

Each public method is one engine operation: atomic on the store, time from the tenant clock."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, TypeVar

from ..store.base import TenantStore
from . import ledger
from .clock import Clock
from .errors import (CurrencyNotFound, InvalidTime, MemberExists, MemberInactive, MemberNotFound,
                     ProgramNotFound)
from .ledger import Balance
from .model import ZERO, Entry, Member, PointCurrency, Program, Reward
from .tiers import TierProgress, tier_progress

T = TypeVar("T")


@dataclass
class Tenant:
    id: str
    programs: dict[str, Program]
    store: TenantStore
    clock: Clock
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: dict[str, Any] | None = None      # the fixtures document it was built from
    high_water: datetime | None = None         # latest instant any operation ran at

    # --- plumbing -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def run(self, fn: Callable[[datetime], T]) -> T:
        """One engine operation: atomic, at one instant."""
        now = self.clock.now()
        with self.store.atomic():
            out = fn(now)
        if self.high_water is None or now > self.high_water:
            self.high_water = now
        return out

    def set_clock(self, at: datetime, frozen: bool | None = None) -> None:
        """Refuse to move the clock before history already written: the ledger would contradict itself."""
        if self.high_water is not None and at < self.high_water:
            raise InvalidTime("the clock cannot go back before recorded history",
                              earliest=self.high_water.isoformat())
        self.clock.set(at, frozen=frozen)

    def setting(self, vendor: str, name: str, default: Any = None) -> Any:
        return self.settings.get(vendor, {}).get(name, default)

    # --- lookups ---------------------------------------------------------------------------------
    def program(self, program_id: str) -> Program:
        p = self.programs.get(program_id)
        if p is None:
            raise ProgramNotFound("program not found", program=program_id)
        return p

    def program_by(self, key: str, value: Any) -> Program:
        for p in self.programs.values():
            if _matches(p.external.get(key), value):
                return p
        raise ProgramNotFound("program not found", **{key: value})

    def only_program(self) -> Program:
        return next(iter(self.programs.values()))

    @staticmethod
    def currency(program: Program, currency_id: str | None = None) -> PointCurrency:
        c = program.currency(currency_id)
        if c is None:
            raise CurrencyNotFound("points currency not found", currency=currency_id)
        return c

    @staticmethod
    def currency_by(program: Program, key: str, value: Any) -> PointCurrency:
        for c in program.currencies:
            if _matches(c.external.get(key), value):
                return c
        raise CurrencyNotFound("points currency not found", **{key: value})

    def member(self, kind: str, value: Any, *, program: Program | None = None,
               active: bool = True) -> Member:
        m = self.store.find_member(kind, str(value))
        if m is None or (program is not None and m.program_id != program.id):
            raise MemberNotFound("member not found", **{kind: value})
        if active and not m.active:
            raise MemberInactive("member is not registered in the program", **{kind: value})
        return m

    def member_by_id(self, member_id: str) -> Member:
        m = self.store.member(member_id)
        if m is None:
            raise MemberNotFound("member not found", member=member_id)
        return m

    # --- reads ------------------------------------------------------------------------------------
    def balance(self, member: Member, currency: PointCurrency) -> Balance:
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return ledger.balance(self.store, member.id, currency, now)
        return self.run(op)

    def tier_progress(self, member: Member) -> TierProgress | None:
        program = self.program(member.program_id)
        return self.run(lambda now: tier_progress(self.store, program, member, now))

    def reward_balance(self, member: Member, now: datetime | None = None) -> Decimal:
        now = now or self.now()
        return sum((r.value_remaining for r in self.store.rewards(member.id) if reward_active(r, now)), ZERO)

    # --- members ----------------------------------------------------------------------------------
    def add_member(self, program: Program, identities: dict[str, str], *, member_id: str | None = None,
                   joined_at: datetime | None = None, attributes: dict | None = None) -> Member:
        def op(now):
            for k, v in identities.items():
                if self.store.find_member(k, str(v)) is not None:
                    raise MemberExists("a member with this identity exists", **{k: v})
            seq = self.store.next_seq("member")
            m = Member(id=member_id or f"m{seq}", seq=seq, program_id=program.id,
                       identities={k: str(v) for k, v in identities.items()}, joined_at=joined_at or now,
                       attributes=attributes or {}, updated_at=joined_at or now)
            self.store.put_member(m)
            return m
        return self.run(op)

    def update_member(self, member: Member, **changes) -> Member:
        def op(now):
            m = replace(member, updated_at=now, **changes)
            self.store.put_member(m)
            return m
        return self.run(op)

    # --- points -------------------------------------------------------------------------------------
    def credit(self, member: Member, currency: PointCurrency, amount: Decimal, **kw) -> Entry:
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return ledger.credit(self.store, member.id, currency, amount, now, **kw)
        return self.run(op)

    def debit(self, member: Member, currency: PointCurrency, amount: Decimal, **kw) -> Entry:
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return ledger.debit(self.store, member.id, currency, amount, now, **kw)
        return self.run(op)

    # --- rewards ------------------------------------------------------------------------------------
    def issue_reward(self, member: Member, definition_id: int, value: Decimal, *, issued_at: datetime | None = None,
                     expires_at: datetime | None = None, timezone: str = "UTC", external_id: str | None = None,
                     meta: dict | None = None) -> Reward:
        program = self.program(member.program_id)
        definition = next((d for d in program.reward_definitions if d.id == definition_id), None)

        def op(now):
            issued = issued_at or now
            exp = expires_at
            if exp is None and definition is not None and definition.period_days:
                exp = issued + timedelta(days=definition.period_days)
            r = Reward(id=self.store.next_seq("reward"), member_id=member.id, definition_id=definition_id,
                       value_initial=value, value_remaining=value, issued_at=issued, expires_at=exp,
                       timezone=timezone, external_id=external_id, meta=meta, created_at=now, updated_at=now)
            self.store.put_reward(r)
            return r
        return self.run(op)


def reward_active(r: Reward, now: datetime) -> bool:
    return r.value_remaining > 0 and r.issued_at <= now and (r.expires_at is None or r.expires_at > now)


def _matches(external, value) -> bool:
    """An external id matches one value, or any of a list of aliases."""
    if external is None:
        return False
    if isinstance(external, (list, tuple)):
        return any(str(x) == str(value) for x in external)
    return str(external) == str(value)
