"""Omneo handlers, one per operationId: request -> one engine call -> Omneo body."""
from __future__ import annotations

from ..base import Call, Reply, VendorError
from . import render

PROFILE = "omneo.profile"
CURRENCY_INVALID = "The selected currency is invalid."


def _profile(call: Call):
    return call.tenant.member(PROFILE, call.path["profile"])


def get_profile_balances(call: Call) -> Reply:
    member = _profile(call)
    program = call.tenant.program(member.program_id)
    code = call.query.get("currency")
    rate = None
    if code is not None:
        rate = program.currency_rates.get(code)
        if rate is None:
            raise VendorError(render.validation({"currency": [CURRENCY_INVALID]}))
    balance = call.tenant.balance(member, program.default_currency)
    rewards = call.tenant.reward_balance(member)
    return Reply(200, render.balances(balance, rewards, program, code, rate))


def get_profile_tiers(call: Call) -> Reply:
    member = _profile(call)
    program = call.tenant.program(member.program_id)
    progress = call.tenant.tier_progress(member)
    profile_id = member.identities.get(PROFILE, call.path["profile"])
    if progress is None:   # a program without tier definitions: no profile tier record
        return render.not_found("App\\Models\\ProfileTier", profile_id)
    return Reply(200, render.profile_tier(progress, member, profile_id, program))
