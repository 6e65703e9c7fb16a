"""Altcraft handlers, one per operationId: request -> one engine call -> Altcraft body.

Identifiers travel in the body: the program by `loyalty_program_id`, the points currency by
`points_currency_iid` / `points_currency_eid` (default: the program's default currency), the profile
by `matching` + the field it names."""
from __future__ import annotations

from typing import Any

from ...engine.errors import InvalidRequest
from ...engine.model import Member, PointCurrency, Program
from ...engine.tenant import Tenant
from ..base import Call, Reply
from . import render

PROGRAM = "altcraft.program_id"
IID = "altcraft.iid"
EID = "altcraft.eid"
# matching mode -> (identity kind, body field holding the value)
MATCHING = {"email": ("altcraft.email", "email"),
            "phone": ("altcraft.phone", "phone"),
            "profile_id": ("altcraft.profile_id", "profile_id")}


def _program(call: Call) -> Program:
    return call.tenant.program_by(PROGRAM, call.body["loyalty_program_id"])


def _currency(call: Call, program: Program) -> PointCurrency:
    iid, eid = call.body.get("points_currency_iid"), call.body.get("points_currency_eid")
    by_iid = Tenant.currency_by(program, IID, iid) if iid is not None else None
    by_eid = Tenant.currency_by(program, EID, eid) if eid is not None else None
    if by_iid is not None and by_eid is not None and by_iid.id != by_eid.id:
        raise InvalidRequest("points_currency_iid and points_currency_eid name different points currencies",
                             points_currency_iid=iid, points_currency_eid=eid)
    return by_iid or by_eid or Tenant.currency(program)


def _identity(body: dict) -> tuple[str, Any]:
    mode = body["matching"]
    if mode == "custom":
        return f"altcraft.field.{body['field_name']}", body["field_value"]
    kind, name = MATCHING[mode]
    return kind, body[name]


def _member(call: Call, program: Program) -> Member:
    kind, value = _identity(call.body)
    return call.tenant.member(kind, value, program=program)


def get_account_balance(call: Call) -> Reply:
    program = _program(call)
    currency = _currency(call, program)
    member = _member(call, program)
    return Reply(200, render.success(render.balance(call.tenant.balance(member, currency))))
