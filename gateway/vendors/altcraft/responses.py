"""Altcraft handlers, one per operationId: request -> one engine call -> Altcraft body.

Identifiers travel in the body: the program by `loyalty_program_id`, the points currency by
`points_currency_iid` / `points_currency_eid` (default: the program's default currency), the profile
by `matching` + the field it names, a transaction by `transaction_id` (the engine's entry id) and/or
`transaction_eid` (the caller's id, unique per loyalty program)."""
from __future__ import annotations

from typing import Any

from ...engine import promotions
from ...engine.ledger import new_id
from ...engine.errors import InvalidRequest, NotFound, TransactionNotFound
from ...engine.model import Entry, Member, PointCurrency, Program
from ...engine.tenant import Tenant
from ..base import Call, Reply, fingerprint
from ..format import parse_datetime
from . import render

PROGRAM = "altcraft.program_id"
TIERS_GROUP = "altcraft.tiers_group_id"
IID = "altcraft.iid"
EID = "altcraft.eid"
TRANSACTION_EID = "altcraft.eid"      # business-id scope: "altcraft.eid:<program id>"
NOT_FINGERPRINTED = ("token", "format")   # credentials and response format do not make another request
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


def _member(call: Call, program: Program, *, active: bool = True) -> Member:
    kind, value = _identity(call.body)
    return call.tenant.member(kind, value, program=program, active=active)


def _date(call: Call, name: str):
    value = call.body.get(name)
    return parse_datetime(value) if value is not None else None


def _eid_key(program: Program, eid: Any) -> tuple[str, str]:
    return f"{TRANSACTION_EID}:{program.id}", str(eid)


def _owner(call: Call, entry: Entry) -> tuple[Member, PointCurrency]:
    member = call.tenant.member_by_id(entry.member_id)
    return member, call.tenant.currency(call.tenant.program(member.program_id), entry.currency_id)


# --- balance ---------------------------------------------------------------------------------------

def get_account_balance(call: Call) -> Reply:
    program = _program(call)
    currency = _currency(call, program)
    member = _member(call, program)
    return Reply(200, render.success(render.balance(call.tenant.balance(member, currency))))


# --- membership --------------------------------------------------------------------------------------

def register_member(call: Call) -> Reply:
    """The profile must exist; a removed member becomes a member again, a member stays as it is."""
    program = _program(call)
    member = call.tenant.set_active(_member(call, program, active=False), True)
    return Reply(200, render.member(member))


def delete_member(call: Call) -> Reply:
    program = _program(call)
    member = call.tenant.set_active(_member(call, program), False)
    return Reply(200, render.member(member))


# --- points --------------------------------------------------------------------------------------------

def _transaction_reply(call: Call, entry: Entry, eid: Any, is_temp: bool) -> Reply:
    total = entry.total_after
    if total is None:
        member, currency = _owner(call, entry)
        total = call.tenant.balance(member, currency).total
    return Reply(200, render.transaction(entry, None if eid is None else str(eid), is_temp, total))


def _points(call: Call, direction: str) -> Reply:
    body = call.body
    tenant = call.tenant
    program = _program(call)
    eid = body.get("transaction_eid")
    is_temp = bool(body.get("is_temp", False))
    key = _eid_key(program, eid) if eid is not None else None
    # the operation is part of the request: an accrual and a redemption with the same body are two requests
    fp = f"{direction}:{fingerprint(body, ignore=NOT_FINGERPRINTED)}" if key is not None else None
    prior = tenant.lookup(key, fp)
    if prior is not None:     # the same request again: the first answer, nothing changes
        return _transaction_reply(call, tenant.entry(prior), eid, is_temp)
    currency = _currency(call, program)
    member = _member(call, program)
    refs = {k: body[k] for k in ("transaction_eid", "promotion_id", "external_data", "created_at") if k in body}
    dates = {}
    if direction == "credit":
        dates = {"earned_at": _date(call, "created_at"), "available_at": _date(call, "activation_date"),
                 "expires_at": _date(call, "expiration_date")}
    origin = "accrue" if direction == "credit" else "redeem"
    common = {"key": key, "fingerprint": fp, "origin": origin, "refs": refs}
    if direction == "credit":      # an accrual is a grant: without activation_date the engine decides availability
        entry = tenant.grant(member, currency, body["amount"], temporary=is_temp,
                             timeout_sec=body.get("temp_timeout_sec"), **common, **dates)
    elif is_temp:
        entry = tenant.temporary(member, currency, direction, body["amount"],
                                 timeout_sec=body.get("temp_timeout_sec"), **common)
    else:
        entry = tenant.debit(member, currency, body["amount"], **common)
    return _transaction_reply(call, entry, eid, is_temp)


def accrue_points(call: Call) -> Reply:
    return _points(call, "credit")


def redeem_points(call: Call) -> Reply:
    return _points(call, "debit")


# --- transactions ------------------------------------------------------------------------------------

def _by_eid(call: Call, program: Program | None, eid: Any) -> Entry:
    programs = [program] if program is not None else call.tenant.programs_now()
    found = []
    for p in programs:
        try:
            found.append(call.tenant.entry_by(_eid_key(p, eid)))
        except TransactionNotFound:
            pass
    if not found:
        raise TransactionNotFound("transaction not found", transaction_eid=eid)
    if len(found) > 1:
        raise InvalidRequest("transaction_eid is used in several loyalty programs: send loyalty_program_id",
                             transaction_eid=eid)
    return found[0]


def _transaction(call: Call) -> Entry:
    """The transaction named by transaction_id and/or transaction_eid (both: the same one), within
    loyalty_program_id when sent."""
    body = call.body
    program = _program(call) if body.get("loyalty_program_id") is not None else None
    tid, eid = body.get("transaction_id"), body.get("transaction_eid")
    by_id = call.tenant.entry(str(tid)) if tid is not None else None
    by_eid = _by_eid(call, program, eid) if eid is not None else None
    if by_id is not None and by_eid is not None and by_id.id != by_eid.id:
        raise InvalidRequest("transaction_id and transaction_eid name different transactions",
                             transaction_id=tid, transaction_eid=eid)
    entry = by_id or by_eid
    if program is not None and _owner(call, entry)[0].program_id != program.id:
        raise TransactionNotFound("transaction not found", transaction=entry.id)
    return entry


def _state_reply(call: Call, entry: Entry) -> Reply:
    member, currency = _owner(call, entry)
    return Reply(200, render.transaction_state(entry, call.tenant.balance(member, currency).available))


def commit_transaction(call: Call) -> Reply:
    entry = _transaction(call)
    call.tenant.commit(entry.id)
    return _state_reply(call, entry)


def rollback_transaction(call: Call) -> Reply:
    entry = _transaction(call)
    call.tenant.rollback(entry.id)
    return _state_reply(call, entry)


def cancel_transaction(call: Call) -> Reply:
    entry = _transaction(call)
    call.tenant.cancel(entry.id)
    return _state_reply(call, entry)


# --- account reads -------------------------------------------------------------------------------------

def promo_iid(program: Program, row) -> int | None:
    """The configured promotion a transaction's promotion_id names (by external_id or id), if any."""
    found = promotions.named(program.promotions, row.entry.refs.get("promotion_id"))
    return None if found is None else found.id


def get_account_transactions(call: Call) -> Reply:
    program = _program(call)
    currency = _currency(call, program)
    member = _member(call, program)
    page = call.tenant.statement(member, currency, after=call.body.get("from_id"), limit=call.body.get("limit", 20))
    return Reply(200, render.transactions(page, lambda row: promo_iid(program, row)))


def get_expiring_points(call: Call) -> Reply:
    program = _program(call)
    currency = _currency(call, program)
    member = _member(call, program)
    amount = call.tenant.expiring_points(member, currency, _date(call, "date_from"), _date(call, "date_to"))
    return Reply(200, render.success({"expiring_points": render.fixed2(amount)}))


def get_account_tiers(call: Call) -> Reply:
    """The program's one tier group is the one its fixtures name by `altcraft.tiers_group_id`."""
    program = _program(call)
    group = program.external.get(TIERS_GROUP)
    if group is None or str(group) != str(call.body["tiers_group_id"]):
        raise NotFound("tier group not found", tiers_group_id=call.body["tiers_group_id"])
    member = _member(call, program)
    return Reply(200, render.success([render.tier(r) for r in call.tenant.tiers_reached(member)]))


def get_trigger_promotions(call: Call) -> Reply:
    program = _program(call)
    page = promotions.page(program.promotions, after=call.body.get("from_id"), limit=call.body.get("limit", 20),
                           active=call.body.get("is_active"))
    return Reply(200, render.promotions(page, program))


def transactions_export(call: Call) -> Reply:
    """The export is taken now and kept in the store; its file is served by the control plane (get_export)."""
    program = _program(call)
    currency = _currency(call, program)
    export = call.tenant.export_transactions(program, currency, _date(call, "date_from"), _date(call, "date_to"),
                                             after=call.body.get("from_id"), requested_by=call.op.vendor,
                                             task_id=f"task_{new_id()}")
    return Reply(200, render.success({"task_id": export.id}))
