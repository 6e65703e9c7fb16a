"""Brevo handlers, one per operationId: request -> one engine read -> Brevo body.

Ids: the program is found by its `brevo.program_id`, a balance definition (a point currency) by
its `brevo.balance_definition_id`, a member by its `brevo.contact` id within that program. UUIDs
are compared in their canonical lower-case form."""
from __future__ import annotations

from typing import Any, Callable

from ...engine.model import PointCurrency, Program
from ..base import Call, Reply, VendorError
from . import render

PROGRAM = "brevo.program_id"
DEFINITION = "brevo.balance_definition_id"
CONTACT = "brevo.contact"


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

def get_balance_definition(call: Call) -> Reply:
    # `version`: draft (latest edits) or active (the snapshot of the last publish). The gateway has no
    # publish step -- a point currency is live as soon as it exists -- so both versions are the same
    # definition. The spec's enum refuses any other value (422 invalid_parameter).
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return Reply(200, render.definition(currency, render.external_id(currency.external, DEFINITION), call.now()))


def get_subscription_balances(call: Call) -> Reply:
    program = _program(call)
    cid = call.path["cid"]
    member = call.tenant.member(CONTACT, cid, program=program)
    include_internal = _query(call, "includeInternal")
    rows = [(render.external_id(c.external, DEFINITION), call.tenant.balance(member, c))
            for c in program.currencies
            if c.external.get(DEFINITION) is not None and (include_internal or not _internal(c))]
    return Reply(200, render.subscription_balances(render.external_id(program.external, PROGRAM), cid, rows))


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
    lots = sorted(call.tenant.lots(member, currency), key=lambda l: (l.earned_at, l.id),
                  reverse=_query(call, "sort") == "desc")
    offset, limit = _query(call, "offset"), _query(call, "limit")
    return Reply(200, render.active_balances(program_id, cid, definition_id, len(lots),
                                             lots[offset:offset + limit]))
