"""Omneo handlers, one per operationId: request -> one engine call -> Omneo body."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ...engine import errors as E
from ...engine.model import Member, Program, RewardDefinition
from ...engine.tenant import Tenant
from ..base import Call, Reply, VendorError
from ..format import UTC, parse_datetime
from . import paging, render

PROFILE = "omneo.profile"
POINT_DEFINITION = "omneo.point_definition_id"
POINT_ORIGIN = "omneo.point"
CURRENCY_INVALID = "The selected currency is invalid."
DEFAULT_STRATEGIES = ["rewards", "points"]

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
    return render.balances(balance, tenant.reward_balance(member), program, code, rate)["data"]


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
             if f"filter[{f}]" in call.query}
    total, rows = call.tenant.summaries(match=match, offset=page.offset, limit=page.size)
    return Reply(200, paging.envelope(call.request, [_profile_row(r) for r in rows], total, page))


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
    return [tenant.program(member.program_id)] if member is not None else list(tenant.programs.values())


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
    _same(body, "value_remaining", "value_initial", errors)
    issued = _time(body, "issued_at", errors)
    accrued = _time(body, "accrued_at", errors)
    expires = _time(body, "expires_at", errors)
    _refuse(errors)

    # points count once issued_at is reached (no issued_at: the engine's grant rule decides); accrued_at
    # defaults to issued_at
    entry = tenant.grant(member, currency, body["value_initial"], earned_at=accrued or issued,
                         available_at=issued, expires_at=expires, origin=POINT_ORIGIN,
                         description=body.get("description"), meta=body.get("meta"))
    lot = tenant.store.lot(entry.lots[0][0])
    return Reply(201, {"data": render.point(entry, lot, _profile_id(member, body["profile_id"]), currency, program)})


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
    for instrument, record_id, value in tenant.redemption_touched(red):
        if instrument == "reward":
            touched.append(("reward", value, render.reward(tenant.store.reward(record_id), profile_id, program, now)))
        else:
            credit = tenant.store.entry(record_id)
            lot = tenant.store.lot(credit.lots[0][0])
            touched.append(("point", value, render.point(credit, lot, profile_id, program.default_currency, program,
                                                         red.created_at)))
    return [render.redemption_item(i, kind, value, attrs, red.created_at)
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
    return render.redemption(red, member, profile_id, items, balances, record)


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
    """Benefits are not modelled: the tenant has none, so any benefit named is not an existing one (Laravel's
    `exists` rule on each `benefits.N.id`)."""
    for n, _ in enumerate(body.get("benefits") or ()):
        errors[f"benefits.{n}.id"] = [NO_BENEFIT.format(field=f"benefits.{n}.id")]


def redeem(call: Call) -> Reply:
    member = _profile(call)
    body, tenant = call.body, call.tenant
    program = tenant.program(member.program_id)
    errors: dict[str, list[str]] = {}
    code = _money_currency(program, body, errors)
    _benefits(body, errors)
    _refuse(errors)
    refs = {k: body[k] for k in ("location_id", "transaction_external_id", "transaction_receipt_ref")
            if body.get(k) is not None}
    red = tenant.redeem_value(member, body["amount"], _strategies(body), strict=bool(body.get("strict", False)),
                              meta=body.get("meta"), refs=refs, currency=code)
    return _redemption_reply(call, red, member)


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
    ret = tenant.return_redemption(red.id, body.get("amount"), meta=body.get("meta"), currency=code)
    return _redemption_reply(call, ret, tenant.member_by_id(ret.member_id))


def return_redemption_benefits(call: Call) -> Reply:
    """No redemption holds benefits (benefits are not modelled): an existing redemption has none to give back."""
    call.tenant.redemption(call.path["redemption"])
    raise VendorError(render.validation({"redemption": ["The redemption has no benefits to return."]}))


def redeem_benefit(call: Call) -> Reply:
    _profile(call)
    return render.not_found("App\\Models\\Benefit", call.path["benefit"])


def redeem_credit(call: Call) -> Reply:
    _profile(call)
    return render.not_found("App\\Models\\Credit", call.path["credit"])


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
    """Redemptions of the profiles linked to this one: profile links are not modelled, so none [gateway choice]."""
    _profile(call)
    return Reply(200, {"data": []})


def count_profile_redemptions(call: Call) -> Reply:
    """How many redemption items drew from one of the profile's records (a reward, a point record)."""
    member = _profile(call)
    kind, record = call.path["type"], call.path["id"]
    tenant = call.tenant
    if kind == "reward":
        reward = tenant.store.reward(record)
        if reward is None or reward.member_id != member.id:
            return render.not_found("App\\Models\\Reward", record)
    elif kind in ("benefit", "credit"):
        return render.not_found("App\\Models\\" + kind.capitalize(), record)
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
