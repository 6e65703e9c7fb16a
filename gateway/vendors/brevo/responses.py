"""Brevo handlers, one per operationId: request -> one engine call -> Brevo body.

Ids: the program is found by its `brevo.program_id`, a balance definition (a point currency) by
its `brevo.balance_definition_id`, a member by its `brevo.contact` id (or its `brevo.subscription`
id, Brevo's loyaltySubscriptionId) within that program. UUIDs are compared in their canonical
lower-case form.

Balance definitions are the engine's point currencies (catalog: currency_page / add_currency / change_currency /
delete_currency, `version` = the currency's draft or active version, publish_loyalty_program = publish), balance
limits its currency limits (add_limit / limit / change_limit / delete_limit). Transactions are the engine's drafts
(create_draft / complete_draft / cancel_draft), orders its orders (create_order), balance records its balance
records (open_balance_record), the lists its pages (lot_page, history, member_balances): the engine rounds, caps,
checks the balance limits, rejects, dates, orders and lists; the adapter maps names and shapes only (a debit is
shown negative, however it was sent)."""
from __future__ import annotations

import dataclasses

from decimal import Decimal
from typing import Any, Callable

from ...engine.catalog import CurrencyTerms
from ...engine.errors import MemberNotFound
from ...engine.expiry import ExpiryRule
from ...engine.limits import LimitTerms
from ...engine.model import CurrencyRules, Draft, Member, PointCurrency, Program
from ...engine.tenant import Tenant
from ..base import Call, Reply, VendorError
from ..format import parse_datetime
from . import render

PROGRAM = "brevo.program_id"
DEFINITION = "brevo.balance_definition_id"
CONTACT = "brevo.contact"
SUBSCRIPTION = "brevo.subscription"

# balanceAvailabilityDurationModifier -> the engine's snap of an expiry to its period
SNAPS = {"noModification": "none", "startOfPeriod": "start", "endOfPeriod": "end"}

# Brevo's example account id (spec, create_subscription_balance); settings.brevo.organization_id overrides it.
DEFAULT_ORGANIZATION_ID = 5456004


# --- lookups and query helpers -----------------------------------------------------------------

def _uuid(value: Any) -> str:
    return str(value).lower()


def _program(call: Call) -> Program:
    return call.tenant.program_by(PROGRAM, _uuid(call.path["pid"]))


def _definition(call: Call, program: Program, bdid: str) -> PointCurrency:
    return call.tenant.currency_by(program, DEFINITION, _uuid(bdid))


def _internal(currency: PointCurrency) -> bool:
    return bool((currency.info.get("meta") or {}).get("isInternal"))


def _query(call: Call, name: str) -> Any:
    """A query value, or the default the spec declares for it."""
    if name in call.query:
        return call.query[name]
    for p in call.op.params_in("query"):
        if p.name == name:
            return p.schema.get("default")
    return None


def _either(call: Call, name: str, legacy: str, *, required: bool = True,
            same: Callable[[Any], Any] = lambda v: v) -> Any:
    """The camelCase parameter or its legacy snake_case spelling (older SDKs): one is enough,
    both must agree."""
    value, old = call.query.get(name), call.query.get(legacy)
    if value is not None and old is not None and same(value) != same(old):
        raise VendorError(render.error(422, "duplicate_parameter",
                                       f"{name} and {legacy} are given with different values"))
    if value is None:
        value = old
    if value is None and required:
        raise VendorError(render.error(422, "missing_parameter", f"{name} is required"))
    return value


# --- operations ------------------------------------------------------------------------------

def _definition_body(call: Call, currency: PointCurrency) -> dict:
    return render.definition(currency, render.external_id(currency.external, DEFINITION), call.now())


def get_balance_definition(call: Call) -> Reply:
    # `version`: draft (with the changes not published yet) or active (what the ledger applies)
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return Reply(200, _definition_body(call, call.tenant.currency_version(program, currency, _query(call, "version"))))


def get_balance_definition_list(call: Call) -> Reply:
    page = call.tenant.currency_page(_program(call), version=_query(call, "version"),
                                     order_by=_query(call, "sortField"), descending=_query(call, "sort") == "desc",
                                     offset=_query(call, "offset"), limit=_query(call, "limit"))
    return Reply(200, render.definitions(_definition_body(call, c) for c in page
                                         if c.external.get(DEFINITION) is not None))


def _terms(body: dict) -> CurrencyTerms:
    """A BalanceDefinition request in the engine's names (null = absent, "" = no fixed expiry date)."""
    rules = CurrencyRules(min_balance=body.get("minAmount"), max_balance=body.get("maxAmount"),
                          max_credit=body.get("maxCreditAmountLimit"), max_debit=body.get("maxDebitAmountLimit"),
                          overtaking=body.get("balanceOptionAmountOvertakingStrategy") or "strict",
                          credit_rounding=body.get("balanceOptionCreditRounding"),
                          debit_rounding=body.get("balanceOptionDebitRounding"))
    value, unit = body.get("balanceAvailabilityDurationValue"), body.get("balanceAvailabilityDurationUnit")
    if unit is not None and value is None:
        raise VendorError(render.error(422, "missing_parameter",
                                       "balanceAvailabilityDurationValue is required with balanceAvailabilityDurationUnit"))
    rule = None if value is None else ExpiryRule(value, unit or "day", SNAPS[
        body.get("balanceAvailabilityDurationModifier") or "noModification"])
    info = {k: v for k, v in (("description", body.get("description")), ("image_ref", body.get("imageRef")),
                              ("meta", {k: v for k, v in (body.get("meta") or {}).items() if v is not None}))
            if v is not None}
    fixed = body.get("balanceExpirationDate") or None
    if fixed and "-" in fixed:          # the SDKs' date form, YYYY-MM-DD: its day and month
        fixed = f"{fixed[8:10]}/{fixed[5:7]}"
    return CurrencyTerms(name=body["name"], unit=body["unit"], rules=rules, fixed_expiry=fixed, expiry_rule=rule,
                         info=info)


def create_balance_definition(call: Call) -> Reply:
    currency = call.tenant.add_currency(_program(call), _terms(call.body), name_as=(DEFINITION,))
    return Reply(200, _definition_body(call, currency))


BREVO_INFO = ("description", "image_ref", "meta", "unit")     # what a BalanceDefinition says of a currency's info


def update_balance_definition(call: Call) -> Reply:
    """Every Brevo attribute is replaced; what other dialects keep in the currency's info (Omneo's handle, tags...)
    stays."""
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    terms = _terms(call.body)
    others = {k: v for k, v in call.tenant.currency_version(program, currency).info.items() if k not in BREVO_INFO}
    terms = dataclasses.replace(terms, info={**others, **terms.info})
    return Reply(200, _definition_body(call, call.tenant.change_currency(program, currency, terms)))


def delete_balance_definition(call: Call) -> Reply:
    program = _program(call)
    call.tenant.delete_currency(program, _definition(call, program, call.path["bdid"]))
    return Reply(204, None)


# --- balance limits ------------------------------------------------------------------------------------

def _limit_terms(body: dict) -> LimitTerms:
    return LimitTerms(direction=body["transactionType"],
                      constraint="count" if body["constraintType"] == "transaction" else "amount",
                      window_value=body["durationValue"], window_unit=body["durationUnit"],
                      value=Decimal(body["value"]), sliding=bool(body.get("slidingSchedule")))


def _limit_reply(call: Call, currency: PointCurrency, limit) -> Reply:
    return Reply(200, render.limit(limit, render.external_id(currency.external, DEFINITION)))


def create_balance_limit(call: Call) -> Reply:
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return _limit_reply(call, currency, call.tenant.add_limit(program, currency, _limit_terms(call.body)))


def get_balance_limit(call: Call) -> Reply:
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return _limit_reply(call, currency, call.tenant.limit(program, currency, _uuid(call.path["blid"]),
                                                          _query(call, "version")))


def update_balance_limit(call: Call) -> Reply:
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return _limit_reply(call, currency, call.tenant.change_limit(program, currency, _uuid(call.path["blid"]),
                                                                 _limit_terms(call.body)))


def delete_balance_limit(call: Call) -> Reply:
    program = _program(call)
    call.tenant.delete_limit(program, _definition(call, program, call.path["bdid"]), _uuid(call.path["blid"]))
    return Reply(204, None)


def publish_loyalty_program(call: Call) -> Reply:
    call.tenant.publish(_program(call))
    return Reply(204, None)


def subscription_balances(tenant: Tenant, program: Program, cid: int, include_internal: bool = False) -> dict:
    """The body of get_subscription_balances (also the admin API's view of a member)."""
    member = tenant.member(CONTACT, cid, program=program)
    rows = [(render.external_id(c.external, DEFINITION), tenant.balance(member, c))
            for c in program.currencies
            if c.external.get(DEFINITION) is not None and (include_internal or not _internal(c))]
    return render.subscription_balances(render.external_id(program.external, PROGRAM), cid, rows)


def get_subscription_balances(call: Call) -> Reply:
    return Reply(200, subscription_balances(call.tenant, _program(call), call.path["cid"],
                                            _query(call, "includeInternal")))


def get_active_balance(call: Call) -> Reply:
    cid = _either(call, "contactId", "contact_id")
    bdid = _either(call, "balanceDefinitionId", "balance_definition_id", same=_uuid)
    _either(call, "sortField", "sort_field", required=False,
            same=lambda v: "createdAt" if v == "created_at" else v)    # createdAt is the only field
    program = _program(call)
    currency = _definition(call, program, bdid)
    member = call.tenant.member(CONTACT, cid, program=program)
    program_id, definition_id = render.external_id(program.external, PROGRAM), render.external_id(
        currency.external, DEFINITION)
    if _internal(currency) and not _query(call, "includeInternal"):
        return Reply(200, render.active_balances(program_id, cid, definition_id, 0, []))
    page = call.tenant.lot_page(member, currency, newest_first=_query(call, "sort") == "desc",
                                offset=_query(call, "offset"), limit=_query(call, "limit"))
    return Reply(200, render.active_balances(program_id, cid, definition_id, page.count, page.lots))


def get_contact_balances(call: Call) -> Reply:
    program = _program(call)
    currency = _definition(call, program, call.query["balanceDefinitionId"])
    program_id, bdid = render.external_id(program.external, PROGRAM), render.external_id(currency.external, DEFINITION)
    if _internal(currency) and not _query(call, "includeInternal"):
        return Reply(200, render.contact_balances(program_id, bdid, 0, []))
    page = call.tenant.member_balances(program, currency, order_by="value" if _query(call, "sortField") == "value"
                                       else "updated_at", descending=_query(call, "sort") == "desc",
                                       offset=_query(call, "offset"), limit=_query(call, "limit"))
    rows = [(contact_id(m), m.identities.get(SUBSCRIPTION), at, value) for m, value, at in page.rows
            if contact_id(m) is not None]
    return Reply(200, render.contact_balances(program_id, bdid, page.count, rows))


# --- members, rendering helpers for the writes ----------------------------------------------------

def contact_id(member: Member) -> int | None:
    value = member.identities.get(CONTACT)
    return int(value) if value is not None and str(value).isdigit() else None


def _contact(member: Member) -> int:
    cid = contact_id(member)
    if cid is None:    # a subscription id without a Brevo contact: not a Brevo subscription
        raise MemberNotFound("member has no brevo contact", member=member.id)
    return cid


def _subscriber(call: Call, program: Program, body: dict) -> Member:
    """The member named by contactId and/or the subscription id (either spelling of its key)."""
    keys = [k for k in ("LoyaltySubscriptionId", "loyaltySubscriptionId") if body.get(k) is not None]
    if len(keys) == 2 and body[keys[0]] != body[keys[1]]:
        raise VendorError(render.error(422, "duplicate_parameter",
                                       f"{keys[0]} and {keys[1]} are given with different values"))
    cid = body.get("contactId")
    if cid is None and not keys:
        raise VendorError(render.error(422, "missing_parameter", "contactId or LoyaltySubscriptionId is required"))
    by_contact = call.tenant.member(CONTACT, int(cid), program=program) if cid is not None else None
    by_subscription = call.tenant.member(SUBSCRIPTION, body[keys[0]], program=program) if keys else None
    if by_contact is not None and by_subscription is not None and by_contact.id != by_subscription.id:
        raise VendorError(render.error(422, "invalid_parameter",
                                       f"contactId and {keys[0]} name different subscriptions"))
    member = by_contact or by_subscription
    _contact(member)
    return member


def _render(tenant: Tenant, program: Program, d: Draft) -> dict:
    member = tenant.member_by_id(d.member_id)
    currency = tenant.currency(program, d.currency_id)
    return render.transaction(d, program_id=render.external_id(program.external, PROGRAM),
                              bdid=render.external_id(currency.external, DEFINITION), contact_id=_contact(member))


# --- writes --------------------------------------------------------------------------------------------

def create_transaction(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = _program(call)
    currency = _definition(call, program, body["balanceDefinitionId"])
    member = _subscriber(call, program, body)
    # the signed amount and transactionType go to the engine as sent: it decides the direction (the sign, unless
    # the type names it) and refuses a negative credit
    d = tenant.create_draft(member, currency, body.get("transactionType"), body["amount"],
                            auto_complete=bool(body.get("autoComplete")), ttl_sec=body.get("ttl"),
                            event_time=parse_datetime(body["eventTime"]) if body.get("eventTime") else None,
                            # "only applicable when autoComplete is true" [D]: the engine's rule for lot_minutes
                            lot_minutes=body.get("balanceExpiryInMinutes"), meta=dict(body.get("meta") or {}))
    return Reply(200, _render(tenant, program, d))


def complete_transaction(call: Call) -> Reply:
    program = _program(call)
    d = call.tenant.complete_draft(_uuid(call.path["tid"]), program=program)
    return Reply(200, _render(call.tenant, program, d))


def cancel_transaction(call: Call) -> Reply:
    program = _program(call)
    d = call.tenant.cancel_draft(_uuid(call.path["tid"]), program=program)
    return Reply(200, _render(call.tenant, program, d))


def create_order(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = _program(call)
    currency = _definition(call, program, body["balanceDefinitionId"])
    member = tenant.member(CONTACT, int(body["contactId"]), program=program)
    order = tenant.create_order(member, currency, None, body["amount"], due_at=parse_datetime(body["dueAt"]),
                                expires_at=parse_datetime(body["expiresAt"]) if body.get("expiresAt") else None,
                                source=body["source"], meta=dict(body.get("meta") or {}))
    return Reply(200, render.order(order, program_id=render.external_id(program.external, PROGRAM),
                                   bdid=render.external_id(currency.external, DEFINITION),
                                   contact_id=_contact(member)))


def create_subscription_balance(call: Call) -> Reply:
    tenant = call.tenant
    program = _program(call)
    currency = _definition(call, program, call.body["balanceDefinitionId"])
    member = tenant.member(CONTACT, call.path["cid"], program=program)
    record = tenant.open_balance_record(member, currency)
    return Reply(200, render.balance_record(
        record, program_id=render.external_id(program.external, PROGRAM),
        organization_id=int(call.setting("organization_id", DEFAULT_ORGANIZATION_ID)), contact_id=call.path["cid"],
        bdid=render.external_id(currency.external, DEFINITION)))


# --- transaction history -------------------------------------------------------------------------------

def get_transaction_history(call: Call) -> Reply:
    cid = _either(call, "contactId", "contact_id")
    bdid = _either(call, "balanceDefinitionId", "balance_definition_id", same=_uuid)
    _either(call, "sortField", "sort_field", required=False,
            same=lambda v: "createdAt" if v == "created_at" else v)    # createdAt is the only field
    tenant = call.tenant
    program = _program(call)
    currency = _definition(call, program, bdid)
    member = tenant.member(CONTACT, cid, program=program)
    subscription = call.query.get("loyaltySubscriptionId")
    if subscription is not None and tenant.member(SUBSCRIPTION, subscription, program=program).id != member.id:
        raise MemberNotFound("the subscription id belongs to another contact", subscription=subscription)
    page = tenant.history(member, currency, status=call.query.get("status"),
                          direction=call.query.get("transactionType"),
                          newest_first=_query(call, "sort") == "desc", offset=_query(call, "offset"),
                          limit=_query(call, "limit"))
    return Reply(200, render.history(render.external_id(program.external, PROGRAM), cid,
                                     render.external_id(currency.external, DEFINITION), page.count,
                                     [render.history_row(row) for row in page.rows]))
