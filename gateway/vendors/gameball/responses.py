"""Gameball handlers, one per operationId: request -> one engine call -> Gameball body."""
from __future__ import annotations

from ..base import Call, Reply
from . import render

CUSTOMER = "gameball.customer"


def _customer(call: Call, customer_id: str):
    return call.tenant.member(CUSTOMER, customer_id)


def get_customer_balance(call: Call) -> Reply:
    member = _customer(call, call.path["customerId"])
    program = call.tenant.program(member.program_id)
    body = render.balance(call.tenant.balance(member, program.default_currency), program.money_currency)
    expand = set(filter(None, (call.query.get("expand") or "").split(",")))
    if "tier" in expand:
        progress = call.tenant.tier_progress(member)
        if progress is not None:
            body["tier"] = render.tier(progress, program.tiers)
    if "referrals" in expand:
        body["referrals"] = {"count": 0, "totalPending": 0, "totalActive": 0}
    return Reply(200, body)
