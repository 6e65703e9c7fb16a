"""A tenant: one isolated world (programs, members, ledger, clock) and the operations on it.

Each public method is one engine operation: atomic on the store, time from the tenant clock."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Callable, TypeVar

from .ports import StoreConflict, TenantStore
from . import history, ledger, redemptions, standings
from .clock import Clock
from .payments import PaymentOperations
from .draft_ops import DraftOperations
from .reads import ReadOperations
from .catalog import CatalogOperations, LimitOperations
from .member_ops import MemberOperations
from .history_ops import HistoryOperations
from .rule_ops import RuleOperations
from .event_ops import EventOperations
from .batch_ops import BatchOperations
from .profiles import ProfileOperations
from .redemption_ops import RedemptionOperations
from .program_config import ProgramConfigOperations
from .reward_ops import RewardOperations
from .tier_ops import TierOperations
from .point_records import PointRecordOperations
from .rates import RateOperations, issue_days
from .receipts import ReceiptOperations
from .account_ops import AccountOperations
from .exports import ExportOperations
from .instrument_ops import InstrumentOperations
from .amounts import check_money, check_points
from .errors import (AlreadyCancelled, CurrencyNotFound, DefinitionNotFound, InvalidAmount, DuplicateKey, HoldNotFound,
                     InvalidState, InvalidTime, Replayed, MemberExists, MemberInactive, MemberNotFound, ProgramNotFound,
                     TransactionNotFound)
from .ledger import Balance
from .model import ZERO, Entry, Hold, Member, PointCurrency, Program, Redemption, Reward
from .tiers import TierProgress, tier_progress

T = TypeVar("T")


@dataclass
class Tenant(DraftOperations, PaymentOperations, MemberOperations, HistoryOperations, RuleOperations,
             EventOperations, BatchOperations, ProfileOperations, PointRecordOperations, RateOperations,
             ReceiptOperations, ReadOperations, CatalogOperations, LimitOperations, RedemptionOperations,
             RewardOperations, TierOperations, ProgramConfigOperations,
             AccountOperations, ExportOperations, InstrumentOperations):
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
        """One engine operation: atomic, at one instant. A durable store shared by several workers may find, at
        commit, that another worker wrote first (StoreConflict): nothing was kept, and the operation runs again on
        the state as it now is (the store holds the write lock for the second run, so there is no third)."""
        for attempt in range(3):
            try:
                with self.store.atomic():
                    now = self.clock.now()       # inside: the store has caught up with the clock too
                    out = fn(now)
                    history.catch_up(self.store, now)     # index what the operation wrote (history pages cost a page)
                    standings.catch_up(self.store, self.find_program, now)    # and the balances it changed, in order
                    wrote = self.store.wrote()
                    if wrote and (self.high_water is None or now > self.high_water):
                        self.store.put_meta("high_water", now)     # written history: kept with it
                break
            except StoreConflict:
                if attempt == 2:
                    raise
        if wrote and (self.high_water is None or now > self.high_water):
            self.high_water = now           # the clock may not go back before it (reads write no history)
        return out

    def atomic(self):
        """Group several operations into one: all of them happen, or none (e.g. burn a hold and earn)."""
        return self.store.atomic()

    def set_clock(self, at: datetime, frozen: bool | None = None) -> None:
        """Refuse to move the clock before history already written: the ledger would contradict itself."""
        if self.high_water is not None and at < self.high_water:
            raise InvalidTime("the clock cannot go back before recorded history",
                              earliest=self.high_water.isoformat())
        self.clock.set(at, frozen=frozen)

    def freeze_clock(self, frozen: bool) -> None:
        self.clock.freeze(frozen)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "clock":       # however the clock is moved (the admin API, fixtures, a test), the store keeps it
            value.on_change = self.clock_moved
        object.__setattr__(self, name, value)

    def clock_moved(self) -> None:
        """The clock is tenant state: kept in the store, so a restart or another worker reads the same time."""
        with self.store.atomic():
            self.store.put_meta("clock", self.clock.state())

    CLOCK_SKEW = timedelta(minutes=5)

    def check_not_future(self, at: datetime, what: str = "transaction time") -> datetime:
        """A time the client says something happened at must not be ahead of the tenant clock (5 minutes of
        client clock skew are tolerated)."""
        if at > self.now() + self.CLOCK_SKEW:
            raise InvalidTime(f"{what} is in the future", at=at.isoformat(), now=self.now().isoformat())
        return at

    def setting(self, vendor: str, name: str, default: Any = None) -> Any:
        return self.settings.get(vendor, {}).get(name, default)

    # --- lookups ---------------------------------------------------------------------------------
    def program(self, program_id: str) -> Program:
        p = self.find_program(program_id)
        if p is None:
            raise ProgramNotFound("program not found", program=program_id)
        return p

    def program_by(self, key: str, value: Any) -> Program:
        for p in self.programs_now():
            if _matches(p.external.get(key), value):
                return p
        raise ProgramNotFound("program not found", **{key: value})

    def only_program(self) -> Program:
        return self.programs_now()[0]

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

    def lots(self, member: Member, currency: PointCurrency, *, include_pending: bool = False) -> list:
        """Live lots (points left, not expired), soonest-expiring first; pending ones on request."""
        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            out = [l for l in self.store.open_lots(member.id, currency.id)
                   if l.remaining > 0 and not l.provisional and (include_pending or l.available_at <= now)]
            return sorted(out, key=ledger.expiry_order)
        return self.run(op)

    def entries(self, member: Member, currency: PointCurrency | None = None) -> list[Entry]:
        return self.store.entries_page(member.id, currency.id if currency else None)

    def tier_progress(self, member: Member) -> TierProgress | None:
        program = self.program(member.program_id)
        return self.run(lambda now: tier_progress(self.store, program, member, now))

    def reward_balance(self, member: Member, now: datetime | None = None) -> Decimal:
        now = now or self.now()
        return sum((r.value_remaining for r in self.store.open_rewards(member.id, now) if r.is_active(now)), ZERO)

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

    # --- business ids and idempotency ------------------------------------------------------------
    def lookup(self, key: tuple[str, str] | None, fingerprint: str | None = None) -> Any:
        """The record id a business key (scope, key) was used for, or None.

        Raises DuplicateKey when the key was used before by a different request (other fingerprint):
        a replay of the same request is for the adapter to answer as its vendor does."""
        if key is None:
            return None
        prior = self.store.ref(*key)
        if prior is None:
            return None
        if fingerprint is not None and prior.get("fingerprint") not in (None, fingerprint):
            raise DuplicateKey("this id was already used for a different request", scope=key[0], key=key[1])
        return prior["id"]

    def _claim(self, key: tuple[str, str] | None, fingerprint: str | None, record_id: Any) -> None:
        if key is None:
            return
        prior = self.store.ref(*key)
        if prior is not None:
            twin = fingerprint is not None and prior.get("fingerprint") == fingerprint
            raise (Replayed if twin else DuplicateKey)("this id was already used", scope=key[0], key=key[1])
        self.store.put_ref(key[0], key[1], {"id": record_id, "fingerprint": fingerprint})

    def entry(self, entry_id: str) -> Entry:
        e = self.store.entry(entry_id) if entry_id else None
        if e is None:
            raise TransactionNotFound("transaction not found", transaction=entry_id)
        return e

    def entry_by(self, key: tuple[str, str]) -> Entry:
        ref = self.store.ref(*key)
        if ref is None:
            raise TransactionNotFound("transaction not found", **{key[0]: key[1]})
        return self.entry(ref["id"])

    def _settled_entry(self, entry_id: str, now: datetime) -> tuple[Entry, PointCurrency]:
        e = self.entry(entry_id)
        member = self.member_by_id(e.member_id)
        currency = self.currency(self.program(member.program_id), e.currency_id)
        ledger.settle(self.store, e.member_id, currency, now)
        return self.store.entry(entry_id), currency

    # --- points -------------------------------------------------------------------------------------
    def credit(self, member: Member, currency: PointCurrency, amount, *, key=None, fingerprint=None,
               **kw) -> Entry:
        """Credit points (amount checked and rounded by the currency's credit rule)."""
        value = check_points(currency, amount, rounding=currency.rules.credit_rounding)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            e = ledger.credit(self.store, member.id, currency, value, now, **kw)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    def earn(self, member: Member, currency: PointCurrency, money_paid, *, key=None, fingerprint=None,
             **kw) -> Entry | None:
        """Points for money paid: whole points, rounded down, at the program's earn rate (a payment that
        earns nothing is still recorded, as a zero credit)."""
        paid = check_money(money_paid, allow_zero=True)

        def op(now):
            e = self._earning(member, currency, paid, now, **kw)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    def _earning(self, member: Member, currency: PointCurrency, paid: Decimal, now: datetime, **kw) -> Entry:
        """Inside an operation: the credit for money paid, at the member's program's earn rate. A payment that
        earns nothing is still recorded, as a zero credit (to activate, refund, link)."""
        points = self.earn_preview(self.program(member.program_id), paid)[1]
        life = issue_days(self.earn_rate(self.program(member.program_id), now)[0])
        if life and "expires_at" not in kw and "expires_after_days" not in kw:   # the rate's issue period
            kw["expires_after_days"] = life
        ledger.settle(self.store, member.id, currency, now)
        if points > 0:
            return ledger.credit(self.store, member.id, currency, check_points(currency, points), now, money=paid,
                                 **kw)
        e = ledger.new_entry(self.store, member.id, currency.id, "credit", ZERO, now, money=paid,
                             origin=kw.get("origin", ""), refs=kw.get("refs") or {})
        e = ledger.after(self.store, e, currency, now)
        self.store.put_entry(e)
        return e

    def debit(self, member: Member, currency: PointCurrency, amount, *, key=None, fingerprint=None,
              money=None, **kw) -> Entry:
        value = check_points(currency, amount, rounding=currency.rules.debit_rounding)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            e = ledger.debit(self.store, member.id, currency, value, now, **kw)
            if money is not None:
                e = replace(e, money=money)
                self.store.put_entry(e)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    def earn_preview(self, program: Program, money) -> tuple[Decimal, Decimal]:
        """What a payment earns, before and after rounding (whole points, down): the same rule as `earn`, at the
        rate the earning rule picks now (engine/rates.py; the program's earn_per_money when no rate applies)."""
        exact = check_money(money, allow_zero=True) * self.earn_rate(program)[1]
        return exact, exact.to_integral_value(rounding=ROUND_FLOOR)

    def line_points(self, program: Program, lines) -> list[tuple[Decimal, Decimal]]:
        """What each line of a purchase earns, (exact, whole): price x quantity at the earn rate, each line rounded
        down on its own; a line without a price earns nothing. `lines` is [(price or None, quantity or None)]."""
        return [self.earn_preview(program, 0 if price is None else price * (1 if quantity is None else quantity))
                for price, quantity in lines]

    def points_for_money(self, currency: PointCurrency, money) -> Decimal:
        """Whole points a money amount is worth, rounded down (never pay out more than asked)."""
        m = check_money(money)
        return (m / currency.value).to_integral_value(rounding=ROUND_FLOOR)

    def activate(self, entry_id: str) -> Decimal:
        def op(now):
            e, currency = self._settled_entry(entry_id, now)
            if e.kind != "credit":
                raise InvalidState("only a credit can be activated", transaction=entry_id)
            return ledger.activate(self.store, e, now)
        return self.run(op)

    def cancel(self, entry_id: str, *, origin: str = "cancel") -> Entry:
        """Cancel any transaction: a temporary one is rolled back, a committed one reversed in full."""
        def op(now):
            e, currency = self._settled_entry(entry_id, now)
            if e.status == "temporary":
                return ledger.rollback(self.store, e, now, status="cancelled")
            if e.status in ("cancelled", "rolled_back"):
                raise AlreadyCancelled(f"transaction is already {e.status.replace('_', ' ')}", transaction=e.id)
            ledger.reverse(self.store, e, currency, now, origin=origin)
            return self.store.entry(entry_id)
        return self.run(op)

    # --- holds ----------------------------------------------------------------------------------------
    def hold(self, member: Member, currency: PointCurrency, amount, *, minutes: int | None = None,
             key=None, fingerprint=None) -> Hold:
        value = check_points(currency, amount, rounding=currency.rules.debit_rounding)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            h = ledger.place_hold(self.store, member.id, currency, value, now,
                                  now + timedelta(minutes=minutes or currency.hold_minutes))
            self._claim(key, fingerprint, h.id)
            return h
        return self.run(op)

    def get_hold(self, hold_id: str) -> Hold:
        """The hold as of now (an active hold past its expiry reads as expired)."""
        h = self.store.hold(hold_id)
        if h is None:
            raise HoldNotFound("hold not found", hold=hold_id)
        member = self.member_by_id(h.member_id)
        currency = self.currency(self.program(member.program_id), h.currency_id)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            return self.store.hold(hold_id)
        return self.run(op)

    def release_hold(self, hold_id: str) -> Hold:
        h = self.get_hold(hold_id)
        if h.state != "active":
            raise HoldNotFound(f"hold is {h.state}", hold=hold_id, state=h.state)
        return self.run(lambda now: ledger.release_hold(self.store, h))

    def redeem_hold(self, hold_id: str, *, member: Member | None = None, key=None, fingerprint=None,
                    origin: str = "redeem", refs: dict | None = None) -> Entry:
        """Spend exactly what a hold reserved; the hold becomes used (a hold is used once)."""
        h = self.get_hold(hold_id)
        if h.state != "active" or (member is not None and h.member_id != member.id):
            raise HoldNotFound(f"hold is {h.state}" if h.state != "active" else "hold belongs to another member",
                               hold=hold_id, state=h.state)
        owner = self.member_by_id(h.member_id)
        currency = self.currency(self.program(owner.program_id), h.currency_id)

        def op(now):
            e = ledger.debit(self.store, owner.id, currency, h.amount, now, hold=self.store.hold(hold_id),
                             origin=origin, refs=refs)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    # --- temporary (two-phase) entries -----------------------------------------------------------------
    def temporary(self, member: Member, currency: PointCurrency, direction: str, amount, *,
                  timeout_sec: int | None = None, key=None, fingerprint=None, origin: str = "",
                  refs: dict | None = None, **kw) -> Entry:
        """A credit counted as pending, or a debit reserving points, until commit/rollback/timeout."""
        rounding = currency.rules.credit_rounding if direction == "credit" else currency.rules.debit_rounding
        value = check_points(currency, amount, rounding=rounding)

        def op(now):
            ledger.settle(self.store, member.id, currency, now)
            deadline = now + timedelta(seconds=timeout_sec or currency.temp_timeout_sec)
            if direction == "credit":
                e = ledger.credit(self.store, member.id, currency, value, now, provisional=True, deadline=deadline,
                                  origin=origin, refs=refs, **kw)
            else:
                e = ledger.temporary_debit(self.store, member.id, currency, value, now, deadline,
                                           origin=origin, refs=refs)
            self._claim(key, fingerprint, e.id)
            return e
        return self.run(op)

    def commit(self, entry_id: str) -> Entry:
        def op(now):
            e, currency = self._settled_entry(entry_id, now)
            return ledger.commit(self.store, e, currency, now)
        return self.run(op)

    def rollback(self, entry_id: str) -> Entry:
        def op(now):
            e, currency = self._settled_entry(entry_id, now)
            return ledger.rollback(self.store, e, now)
        return self.run(op)

    # --- money redemptions across rewards and points ----------------------------------------------------
    def redeem_value(self, member: Member, amount, strategies: list[str], *, strict: bool = False,
                     meta: dict | None = None, refs: dict | None = None, currency: str | None = None) -> Redemption:
        program = self.program(member.program_id)
        value = check_money(amount)
        return self.run(lambda now: redemptions.redeem(self.store, program, member, value, strategies, strict, now,
                                                       meta=meta, refs=refs, in_currency=currency))

    def redemption(self, redemption_id: int) -> Redemption:
        return redemptions.get(self.store, redemption_id)

    def reverse_redemption(self, redemption_id: int, *, meta: dict | None = None) -> Redemption:
        red = redemptions.get(self.store, redemption_id)
        program = self.program(self.member_by_id(red.member_id).program_id)
        return self.run(lambda now: redemptions.reverse(self.store, program, redemptions.get(self.store, redemption_id),
                                                        now, meta=meta))

    # --- membership -----------------------------------------------------------------------------------
    def set_active(self, member: Member, active: bool) -> Member:
        return member if member.active == active else self.update_member(member, active=active)

    def upsert_member(self, program: Program, kind: str, value: str, *, attributes: dict | None = None,
                      reactivate: bool = True) -> tuple[Member, bool]:
        m = self.store.find_member(kind, str(value))
        if m is None:
            return self.add_member(program, {kind: str(value)}, attributes=attributes), True
        if m.program_id != program.id:
            raise MemberExists("identity belongs to a member of another program", **{kind: value})
        changes = {"attributes": {**m.attributes, **(attributes or {})}}
        if not m.active and reactivate:
            changes["active"] = True
        return self.update_member(m, **changes), False

    # --- rewards ------------------------------------------------------------------------------------
    def issue_reward(self, member: Member, definition_id: int, value=None, *, issued_at: datetime | None = None,
                     expires_at: datetime | None = None, timezone: str = "UTC", external_id: str | None = None,
                     meta: dict | None = None) -> Reward:
        """A money reward from a definition: its value (a valid money amount) or the definition's, and its
        expiry or issue + the definition's period."""
        program = self.program(member.program_id)
        definition = next((d for d in program.reward_definitions if d.id == definition_id), None)
        if definition is None and program.reward_definitions:
            raise DefinitionNotFound("reward definition not found", definition=definition_id)
        if value is None:
            if definition is None:
                raise InvalidAmount("a reward needs a value", definition=definition_id)
            value = definition.value
        value = check_money(value)

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


def _matches(external, value) -> bool:
    """An external id matches one value, or any of a list of aliases."""
    if external is None:
        return False
    if isinstance(external, (list, tuple)):
        return any(str(x) == str(value) for x in external)
    return str(external) == str(value)
