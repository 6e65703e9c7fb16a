"""Engine figures -> Omneo bodies: `{"data": ...}`, money as numbers rounded half-up to cents, points at
the engine's precision, tier figures as whole points (floored), timestamps as `YYYY-MM-DD HH:MM:SS` UTC.
Also the Laravel error bodies (`{"message"}`, `{"message", "errors"}`)."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ...engine.ledger import Balance
from ...engine.model import Entry, Lot, Member, PointCurrency, Program, Redemption, Reward, RewardDefinition, Tier
from ...engine.tiers import TierProgress
from ..base import Reply
from ..format import UTC, laravel, money, parse_datetime

PROFILE_MODEL = "App\\Models\\Profile"
EPOCH = "1970-01-01 00:00:00"


# --- errors ------------------------------------------------------------------------------------

def error(status: int, message: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"message": message}, dict(headers or {}))


def not_found(model: str, key=None) -> Reply:
    """Laravel's ModelNotFoundException text: `No query results for model [App\\Models\\X] <id>`."""
    suffix = f" {key}" if key not in (None, "") else "."
    return error(404, f"No query results for model [{model}]{suffix}")


def validation(errors: dict[str, list[str]]) -> Reply:
    """Laravel >= 9 ValidationException: the first message, `(and N more error[s])`, errors per field."""
    messages = [m for ms in errors.values() for m in ms]
    message = messages[0]
    more = len(messages) - 1
    if more:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return Reply(422, {"message": message, "errors": {k: list(v) for k, v in errors.items()}})


# --- scalars -------------------------------------------------------------------------------------

def whole(value: Decimal | None) -> int | None:
    """Tier figures: whole points, floored (documented as INTEGER)."""
    return None if value is None else int(value.to_integral_value(rounding=ROUND_FLOOR))


def stamp(value, default: str = EPOCH) -> str:
    """A configured timestamp (datetime or ISO / Laravel string) as Omneo prints it."""
    if isinstance(value, datetime):
        return laravel(value)
    if isinstance(value, str) and value.strip():
        return laravel(parse_datetime(value))
    return default


def program_stamp(program: Program, key: str) -> str:
    """created_at / updated_at of configuration records the engine does not date itself: the program's
    own `info`, else its default point currency's, else the epoch. Never wall time: stable answers."""
    for info in (program.info, program.default_currency.info):
        if info.get(key):
            return stamp(info[key])
    return EPOCH


# --- balances --------------------------------------------------------------------------------------

def currency(program: Program, code: str, rate: Decimal) -> dict:
    """The tenant's conversion record from the program's money currency to `code`."""
    codes = list(program.currency_rates)
    return {"id": codes.index(code) + 1, "from": program.money_currency, "to": code, "rate": rate,
            "is_system": code == program.money_currency,
            "created_at": program_stamp(program, "created_at"), "updated_at": program_stamp(program, "updated_at")}


def balances(b: Balance, rewards: Decimal, program: Program, code: str | None = None,
             rate: Decimal | None = None, credits: Decimal = Decimal(0), benefits: int = 0) -> dict:
    reward_balance = money(rewards)
    point_dollars = money(b.value(b.available))
    combined = reward_balance + point_dollars
    base = {"reward_balance": reward_balance, "point_balance_dollars": point_dollars,
            "combined_balance_dollars": combined}
    localised = dict(base) if rate is None else {k: money(v * rate) for k, v in base.items()}
    return {"data": {
        "reward_balance": reward_balance,
        "credit_balance": money(credits),       # not in combined_balance_dollars [D]
        "point_balance": b.available,
        "point_balance_dollars": point_dollars,
        "benefit_balance": benefits,            # benefits redeemable now [gateway choice]
        "combined_balance_dollars": combined,
        "localised": localised,
        "currency": currency(program, code, rate) if code is not None else None,
    }}


# --- profiles (part A) -----------------------------------------------------------------------------------

IDENTITY = "omneo.identity."          # engine identity kinds of Omneo identities: omneo.identity.<handle>
NAMED = ("title", "first_name", "last_name", "email", "mobile", "mobile_phone")


def profile_tier_summary(p: TierProgress | None, member: Member, profile_id: str) -> dict | None:
    if p is None:
        return None
    return {"id": member.seq, "profile_id": profile_id, "name": p.current.name, "handle": p.current.handle,
            "anniversary_at": laravel(p.anniversary_at), "maintained_at": laravel(p.maintained_at),
            "assigned_at": laravel(p.assigned_at),
            "achieved_at": laravel(p.achieved_at)}


def profile(s, profile_id: str) -> dict:
    """A profile (`s`: the engine's MemberSummary) with its balances embedded as GET .../balances gives them."""
    m, attrs = s.member, s.member.attributes
    b = balances(s.balance, s.rewards, s.program, credits=s.credits, benefits=s.benefits)["data"]
    identities = [{"handle": k[len(IDENTITY):], "identifier": str(v)} for k, v in m.identities.items()
                  if k.startswith(IDENTITY)]
    first, last = attrs.get("first_name"), attrs.get("last_name")
    full = " ".join(str(x) for x in (first, last) if x) or None
    return {
        "id": profile_id,
        "external_id": identities[0]["identifier"] if identities else None,
        "title": attrs.get("title"),
        "first_name": first,
        "last_name": last,
        "full_name": full,
        "email": attrs.get("email"),
        "mobile_phone": attrs.get("mobile_phone", attrs.get("mobile")),
        "currency": s.program.money_currency,
        "joined_at": laravel(m.joined_at),
        "profile_type": "active" if m.active else "deleted",
        "tier_handle": s.tier.current.handle if s.tier is not None else None,
        "tier": profile_tier_summary(s.tier, m, profile_id),
        "identities": identities,
        "tags": [],
        "statuses": [],
        "attributes": {k: v for k, v in attrs.items() if k not in NAMED},
        "reward_balance": b["reward_balance"],
        "point_balance": b["point_balance"],
        "point_balance_dollars": b["point_balance_dollars"],
        "combined_balance_dollars": b["combined_balance_dollars"],
        "credit_balance": b["credit_balance"],
        "benefit_balance": b["benefit_balance"],
        "created_at": laravel(m.joined_at),
        "updated_at": laravel(m.updated_at or m.joined_at),
    }


# --- rates (part A) --------------------------------------------------------------------------------------

RATE_INFO = ("region_id", "country_iso_2", "profile_conditions", "product_conditions", "issue_period",
             "issue_period_type", "issue_absolute_expiry", "earn_instructions", "internal_notes")


def rate(r) -> dict:
    """An engine EarnRate as Omneo's Rate; the descriptive fields as they were sent."""
    info = r.info
    body = {"id": r.id, "handle": r.handle, "type": r.type, "code": r.code, "name": r.name, "rate": r.rate,
            "location": r.location, "location_id": r.location_id, "location_object": None,
            "region_id": info.get("region_id"), "region": None, "country_iso_2": info.get("country_iso_2"),
            "profile_conditions": info.get("profile_conditions"),
            "product_conditions": info.get("product_conditions"),
            "start_time": laravel(r.start_time), "end_time": laravel(r.end_time), "priority": r.priority,
            "is_default": r.is_default, "is_archived": r.is_archived, "is_published": r.is_published,
            "issue_period": info.get("issue_period"), "issue_period_type": info.get("issue_period_type"),
            "issue_absolute_expiry": stamp(info.get("issue_absolute_expiry"), None),
            "earn_instructions": info.get("earn_instructions"), "internal_notes": info.get("internal_notes"),
            "created_at": laravel(r.created_at), "updated_at": laravel(r.updated_at or r.created_at)}
    return body


# --- transactions (part A) -------------------------------------------------------------------------------

ITEM_FIELDS = ("name", "quantity", "price_current", "price_sell", "price_tax", "price_original", "product_variant_id",
               "product_variant", "discounts")


def transaction(r, profile_id: str) -> dict:
    """An engine Receipt as Omneo's Transaction: the engine's figures, and what the client sent as sent."""
    info = r.info
    return {
        "id": r.id, "profile_id": profile_id, "external_id": r.external_id, "receipt_ref": r.receipt_ref,
        "location_id": r.location_id, "location": None, "total": r.total,
        "total_original": info.get("total_original"), "timezone": info.get("timezone"),
        "transacted_at": laravel(r.transacted_at), "systems": list(info.get("systems") or []),
        "tags": list(info.get("tags") or []), "meta": info.get("meta"), "is_void": r.is_void,
        "receipt_is_email": bool(info.get("receipt_is_email")), "payments": list(info.get("payments") or []),
        "items": [{k: item.get(k) for k in ITEM_FIELDS} for item in info.get("items") or []],
        "redemption": None, "created_at": laravel(r.created_at), "updated_at": laravel(r.updated_at or r.created_at)}


def transaction_source(r) -> dict:
    """What a point record earned by a transaction shows as its `source`."""
    return {"id": r.id, "external_id": r.external_id, "receipt_ref": r.receipt_ref,
            "transacted_at": laravel(r.transacted_at), "total": r.total}


def incentive_estimate(est) -> dict:
    return {"data": {"points": est.points, "points_dollars": money(est.value), "tier_points": est.tier_points,
                     "available_at": laravel(est.available_at),
                     "items": [{"index": i, "points": p, "rate": rate(x) if x is not None else None}
                               for i, (x, p) in enumerate(est.lines)]}}


# --- tiers -------------------------------------------------------------------------------------------

def tier_definition(tier: Tier | None, program: Program) -> dict | None:
    if tier is None:
        return None
    info = tier.info
    return {
        "id": tier.id,
        "name": tier.name,
        "handle": tier.handle,
        "is_floor": tier.is_floor,
        "value_min": whole(tier.value_min),
        "value_maintain": whole(tier.value_maintain),
        "is_assignable": bool(info.get("is_assignable", False)),
        "internal_notes": info.get("internal_notes"),
        "description": info.get("description"),
        "short_description": info.get("short_description"),
        "long_description": info.get("long_description"),
        "terms_conditions": info.get("terms_conditions"),
        "icon": info.get("icon"),
        "image_url": info.get("image_url"),
        "earn_instructions": info.get("earn_instructions"),
        "disable_credit": bool(info.get("disable_credit", False)),
        "tags": list(info.get("tags") or []),
        "meta": info.get("meta"),
        "region_id": None,
        "region": None,
        "created_at": stamp(info.get("created_at"), program_stamp(program, "created_at")),
        "updated_at": stamp(info.get("updated_at"), program_stamp(program, "updated_at")),
    }


def profile_tier(p: TierProgress, member: Member, profile_id: str, program: Program) -> dict:
    return {"data": {
        "id": member.seq,
        "profile_id": profile_id,
        "current_tier": tier_definition(p.current, program),
        "next_tier": tier_definition(p.next, program),
        "prev_tier": tier_definition(p.prev, program),
        "is_floor": p.is_floor,
        "current_credit": whole(p.current_credit),
        "current_progress": whole(p.current_progress),
        "current_remain": whole(p.current_remain),
        "next_progress": whole(p.next_progress),
        "next_remain": whole(p.next_remain),
        "total_points_12m": whole(p.points_window),
        # points issued since the current tier was achieved; null on the floor tier (documented example)
        "total_points_achievement": None if p.is_floor else whole(
            p.current_progress if p.since_achieved is None else p.since_achieved),
        "next_progress_change_at": laravel(p.next_progress_change_at),
        "anniversary_at": laravel(p.anniversary_at),
        "maintained_at": laravel(p.maintained_at),
        "assigned_at": laravel(p.assigned_at),
        "achieved_at": laravel(p.achieved_at),
        "created_at": laravel(member.joined_at),
        "updated_at": laravel(member.updated_at or member.joined_at),
    }}


# --- points ------------------------------------------------------------------------------------------
# A point record is one credit of the engine: its entry (id = the entry's integer `seq`) and the lot it
# created (value_remaining = what is left of the lot).

def point_definition_id(currency: PointCurrency, program: Program) -> int:
    ext = currency.external.get("omneo.point_definition_id")
    if ext is not None:
        return int(ext[0] if isinstance(ext, (list, tuple)) else ext)
    return program.currencies.index(currency) + 1


PERIOD_TYPES = {"day": "days", "week": "weeks", "month": "months", "year": "years"}   # expiry unit -> issue_period_type


def point_definition(currency: PointCurrency, program: Program) -> dict:
    """The point currency as Omneo's point definition; its expiry rule is the definition's issue period."""
    info = currency.info
    if currency.expiry_days is not None:
        period, period_type = currency.expiry_days, "days"
    elif currency.expiry_rule is not None:
        period, period_type = currency.expiry_rule.value, PERIOD_TYPES[currency.expiry_rule.unit]
    elif currency.fixed_expiry:
        period, period_type = None, "absolute_date"
    else:
        period, period_type = None, None
    return {
        "id": point_definition_id(currency, program),
        "name": currency.name,
        "handle": info.get("handle") or currency.id,
        "description": info.get("description"),
        "notes": info.get("notes"),
        "is_reassignable": bool(info.get("is_reassignable", False)),
        "tags": list(info.get("tags") or []),
        "currency": program.money_currency,
        "region_id": None,
        "region": None,
        "issue_period": period,
        "issue_period_type": period_type,
        "issue_absolute_expiry": None,
        "created_at": stamp(currency.created_at or info.get("created_at"), program_stamp(program, "created_at")),
        "updated_at": stamp(currency.updated_at or info.get("updated_at") or currency.created_at,
                            program_stamp(program, "updated_at")),
    }


def point(credit: Entry, lot: Lot, profile_id: str, currency: PointCurrency, program: Program,
          updated_at: datetime | None = None, *, rate_body: dict | None = None, source_type: str | None = None,
          source: dict | None = None) -> dict:
    created = laravel(credit.recorded_at or credit.at)
    return {
        "id": credit.seq,
        "profile_id": profile_id,
        "linked_profile_id": None,
        "value_initial": lot.amount,
        "value_remaining": lot.remaining,
        "value_initial_currency": money(lot.amount * currency.value),
        "value_remaining_currency": money(lot.remaining * currency.value),
        "issued_at": laravel(lot.available_at),
        "accrued_at": laravel(lot.earned_at),
        "expires_at": laravel(lot.expires_at),
        "status": None,
        "description": credit.description,
        "meta": credit.meta,
        "definition": point_definition(currency, program),
        "rate": rate_body,
        "source_type": source_type,
        "source": source,
        "created_at": created,
        "updated_at": laravel(updated_at) if updated_at is not None else created,
    }


# --- rewards -------------------------------------------------------------------------------------------

def local(at: datetime | None, tz: str | None) -> str | None:
    """A UTC instant as wall time in the reward's IANA zone, Omneo-formatted."""
    if at is None:
        return None
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ValueError, KeyError, OSError):
        zone = UTC
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def reward_definition(d: RewardDefinition | None, definition_id: int, program: Program) -> dict:
    info = d.info if d is not None else {}
    created = stamp(info.get("created_at"), program_stamp(program, "created_at"))
    updated = stamp(info.get("updated_at"), program_stamp(program, "updated_at"))
    period = d.period_days if d is not None else None
    body: dict[str, Any] = {
        "id": d.id if d is not None else definition_id,
        "name": d.name if d is not None else None,
        "handle": d.handle if d is not None else None,
        "type": info.get("type") or "other",
        "period": period,
        "period_type": "days" if period is not None else None,
        "absolute_expiry": None,
        "value": money(d.value) if d is not None else None,
        "max_value": info.get("max_value"),
        "currency": info.get("currency"),
        "is_extendable": bool(info.get("is_extendable", False)),
        "is_assignable": bool(info.get("is_assignable", True)),
        "is_reassignable": bool(info.get("is_reassignable", False)),
        "is_published": bool(info.get("is_published", True)),
    }
    for key in ("description", "short_description", "long_description", "terms_conditions", "icon", "image_url",
                "internal_notes", "earn_instructions"):
        body[key] = info.get(key)
    body["tags"] = list(info.get("tags") or [])
    body["region_id"] = None
    body["region"] = None
    for key in ("issue_target_id", "expiry_target_id", "extend_target_id", "extend_days", "notify_issue_offset",
                "notify_expiry_offset", "notify_schedule_offset", "notify_issue_offset_days",
                "notify_issue_offset_hour", "notify_remind_offset_days", "notify_remind_offset_hour",
                "notify_extend_offset_days", "notify_extend_offset_hour"):
        body[key] = info.get(key)
    body["created_at"] = created
    body["updated_at"] = updated
    return body


def reward(r: Reward, profile_id: str, program: Program, now: datetime) -> dict:
    d = next((x for x in program.reward_definitions if x.id == r.definition_id), None)
    created = laravel(r.created_at or r.issued_at)
    return {
        "id": r.id,
        "profile_id": profile_id,
        "timezone": r.timezone,
        "value_initial": money(r.value_initial),
        "value_remaining": money(r.value_remaining),
        "issued_at": laravel(r.issued_at),
        "expires_at": laravel(r.expires_at),
        "issued_local_at": local(r.issued_at, r.timezone),
        "expires_local_at": local(r.expires_at, r.timezone),
        "is_expired": r.is_expired(now),
        # Omneo's is_active says nothing of expiry (is_expired does): false once nothing is left (documented),
        # or before it is issued
        "is_active": r.is_open(now),
        "notify_issue_at": None,
        "notify_expiry_at": None,
        "extended_at": laravel(r.extended_at),
        "has_notified_issue": False,
        "has_notified_expiry": False,
        "has_notified_extend": False,
        "source_id": None,
        "source_type": None,
        "meta": r.meta,
        "definition": reward_definition(d, r.definition_id, program),
        "created_at": created,
        "updated_at": laravel(r.updated_at) if r.updated_at else created,
    }


# --- redemptions ---------------------------------------------------------------------------------------

def redemption_item(item_id: int, kind: str, value: Decimal, attributes: dict, at: datetime,
                    count: int = 1) -> dict:
    """One record touched: `value` in the record's own unit (dollars for a reward or a credit, points for a point,
    dollars for a benefit, whose `count` is how many were taken or given back)."""
    return {"id": item_id, "type": kind, "value": value if kind == "point" else money(value), "count": count,
            "type_attributes": attributes, "created_at": laravel(at), "updated_at": laravel(at)}


def store_credit(c, profile_id: str, now: datetime) -> dict:
    """A credit (gift card, store credit): never its security code, only whether it has one [gateway choice]."""
    return {
        "id": c.id, "profile_id": profile_id, "name": c.name,
        "value_initial": money(c.value_initial), "value_remaining": money(c.value_remaining),
        "has_security_code": bool(c.security_code),
        "issued_at": laravel(c.issued_at), "expires_at": laravel(c.expires_at),
        "is_active": c.is_active(now), "is_expired": c.expires_at is not None and c.expires_at <= now,
        "external_id": c.external_id, "meta": c.meta,
        "created_at": laravel(c.issued_at), "updated_at": laravel(c.updated_at or c.issued_at),
    }


def benefit(b, profile_id: str, now: datetime) -> dict:
    return {
        "id": b.id, "profile_id": profile_id, "handle": b.handle, "name": b.name, "value": money(b.value),
        "quantity_initial": b.quantity_initial, "quantity_remaining": b.quantity_remaining,
        "issued_at": laravel(b.issued_at), "expires_at": laravel(b.expires_at),
        "is_active": b.is_active(now), "is_expired": b.expires_at is not None and b.expires_at <= now,
        "meta": b.meta,
        "created_at": laravel(b.issued_at), "updated_at": laravel(b.updated_at or b.issued_at),
    }


def redemption_profile(member: Member) -> dict:
    """The redeeming profile as a redemption embeds it [D]: names, email, statuses (none modelled)."""
    a = member.attributes
    first, last = a.get("first_name"), a.get("last_name")
    full = " ".join(str(x) for x in (first, last) if x) or None
    return {"first_name": first, "last_name": last, "full_name": full, "email": a.get("email"), "statuses": []}


def redemption(red: Redemption, member: Member, profile_id: str, items: list[dict], balance_data: dict | None,
               currency_record: dict | None, receipt=None) -> dict:
    """A redemption (redeem, return, reversal). `balance_data`: the balances right after a write (the
    SuccessfulRedemption answer); None in reads, which carry no balances."""
    refs = red.refs or {}
    total = money(red.total)
    body = {
        "id": red.id,
        "profile_id": profile_id,
        "profile": redemption_profile(member),
        "type": red.kind,
        "total": total,
        "total_localised": total if red.total_localised is None else money(red.total_localised),
        "location_id": refs.get("location_id"),
        "location": None,
        "currency": currency_record,
        "items": items,
        "meta": red.meta,
        # the recorded transaction the redemption named, if there is one
        "transaction_id": receipt.id if receipt is not None else None,
        "transaction": None if receipt is None else {
            "external_id": receipt.external_id, "receipt_ref": receipt.receipt_ref,
            "transacted_at": laravel(receipt.transacted_at), "total": money(receipt.total), "location": None},
        "transaction_external_id": refs.get("transaction_external_id"),
        "transaction_receipt_ref": refs.get("transaction_receipt_ref"),
        "redeem_at": laravel(red.created_at),
        "created_at": laravel(red.created_at),
        "updated_at": laravel(red.created_at),
    }
    if balance_data is not None:
        body["balances"] = balance_data
    return body


# --- tier points (part B) ----------------------------------------------------------------------------------

def tier_point(c, profile_id: str, definition_id: int, info: dict, source_type: str | None,
               source_id: int | None) -> dict:
    """One tier-points movement: earned by a transaction (`source_type` transaction) or with another point record
    (`point`), a reversal of one (negative, same source), or added by hand (no source)."""
    recorded = info.get("recorded_at") or c.at
    return {
        "id": c.id,
        "profile_id": profile_id,
        "point_definition_id": definition_id,
        "value": c.amount,
        "issued_at": laravel(c.at),
        "accrued_at": laravel(info.get("accrued_at") or c.at),
        "status": None,
        "source_id": source_id,
        "source_type": source_type,
        "source": None,
        "meta": info.get("meta"),
        "created_at": laravel(recorded),
        "updated_at": laravel(recorded),
    }

