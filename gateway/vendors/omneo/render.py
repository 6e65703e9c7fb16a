"""Engine figures -> Omneo bodies: `{"data": ...}`, money as numbers rounded half-up to cents, points at
the engine's precision, tier figures as whole points (floored), timestamps as `YYYY-MM-DD HH:MM:SS` UTC.
Also the Laravel error bodies (`{"message"}`, `{"message", "errors"}`)."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from ...engine.ledger import Balance
from ...engine.model import Member, Program, Tier
from ...engine.tiers import TierProgress
from ..base import Reply
from ..format import laravel, money, parse_datetime

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
             rate: Decimal | None = None) -> dict:
    reward_balance = money(rewards)
    point_dollars = money(b.value(b.available))
    combined = reward_balance + point_dollars
    base = {"reward_balance": reward_balance, "point_balance_dollars": point_dollars,
            "combined_balance_dollars": combined}
    localised = dict(base) if rate is None else {k: money(v * rate) for k, v in base.items()}
    return {"data": {
        "reward_balance": reward_balance,
        "credit_balance": 0,
        "point_balance": b.available,
        "point_balance_dollars": point_dollars,
        "benefit_balance": 0,
        "combined_balance_dollars": combined,
        "localised": localised,
        "currency": currency(program, code, rate) if code is not None else None,
    }}


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
        "total_points_achievement": None if p.is_floor else whole(p.current_progress),
        "next_progress_change_at": laravel(p.next_progress_change_at),
        "anniversary_at": laravel(p.anniversary_at),
        "maintained_at": None,
        "assigned_at": None,
        "achieved_at": laravel(p.achieved_at),
        "created_at": laravel(member.joined_at),
        "updated_at": laravel(member.updated_at or member.joined_at),
    }}
