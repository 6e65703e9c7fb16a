"""A program's point currencies as configuration: list, add, change, delete, publish (a mixin of Tenant: each
public method is one engine operation, at one instant of the tenant clock).

Two versions of the catalogue: `active`, what the ledger applies, and `draft`, the active one with the changes
made since the last publish. A change to an existing currency goes to the draft and becomes active when the
program is published (`publish`); a new currency is active at once (there is nothing of it to protect) and a
deletion applies at once (only an unused currency can be deleted). A currency in use -- any points, transaction,
hold or balance record of a member in it -- is never deleted (CurrencyInUse), nor is a program's last currency
(LastCurrency).

Balance limits (limits.py) are part of a currency's configuration: added, changed and deleted in its draft, enforced
by the ledger once active.

A new currency gets a UUID as its id, is also named by that id under the external id kinds the caller asks for and
under every external id kind whose values are UUIDs in its program, and gets the next number under every kind
whose values are numbers there, never one a deleted currency had (so every dialect that names currencies by number
or by UUID sees it at once).

A currency's `handle` (in its info; a currency without one is called by its id) is unique in the tenant. A change
may be published at once (`at_once`, for dialects without drafts): it is then the currency's active version and
supersedes a draft pending for that currency."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import ledger, standings
from .errors import CurrencyInUse, InvalidRequest, LastCurrency, LimitNotFound
from .expiry import ExpiryRule
from .limits import UNITS, BalanceLimit, LimitTerms
from .model import CurrencyRules, PointCurrency, Program

if TYPE_CHECKING:
    from .ports import TenantStore

WHOLE_UNITS = ("JPY", "CLP")          # money without minor units
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ORDER = {"name": lambda c: (c.name, c.id),
         "created_at": lambda c: (c.created_at or EPOCH, c.id),
         "updated_at": lambda c: (c.updated_at or c.created_at or EPOCH, c.id)}


@dataclass(frozen=True, slots=True)
class CurrencyTerms:
    """What a caller sets of a point currency (the whole of it: a change replaces every term)."""

    name: str
    unit: str = "POINTS"                 # POINTS, or the money currency one unit is worth
    rules: CurrencyRules = CurrencyRules()
    fixed_expiry: str | None = None      # "dd/mm"
    expiry_rule: ExpiryRule | None = None
    info: Mapping[str, Any] = field(default_factory=dict)   # description, image, meta ... kept and echoed


def _check(terms: CurrencyTerms) -> None:
    if terms.fixed_expiry and terms.expiry_rule is not None:
        raise InvalidRequest("a fixed expiry date and an expiry duration exclude each other")
    if terms.fixed_expiry:
        try:
            day, month = (int(x) for x in terms.fixed_expiry.split("/"))
            datetime(2000, month, day)           # a leap year: 29/02 is a date
        except ValueError:
            raise InvalidRequest("the fixed expiry is not a dd/mm date", fixed_expiry=terms.fixed_expiry) from None
    r = terms.rules
    if r.min_balance is not None and r.max_balance is not None and r.min_balance > r.max_balance:
        raise InvalidRequest("the minimum balance is above the maximum", min=str(r.min_balance),
                             max=str(r.max_balance))
    for name, value in (("minimum balance", r.min_balance), ("maximum balance", r.max_balance),
                        ("credit limit", r.max_credit), ("debit limit", r.max_debit)):
        if value is not None and (value < 0 or value > r.max_amount):
            raise InvalidRequest(f"the {name} is out of range", value=str(value))
    if terms.expiry_rule is not None and terms.expiry_rule.value < 1:
        raise InvalidRequest("the expiry duration must be at least 1", value=terms.expiry_rule.value)


def _decimals(terms: CurrencyTerms) -> int:
    """Points count in whole units when the currency rounds them (or the money has no minor unit), else to 2
    decimals."""
    if terms.unit in WHOLE_UNITS:
        return 0
    if terms.unit == "POINTS" and (terms.rules.credit_rounding or terms.rules.debit_rounding):
        return 0
    return 2


def _apply(currency: PointCurrency, terms: CurrencyTerms, now: datetime) -> PointCurrency:
    """The currency with every term replaced (no expiry term: points never expire)."""
    return replace(currency, name=terms.name, decimals=_decimals(terms), rules=terms.rules,
                   fixed_expiry=terms.fixed_expiry or None, expiry_rule=terms.expiry_rule, expiry_days=None,
                   info={**dict(terms.info), "unit": terms.unit}, updated_at=now)


NUMBERS = "currency_numbers"    # program id -> {external id kind: the highest number a currency was given}


def _is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _next_names(program: Program, currency_id: str) -> dict[str, Any]:
    """external id kind -> the new currency's name: the next free number for every kind whose values are all
    numbers in this program, its own id (a UUID) for every kind whose values are all UUIDs."""
    out: dict[str, Any] = {}
    kinds = {k for c in program.currencies for k in c.external}
    for kind in kinds:
        values = [c.external.get(kind) for c in program.currencies if kind in c.external]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            out[kind] = max(values) + 1
        elif values and all(_is_uuid(v) for v in values):
            out[kind] = currency_id
    return out


def terms_of(currency: PointCurrency) -> CurrencyTerms:
    """The terms a currency has now (to change some of them and keep the others)."""
    info = {k: v for k, v in currency.info.items() if k != "unit"}
    rule = currency.expiry_rule
    if rule is None and currency.expiry_days is not None and not currency.fixed_expiry:
        rule = ExpiryRule(currency.expiry_days, "day")       # the same expiry in calendar terms
    return CurrencyTerms(name=currency.name, unit=currency.info.get("unit", "POINTS"), rules=currency.rules,
                         fixed_expiry=currency.fixed_expiry, expiry_rule=rule, info=info)


def handle_of(currency: PointCurrency) -> str:
    """What a currency is called by, unique in the tenant: its handle, else its id."""
    return currency.info.get("handle") or currency.id


class CatalogOperations:
    """Changes are configuration written to the store (program_config.py): undone with a failed operation."""

    store: "TenantStore"

    # --- reads -------------------------------------------------------------------------------------------
    @staticmethod
    def currency_version(program: Program, currency: PointCurrency, version: str = "draft") -> PointCurrency:
        """The currency as the draft (its changes since the last publish) or as active."""
        return program.currency_drafts.get(currency.id, currency) if version == "draft" else currency

    def currency_page(self, program: Program, *, version: str = "draft", order_by: str = "updated_at",
                      descending: bool = True, offset: int = 0, limit: int | None = None) -> list[PointCurrency]:
        """The program's currencies in one version, ordered by name, created_at or updated_at (then id), paged."""
        program = self.program(program.id)
        rows = sorted((self.currency_version(program, c, version) for c in program.currencies),
                      key=ORDER[order_by], reverse=descending)
        return rows[offset:] if limit is None else rows[offset:offset + limit]

    # --- changes ---------------------------------------------------------------------------------------------
    def add_currency(self, program: Program, terms: CurrencyTerms, *, name_as: Iterable[str] = ()) -> PointCurrency:
        """A new currency of `program`, active at once; also named by its id under the `name_as` kinds."""
        _check(terms)
        self._check_currency_handle(terms)

        def op(now):
            current = self.program(program.id)
            currency_id = ledger.new_id()
            names = _next_names(current, currency_id)
            given = self.store.record(NUMBERS, current.id) or {}     # a deleted currency's number is not reused
            names = {k: max(v, given.get(k, 0) + 1) if isinstance(v, int) else v for k, v in names.items()}
            self.store.put_record(NUMBERS, current.id, {**given, **{k: v for k, v in names.items()
                                                                   if isinstance(v, int)}})
            money = terms.unit == current.money_currency
            base = PointCurrency(id=currency_id, name=terms.name,
                                 value=1 if money else current.default_currency.value,
                                 hold_minutes=current.default_currency.hold_minutes,
                                 temp_timeout_sec=current.default_currency.temp_timeout_sec,
                                 external={**names, **{k: currency_id for k in name_as}},
                                 created_at=now)
            currency = _apply(base, terms, now)
            standings.open_currency(self.store, current, currency, self.store.members(), now)
            self._replace_program(current.id, currencies=(*current.currencies, currency))
            return currency
        return self.run(op)

    def change_currency(self, program: Program, currency: PointCurrency, terms: CurrencyTerms, *,
                        at_once: bool = False) -> PointCurrency:
        """Replace every term of the currency in the draft (active when the program is published), or, `at_once`,
        in the active version (a draft pending for the currency is superseded)."""
        _check(terms)
        self._check_currency_handle(terms, currency.id)

        def op(now):
            current = self.program(program.id)
            active = self.currency(current, currency.id)
            drafts = {k: v for k, v in current.currency_drafts.items() if k != active.id}
            if at_once:
                changed = _apply(active, terms, now)
                self._replace_program(current.id, currency_drafts=drafts, currencies=tuple(
                    changed if c.id == active.id else c for c in current.currencies))
                return changed
            draft = _apply(self.currency_version(current, active), terms, now)
            self._replace_program(current.id, currency_drafts={**current.currency_drafts, active.id: draft})
            return draft
        return self.run(op)

    def _check_currency_handle(self, terms: CurrencyTerms, except_id: str | None = None) -> None:
        handle = terms.info.get("handle")
        if handle and any(handle_of(self.currency_version(p, c)) == handle or handle_of(c) == handle
                          for p in self.programs_now() for c in p.currencies if c.id != except_id):
            raise InvalidRequest("the handle has already been taken", handle=handle)

    def delete_currency(self, program: Program, currency: PointCurrency) -> None:
        def op(now):
            current = self.program(program.id)
            self.currency(current, currency.id)
            if len(current.currencies) == 1:
                raise LastCurrency("a program keeps at least one points currency", currency=currency.id)
            if self.store.currency_used(current.id, currency.id):
                raise CurrencyInUse("the points currency is in use", currency=currency.id)
            drafts = {k: v for k, v in current.currency_drafts.items() if k != currency.id}
            self._replace_program(current.id, currencies=tuple(c for c in current.currencies if c.id != currency.id),
                                  currency_drafts=drafts)
        self.run(op)

    def publish(self, program: Program) -> Program:
        """Every currency's draft becomes active."""
        def op(now):
            current = self.program(program.id)
            return self._replace_program(
                current.id, currency_drafts={},
                currencies=tuple(current.currency_drafts.get(c.id, c) for c in current.currencies))
        return self.run(op)


# --- balance limits, part of a currency's configuration ---------------------------------------------------

def _check_terms(t: LimitTerms) -> None:
    if t.direction not in ("credit", "debit") or t.constraint not in ("count", "amount") or t.window_unit not in UNITS:
        raise InvalidRequest("unknown limit kind", direction=t.direction, constraint=t.constraint, unit=t.window_unit)
    if t.window_value < 1:
        raise InvalidRequest("the window must be at least 1 unit", value=t.window_value)
    if t.value < 0:
        raise InvalidRequest("a limit cannot be negative", value=str(t.value))


class LimitOperations:
    """Balance limits as part of a currency's configuration (drafted, active when the program is published)."""

    def limit(self, program: Program, currency: PointCurrency, limit_id: str, version: str = "draft") -> BalanceLimit:
        found = next((l for l in self.currency_version(self.program(program.id), currency, version).limits
                      if l.id == limit_id), None)
        if found is None:
            raise LimitNotFound("balance limit not found", limit=limit_id)
        return found

    def _draft_limits(self, program: Program, currency: PointCurrency, change) -> BalanceLimit | None:
        def op(now):
            current = self.program(program.id)
            active = self.currency(current, currency.id)
            draft = self.currency_version(current, active)
            limits, out = change(list(draft.limits), now)
            self._replace_program(current.id, currency_drafts={
                **current.currency_drafts, active.id: replace(draft, limits=tuple(limits))})
            return out
        return self.run(op)

    def add_limit(self, program: Program, currency: PointCurrency, terms: LimitTerms) -> BalanceLimit:
        _check_terms(terms)

        def change(limits, now):
            new = BalanceLimit(id=ledger.new_id(), currency_id=currency.id, terms=terms, created_at=now, updated_at=now)
            return [*limits, new], new
        return self._draft_limits(program, currency, change)

    def change_limit(self, program: Program, currency: PointCurrency, limit_id: str, terms: LimitTerms) -> BalanceLimit:
        _check_terms(terms)
        old = self.limit(program, currency, limit_id)

        def change(limits, now):
            new = replace(old, terms=terms, updated_at=now)
            return [new if l.id == limit_id else l for l in limits], new
        return self._draft_limits(program, currency, change)

    def delete_limit(self, program: Program, currency: PointCurrency, limit_id: str) -> None:
        self.limit(program, currency, limit_id)
        self._draft_limits(program, currency, lambda limits, now: ([l for l in limits if l.id != limit_id], None))
