"""Brevo handlers, one per operationId: request -> one engine call -> Brevo body.

Ids: the program is found by its `brevo.program_id`, a balance definition (a point currency) by
its `brevo.balance_definition_id`, a member by its `brevo.contact` id (or its `brevo.subscription`
id, Brevo's loyaltySubscriptionId) within that program. UUIDs are compared in their canonical
lower-case form.

Transactions are the engine's drafts (create_draft / complete_draft / cancel_draft): the engine
rounds, caps, checks the balance limits and rejects; the adapter maps names and shapes only.
What the engine does not keep, the adapter keeps as store records (see `_note`):
  - `brevo.transactions`, one per member: {draft id: {negative, order, mark}}: the sign the client
    used (Brevo echoes a signed amount), the order a draft was created for, and the entry sequence
    number when it was created (to list drafts among ledger entries); it is also the index of the
    member's drafts, which the engine cannot list;
  - `brevo.order`: the orders (create_order), `processedAt` set when their transaction completes;
  - `brevo.balance`: the balance records opened by create_subscription_balance."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from ...engine import ledger
from ...engine.errors import MemberNotFound, TransactionNotFound
from ...engine.model import ZERO, Draft, Member, PointCurrency, Program
from ...engine.tenant import Tenant
from ..base import Call, Reply, VendorError
from ..format import parse_datetime
from . import render

PROGRAM = "brevo.program_id"
DEFINITION = "brevo.balance_definition_id"
CONTACT = "brevo.contact"
SUBSCRIPTION = "brevo.subscription"

NOTES = "brevo.transactions"
ORDER = "brevo.order"
BALANCE = "brevo.balance"

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

def get_balance_definition(call: Call) -> Reply:
    # `version`: draft (latest edits) or active (the snapshot of the last publish). The gateway has no
    # publish step -- a point currency is live as soon as it exists -- so both versions are the same
    # definition. The spec's enum refuses any other value (422 invalid_parameter).
    program = _program(call)
    currency = _definition(call, program, call.path["bdid"])
    return Reply(200, render.definition(currency, render.external_id(currency.external, DEFINITION), call.now()))


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
    lots = sorted(call.tenant.lots(member, currency), key=lambda l: (l.earned_at, l.id),
                  reverse=_query(call, "sort") == "desc")
    offset, limit = _query(call, "offset"), _query(call, "limit")
    return Reply(200, render.active_balances(program_id, cid, definition_id, len(lots),
                                             lots[offset:offset + limit]))


# --- members, notes, rendering helpers for the writes ------------------------------------------------

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


def _notes(tenant: Tenant, member_id: str) -> dict:
    return tenant.store.record(NOTES, member_id) or {}


def _note(tenant: Tenant, d: Draft) -> dict:
    """What the adapter remembers of a draft; a draft it did not create reads as Brevo's default."""
    return _notes(tenant, d.member_id).get(d.id) or {"negative": d.direction == "debit", "order": None, "mark": 0}


def _remember(tenant: Tenant, d: Draft, *, negative: bool, mark: int, order: str | None = None) -> None:
    notes = _notes(tenant, d.member_id)
    tenant.store.put_record(NOTES, d.member_id, {**notes, d.id: {"negative": negative, "order": order, "mark": mark}})


def _lot_expiry(tenant: Tenant, entry_id: str | None, kind: str = "credit") -> datetime | None:
    """The expiry of the balance (lot) a credit created."""
    if entry_id is None or kind != "credit":
        return None
    e = tenant.entry(entry_id)
    lot = tenant.store.lot(e.lots[0][0]) if e.kind == "credit" and e.lots else None
    return lot.expires_at if lot is not None else None


def _render(tenant: Tenant, program: Program, d: Draft) -> dict:
    member = tenant.member_by_id(d.member_id)
    currency = tenant.currency(program, d.currency_id)
    expiry = _lot_expiry(tenant, d.entry_id, d.direction) if d.status == "completed" else None
    return render.transaction(d, program_id=render.external_id(program.external, PROGRAM),
                              bdid=render.external_id(currency.external, DEFINITION), contact_id=_contact(member),
                              negative=_note(tenant, d)["negative"], lot_expires_at=expiry)


def _direction(body: dict) -> tuple[str, Decimal, bool]:
    """(direction, positive amount for the engine, whether the client's amount was negative).
    The sign gives the direction unless transactionType is given [D]; a zero amount reaches the
    engine, which refuses it."""
    amount = body["amount"]
    negative = amount < 0
    direction = body.get("transactionType") or ("debit" if negative else "credit")
    return direction, abs(amount), negative


def _own_draft(call: Call, program: Program) -> Draft:
    """The draft `tid`, as long as it belongs to a member of this program."""
    tid = _uuid(call.path["tid"])
    d = call.tenant.draft(tid)
    if call.tenant.member_by_id(d.member_id).program_id != program.id:
        raise TransactionNotFound("transaction not found", transaction=tid)
    return d


# --- writes --------------------------------------------------------------------------------------------

def create_transaction(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = _program(call)
    currency = _definition(call, program, body["balanceDefinitionId"])
    member = _subscriber(call, program, body)
    direction, amount, negative = _direction(body)
    auto = bool(body.get("autoComplete", False))
    event_time = parse_datetime(body["eventTime"]) if body.get("eventTime") else None
    with tenant.atomic():
        mark = tenant.store.seq_value("entry")
        d = tenant.create_draft(member, currency, direction, amount, auto_complete=auto, ttl_sec=body.get("ttl"),
                                event_time=event_time,
                                # "only applicable when autoComplete is true" [D]: ignored otherwise
                                lot_minutes=body.get("balanceExpiryInMinutes") if auto else None,
                                meta=dict(body.get("meta") or {}))
        _remember(tenant, d, negative=negative, mark=mark)
    return Reply(200, _render(tenant, program, d))


def complete_transaction(call: Call) -> Reply:
    tenant = call.tenant
    program = _program(call)
    d = _own_draft(call, program)
    with tenant.atomic():
        d = tenant.complete_draft(d.id)
        order_id = _note(tenant, d)["order"]
        order = tenant.store.record(ORDER, order_id) if order_id else None
        if order is not None and d.status == "completed":
            tenant.store.put_record(ORDER, order_id, {**order, "processed_at": d.completed_at,
                                                      "updated_at": d.completed_at})
    return Reply(200, _render(tenant, program, d))


def cancel_transaction(call: Call) -> Reply:
    program = _program(call)
    d = _own_draft(call, program)
    return Reply(200, _render(call.tenant, program, call.tenant.cancel_draft(d.id)))


def create_order(call: Call) -> Reply:
    body, tenant = call.body, call.tenant
    program = _program(call)
    currency = _definition(call, program, body["balanceDefinitionId"])
    member = tenant.member(CONTACT, int(body["contactId"]), program=program)
    now = call.now()
    expires_at = parse_datetime(body["expiresAt"]) if body.get("expiresAt") else None
    if expires_at is not None and expires_at <= now:
        raise VendorError(render.error(422, "out_of_range", "expiresAt must be in the future"))
    direction, amount, negative = _direction(body)
    meta = dict(body.get("meta") or {})
    with tenant.atomic():
        mark = tenant.store.seq_value("entry")
        d = tenant.create_draft(member, currency, direction, amount, meta=meta)
        order = {"id": str(uuid.uuid4()), "transaction_id": d.id, "amount": render.signed(d.amount, negative),
                 "program_id": render.external_id(program.external, PROGRAM),
                 "balance_definition_id": render.external_id(currency.external, DEFINITION),
                 "contact_id": _contact(member), "due_at": parse_datetime(body["dueAt"]), "expires_at": expires_at,
                 "source": body["source"], "meta": meta, "processed_at": None, "created_at": d.created_at,
                 "updated_at": d.created_at}
        tenant.store.put_record(ORDER, order["id"], order)
        _remember(tenant, d, negative=negative, mark=mark, order=order["id"])
    return Reply(200, render.order(order))


def create_subscription_balance(call: Call) -> Reply:
    tenant = call.tenant
    program = _program(call)
    currency = _definition(call, program, call.body["balanceDefinitionId"])
    member = tenant.member(CONTACT, call.path["cid"], program=program)
    key = f"{member.id}/{currency.id}"
    now = call.now()
    with tenant.atomic():
        if tenant.store.record(BALANCE, key) is not None:
            raise VendorError(render.error(422, "duplicate_request",
                                           "the contact already has a balance of this balance definition"))
        record = {"id": str(uuid.uuid4()), "amount": ZERO, "program_id": render.external_id(program.external, PROGRAM),
                  "organization_id": int(call.setting("organization_id", DEFAULT_ORGANIZATION_ID)),
                  "contact_id": call.path["cid"], "balance_definition_id": render.external_id(currency.external,
                                                                                               DEFINITION),
                  # the expiry the definition gives a balance opened now (the engine's rule)
                  "created_at": now, "expires_at": ledger.expiry_for(currency, now), "consumed_at": None}
        tenant.store.put_record(BALANCE, key, record)
    return Reply(200, render.balance_record(record))


# --- transaction history -------------------------------------------------------------------------------

def _history(tenant: Tenant, member: Member, currency: PointCurrency) -> list[tuple[tuple, dict]]:
    """(sort key, item) for every transaction of the member in this currency: Brevo drafts in every
    status, and the ledger's other balance movements (credits, debits and reversals made by
    fixtures or other dialects) as completed transactions. Expirations are not transactions; two-
    phase entries of other dialects that never committed are not listed."""
    notes = _notes(tenant, member.id)
    entries = tenant.entries(member, currency)
    draft_ids = list(notes) + [e.refs["draft"] for e in entries if e.refs.get("draft") and e.refs["draft"] not in notes]
    out = []
    for position, draft_id in enumerate(draft_ids):
        d = tenant.draft(draft_id)
        if d.currency_id != currency.id:
            continue
        note = _note(tenant, d)
        expiry = _lot_expiry(tenant, d.entry_id, d.direction) if d.status == "completed" else None
        # after the entries written before it, then in creation order
        out.append(((d.created_at, note["mark"] + 0.5, position), render.history_draft(d, note["negative"], expiry)))
    for e in entries:
        if e.refs.get("draft") or e.amount <= 0:
            continue
        if e.kind in ("credit", "debit"):
            committed = e.status == "committed" or (e.status == "cancelled" and e.reversed_amount > 0)
            if not committed:
                continue
            direction = e.kind
        elif e.kind == "cancel" and e.reverses:   # a reversal moves the balance the other way
            direction = "debit" if tenant.entry(e.reverses).kind == "credit" else "credit"
        else:
            continue
        expiry = _lot_expiry(tenant, e.id, e.kind)
        out.append(((e.at, e.seq, 0), render.history_entry(e, direction, expiry)))
    return out


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
    status, kind = call.query.get("status"), call.query.get("transactionType")
    rows = [(key, item) for key, item in _history(tenant, member, currency)
            if (status is None or item["status"] == status) and (kind is None or item["transactionType"] == kind)]
    rows.sort(key=lambda r: r[0], reverse=_query(call, "sort") == "desc")
    offset, limit = _query(call, "offset"), _query(call, "limit")
    return Reply(200, render.history(render.external_id(program.external, PROGRAM), cid,
                                     render.external_id(currency.external, DEFINITION), len(rows),
                                     [item for _, item in rows[offset:offset + limit]]))
