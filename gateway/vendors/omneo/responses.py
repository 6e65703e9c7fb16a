"""Omneo handlers, one per operationId: request -> one engine call -> Omneo body."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ...engine import errors as E
from ...engine.catalog import CurrencyTerms, terms_of
from ...engine.expiry import ExpiryRule
from ...engine.model import Member, PointCurrency, Program, RewardDefinition
from ...engine.receipts import Line
from ...engine.tenant import Tenant
from ..base import Call, Reply, VendorError
from ..format import UTC, parse_datetime
from . import paging, render

PROFILE = "omneo.profile"
POINT_DEFINITION = "omneo.point_definition_id"
POINT_ORIGIN = "omneo.point"
CURRENCY_INVALID = "The selected currency is invalid."
DEFAULT_STRATEGIES = ["benefits", "rewards", "credits", "points"]     # the business guide's order [D]

# which request field an engine amount refusal is about
AMOUNT_FIELD = {"create_point": "value_initial", "create_reward": "value_initial"}


def _profile(call: Call):
    return call.tenant.member(PROFILE, call.path["profile"])


def _profile_id(member: Member, fallback: str = "") -> str:
    return member.identities.get(PROFILE, fallback)


def profile_balances(tenant: Tenant, member: Member, code: str | None = None,
                     rate: Decimal | None = None) -> dict:
    """The `data` of GET /profiles/{profile}/balances (also a redemption's `balances`, and the admin view)."""
    program = tenant.program(member.program_id)
    balance = tenant.balance(member, program.default_currency)
    return render.balances(balance, tenant.reward_balance(member), program, code, rate,
                           credits=tenant.credit_balance(member), benefits=tenant.benefit_balance(member))["data"]


def get_profile_balances(call: Call) -> Reply:
    member = _profile(call)
    program = call.tenant.program(member.program_id)
    code = call.query.get("currency")
    rate = None
    if code is not None:
        rate = program.currency_rates.get(code)
        if rate is None:
            raise VendorError(render.validation({"currency": [CURRENCY_INVALID]}))
    return Reply(200, {"data": profile_balances(call.tenant, member, code, rate)})


# --- profiles (part A) ------------------------------------------------------------------------------

ATTRIBUTE_OF = {"email": "email", "mobile_phone": "mobile"}    # Omneo field -> member attribute


def _profile_row(summary) -> dict:
    return render.profile(summary, _profile_id(summary.member))


def get_profile(call: Call) -> Reply:
    handle = call.query.get("identity[handle]")
    kind = PROFILE if handle is None else render.IDENTITY + handle
    member = call.tenant.member(kind, call.path["profile"])
    return Reply(200, {"data": _profile_row(call.tenant.summary(member))})


def search_profile_id(call: Call) -> Reply:
    kind, value = str(call.body["type"]), str(call.body["id"])
    tenant = call.tenant
    if kind in ATTRIBUTE_OF:
        member = tenant.member_by_attribute(ATTRIBUTE_OF[kind], value)
    else:
        member = tenant.member(render.IDENTITY + kind, value)
    return Reply(200, {"data": _profile_row(tenant.summary(member))})


def list_profiles(call: Call) -> Reply:
    page = paging.requested(call.query)
    match = {ATTRIBUTE_OF[f]: call.query[f"filter[{f}]"] for f in ("email", "mobile_phone")
             if call.query.get(f"filter[{f}]")}     # empty: no filter (Laravel reads "" as null)
    total, rows = call.tenant.summaries(match=match, offset=page.offset, limit=page.size)
    return Reply(200, paging.envelope(call.request, [_profile_row(r) for r in rows], total, page))


# --- points (part A: point records, linked points, point definitions, currencies) -----------------------

def _point_row(r) -> dict:
    return render.point(r.entry, r.lot, _profile_id(r.member), r.currency, r.program,
                        rate_body=render.rate(r.rate) if r.rate is not None else None,
                        source_type="transaction" if r.receipt is not None else None,
                        source=render.transaction_source(r.receipt) if r.receipt is not None else None)


def list_profile_points(call: Call) -> Reply:
    page = paging.requested(call.query)
    total, rows = call.tenant.point_records(_profile(call), offset=page.offset, limit=page.size,
                                            newest_first=paging.newest_first(call.query))
    return Reply(200, paging.envelope(call.request, [_point_row(r) for r in rows], total, page))


def get_profile_point(call: Call) -> Reply:
    return Reply(200, {"data": _point_row(call.tenant.point_record(call.path["point"], _profile(call)))})


def list_points(call: Call) -> Reply:
    page = paging.requested(call.query)
    total, rows = call.tenant.point_records(None, offset=page.offset, limit=page.size,
                                            newest_first=paging.newest_first(call.query))
    return Reply(200, paging.envelope(call.request, [_point_row(r) for r in rows], total, page))


def get_point(call: Call) -> Reply:
    return Reply(200, {"data": _point_row(call.tenant.point_record(call.path["point"]))})


LINK = "linked_profile_id"      # member attribute: the profile a linked (dependant) profile belongs to


def list_linked_points(call: Call) -> Reply:
    member = _profile(call)
    page = paging.requested(call.query)
    profile_id = _profile_id(member)
    total, rows = call.tenant.linked_point_records(LINK, profile_id, offset=page.offset, limit=page.size)
    data = [{**_point_row(r), "linked_profile_id": profile_id} for r in rows]
    return Reply(200, paging.envelope(call.request, data, total, page))


def _definitions(tenant: Tenant) -> list[tuple]:
    return [(c, p) for p in tenant.programs_now() for c in p.currencies]


def list_point_definitions(call: Call) -> Reply:
    page = paging.requested(call.query)
    found = _definitions(call.tenant)
    rows = [render.point_definition(c, p) for c, p in found[page.offset:page.offset + page.size]]
    return Reply(200, paging.envelope(call.request, rows, len(found), page))


def get_point_definition(call: Call) -> Reply:
    wanted = call.path["definition"]
    for c, p in _definitions(call.tenant):
        if render.point_definition_id(c, p) == wanted:
            return Reply(200, {"data": render.point_definition(c, p)})
    return render.not_found("App\\Models\\PointDefinition", wanted)


POINT_DEFINITION_INFO = ("handle", "description", "notes", "is_reassignable", "tags")
PERIOD_UNITS = {v: k for k, v in render.PERIOD_TYPES.items()}      # issue_period_type -> the engine's expiry unit


def _point_definition(call: Call) -> tuple[PointCurrency, Program] | None:
    wanted = call.path["definition"]
    return next(((c, p) for c, p in _definitions(call.tenant) if render.point_definition_id(c, p) == wanted), None)


def _point_definition_terms(body: dict, program: Program, currency: PointCurrency | None) -> CurrencyTerms:
    """A point definition request in the engine's terms; on an update the fields not sent stay as they are."""
    base = terms_of(currency) if currency is not None else CurrencyTerms(name=body["name"])
    errors: dict[str, list[str]] = {}
    if body.get("currency") not in (None, program.money_currency):
        errors["currency"] = [CURRENCY_INVALID]
    if body.get("region_id") is not None:
        errors["region_id"] = ["The selected region id is invalid."]
    rule = base.expiry_rule
    period = body["issue_period"] if "issue_period" in body else rule.value if rule else None
    period_type = body["issue_period_type"] if "issue_period_type" in body else \
        render.PERIOD_TYPES[rule.unit] if rule else None
    if period is None and period_type is not None:
        errors["issue_period"] = ["The issue period field is required when issue period type is present."]
    if period is not None and period_type is None:
        errors["issue_period_type"] = ["The issue period type field is required when issue period is present."]
    _refuse(errors)
    fixed = base.fixed_expiry
    if "issue_period" in body or "issue_period_type" in body:
        same = rule is not None and (rule.value, render.PERIOD_TYPES[rule.unit]) == (period, period_type)
        rule = rule if same else None if period is None else ExpiryRule(period, PERIOD_UNITS[period_type])
        fixed = None if period is not None else fixed
    return dataclasses.replace(base, name=body.get("name") or base.name, expiry_rule=rule, fixed_expiry=fixed,
                               info={**base.info, **{k: body[k] for k in POINT_DEFINITION_INFO if k in body}})


def create_point_definition(call: Call) -> Reply:
    program = call.tenant.only_program()
    currency = call.tenant.add_currency(program, _point_definition_terms(call.body, program, None))
    return Reply(201, {"data": render.point_definition(currency, call.tenant.program(program.id))})


def update_point_definition(call: Call) -> Reply:
    found = _point_definition(call)
    if found is None:
        return render.not_found("App\\Models\\PointDefinition", call.path["definition"])
    currency, program = found
    changed = call.tenant.change_currency(program, currency, _point_definition_terms(call.body or {}, program, currency),
                                          at_once=True)
    return Reply(200, {"data": render.point_definition(changed, call.tenant.program(program.id))})


def delete_point_definition(call: Call) -> Reply:
    found = _point_definition(call)
    if found is None:
        return render.not_found("App\\Models\\PointDefinition", call.path["definition"])
    currency, program = found
    call.tenant.delete_currency(program, currency)
    return Reply(204, None)


def list_currencies(call: Call) -> Reply:
    page = paging.requested(call.query)
    found, seen = [], set()
    for p in call.tenant.programs_now():
        for code, rate in p.currency_rates.items():
            if (p.money_currency, code) not in seen:
                seen.add((p.money_currency, code))
                found.append(render.currency(p, code, rate))
    return Reply(200, paging.envelope(call.request, found[page.offset:page.offset + page.size], len(found), page))


# --- rates (part A) ----------------------------------------------------------------------------------

AMOUNT_FIELD.update({"create_rate": "rate", "update_rate": "rate", "calculate_rate": "price"})
RATE_FIELDS = ("name", "type", "code", "location", "location_id", "priority", "is_default", "is_archived",
               "is_published")


def _rate_changes(body: dict) -> dict:
    """The request's rate fields as the engine's EarnRate fields (descriptive ones under `info`)."""
    errors: dict[str, list[str]] = {}
    out = {k: body[k] for k in RATE_FIELDS if k in body}
    if "priority" in out and out["priority"] is None:
        out["priority"] = 0
    for field in ("start_time", "end_time"):
        if field in body:
            out[field] = _time(body, field, errors)
    if "issue_absolute_expiry" in body:
        _time(body, "issue_absolute_expiry", errors)
    _refuse(errors)
    if "rate" in body:
        out["rate"] = body["rate"]
    if "handle" in body:
        out["handle"] = body["handle"]
    info = {k: body[k] for k in render.RATE_INFO if k in body}
    if info:
        out["info"] = info
    return out


def list_rates(call: Call) -> Reply:
    page = paging.requested(call.query)
    total, rows = call.tenant.rates(offset=page.offset, limit=page.size)
    return Reply(200, paging.envelope(call.request, [render.rate(r) for r in rows], total, page))


def get_rate(call: Call) -> Reply:
    return Reply(200, {"data": render.rate(call.tenant.rate(call.path["rate"]))})


def create_rate(call: Call) -> Reply:
    changes = _rate_changes(call.body)
    handle, value = changes.pop("handle"), changes.pop("rate")
    r = call.tenant.create_rate(call.tenant.only_program(), handle, value, **changes)
    return Reply(201, {"data": render.rate(r)})


def update_rate(call: Call) -> Reply:
    return Reply(200, {"data": render.rate(call.tenant.update_rate(call.path["rate"], **_rate_changes(call.body)))})


def delete_rate(call: Call) -> Reply:
    call.tenant.delete_rate(call.path["rate"])
    return Reply(204, None)


def calculate_rate(call: Call) -> Reply:
    body = call.body
    try:
        _, total = call.tenant.calculate_rate(call.tenant.only_program(), body["price"], handle=body.get("handle"),
                                              type=body.get("type"), code=body.get("code"),
                                              location=body.get("location"))
    except E.RateNotFound:          # Laravel `exists` on the handle
        raise VendorError(render.validation({"handle": ["The selected handle is invalid."]})) from None
    return Reply(200, {"total": total})


# --- transactions (part A: the earning side) -----------------------------------------------------------

AMOUNT_FIELD.update({"create_transaction": "total", "upsert_transaction": "total", "estimate_transaction": "total"})
TX_INFO = ("total_original", "timezone", "systems", "tags", "meta", "receipt_is_email", "payments", "items")
FUTURE_TEXT = "The transacted at must be a date before or equal to now."
SPENT_TEXT = "The points this transaction earned have already been spent."


def _lines(body: dict) -> list[Line] | None:
    """Each item's money (price_sell x quantity) and the product attributes a rate may name."""
    items = body.get("items")
    if not items:
        return None
    out = []
    for item in items:
        variant = item.get("product_variant") or {}
        attrs = {"sku": variant.get("sku"), "category": variant.get("category"), "brand": variant.get("brand"),
                 "product": variant.get("product_id")}
        quantity = item.get("quantity")
        out.append(Line(Decimal(str(item["price_sell"])) * (Decimal(1) if quantity is None else Decimal(str(quantity))),
                        {k: v for k, v in attrs.items() if v is not None}))
    return out


def _tx_info(body: dict) -> dict:
    return {k: body[k] for k in TX_INFO if body.get(k) is not None}


def _tx_start(call: Call) -> tuple[Member | None, datetime | None]:
    body, errors = call.body, {}
    member = None
    if body.get("profile_id") is not None:
        member = _member_or_none(call.tenant, body["profile_id"])
        if member is None:
            errors["profile_id"] = ["The selected profile id is invalid."]
    at = _time(body, "transacted_at", errors)
    _refuse(errors)
    return member, at


def _tx_reply(status: int, r, member: Member) -> Reply:
    return Reply(status, {"data": render.transaction(r, _profile_id(member))})


def _record(call: Call, member: Member, at: datetime) -> Reply:
    body = call.body
    try:
        r = call.tenant.record_receipt(member, body["total"], _lines(body), transacted_at=at,
                                       external_id=body.get("external_id"), receipt_ref=body.get("receipt_ref"),
                                       location_id=body.get("location_id"), is_void=bool(body.get("is_void")),
                                       info=_tx_info(body))
    except E.InvalidTime:
        raise VendorError(render.validation({"transacted_at": [FUTURE_TEXT]})) from None
    return _tx_reply(201, r, member)


def create_transaction(call: Call) -> Reply:
    member, at = _tx_start(call)
    return _record(call, member, at)


def upsert_transaction(call: Call) -> Reply:
    member, at = _tx_start(call)
    body = call.body
    prior = call.tenant.receipt_by_external_id(body["external_id"])
    if prior is None:
        return _record(call, member, at)
    if prior.member_id != member.id:
        raise VendorError(render.validation({"profile_id": ["The profile id does not match the transaction's "
                                                            "profile."]}))
    try:
        r = call.tenant.update_receipt(prior.id, body["total"], is_void=bool(body.get("is_void")),
                                       location=body.get("location_id"), info=_tx_info(body),
                                       receipt_ref=body.get("receipt_ref"))
    except E.InsufficientPoints:
        raise VendorError(render.validation({"total": [SPENT_TEXT]})) from None
    except E.InvalidAmount as exc:
        raise VendorError(render.validation({"is_void": [_sentence(exc.message)]})) from None
    return _tx_reply(200, r, member)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def estimate_transaction(call: Call) -> Reply:
    member, at = _tx_start(call)
    body = call.body
    try:
        est = call.tenant.estimate_receipt(member, body["total"], _lines(body), location=body.get("location_id"),
                                           transacted_at=at, is_void=bool(body.get("is_void")))
    except E.InvalidTime:
        raise VendorError(render.validation({"transacted_at": [FUTURE_TEXT]})) from None
    return Reply(200, render.incentive_estimate(est))


def list_profile_transactions(call: Call) -> Reply:
    member = _profile(call)
    page = paging.requested(call.query)
    total, rows = call.tenant.receipts(member, offset=page.offset, limit=page.size,
                                       newest_first=paging.newest_first(call.query))
    profile_id = _profile_id(member)
    return Reply(200, paging.envelope(call.request, [render.transaction(r, profile_id) for r in rows], total, page))


def get_profile_transaction(call: Call) -> Reply:
    member = _profile(call)
    return _tx_reply(200, call.tenant.receipt(call.path["transaction"], member), member)


def find_profile_transactions(call: Call) -> Reply:
    member = _profile(call)
    ref, ext = call.query.get("filter[receipt_ref]"), call.query.get("filter[external_id]")
    if ref is None and ext is None:
        raise VendorError(render.validation({"filter": ["The filter field is required."]}))
    found = call.tenant.find_receipts(member, receipt_ref=ref, external_id=ext)
    if not found:
        return render.not_found("App\\Models\\Transaction", ref if ref is not None else ext)
    profile_id = _profile_id(member)
    return Reply(200, {"data": [render.transaction(r, profile_id) for r in found]})


def get_profile_tiers(call: Call) -> Reply:
    member = _profile(call)
    program = call.tenant.program(member.program_id)
    progress = call.tenant.tier_progress(member)
    profile_id = member.identities.get(PROFILE, call.path["profile"])
    if progress is None:   # a program without tier definitions: no profile tier record
        return render.not_found("App\\Models\\ProfileTier", profile_id)
    return Reply(200, render.profile_tier(progress, member, profile_id, program))


# --- request helpers ---------------------------------------------------------------------------

def _attribute(field: str) -> str:
    return field.replace("_", " ")


def _member_or_none(tenant: Tenant, profile_id) -> Member | None:
    """Laravel's `exists` rule on profile_id: an unknown or deleted profile is not a valid value."""
    try:
        return tenant.member(PROFILE, profile_id)
    except (E.MemberNotFound, E.MemberInactive):
        return None


def _programs(tenant: Tenant, member: Member | None) -> list[Program]:
    return [tenant.program(member.program_id)] if member is not None else tenant.programs_now()


def _time(body: dict, field: str, errors: dict, zone=UTC) -> datetime | None:
    """An input timestamp (`Y-m-d H:i:s` or RFC 3339); one without an offset is read in `zone`."""
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_datetime(value, zone)
    except (ValueError, AttributeError):
        errors.setdefault(field, []).append(f"The {_attribute(field)} is not a valid date.")
        return None


def _same(body: dict, field: str, other: str, errors: dict) -> None:
    """`value_remaining` may only repeat `value_initial`: the engine issues whole records (no partly spent
    record can be created), so a different value is refused rather than silently ignored."""
    value = body.get(field)
    if value is not None and other in body and Decimal(str(value)) != Decimal(str(body[other])):
        errors.setdefault(field, []).append(f"The {_attribute(field)} and {_attribute(other)} must match.")


def _refuse(errors: dict) -> None:
    if errors:
        raise VendorError(render.validation(errors))


# --- points --------------------------------------------------------------------------------------

def create_point(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    errors: dict[str, list[str]] = {}
    member = _member_or_none(tenant, body["profile_id"])
    if member is None:
        errors["profile_id"] = ["The selected profile id is invalid."]
    currency = program = None
    for p in _programs(tenant, member):
        try:
            currency, program = tenant.currency_by(p, POINT_DEFINITION, body["point_definition_id"]), p
            break
        except E.CurrencyNotFound:
            continue
    if currency is None:
        errors["point_definition_id"] = ["The selected point definition id is invalid."]
    remaining = body.get("value_remaining")
    if remaining is not None and Decimal(str(remaining)) > Decimal(str(body["value_initial"])):
        errors["value_remaining"] = [f"The value remaining must be less than or equal to "
                                     f"{_number(body['value_initial'])}."]
    issued = _time(body, "issued_at", errors)
    accrued = _time(body, "accrued_at", errors)
    expires = _time(body, "expires_at", errors)
    _refuse(errors)

    # points count once issued_at is reached (null: now); accrued_at defaults to issued_at; expires_at null:
    # never, omitted: the definition's rule; value_remaining below value_initial: the rest is spent at once
    try:
        record = tenant.issue_point_record(member, currency, body["value_initial"], remaining,
                                           earned_at=accrued or issued, available_at=issued, expires_at=expires,
                                           never_expires="expires_at" in body and body["expires_at"] is None,
                                           origin=POINT_ORIGIN, description=body.get("description"),
                                           meta=body.get("meta"))
    except E.InvalidAmount as exc:
        if exc.detail.get("part") != "remaining":
            raise
        text = exc.message.removeprefix("remaining ")
        raise VendorError(render.validation({"value_remaining": [f"The value remaining {text}."]})) from None
    return Reply(201, {"data": _point_row(record)})


def _number(value) -> str:
    d = Decimal(str(value))
    return str(int(d)) if d == d.to_integral_value() else str(d.normalize())


# --- rewards -------------------------------------------------------------------------------------

def _definition(programs: list[Program], body: dict) -> tuple[RewardDefinition | None, Program | None]:
    """By id, else by handle (the id wins when both are sent)."""
    for p in programs:
        for d in p.reward_definitions:
            if ("reward_definition_id" in body and d.id == body["reward_definition_id"]) or \
                    ("reward_definition_id" not in body and d.handle == body.get("reward_definition_handle")):
                return d, p
    return None, None


def create_reward(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    errors: dict[str, list[str]] = {}
    member = _member_or_none(tenant, body["profile_id"])
    if member is None:
        errors["profile_id"] = ["The selected profile id is invalid."]
    definition, program = _definition(_programs(tenant, member), body)
    if definition is None:
        field = "reward_definition_id" if "reward_definition_id" in body else "reward_definition_handle"
        errors[field] = [f"The selected {_attribute(field)} is invalid."]
    zone = UTC
    try:
        zone = ZoneInfo(body["timezone"])
    except (ValueError, KeyError, OSError):
        errors["timezone"] = ["The timezone must be a valid timezone."]
    _same(body, "value_remaining", "value_initial", errors)
    if definition is not None and "value_initial" not in body and body.get("value_remaining") is not None \
            and Decimal(str(body["value_remaining"])) != definition.value:
        errors["value_remaining"] = ["The value remaining and value initial must match."]
    issued = _time(body, "issued_at", errors, zone)
    expires = _time(body, "expires_at", errors, zone)
    _refuse(errors)

    reward = tenant.issue_reward(member, definition.id, body.get("value_initial"), issued_at=issued,
                                 expires_at=expires,
                                 timezone=body["timezone"], external_id=body.get("external_id"),
                                 meta=body.get("meta"))
    return Reply(201, {"data": render.reward(reward, _profile_id(member), program, call.now())})


# --- redemptions -----------------------------------------------------------------------------------

def _redemption_items(tenant: Tenant, red, profile_id: str, program: Program, now: datetime) -> list[dict]:
    """One item per record touched (a point debit spans one or more point records), each record as it is now:
    right after a write, the record after the change."""
    touched = []
    held = tenant.instruments_of(red)
    for instrument, record_id, value in tenant.redemption_touched(red):
        if instrument == "reward":
            touched.append(("reward", value, render.reward(tenant.store.reward(record_id), profile_id, program, now)))
        elif instrument == "credit":
            touched.append(("credit", value, render.store_credit(held[("credit", record_id)], profile_id, now)))
        elif instrument == "benefit":       # `value` counts benefits: the item's value is what they are worth
            b = held[("benefit", record_id)]
            touched.append(("benefit", (b.value * value, int(value)), render.benefit(b, profile_id, now)))
        else:
            credit = tenant.store.entry(record_id)
            lot = tenant.store.lot(credit.lots[0][0])
            touched.append(("point", value, render.point(credit, lot, profile_id, program.default_currency, program,
                                                         red.created_at)))
    return [render.redemption_item(i, kind, value[0], attrs, red.created_at, count=value[1]) if kind == "benefit"
            else render.redemption_item(i, kind, value, attrs, red.created_at)
            for i, (kind, value, attrs) in zip(red.part_ids, touched)]


def _redemption_data(call: Call, red, member: Member | None = None, with_balances: bool = False) -> dict:
    tenant = call.tenant
    member = member or tenant.member_by_id(red.member_id)
    program = tenant.program(member.program_id)
    profile_id = _profile_id(member)
    items = _redemption_items(tenant, red, profile_id, program, call.now())
    code = red.currency
    rate = program.currency_rates.get(code) if code else None
    record = render.currency(program, code, rate) if rate is not None else None
    balances = profile_balances(tenant, member, code if record else None, rate) if with_balances else None
    return render.redemption(red, member, profile_id, items, balances, record, _linked_receipt(tenant, red, member))


def _linked_receipt(tenant: Tenant, red, member: Member):
    """The member's recorded transaction the redemption named (by external id, else receipt ref), or None."""
    refs = red.refs or {}
    found = []
    if refs.get("transaction_external_id"):
        found = tenant.find_receipts(member, external_id=str(refs["transaction_external_id"]))
    elif refs.get("transaction_receipt_ref"):
        found = tenant.find_receipts(member, receipt_ref=str(refs["transaction_receipt_ref"]))
    return found[0] if found else None


def _redemption_reply(call: Call, red, member: Member) -> Reply:
    """The SuccessfulRedemption answer of a write: the redemption and the balances after the call."""
    return Reply(201, {"data": _redemption_data(call, red, member, with_balances=True)})


# the legacy v1 `strategy` [L]: one string naming the balances and their order
LEGACY_STRATEGY = {"rewards": ["rewards"], "points": ["points"], "rewards_points": ["rewards", "points"],
                   "points_rewards": ["points", "rewards"]}
NO_BENEFIT = "The selected {field} is invalid."


def _strategies(body: dict) -> list[str]:
    """`strategies` (v3) wins; else the legacy `strategy`, a string [L] or an array (the PHP client [S])."""
    if body.get("strategies"):
        return list(body["strategies"])
    legacy = body.get("strategy")
    if isinstance(legacy, str):
        return LEGACY_STRATEGY[legacy]
    if legacy:
        return list(dict.fromkeys(legacy))
    return list(DEFAULT_STRATEGIES)


def _money_currency(program: Program, body: dict, errors: dict) -> str | None:
    code = body.get("currency")
    if code is not None and code not in program.currency_rates:
        errors["currency"] = [CURRENCY_INVALID]
    return code


def _benefits(body: dict, errors: dict) -> None:
    """A return gives back money: benefits come back through /benefit/return, so one named here is refused
    (Laravel's `exists` rule on each `benefits.N.id`)."""
    for n, _ in enumerate(body.get("benefits") or ()):
        errors[f"benefits.{n}.id"] = [NO_BENEFIT.format(field=f"benefits.{n}.id")]


def redeem(call: Call) -> Reply:
    member = _profile(call)
    body, tenant = call.body, call.tenant
    program = tenant.program(member.program_id)
    errors: dict[str, list[str]] = {}
    code = _money_currency(program, body, errors)
    for n, named in enumerate(body.get("benefits") or ()):   # Laravel's `exists`, every one reported
        try:
            tenant.benefit(named["id"], member)
        except E.BenefitNotFound:
            errors[f"benefits.{n}.id"] = [NO_BENEFIT.format(field=f"benefits.{n}.id")]
    _refuse(errors)
    refs = _refs(body)
    if body.get("benefits"):         # refusals name the benefit: errors["benefits.N.id" | "benefits.N.quantity"]
        red = tenant.redeem_value_with_benefits(member, body["amount"], _strategies(body), list(body["benefits"]),
                                                strict=bool(body.get("strict", False)), meta=body.get("meta"),
                                                refs=refs, currency=code)
    else:
        red = tenant.redeem_value(member, body["amount"], _strategies(body), strict=bool(body.get("strict", False)),
                                  meta=body.get("meta"), refs=refs, currency=code)
    return _redemption_reply(call, red, member)


def _refs(body: dict) -> dict:
    return {k: body[k] for k in ("location_id", "transaction_external_id", "transaction_receipt_ref")
            if body.get(k) is not None}


def reverse_redemption(call: Call) -> Reply:
    tenant = call.tenant
    meta = call.body.get("meta") if isinstance(call.body, dict) else None
    rev = tenant.reverse_redemption(call.path["redemption"], meta=meta)   # refusals: adapter.REVERSAL_TEXT
    return _redemption_reply(call, rev, tenant.member_by_id(rev.member_id))


# --- redemptions: returns, benefit and credit redeem, reads (part B) -----------------------------------

def return_redemption(call: Call) -> Reply:
    """Give back `amount` (all that is left without one) to the records the redemption drew from."""
    body, tenant = call.body or {}, call.tenant
    red = tenant.redemption(call.path["redemption"])
    program = tenant.program(tenant.member_by_id(red.member_id).program_id)
    errors: dict[str, list[str]] = {}
    code = _money_currency(program, body, errors)
    _benefits(body, errors)
    _refuse(errors)
    named = body.get("strategies") or body.get("strategy")
    ret = tenant.return_redemption(red.id, body.get("amount"), meta=body.get("meta"), currency=code,
                                   strategies=_strategies(body) if named else None)
    return _redemption_reply(call, ret, tenant.member_by_id(ret.member_id))


def return_redemption_benefits(call: Call) -> Reply:
    """Give back every benefit the redemption took (refusals: adapter.REVERSAL_TEXT / BENEFIT_RETURN_TEXT)."""
    tenant = call.tenant
    meta = call.body.get("meta") if isinstance(call.body, dict) else None
    ret = tenant.return_redemption_benefits(call.path["redemption"], meta=meta)
    return _redemption_reply(call, ret, tenant.member_by_id(ret.member_id))


def redeem_benefit(call: Call) -> Reply:
    member = _profile(call)
    body = call.body if isinstance(call.body, dict) else {}
    red = call.tenant.redeem_benefit(member, call.path["benefit"], int(body.get("count") or 1),
                                     meta=body.get("meta"))
    return _redemption_reply(call, red, member)


def redeem_credit(call: Call) -> Reply:
    member = _profile(call)
    body = call.body if isinstance(call.body, dict) else {}
    red = call.tenant.redeem_store_credit(member, call.path["credit"], body["amount"],
                                          security_code=body.get("security_code"), meta=body.get("meta"),
                                          refs=_refs(body))
    return _redemption_reply(call, red, member)


HAS = {"has_reward": "reward", "has_point": "point", "has_benefit": "benefit", "has_credit": "credit"}


def list_profile_redemptions(call: Call) -> Reply:
    member = _profile(call)
    page = paging.requested(call.query)
    has = {instrument: call.query[name] for name, instrument in HAS.items() if name in call.query}
    rows, total = call.tenant.redemptions_page(member, page.offset, page.size, has)
    data = [_redemption_data(call, red, member) for red in rows]
    return Reply(200, paging.envelope(call.request, data, total, page))


def _owned_redemption(call: Call, member: Member):
    red = call.tenant.redemption(call.path["redemption"])
    if red.member_id != member.id:   # another profile's redemption is not found under this one
        raise E.RedemptionNotFound("redemption not found", redemption=call.path["redemption"])
    return red


def get_profile_redemption(call: Call) -> Reply:
    member = _profile(call)
    return Reply(200, {"data": _redemption_data(call, _owned_redemption(call, member), member)})


def list_profile_linked_redemptions(call: Call) -> Reply:
    """Redemptions of the profiles linked to this one (by their `linked_profile_id`, as linked points), paged."""
    member = _profile(call)
    page = paging.requested(call.query)
    rows, total = call.tenant.linked_redemptions_page(LINK, _profile_id(member), page.offset, page.size)
    data = [_redemption_data(call, red) for red in rows]
    return Reply(200, paging.envelope(call.request, data, total, page))


def count_profile_redemptions(call: Call) -> Reply:
    """How many redemption items drew from one of the profile's records (a reward, a point record)."""
    member = _profile(call)
    kind, record = call.path["type"], call.path["id"]
    tenant = call.tenant
    if kind == "reward":
        reward = tenant.store.reward(record)
        if reward is None or reward.member_id != member.id:
            return render.not_found("App\\Models\\Reward", record)
    elif kind == "benefit":
        tenant.benefit(record, member)               # another profile's or unknown: 404
    elif kind == "credit":
        tenant.store_credit(record, member)
    return Reply(200, {"data": {"count": tenant.times_redeemed(kind, record)}})


def list_redemptions(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows, total = call.tenant.redemptions_page(None, page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_redemption_data(call, red) for red in rows], total, page))


def get_redemption(call: Call) -> Reply:
    return Reply(200, {"data": _redemption_data(call, call.tenant.redemption(call.path["redemption"]))})


def _item_data(call: Call, red, position: int) -> dict:
    tenant = call.tenant
    member = tenant.member_by_id(red.member_id)
    program = tenant.program(member.program_id)
    item = _redemption_items(tenant, red, _profile_id(member), program, call.now())[position]
    return {**item, "redemption_id": red.id}


def list_redemption_items(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows, total = call.tenant.redemption_parts_page(page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_item_data(call, red, pos) for red, pos in rows], total, page))


def get_redemption_item(call: Call) -> Reply:
    try:
        red, position = call.tenant.redemption_part(call.path["item"])
    except E.RedemptionNotFound:
        return render.not_found("App\\Models\\RedemptionItem", call.path["item"])
    return Reply(200, {"data": _item_data(call, red, position)})


# --- rewards: reads, changes, extension, definitions (part B) -------------------------------------------

def _reward_row(call: Call, reward, member: Member | None = None) -> dict:
    tenant = call.tenant
    member = member or tenant.member_by_id(reward.member_id)
    return render.reward(reward, _profile_id(member), tenant.program(member.program_id), call.now())


def list_profile_rewards(call: Call) -> Reply:
    member = _profile(call)
    page = paging.requested(call.query)
    rows, total = call.tenant.rewards_page(member, page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_reward_row(call, r, member) for r in rows], total, page))


def get_profile_reward(call: Call) -> Reply:
    member = _profile(call)
    return Reply(200, {"data": _reward_row(call, call.tenant.reward(call.path["reward"], member), member)})


def list_rewards(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows, total = call.tenant.rewards_page(None, page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_reward_row(call, r) for r in rows], total, page))


def get_reward(call: Call) -> Reply:
    return Reply(200, {"data": _reward_row(call, call.tenant.reward(call.path["reward"]))})


def create_profile_reward(call: Call) -> Reply:
    """POST /v3/profiles/{profile}/rewards: create_reward with the profile from the path (an unknown one is 404)."""
    member = _profile(call)
    return create_reward(dataclasses.replace(call, body={**call.body, "profile_id": _profile_id(member)}))


def update_reward(call: Call) -> Reply:
    body, tenant = call.body or {}, call.tenant
    reward = tenant.reward(call.path["reward"])
    errors: dict[str, list[str]] = {}
    expires = _time(body, "expires_at", errors, _zone(reward.timezone))
    _refuse(errors)
    changed = tenant.update_reward(reward.id, value_initial=body.get("value_initial"),
                                   value_remaining=body.get("value_remaining"), expires_at=expires,
                                   clear_expiry="expires_at" in body and body["expires_at"] is None,
                                   meta=body.get("meta"), set_meta="meta" in body)
    return Reply(200, {"data": _reward_row(call, changed)})


def delete_reward(call: Call) -> Reply:
    call.tenant.delete_reward(call.path["reward"])
    return Reply(204, None)


def extend_rewards(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    errors: dict[str, list[str]] = {}
    member = _member_or_none(tenant, body["profile_id"])
    if member is None:
        errors["profile_id"] = ["The selected profile id is invalid."]
    if body.get("extend_days") is None and body.get("extend_date") is None:
        errors["extend_days"] = ["The extend days field is required when extend date is not present."]
    elif body.get("extend_days") is not None and body.get("extend_date") is not None:
        errors["extend_days"] = ["The extend days field prohibits extend date from being present."]
    until = _time(body, "extend_date", errors)
    _refuse(errors)
    rewards = tenant.extend_rewards(member, list(body["ids"]), days=body.get("extend_days"), until=until)
    return Reply(200, {"data": [_reward_row(call, r, member) for r in rewards]})


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else UTC
    except (ValueError, KeyError, OSError):
        return UTC


# what a reward definition keeps as it was sent (rendered back by render.reward_definition)
DEFINITION_INFO = ("type", "max_value", "currency", "is_extendable", "is_assignable", "is_reassignable",
                   "is_published", "description", "short_description", "long_description", "terms_conditions",
                   "icon", "image_url", "internal_notes", "earn_instructions", "tags", "issue_target_id",
                   "expiry_target_id", "extend_target_id", "extend_days", "notify_issue_offset",
                   "notify_expiry_offset", "notify_schedule_offset", "notify_issue_offset_days",
                   "notify_issue_offset_hour", "notify_remind_offset_days", "notify_remind_offset_hour",
                   "notify_extend_offset_days", "notify_extend_offset_hour")


def _definition_row(definition, program: Program) -> dict:
    return render.reward_definition(definition, definition.id, program)


def list_reward_definitions(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows = call.tenant.reward_definitions()
    data = [_definition_row(d, p) for d, p in rows[page.offset:page.offset + page.size]]
    return Reply(200, paging.envelope(call.request, data, len(rows), page))


def get_reward_definition(call: Call) -> Reply:
    d, program = call.tenant.reward_definition(call.path["definition"])
    return Reply(200, {"data": _definition_row(d, program)})


def create_reward_definition(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = tenant.only_program()
    d = tenant.create_reward_definition(program, name=body["name"], handle=body["handle"],
                                        value=body.get("value") or 0, period=body.get("period"),
                                        period_type=body.get("period_type"),
                                        info={k: body[k] for k in DEFINITION_INFO if body.get(k) is not None})
    return Reply(201, {"data": _definition_row(d, tenant.program(program.id))})


def update_reward_definition(call: Call) -> Reply:
    body, tenant = call.body or {}, call.tenant
    d = tenant.update_reward_definition(call.path["definition"], name=body.get("name"), handle=body.get("handle"),
                                        value=body.get("value"), period=body.get("period"),
                                        period_type=body.get("period_type"),
                                        clear_period="period" in body and body["period"] is None,
                                        info={k: body[k] for k in DEFINITION_INFO if k in body})
    return Reply(200, {"data": _definition_row(d, tenant.reward_definition(d.id)[1])})


def delete_reward_definition(call: Call) -> Reply:
    call.tenant.delete_reward_definition(call.path["definition"])
    return Reply(204, None)


# --- tiers: definitions, tier points, calculate, assign (part B) ----------------------------------------

def calculate_profile_tiers(call: Call) -> Reply:
    """Same evaluation as GET .../tiers: the standing is brought up to now on every read."""
    return get_profile_tiers(call)


def assign_profile_tier(call: Call) -> Reply:
    member = _profile(call)
    program = call.tenant.program(member.program_id)
    progress = call.tenant.assign_tier(member, call.body["tier"])
    return Reply(200, render.profile_tier(progress, member, _profile_id(member), program))


TIER_INFO = ("is_assignable", "disable_credit", "internal_notes", "description", "short_description",
             "long_description", "terms_conditions", "icon", "image_url", "earn_instructions", "tags", "meta")


def list_tier_definitions(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows = call.tenant.tier_definitions()
    data = [render.tier_definition(t, p) for t, p in rows[page.offset:page.offset + page.size]]
    return Reply(200, paging.envelope(call.request, data, len(rows), page))


def get_tier_definition(call: Call) -> Reply:
    tier, program = call.tenant.tier_definition(call.path["definition"])
    return Reply(200, {"data": render.tier_definition(tier, program)})


def create_tier_definition(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = tenant.only_program()
    tier = tenant.create_tier_definition(program, name=body["name"], handle=body["handle"],
                                         value_min=body["value_min"], value_maintain=body.get("value_maintain"),
                                         is_floor=body.get("is_floor"),
                                         info={k: body[k] for k in TIER_INFO if body.get(k) is not None})
    return Reply(201, {"data": render.tier_definition(tier, tenant.program(program.id))})


def update_tier_definition(call: Call) -> Reply:
    body, tenant = call.body or {}, call.tenant
    tier = tenant.update_tier_definition(call.path["definition"], name=body.get("name"), handle=body.get("handle"),
                                         value_min=body.get("value_min"), value_maintain=body.get("value_maintain"),
                                         is_floor=body.get("is_floor"),
                                         info={k: body[k] for k in TIER_INFO if k in body})
    return Reply(200, {"data": render.tier_definition(tier, tenant.tier_definition(tier.id)[1])})


def delete_tier_definition(call: Call) -> Reply:
    call.tenant.delete_tier_definition(call.path["definition"])
    return Reply(204, None)


def _tier_point_row(call: Call, c, member: Member | None = None) -> dict:
    tenant = call.tenant
    member = member or tenant.member_by_id(c.member_id)
    program = tenant.program(member.program_id)
    info = tenant.tier_point_info(c)
    entry = tenant.store.entry(c.source) if c.source else None
    currency = program.currency(entry.currency_id if entry else info.get("currency")) or program.default_currency
    receipt = (entry.refs or {}).get("receipt") if entry is not None else None
    source = ("transaction", receipt) if receipt is not None else ("point", entry.seq) if entry is not None \
        else (None, None)
    return render.tier_point(c, _profile_id(member), render.point_definition_id(currency, program), info, *source)


def list_tier_points(call: Call) -> Reply:
    page = paging.requested(call.query)
    rows, total = call.tenant.tier_points_page(None, page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_tier_point_row(call, c) for c in rows], total, page))


def get_tier_point(call: Call) -> Reply:
    return Reply(200, {"data": _tier_point_row(call, call.tenant.tier_point(call.path["point"]))})


def create_tier_points(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    errors: dict[str, list[str]] = {}
    member = _member_or_none(tenant, body["profile_id"])
    if member is None:
        errors["profile_id"] = ["The selected profile id is invalid."]
    currency = None
    for p in _programs(tenant, member):
        try:
            currency = tenant.currency_by(p, POINT_DEFINITION, body["point_definition_id"])
            break
        except E.CurrencyNotFound:
            continue
    if currency is None:
        errors["point_definition_id"] = ["The selected point definition id is invalid."]
    issued = _time(body, "issued_at", errors)
    accrued = _time(body, "accrued_at", errors)
    _refuse(errors)
    c = tenant.add_tier_points(member, Decimal(str(body["value"])), at=issued, currency=currency,
                               meta=body.get("meta"), accrued_at=accrued)
    return Reply(201, {"data": _tier_point_row(call, c, member)})


def list_profile_tier_points(call: Call) -> Reply:
    member = _profile(call)
    page = paging.requested(call.query)
    rows, total = call.tenant.tier_points_page(member, page.offset, page.size)
    return Reply(200, paging.envelope(call.request, [_tier_point_row(call, c, member) for c in rows], total, page))


def list_profile_tier_points_by_source(call: Call) -> Reply:
    """The tier points a transaction (or one of its items: items earn with their transaction) gave the profile."""
    member = _profile(call)
    tenant, q = call.tenant, call.query
    source, kind, identifier = q["source"], q.get("identifier_type", "id"), q["identifier"]
    if source == "benefit":
        return render.not_found("App\\Models\\Benefit", identifier)
    if kind == "id":
        if not str(identifier).isdigit():
            return render.not_found("App\\Models\\Transaction", identifier)
        receipts = [tenant.receipt(int(identifier), member)]
    else:
        receipts = tenant.find_receipts(member, **{kind: identifier})
        if not receipts:
            return render.not_found("App\\Models\\Transaction", identifier)
    rows = sorted({c.id: c for r in receipts for e in r.entries for c in tenant.tier_points_of(member, e)}.values(),
                  key=lambda c: c.id)
    return Reply(200, {"data": [_tier_point_row(call, c, member) for c in rows]})
