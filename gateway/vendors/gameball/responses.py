"""Gameball handlers, one per operationId: request -> one engine call -> Gameball body.

Business ids (`transactionId`, `orderId`, `refundTransactionId`) share one scope per account
("gameball.tx"): a reused id is 422/9004. With the tenant setting `gameball.replay_identical`, an
identical replay (same operation, same body) answers the first response again, rendered from the
stored entry, and changes nothing; a different body keeps 9004."""
from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from ...engine.errors import DuplicateKey, EngineError, InvalidTime, MemberNotFound, NotEnabled, NotFound
from ...engine.model import Entry, Member, PointCurrency, Program
from ...engine.payments import MANUAL, Purchase
from ..base import Call, Reply, fingerprint
from ..format import parse_datetime
from . import render
from .errors import engine_reply

CUSTOMER = "gameball.customer"
TWIN = {"batch_cashback": "cashback", "batch_redeem": "redeem_points", "batch_orders": "track_order",
        "batch_balance_inquiry": "get_customer_balance", "batch_order_transactions": "get_order_transactions"}
TX = "gameball.tx"


def _customer(call: Call, customer_id: str):
    return call.tenant.member(CUSTOMER, customer_id)


def _customer_id(member: Member) -> str:
    return member.identities.get(CUSTOMER, member.id)


def _currency(call: Call, member: Member) -> PointCurrency:
    return call.tenant.program(member.program_id).default_currency


def _entry_currency(call: Call, entry: Entry) -> PointCurrency:
    member = call.tenant.member_by_id(entry.member_id)
    return call.tenant.currency(call.tenant.program(member.program_id), entry.currency_id)


def _key(business_id: str) -> tuple[str, str]:
    return (TX, str(business_id))


def _fingerprint(call: Call) -> str:
    """What makes two requests identical: the operation (a batch item counts as its single call) and body."""
    operation = TWIN.get(call.op.operation_id, call.op.operation_id)
    return fingerprint({"operation": operation, "body": call.body})


def _prior(call: Call, key: tuple[str, str], fp: str) -> Entry | None:
    """The entry an identical earlier request made, when the tenant answers replays; 9004 otherwise.

    `lookup` itself refuses a reused id with another body (DuplicateKey)."""
    prior = call.tenant.lookup(key, fp)
    if prior is None:
        return None
    if not call.setting("replay_identical", False):
        raise DuplicateKey("this id was already used", scope=key[0], key=key[1])
    return call.tenant.entry(prior)


def _pending_days(config: dict | None) -> int | None:
    """The request's return window, or None for the points currency's own pending window (whole days: the schema
    admits `2.0`, which JSON numbers bring as a Decimal)."""
    days = (config or {}).get("returnWindow")
    return None if days is None else int(days)


# --- customers ---------------------------------------------------------------------------------------

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


def get_customer(call: Call) -> Reply:
    member = call.tenant.member(CUSTOMER, call.path["customerId"], active=False)
    return Reply(200, render.customer(call.path["customerId"], member))


def get_customer_details(call: Call) -> Reply:
    member = call.tenant.member(CUSTOMER, call.path["customerId"], active=False)
    return Reply(200, render.customer_details(call.path["customerId"], member))


def set_customer_activation(call: Call) -> Reply:
    before = call.tenant.member(CUSTOMER, call.path["customerId"], active=False)
    after = call.tenant.set_active(before, call.body["isActive"])
    return Reply(200, render.activation(call.path["customerId"], after, after.active != before.active))


def delete_customer(call: Call) -> Reply:
    member = call.tenant.member(CUSTOMER, call.path["customerId"], active=False)
    call.tenant.forget_member(member, CUSTOMER)
    return Reply(200, render.deleted())


def get_customer_tier_progress(call: Call) -> Reply:
    member = _customer(call, call.path["customerId"])
    progress = call.tenant.tier_progress(member)
    if progress is None:
        raise NotFound("the program has no tiers")
    return Reply(200, render.tier_progress(progress, call.tenant.program(member.program_id).tiers))


def get_customer_referrals_count(call: Call) -> Reply:
    _customer(call, call.path["customerId"])
    return Reply(200, render.referrals_count())


ATTRIBUTES = {"email": "email", "mobile": "mobile", "firstName": "first_name", "lastName": "last_name",
              "displayName": "display_name"}


def _attributes(body: dict) -> dict[str, Any]:
    """Profile fields under the engine's neutral names, plus Gameball's own attributes as sent."""
    attrs = {k: v for k, v in (body.get("customerAttributes") or {}).items() if v is not None}   # null: absent
    out: dict[str, Any] = {name: attrs[field] for field, name in ATTRIBUTES.items() if attrs.get(field) is not None}
    for field in ("email", "mobile"):
        if body.get(field) is not None:
            out[field] = body[field]
    if attrs:
        out["gameball.customerAttributes"] = attrs
    return out


def _program(call: Call) -> Program:
    return call.tenant.only_program()


def upsert_customer(call: Call) -> Reply:
    # an opted-out customer stays opted out: only PUT /customers/{id}/activate opts it back in
    member, _ = call.tenant.upsert_member(_program(call), CUSTOMER, call.body["customerId"],
                                          attributes=_attributes(call.body), reactivate=False)
    return Reply(200, {"gameballId": member.seq})


# --- orders --------------------------------------------------------------------------------------------

def _order_reply(call: Call, purchase: Purchase) -> Reply:
    member = call.tenant.member_by_id(purchase.earned.member_id)
    return Reply(200, render.order(call.body["customerId"], purchase.earned.amount,
                                   purchase.burned.amount if purchase.burned is not None else 0,
                                   render.order_lines(_order_lines(call, member, call.body.get("lineItems")))))


def _payment_reply(call: Call, purchase: Purchase) -> Reply:
    member = call.tenant.member_by_id(purchase.earned.member_id)
    details = [{"productId": d.get("serviceId"), "price": d.get("amount")}
               for d in (call.body.get("paymentDetails") or ()) if d is not None]
    return Reply(200, render.payment(call.body["customerId"], purchase.earned.amount,
                                     purchase.burned.amount if purchase.burned is not None else 0,
                                     render.payment_lines(_order_lines(call, member, details))))


def _transaction_start(call: Call):
    """What every transaction call does first: the time check, the customer and currency, the business id
    and, for a replay, the entry it made the first time."""
    _check_time(call, "transactionTime")
    member = _customer(call, call.body["customerId"])
    key, fp = _key(call.body["transactionId"]), _fingerprint(call)
    return member, _currency(call, member), key, fp, _prior(call, key, fp)


def _check_time(call: Call, field: str = "transactionTime") -> None:
    """9007 for a transaction time in the future (by the tenant clock)."""
    if call.body.get(field):
        call.tenant.check_not_future(_time(call.body[field], field), field)


def _time(value: str, field: str):
    """A client's time; without an offset it is UTC (Gameball's own examples send them so)."""
    try:
        return parse_datetime(value)
    except ValueError:
        raise InvalidTime(f"{field} is not a valid date-time", field=field) from None


def _order_lines(call: Call, member: Member | None, items: list | None, program: Program | None = None) -> list:
    """Each line with the points the engine says it earns."""
    items = [item for item in (items or ()) if item is not None]
    program = program or call.tenant.program(member.program_id)
    points = call.tenant.line_points(program, [(item.get("price"), item.get("quantity")) for item in items])
    return [(item, exact, whole) for item, (exact, whole) in zip(items, points)]


def _purchase(call: Call, id_field: str, date_field: str, origin: str, reply) -> Reply:
    """An order or a payment: one engine purchase (the customer if new, the hold burned, the points earned)."""
    body = call.body
    _check_time(call, date_field)
    key, fp = _key(body[id_field]), _fingerprint(call)
    hold_ref = (body.get("redemption") or {}).get("pointsHoldReference")
    try:
        _customer(call, body["customerId"])          # an inactive customer is refused before anything else
    except MemberNotFound:
        pass                                         # the purchase makes it a customer
    prior = _prior(call, key, fp)
    if prior is not None:
        return reply(call, call.tenant.purchase_of(prior.id))
    # one engine operation: the customer (if new), the burn and the earning happen together or not at all
    purchase = call.tenant.purchase(_program(call), (CUSTOMER, body["customerId"]), body["totalPaid"],
                                    attributes=_attributes(body), hold_id=hold_ref or None, key=key, fingerprint=fp,
                                    origin=origin, refs={id_field: body[id_field]},
                                    pending_days=_pending_days(body.get("cashbackConfigurations")))
    return reply(call, purchase)


def track_order(call: Call) -> Reply:
    return _purchase(call, "orderId", "orderDate", "order", _order_reply)


def track_payment(call: Call) -> Reply:
    return _purchase(call, "paymentId", "paymentDate", "payment", _payment_reply)


def order_cashback_quote(call: Call) -> Reply:
    """What the order would earn; nothing is written."""
    body = call.body
    if body.get("customerId"):
        try:
            _customer(call, body["customerId"])      # an opted-out customer earns nothing: refused
        except MemberNotFound:
            pass
    program = _program(call)
    lines = [item for item in (body.get("lineItems") or ()) if item is not None]
    _, total = call.tenant.earn_preview(program, body["totalPaid"])
    return Reply(200, render.cashback_quote(total, render.quote_lines(_order_lines(call, None, lines, program)),
                                            call.tenant.earn_rate(program)[1]))


def get_order_transactions(call: Call) -> Reply:
    root = call.tenant.entry_by(_key(call.path["orderId"]))
    rows = call.tenant.transaction_family(root.id)
    currency = _entry_currency(call, root)
    return Reply(200, render.order_transactions([render.order_transaction(row, currency) for row in rows]))


# --- transactions ----------------------------------------------------------------------------------------

def cashback(call: Call) -> Reply:
    body = call.body
    member, currency, key, fp, entry = _transaction_start(call)
    if entry is None:
        entry = call.tenant.earn(member, currency, body["amount"], key=key, fingerprint=fp, origin="cashback",
                                 refs={"transactionId": body["transactionId"]},
                                 pending_days=_pending_days(body.get("configurations")))
    return Reply(200, render.cashback(body["customerId"], entry, currency))


def _manual_refusal(body: dict) -> str | None:
    """The four documented 400 refusals, in the order a request is read."""
    points, amount, expiry = body.get("points") or None, body.get("amount") or None, body.get("expiryAfter")
    if points is not None and amount is not None:
        return "Only one rewarding method may be specified"
    if points is None and amount is None:
        return "A rewarding criteria is required"
    if expiry is not None and expiry < 0:
        return "Expiry cannot be negative"
    if expiry and (points if points is not None else amount) < 0:
        return "Deduction cannot have expiry"
    return None


def manual_transaction(call: Call) -> Reply:
    body = call.body
    refusal = _manual_refusal(body)
    if refusal:
        return Reply(400, render.simple_error(refusal))
    member, currency, key, fp, entry = _transaction_start(call)
    if entry is None:
        signed = body.get("points") or body["amount"]     # 0 means "not this one", as null does
        size = abs(signed)
        paid = None
        if not body.get("points"):           # money -> whole points at the redemption factor
            paid, size = size, call.tenant.points_for_money(currency, size)
        refs = {"transactionId": body["transactionId"], "username": body["username"], "reason": body["reason"]}
        if signed < 0:
            entry = call.tenant.debit(member, currency, size, key=key, fingerprint=fp, money=paid,
                                      origin=MANUAL, refs=refs)
        else:
            entry = call.tenant.grant(member, currency, size, key=key, fingerprint=fp, money=paid,
                                      origin=MANUAL, refs=refs, expires_after_days=body.get("expiryAfter"))
    return Reply(200, render.manual(body["customerId"], body["transactionId"], entry, currency))


def activate_transaction(call: Call) -> Reply:
    transaction_id = call.path["transactionId"]
    entry = call.tenant.entry_by(_key(transaction_id))
    points = call.tenant.activate(entry.id)
    return Reply(200, render.activated(points, entry, transaction_id))


# --- one-time passwords --------------------------------------------------------------------------------

def _otp_setting(call: Call):
    return call.setting("otp", False)


def _check_otp(call: Call, member: Member) -> None:
    """With OTP on, a hold or redeem needs the customer's current code, unless the request says ignoreOTP."""
    if _otp_setting(call) and not call.body.get("ignoreOTP"):
        call.tenant.verify_otp(member, call.body.get("otp"))


def send_otp(call: Call) -> Reply:
    setting = _otp_setting(call)
    if not setting:
        raise NotEnabled("OTP is not enabled for this account")
    member = _customer(call, call.body["customerId"])
    code = setting if isinstance(setting, str) else f"{secrets.randbelow(10 ** 6):06d}"
    call.tenant.issue_otp(member, code)
    return Reply(200, render.otp_sent())


# --- holds ------------------------------------------------------------------------------------------------

def hold_points(call: Call) -> Reply:
    body = call.body
    _check_time(call, "transactionTime")
    member = _customer(call, body["customerId"])
    currency = _currency(call, member)
    _check_otp(call, member)
    if body.get("ruleId") is not None:
        h = call.tenant.hold_for_rule(member, currency, body["ruleId"])
    else:
        points = body.get("pointsToHold") or None          # 0 and null both mean "not this selector"
        if points is None:
            points = call.tenant.points_for_money(currency, body["amountToHold"])
        h = call.tenant.hold(member, currency, points)
    return Reply(200, render.hold(body["customerId"], h, currency))


def get_hold(call: Call) -> Reply:
    h = call.tenant.get_hold(call.path["holdReferenceId"])
    member = call.tenant.member_by_id(h.member_id)
    currency = call.tenant.currency(call.tenant.program(member.program_id), h.currency_id)
    return Reply(200, render.hold_detail(_customer_id(member), h, currency))


def release_hold(call: Call) -> Reply:
    call.tenant.release_hold(call.path["holdReferenceId"])
    return Reply(200, render.released())


# --- redeem / refund ----------------------------------------------------------------------------------------

def redeem_points(call: Call) -> Reply:
    body = call.body
    member, currency, key, fp, entry = _transaction_start(call)
    if entry is None:
        _check_otp(call, member)
        refs = {"transactionId": body["transactionId"], **({"reason": body["reason"]} if body.get("reason") else {})}
        if body.get("holdReference") is not None:
            entry = call.tenant.redeem_hold(body["holdReference"], member=member, key=key, fingerprint=fp,
                                            origin="redeem", refs=refs)
        else:
            points = body.get("points") or None        # 0 and null both mean "not this selector"
            if points is None:
                points = call.tenant.points_for_money(currency, body["amount"])
            entry = call.tenant.debit(member, currency, points, key=key, fingerprint=fp, origin="redeem", refs=refs)
    return Reply(200, render.redeem(body["customerId"], body["transactionId"], entry, currency, body.get("reason")))


def refund(call: Call) -> Reply:
    body = call.body
    _check_time(call, "transactionTime")
    member = _customer(call, body["customerId"])
    key, fp = _key(body["refundTransactionId"]), _fingerprint(call)
    rev = _prior(call, key, fp)
    if rev is None:
        original = call.tenant.entry_by(_key(body["reverseTransactionId"]))
        # the engine decides what is refundable and what is left; no refundAmount (or the original one): all of it
        rev = call.tenant.refund(original.id, body.get("refundAmount"), member=member, key=key, fingerprint=fp,
                                 refs={"refundTransactionId": body["refundTransactionId"]})
    return Reply(200, render.refund(body["refundTransactionId"], rev, _entry_currency(call, rev)))


# --- history ----------------------------------------------------------------------------------------------

SIGN = {"+": 1, " ": 1, "-": -1}      # a bare "+" in a query string arrives as a space
STATUS = {"Active": "active", "Pending": "pending", "Expired": "expired"}
NOTHING = object()                    # a filter nothing can match (unknown customer, Blocked)


def _history_filter(call: Call) -> dict | object:
    q = call.query
    member = None
    if q.get("customerId"):
        member = call.tenant.store.find_member(CUSTOMER, q["customerId"])
        if member is None:
            return NOTHING
    if q.get("status") == "Blocked":
        return NOTHING
    return {"member": member, "sign": SIGN.get(q.get("direction")), "state": STATUS.get(q.get("status"))}


def _rows(call: Call, view: bool) -> Reply:
    f = _history_filter(call)
    if f is NOTHING:
        return Reply(200, render.page([], False))
    rows, more = call.tenant.ledger_page(f["member"], after_seq=call.query.get("startAfter") or 0,
                                         limit=call.query.get("limit") or 50, sign=f["sign"], state=f["state"])
    out = []
    for row in rows:
        current = row.member.identities.get(CUSTOMER)
        customer_id = current or call.tenant.forgotten_identity(row.member, CUSTOMER)
        currency = call.tenant.currency(call.tenant.program(row.member.program_id), row.entry.currency_id)
        out.append(render.customer_view_row(row, customer_id, currency, current is None and customer_id is not None)
                   if view else render.transaction_row(row, customer_id, currency))
    return Reply(200, render.page(out, more))


def list_transactions(call: Call) -> Reply:
    return _rows(call, view=False)


def list_transactions_customer_view(call: Call) -> Reply:
    return _rows(call, view=True)


def count_transactions(call: Call) -> Reply:
    f = _history_filter(call)
    count = 0 if f is NOTHING else call.tenant.ledger_count(f["member"], sign=f["sign"], state=f["state"])
    return Reply(200, {"count": count})


# --- configuration ---------------------------------------------------------------------------------------------

def get_redemption_configuration(call: Call) -> Reply:
    program = _program(call)
    return Reply(200, render.redemption_configuration(program.default_currency, program.redemption_rules))


def get_cashback_configuration(call: Call) -> Reply:
    program = _program(call)
    return Reply(200, render.cashback_configuration(call.tenant.earn_rate(program)[1], program.default_currency))


def get_tiers_configuration(call: Call) -> Reply:
    return Reply(200, render.tiers_configuration(_program(call).tiers))


# --- events ---------------------------------------------------------------------------------------------------

def send_events(call: Call) -> Reply:
    """Recorded for the customer (created if new, as an order would); no earning rule runs on events."""
    body = call.body
    call.tenant.record_events(_program(call), (CUSTOMER, body["customerId"]), body["events"],
                              attributes=_attributes(body))
    return Reply(200, render.events_processed())


# --- batches ------------------------------------------------------------------------------------------------------
# Each item goes through its single call's handler (the same engine operation, checks and answer); a refusal is
# that item's, in Gameball's envelope, and the other items still apply. The job's outcome is kept for
# GET /batches/{batchId}/status.

def _run_items(call: Call, items: list, handler, kind: str, path_of=None) -> Reply:
    results, errors = [], []
    for index, item in enumerate(items):
        twin = replace(call, body=item if path_of is None else None, query={},
                       path=path_of(item) if path_of is not None else call.path)
        try:
            reply = handler(twin)
        except EngineError as exc:
            reply = engine_reply(TWIN.get(call.op.operation_id, call.op.operation_id), exc)
        results.append({"index": index, "status": reply.status, "body": reply.body})
        if reply.status >= 400:
            errors.append({"index": index, "status": reply.status, "code": reply.body.get("code", reply.status),
                           "message": reply.body.get("message", "")})
    return Reply(200, {"jobId": call.tenant.save_batch(kind, results, errors)})


def batch_balance_inquiry(call: Call) -> Reply:
    return _run_items(call, call.body["body"], get_customer_balance, "balance-inquiry",
                      path_of=lambda item: {"customerId": item["customerId"]})


def _adjust(call: Call) -> Reply:
    """One balance adjustment: points added (amount > 0) or taken (< 0) by hand, as a manual transaction does."""
    body = call.body
    member = _customer(call, body["customerId"])
    currency = _currency(call, member)
    refs = {"reason": body["reason"]} if body.get("reason") else {}
    if body["amount"] < 0:
        entry = call.tenant.debit(member, currency, -body["amount"], origin=MANUAL, refs=refs)
    else:
        entry = call.tenant.grant(member, currency, body["amount"], origin=MANUAL, refs=refs)
    return Reply(200, render.adjustment(body["customerId"], entry, currency))


def batch_balance_adjustment(call: Call) -> Reply:
    return _run_items(call, call.body["body"], _adjust, "balance-adjustment")


def batch_cashback(call: Call) -> Reply:
    return _run_items(call, call.body["body"], cashback, "cashback")


def batch_redeem(call: Call) -> Reply:
    return _run_items(call, call.body["body"], redeem_points, "redeem")


def batch_orders(call: Call) -> Reply:
    return _run_items(call, call.body["body"], track_order, "orders")


def batch_order_transactions(call: Call) -> Reply:
    return _run_items(call, call.body["body"], get_order_transactions, "orders-transactions",
                      path_of=lambda order_id: {"orderId": order_id})


def get_batch_status(call: Call) -> Reply:
    batch_id = call.path["batchId"]
    if not batch_id.isdigit():
        raise NotFound("batch job not found")
    return Reply(200, render.batch_status(batch_id, call.tenant.batch(int(batch_id))))
