"""Altcraft dialect, writes: register/delete member, accrue, redeem (and its alias path), commit, rollback and
cancel of transactions, in JSON and XML, checked through the balance endpoint and the ledger invariants.

Demo figures: alice (user@example.com) has 1800 points in total, 1400 active (400 pending until NOW+9d);
bob (new.member@example.com) has none. The clock is frozen at NOW = 2026-03-10T12:00:00Z."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import xmltodict

import invariants
from helpers import ALTCRAFT_TOKEN, NOW
from gateway.engine.model import PointCurrency, Program

BASE = "/api/v1.1/loyalty"
BALANCE = f"{BASE}/account/balance"
REGISTER = f"{BASE}/register_member"
DELETE = f"{BASE}/delete_member"
ACCRUE = f"{BASE}/accrue_points"
REDEEM = f"{BASE}/redeeme_points"
REDEEM_ALIAS = f"{BASE}/redeem_points"
COMMIT = f"{BASE}/commit_transaction"
ROLLBACK = f"{BASE}/rollback_transaction"
CANCEL = f"{BASE}/cancel_transaction"
JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"

ALICE = {"matching": "email", "email": "user@example.com"}
BOB = {"matching": "email", "email": "new.member@example.com"}
OK = {"error": 0, "error_text": "Successful operation"}
NOT_MEMBER = {"error": 404, "error_text": "Profile is not a member of the loyalty program"}
NO_PROFILE = {"error": 404, "error_text": "Profile not found"}
NO_TRANSACTION = {"error": 404, "error_text": "Transaction not found"}
NOT_TEMPORARY = {"error": 400, "error_text": "Transaction is not temporary"}
ALREADY_CANCELLED = {"error": 400, "error_text": "Transaction is already cancelled or rolled back"}
INSUFFICIENT = {"error": 400, "error_text": "Insufficient points"}
CONFLICT = {"error": 409, "error_text": "transaction_eid was already used with a different request"}
PATTERN = "^[0-9]+(\\\\.[0-9]+)?$"


@pytest.fixture
def vendors():
    return ["altcraft"]


@pytest.fixture
def http_status(tenant):
    tenant.settings.setdefault("altcraft", {})["error_http_status"] = True
    return tenant


def req(who=ALICE, **fields) -> dict:
    """A request body of the demo program for `who`, with fields added (None removes one)."""
    out = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, **who, **fields}
    return {k: v for k, v in out.items() if v is not None}


def ref(**fields) -> dict:
    """A commit/rollback/cancel body: the documented ones carry only the transaction ids."""
    return {"token": ALTCRAFT_TOKEN, **{k: v for k, v in fields.items() if v is not None}}


async def post(client, path, payload, **kw):
    resp = await client.post(path, json=payload, **kw)
    assert resp.headers["Content-Type"] == JSON_CT
    return resp.status, await resp.json()


def xml_of(fields: dict) -> bytes:
    def element(k, v):
        if isinstance(v, dict):
            v = "".join(element(a, b) for a, b in v.items())
        elif isinstance(v, bool):
            v = "true" if v else "false"
        return f"<{k}>{v}</{k}>"
    return ("<xml>" + "".join(element(k, v) for k, v in fields.items()) + "</xml>").encode()


async def post_xml(client, path, fields: dict, headers=None, **kw):
    resp = await client.post(path, data=xml_of(fields), headers={"Content-Type": "application/xml", **(headers or {})},
                             **kw)
    assert resp.headers["Content-Type"] == XML_CT
    text = await resp.text()
    assert text.startswith("<xml>") and text.endswith("</xml>")
    doc = xmltodict.parse(text)
    assert list(doc) == ["xml"]
    out = dict(doc["xml"])
    out["error"] = int(out["error"])
    return resp.status, out


async def balance(client, who=ALICE) -> tuple[str, str]:
    """(total_balance, active_balance) as the balance endpoint answers them."""
    status, body = await post(client, BALANCE, req(who))
    assert status == 200 and body["error"] == 0, body
    return body["data"]["total_balance"], body["data"]["active_balance"]


async def accrue(client, amount, who=ALICE, **fields) -> dict:
    status, body = await post(client, ACCRUE, req(who, amount=amount, **fields))
    assert (status, body["error"]) == (200, 0), body
    return body["data"]


async def redeem(client, amount, who=ALICE, **fields) -> dict:
    status, body = await post(client, REDEEM, req(who, amount=amount, **fields))
    assert (status, body["error"]) == (200, 0), body
    return body["data"]


def member(tenant, email="user@example.com"):
    return tenant.member("altcraft.email", email, active=False)


def snapshot(tenant):
    """Everything a refused request must leave as it was: both members' figures, ledgers and holds."""
    out = []
    for m in tenant.store.members():
        c = tenant.program(m.program_id).default_currency
        b = tenant.balance(m, c)
        out.append((m.id, m.active, b.available, b.pending, b.held, b.total,
                    tuple((e.id, e.status, e.reversed_amount) for e in tenant.entries(m)),
                    tuple((h.id, h.state) for h in tenant.store.active_holds(m.id, c.id))))
    return out


def advance(tenant, **delta):
    tenant.clock.advance(timedelta(**delta))


def tx(data: dict, balance: str, **more) -> dict:
    return {**OK, "data": {"transaction_id": data["transaction_id"], "balance": balance, **more}}


# --- accrue -----------------------------------------------------------------------------------------

async def test_accrue_then_balance(client, tenant):
    status, body = await post(client, ACCRUE, req(amount="100.50", transaction_eid="order-1",
                                                  promotion_id="PROMO123", external_data={"order_id": "123"}))
    assert status == 200
    entry = tenant.entries(member(tenant))[-1]
    assert body == {**OK, "data": {"transaction_id": entry.id, "transaction_eid": "order-1", "amount": "100.50",
                                   "is_temp": False, "status": "committed", "balance": "1500.50",
                                   "total_balance": "1900.50"}}
    assert await balance(client) == ("1900.50", "1500.50")
    assert (entry.kind, entry.amount, entry.status, entry.at) == ("credit", Decimal("100.50"), "committed", NOW)
    assert entry.refs["external_data"] == {"order_id": "123"} and entry.refs["promotion_id"] == "PROMO123"
    lot = tenant.store.lot(entry.lots[0][0])
    assert (lot.available_at, lot.expires_at) == (NOW, NOW + timedelta(days=365))   # currency default expiry
    invariants.check(tenant)


async def test_accrue_json_number_amount_and_other_matching(client, tenant):
    data = await accrue(client, 25, who={"matching": "custom", "field_name": "user_id", "field_value": 123456},
                        points_currency_iid=1)
    assert (data["amount"], data["balance"], data["total_balance"], data["transaction_eid"]) == (
        "25.00", "1425.00", "1825.00", None)
    assert await balance(client) == ("1825.00", "1425.00")


async def test_accrue_xml(client, tenant):
    fields = req(BOB, amount="100.50", points_currency_eid="stars", transaction_eid="x-1", is_temp=False,
                 external_data={"order_id": "123"})
    status, body = await post_xml(client, ACCRUE, fields)
    assert status == 200
    entry = tenant.entries(member(tenant, "new.member@example.com"))[-1]
    assert body == {**OK, "data": {"transaction_id": entry.id, "transaction_eid": "x-1", "amount": "100.50",
                                   "is_temp": "false", "status": "committed", "balance": "100.50",
                                   "total_balance": "100.50"}}
    assert entry.refs["external_data"] == {"order_id": "123"}
    assert await balance(client, BOB) == ("100.50", "100.50")


async def test_accrue_xml_error(client, tenant):
    before = snapshot(tenant)
    status, body = await post_xml(client, ACCRUE, req(amount="abc"))
    assert (status, body) == (200, {"error": 400, "error_text": f"Incorrect request: amount: \"abc\" does not match "
                                                                f"{PATTERN}"})
    status, body = await post_xml(client, ACCRUE, req(amount="0.001"))
    assert (status, body) == (200, {"error": 400,
                                    "error_text": "Incorrect amount: amount has more than 2 decimal places"})
    assert snapshot(tenant) == before


async def test_accrue_with_future_activation_date(client, tenant):
    later = NOW + timedelta(days=3)
    data = await accrue(client, "50", who=BOB, activation_date=later.isoformat().replace("+00:00", "Z"))
    assert (data["balance"], data["total_balance"]) == ("0.00", "50.00")
    assert await balance(client, BOB) == ("50.00", "0.00")          # total grows, active does not
    status, body = await post(client, REDEEM, req(BOB, amount="1"))
    assert body == INSUFFICIENT                                        # not active yet
    advance(tenant, days=3)
    assert await balance(client, BOB) == ("50.00", "50.00")
    invariants.check(tenant)


async def test_accrue_created_at_and_expiration_date(client, tenant):
    data = await accrue(client, "80", who=BOB, created_at="2026-03-01T08:00:00Z",
                        expiration_date="2026-03-20T12:00:00+00:00")
    entry = tenant.entry(data["transaction_id"])
    assert entry.at == NOW - timedelta(days=9, hours=4)
    assert tenant.store.lot(entry.lots[0][0]).expires_at == NOW + timedelta(days=10)
    assert await balance(client, BOB) == ("80.00", "80.00")
    advance(tenant, days=10)
    assert await balance(client, BOB) == ("0.00", "0.00")           # expired on expiration_date
    invariants.check(tenant)


async def test_accrue_incorrect_date(client, tenant):
    before = snapshot(tenant)
    status, body = await post(client, ACCRUE, req(amount="5", activation_date="2026-03-10 12:00"))
    assert (status, body) == (200, {"error": 400, "error_text": "Incorrect request: activation_date: "
                                                               "\"2026-03-10 12:00\" is not a valid date-time"})
    assert snapshot(tenant) == before


async def test_temporary_accrual_committed(client, tenant):
    data = await accrue(client, "30", who=BOB, is_temp=True, temp_timeout_sec=60)
    assert data == {"transaction_id": data["transaction_id"], "transaction_eid": None, "amount": "30.00",
                    "is_temp": True, "status": "temporary", "balance": "0.00", "total_balance": "30.00"}
    assert await balance(client, BOB) == ("30.00", "0.00")          # counted as pending until committed
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "30.00"))
    assert await balance(client, BOB) == ("30.00", "30.00")
    assert tenant.entry(data["transaction_id"]).status == "committed"
    advance(tenant, seconds=61)                                        # committed: the timeout no longer applies
    assert await balance(client, BOB) == ("30.00", "30.00")
    invariants.check(tenant)


async def test_temporary_accrual_rolled_back(client, tenant):
    data = await accrue(client, "30", who=BOB, is_temp=True)
    assert await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "0.00"))
    assert await balance(client, BOB) == ("0.00", "0.00")
    assert tenant.entry(data["transaction_id"]).status == "rolled_back"
    invariants.check(tenant)


async def test_temporary_accrual_times_out(client, tenant):
    data = await accrue(client, "30", who=BOB, is_temp=True, temp_timeout_sec=60)
    advance(tenant, seconds=59)
    assert await balance(client, BOB) == ("30.00", "0.00")
    advance(tenant, seconds=1)
    assert await balance(client, BOB) == ("0.00", "0.00")
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert await balance(client, BOB) == ("0.00", "0.00")
    invariants.check(tenant)


async def test_temp_timeout_is_ignored_without_is_temp(client, tenant):
    data = await accrue(client, "30", who=BOB, is_temp=False, temp_timeout_sec=1)
    assert (data["is_temp"], data["status"]) == (False, "committed")
    advance(tenant, seconds=5)
    assert await balance(client, BOB) == ("30.00", "30.00")


async def test_temporary_accrual_xml_commit(client, tenant):
    status, body = await post_xml(client, ACCRUE, req(BOB, amount="12", is_temp=True, temp_timeout_sec=120))
    assert (status, body["error"], body["data"]["is_temp"], body["data"]["status"]) == (200, 0, "true", "temporary")
    tid = body["data"]["transaction_id"]
    assert await post_xml(client, COMMIT, {"transaction_id": tid}, headers={"Authorization": f"Bearer {ALTCRAFT_TOKEN}"}) \
        == (200, {**OK, "data": {"transaction_id": tid, "balance": "12.00"}})
    assert await balance(client, BOB) == ("12.00", "12.00")


# --- redeem -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [REDEEM, REDEEM_ALIAS])
async def test_redeem_then_balance(client, tenant, path):
    status, body = await post(client, path, req(amount="100.50", transaction_eid="r-1", points_currency_eid="stars"))
    assert status == 200
    entry = tenant.entries(member(tenant))[-1]
    assert body == {**OK, "data": {"transaction_id": entry.id, "transaction_eid": "r-1", "amount": "100.50",
                                   "is_temp": False, "status": "committed", "balance": "1299.50",
                                   "total_balance": "1699.50"}}
    assert (entry.kind, entry.status) == ("debit", "committed")
    assert await balance(client) == ("1699.50", "1299.50")
    invariants.check(tenant)


@pytest.mark.parametrize("path", [REDEEM, REDEEM_ALIAS])
async def test_redeem_xml(client, tenant, path):
    status, body = await post_xml(client, path, req(amount="100", external_data={"order_id": "ORDER-123"}))
    assert status == 200
    assert body == {**OK, "data": {"transaction_id": tenant.entries(member(tenant))[-1].id, "transaction_eid": None,
                                   "amount": "100.00", "is_temp": "false", "status": "committed",
                                   "balance": "1300.00", "total_balance": "1700.00"}}
    assert await balance(client) == ("1700.00", "1300.00")


@pytest.mark.parametrize("path", [REDEEM, REDEEM_ALIAS])
async def test_redeem_xml_insufficient(client, tenant, path):
    before = snapshot(tenant)
    assert await post_xml(client, path, req(amount="1400.01")) == (200, INSUFFICIENT)
    assert snapshot(tenant) == before


async def test_insufficient_points_pending_ones_do_not_count(client, tenant):
    before = snapshot(tenant)
    assert await post(client, REDEEM, req(amount="1401")) == (200, INSUFFICIENT)   # 400 of the 1800 are pending
    assert await post(client, REDEEM, req(BOB, amount="1")) == (200, INSUFFICIENT)
    assert snapshot(tenant) == before
    data = await redeem(client, "1400")
    assert (data["balance"], data["total_balance"]) == ("0.00", "400.00")


async def test_temporary_redemption_reserves_then_commits(client, tenant):
    data = await redeem(client, "1000", is_temp=True, temp_timeout_sec=300)
    assert data == {"transaction_id": data["transaction_id"], "transaction_eid": None, "amount": "1000.00",
                    "is_temp": True, "status": "temporary", "balance": "400.00", "total_balance": "800.00"}
    assert await balance(client) == ("800.00", "400.00")             # active balance down at once
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "400.00"))
    assert await balance(client) == ("800.00", "400.00")
    advance(tenant, seconds=301)                                       # committed: nothing comes back
    assert await balance(client) == ("800.00", "400.00")
    assert tenant.entry(data["transaction_id"]).status == "committed"
    invariants.check(tenant)


async def test_temporary_redemption_rolled_back(client, tenant):
    data = await redeem(client, "1000", is_temp=True)
    assert await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "1400.00"))
    assert await balance(client) == ("1800.00", "1400.00")
    invariants.check(tenant)


async def test_temporary_redemption_times_out(client, tenant):
    data = await redeem(client, "1000", is_temp=True, temp_timeout_sec=30)
    advance(tenant, seconds=29)
    assert await balance(client) == ("800.00", "400.00")
    advance(tenant, seconds=2)
    assert await balance(client) == ("1800.00", "1400.00")           # rolled back by the clock
    before = snapshot(tenant)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before
    assert tenant.entry(data["transaction_id"]).status == "rolled_back"
    invariants.check(tenant)


async def test_redeem_racing_a_temporary_redemption(client, tenant):
    held = await redeem(client, "1000", is_temp=True)
    before = snapshot(tenant)
    assert await post(client, REDEEM, req(amount="500")) == (200, INSUFFICIENT)    # only 400 left to take
    assert await post(client, REDEEM_ALIAS, req(amount="401", is_temp=True)) == (200, INSUFFICIENT)
    assert snapshot(tenant) == before
    assert (await redeem(client, "400"))["balance"] == "0.00"
    assert await post(client, COMMIT, ref(transaction_id=held["transaction_id"])) == (200, tx(held, "0.00"))
    assert await balance(client) == ("400.00", "0.00")
    invariants.check(tenant)


# --- amounts ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, text", [
    ("0", "Incorrect amount: amount must be greater than 0"),
    (0, "Incorrect amount: amount must be greater than 0"),
    (-5, "Incorrect amount: amount must be greater than 0"),
    ("-5", f"Incorrect request: amount: \"-5\" does not match {PATTERN}"),
    ("abc", f"Incorrect request: amount: \"abc\" does not match {PATTERN}"),
    ("NaN", f"Incorrect request: amount: \"NaN\" does not match {PATTERN}"),
    ("1e30", f"Incorrect request: amount: \"1e30\" does not match {PATTERN}"),
    (1e30, "Incorrect amount: amount is too large"),
    ("1000000001", "Incorrect amount: amount is too large"),
    ("0.001", "Incorrect amount: amount has more than 2 decimal places"),
    (0.001, "Incorrect amount: amount has more than 2 decimal places"),
    (True, "Incorrect request: amount: must be of type string or number, not true"),
])
@pytest.mark.parametrize("path, is_temp", [(ACCRUE, False), (ACCRUE, True), (REDEEM, False), (REDEEM, True)])
async def test_incorrect_amounts(client, tenant, amount, text, path, is_temp):
    before = snapshot(tenant)
    assert await post(client, path, req(amount=amount, is_temp=is_temp, transaction_eid="a-1")) == (
        200, {"error": 400, "error_text": text})
    assert snapshot(tenant) == before
    await accrue(client, "1", transaction_eid="a-1")        # a refused request does not use up its eid


async def test_nan_json_literal_is_malformed(client, tenant):
    before = snapshot(tenant)
    resp = await client.post(ACCRUE, data=b'{"token": "abc123def456", "loyalty_program_id": 123, "matching": "email",'
                                          b' "email": "user@example.com", "amount": NaN}',
                             headers={"Content-Type": "application/json"})
    data = await resp.json()
    assert (resp.status, data["error"]) == (200, 400)
    assert data["error_text"].startswith("Incorrect request: malformed JSON")
    assert snapshot(tenant) == before


async def test_amount_is_required(client):
    assert await post(client, REDEEM, req()) == (200, {"error": 400, "error_text": "Incorrect request: amount is required"})


# --- commit / rollback / cancel transitions ---------------------------------------------------------------

async def test_commit_after_rollback(client, tenant):
    data = await redeem(client, "100", is_temp=True)
    await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"]))
    before = snapshot(tenant)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before
    assert await balance(client) == ("1800.00", "1400.00")


async def test_rollback_after_commit_and_double_commit(client, tenant):
    data = await accrue(client, "100", is_temp=True)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "1500.00"))
    before = snapshot(tenant)
    assert await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before
    assert await balance(client) == ("1900.00", "1500.00")


async def test_commit_of_a_permanent_transaction(client, tenant):
    data = await accrue(client, "100")
    before = snapshot(tenant)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before


async def test_cancel_permanent_accrual(client, tenant):
    data = await accrue(client, "100", who=BOB, transaction_eid="acc-1")
    assert await post(client, CANCEL, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "0.00"))
    assert await balance(client, BOB) == ("0.00", "0.00")
    assert tenant.entry(data["transaction_id"]).status == "cancelled"
    before = snapshot(tenant)
    assert await post(client, CANCEL, ref(transaction_id=data["transaction_id"])) == (200, ALREADY_CANCELLED)
    assert await post(client, CANCEL, ref(transaction_eid="acc-1")) == (200, ALREADY_CANCELLED)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before
    invariants.check(tenant)


async def test_cancel_permanent_redemption(client, tenant):
    data = await redeem(client, "100")
    assert await post(client, CANCEL, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "1400.00"))
    assert await balance(client) == ("1800.00", "1400.00")
    invariants.check(tenant)


async def test_cancel_temporary_transactions(client, tenant):
    held = await redeem(client, "1000", is_temp=True)
    pending = await accrue(client, "10", is_temp=True)
    assert await balance(client) == ("810.00", "400.00")
    assert await post(client, CANCEL, ref(transaction_id=held["transaction_id"])) == (200, tx(held, "1400.00"))
    assert await post(client, CANCEL, ref(transaction_id=pending["transaction_id"])) == (200, tx(pending, "1400.00"))
    assert await balance(client) == ("1800.00", "1400.00")
    assert {tenant.entry(d["transaction_id"]).status for d in (held, pending)} == {"cancelled"}
    before = snapshot(tenant)
    assert await post(client, CANCEL, ref(transaction_id=held["transaction_id"])) == (200, ALREADY_CANCELLED)
    assert await post(client, COMMIT, ref(transaction_id=held["transaction_id"])) == (200, NOT_TEMPORARY)
    assert snapshot(tenant) == before
    invariants.check(tenant)


async def test_cancel_rolled_back_transaction(client, tenant):
    data = await redeem(client, "100", is_temp=True)
    await post(client, ROLLBACK, ref(transaction_id=data["transaction_id"]))
    before = snapshot(tenant)
    assert await post(client, CANCEL, ref(transaction_id=data["transaction_id"])) == (200, ALREADY_CANCELLED)
    assert snapshot(tenant) == before


async def test_cancel_of_spent_accrual_is_refused(client, tenant):
    data = await accrue(client, "100", who=BOB)
    await redeem(client, "60", who=BOB)
    before = snapshot(tenant)
    assert await post(client, CANCEL, ref(transaction_id=data["transaction_id"])) == (
        200, {"error": 400, "error_text": "Insufficient points: the accrued points were already spent"})
    assert snapshot(tenant) == before
    assert await balance(client, BOB) == ("40.00", "40.00")          # never negative
    invariants.check(tenant)


async def test_cancel_of_a_cancel_or_an_expiry_entry(client, tenant):
    data = await redeem(client, "10")
    await post(client, CANCEL, ref(transaction_id=data["transaction_id"]))
    reversal = tenant.entries(member(tenant))[-1]
    assert reversal.kind == "cancel"
    before = snapshot(tenant)
    assert await post(client, CANCEL, ref(transaction_id=reversal.id)) == (
        200, {"error": 400, "error_text": "Transaction state does not allow this operation"})
    assert snapshot(tenant) == before


async def test_transaction_state_ops_in_xml(client, tenant):
    data = await redeem(client, "100", is_temp=True, transaction_eid="xml-1")
    status, body = await post_xml(client, ROLLBACK, {"token": ALTCRAFT_TOKEN, "transaction_eid": "xml-1"})
    assert (status, body) == (200, {**OK, "data": {"transaction_id": data["transaction_id"], "balance": "1400.00"}})
    assert await post_xml(client, COMMIT, {"token": ALTCRAFT_TOKEN, "transaction_eid": "xml-1"}) == (
        200, NOT_TEMPORARY)
    assert await post_xml(client, CANCEL, {"token": ALTCRAFT_TOKEN, "transaction_id": data["transaction_id"]}) == (
        200, ALREADY_CANCELLED)
    done = await redeem(client, "100")
    status, body = await post_xml(client, CANCEL, {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123,
                                                  "transaction_id": done["transaction_id"]})
    assert (status, body) == (200, {**OK, "data": {"transaction_id": done["transaction_id"], "balance": "1400.00"}})
    assert await post_xml(client, COMMIT, {"token": ALTCRAFT_TOKEN, "transaction_id": "nope"}) == (200, NO_TRANSACTION)
    assert await post_xml(client, ROLLBACK, {"token": ALTCRAFT_TOKEN, "transaction_id": done["transaction_id"]}) == (
        200, NOT_TEMPORARY)
    assert await post_xml(client, ROLLBACK, {"token": ALTCRAFT_TOKEN}) == (
        200, {"error": 400, "error_text": "Incorrect request: transaction_id or transaction_eid is required"})
    assert await balance(client) == ("1800.00", "1400.00")


# --- naming the transaction ---------------------------------------------------------------------------------

async def test_commit_by_eid_and_by_both_ids(client, tenant):
    a = await accrue(client, "10", who=BOB, is_temp=True, transaction_eid="t-a")
    b = await accrue(client, "20", who=BOB, is_temp=True, transaction_eid="t-b")
    assert await post(client, COMMIT, ref(transaction_eid="t-a")) == (200, tx(a, "10.00"))
    assert await post(client, COMMIT, ref(transaction_id=b["transaction_id"], transaction_eid="t-b",
                                          loyalty_program_id=123)) == (200, tx(b, "30.00"))
    assert await balance(client, BOB) == ("30.00", "30.00")


async def test_ids_naming_different_transactions(client, tenant):
    a = await accrue(client, "10", who=BOB, is_temp=True, transaction_eid="t-a")
    await accrue(client, "20", who=BOB, is_temp=True, transaction_eid="t-b")
    before = snapshot(tenant)
    for path in (COMMIT, ROLLBACK, CANCEL):
        assert await post(client, path, ref(transaction_id=a["transaction_id"], transaction_eid="t-b")) == (
            200, {"error": 400, "error_text": "Incorrect request: transaction_id and transaction_eid name "
                                              "different transactions"})
    assert snapshot(tenant) == before


@pytest.mark.parametrize("path", [COMMIT, ROLLBACK, CANCEL])
@pytest.mark.parametrize("ids, expected", [
    ({"transaction_id": "TRANS12345"}, NO_TRANSACTION),
    ({"transaction_eid": "no-such-eid"}, NO_TRANSACTION),
    ({"transaction_eid": "no-such-eid", "loyalty_program_id": 123}, NO_TRANSACTION),
    ({"transaction_id": "TRANS12345", "loyalty_program_id": 999},
     {"error": 404, "error_text": "Loyalty program not found"}),
    ({}, {"error": 400, "error_text": "Incorrect request: transaction_id or transaction_eid is required"}),
    ({"transaction_id": ""}, {"error": 400, "error_text": "Incorrect request: transaction_id: \"\" should be non-empty"}),
])
async def test_unknown_or_missing_transaction(client, tenant, path, ids, expected):
    before = snapshot(tenant)
    assert await post(client, path, ref(**ids)) == (200, expected)
    assert snapshot(tenant) == before


@pytest.fixture
def second_program(tenant):
    """A second loyalty program (Altcraft id 456) with one member, carol."""
    other = Program(id="other", name="Other", money_currency="EUR",
                    currencies=(PointCurrency(id="coins", name="Coins", value=Decimal("0.01"),
                                              external={"altcraft.iid": 9, "altcraft.eid": "coins"}),),
                    external={"altcraft.program_id": 456})
    tenant.programs["other"] = other
    tenant.add_member(other, {"altcraft.email": "carol@example.com"})
    return tenant


async def test_transaction_of_another_program(client, second_program):
    tenant = second_program
    carol = {"matching": "email", "email": "carol@example.com"}
    mine = await accrue(client, "5", who=BOB, is_temp=True, transaction_eid="same-eid")
    theirs = (await post(client, ACCRUE, {**req(carol, amount="7", is_temp=True, transaction_eid="same-eid"),
                                          "loyalty_program_id": 456}))[1]["data"]
    assert theirs["transaction_id"] != mine["transaction_id"]          # eids are unique per program only
    before = snapshot(tenant)
    assert await post(client, COMMIT, ref(transaction_id=mine["transaction_id"], loyalty_program_id=456)) == (
        200, NO_TRANSACTION)
    assert await post(client, COMMIT, ref(transaction_eid="same-eid")) == (
        200, {"error": 400, "error_text": "Incorrect request: transaction_eid is used in several loyalty programs: "
                                          "send loyalty_program_id"})
    assert snapshot(tenant) == before
    assert await post(client, COMMIT, ref(transaction_eid="same-eid", loyalty_program_id=456)) == (
        200, tx(theirs, "7.00"))
    assert await post(client, COMMIT, ref(transaction_eid="same-eid", loyalty_program_id=123)) == (
        200, tx(mine, "5.00"))
    invariants.check(tenant)


async def test_fixture_transaction_can_be_cancelled_by_id(client, tenant):
    credit = next(e for e in tenant.entries(member(tenant)) if e.kind == "credit" and e.amount == 1200)
    assert await post(client, CANCEL, ref(transaction_id=credit.id)) == (
        200, {**OK, "data": {"transaction_id": credit.id, "balance": "200.00"}})
    assert await balance(client) == ("600.00", "200.00")
    invariants.check(tenant)


# --- transaction_eid: replay and conflict ---------------------------------------------------------------------

@pytest.mark.parametrize("path, is_temp", [(ACCRUE, False), (ACCRUE, True), (REDEEM, False), (REDEEM, True)])
async def test_duplicate_eid_same_body_replays(client, tenant, path, is_temp):
    payload = req(amount="100", transaction_eid="dup-1", is_temp=is_temp, external_data={"order_id": "9"})
    status, first = await post(client, path, payload)
    assert (status, first["error"]) == (200, 0)
    figures = await balance(client)
    before = snapshot(tenant)
    assert await post(client, path, payload) == (200, first)                          # same answer
    without_token = {k: v for k, v in payload.items() if k != "token"}
    assert await post(client, path, without_token,                                   # token elsewhere: same request
                      headers={"Authorization": f"Bearer {ALTCRAFT_TOKEN}"}) == (200, first)
    assert snapshot(tenant) == before
    assert await balance(client) == figures
    invariants.check(tenant)


async def test_replay_in_xml_of_a_json_request(client, tenant):
    payload = req(amount="100.50", transaction_eid="dup-x", external_data={"order_id": "123"})
    _, first = await post(client, ACCRUE, payload)
    before = snapshot(tenant)
    status, again = await post_xml(client, ACCRUE, payload)
    assert status == 200
    assert again == {**OK, "data": {**first["data"], "is_temp": "false"}}
    status, again = await post(client, ACCRUE, {**payload, "format": "json"})          # format is not the request
    assert (status, again) == (200, first)
    assert snapshot(tenant) == before


@pytest.mark.parametrize("change", [
    {"amount": "100.01"},
    {"is_temp": True},
    {"external_data": {"order_id": "10"}},
    {"email": "new.member@example.com"},
])
async def test_duplicate_eid_different_body_conflicts(client, tenant, change):
    payload = req(amount="100", transaction_eid="dup-2", external_data={"order_id": "9"})
    status, first = await post(client, ACCRUE, payload)
    assert (status, first["error"]) == (200, 0)
    before = snapshot(tenant)
    assert await post(client, ACCRUE, {**payload, **change}) == (200, CONFLICT)
    assert await post(client, REDEEM, payload) == (200, CONFLICT)                      # same eid, other operation
    assert snapshot(tenant) == before


async def test_duplicate_eid_conflict_xml(client, tenant):
    await accrue(client, "100", transaction_eid="dup-3")
    before = snapshot(tenant)
    assert await post_xml(client, ACCRUE, req(amount="200", transaction_eid="dup-3")) == (200, CONFLICT)
    assert snapshot(tenant) == before


async def test_refused_request_does_not_claim_its_eid(client, tenant):
    assert await post(client, REDEEM, req(amount="5000", transaction_eid="late")) == (200, INSUFFICIENT)
    data = await redeem(client, "100", transaction_eid="late")
    assert data["transaction_eid"] == "late"
    assert await balance(client) == ("1700.00", "1300.00")


# --- membership -------------------------------------------------------------------------------------------------

async def test_delete_member_then_writes_are_refused(client, tenant):
    assert await post(client, DELETE, req(BOB)) == (200, {**OK, "profile_id": "profile456"})
    assert member(tenant, "new.member@example.com").active is False
    before = snapshot(tenant)
    assert await post(client, BALANCE, req(BOB)) == (200, NOT_MEMBER)
    assert await post(client, ACCRUE, req(BOB, amount="10")) == (200, NOT_MEMBER)
    assert await post(client, REDEEM, req(BOB, amount="10")) == (200, NOT_MEMBER)
    assert await post(client, REDEEM_ALIAS, req(BOB, amount="10", is_temp=True)) == (200, NOT_MEMBER)
    assert await post(client, DELETE, req(BOB)) == (200, NOT_MEMBER)
    assert snapshot(tenant) == before


async def test_register_again_after_delete_keeps_the_balance(client, tenant):
    assert await post(client, DELETE, req({"matching": "phone", "phone": "+1234567890"})) == (
        200, {**OK, "profile_id": "profile123"})
    assert await post(client, BALANCE, req()) == (200, NOT_MEMBER)
    assert await post(client, REGISTER, req(registration_date="2026-03-10T12:00:00Z")) == (
        200, {**OK, "profile_id": "profile123"})
    assert member(tenant).active is True
    assert await balance(client) == ("1800.00", "1400.00")
    assert (await accrue(client, "10"))["balance"] == "1410.00"
    invariants.check(tenant)


async def test_register_active_member_changes_nothing(client, tenant):
    m = member(tenant)
    before = snapshot(tenant)
    assert await post(client, REGISTER, req({"matching": "custom", "field_name": "user_id", "field_value": 123456})) \
        == (200, {**OK, "profile_id": "profile123"})
    assert snapshot(tenant) == before
    assert member(tenant) == m                                        # not even touched
    assert await balance(client) == ("1800.00", "1400.00")


@pytest.mark.parametrize("path", [REGISTER, DELETE])
@pytest.mark.parametrize("who, expected", [
    ({"matching": "email", "email": "nobody@example.com"}, NO_PROFILE),
    ({"matching": "profile_id", "profile_id": "profile999"}, NO_PROFILE),
])
async def test_unknown_profile(client, tenant, path, who, expected):
    before = snapshot(tenant)
    count = len(tenant.store.members())
    assert await post(client, path, req(who)) == (200, expected)     # registration never creates profiles
    assert snapshot(tenant) == before and len(tenant.store.members()) == count


@pytest.mark.parametrize("path", [REGISTER, DELETE])
async def test_membership_unknown_program(client, tenant, path):
    before = snapshot(tenant)
    assert await post(client, path, req(loyalty_program_id=999)) == (
        200, {"error": 404, "error_text": "Loyalty program not found"})
    assert snapshot(tenant) == before


async def test_profile_of_another_program_is_not_found(client, second_program):
    carol = {"matching": "email", "email": "carol@example.com"}
    assert await post(client, REGISTER, req(carol)) == (200, NO_PROFILE)
    assert await post(client, ACCRUE, req(carol, amount="1")) == (200, NO_PROFILE)
    assert await post(client, DELETE, {**req(carol), "loyalty_program_id": 456}) == (
        200, {**OK, "profile_id": second_program.member("altcraft.email", "carol@example.com", active=False).id})


async def test_membership_xml(client, tenant):
    assert await post_xml(client, DELETE, req(BOB)) == (200, {**OK, "profile_id": "profile456"})
    assert await post_xml(client, DELETE, req(BOB)) == (200, NOT_MEMBER)
    assert await post_xml(client, ACCRUE, req(BOB, amount="1")) == (200, NOT_MEMBER)
    assert await post_xml(client, REGISTER, req(BOB, registration_date="2024-09-01T12:34:56Z")) == (
        200, {**OK, "profile_id": "profile456"})
    assert await post_xml(client, REGISTER, req({"matching": "email", "email": "nobody@example.com"})) == (
        200, NO_PROFILE)
    assert await balance(client, BOB) == ("0.00", "0.00")


# --- error_http_status ---------------------------------------------------------------------------------------------

async def test_error_http_status_off_by_default(client, tenant):
    assert tenant.setting("altcraft", "error_http_status") is False
    assert await post(client, REDEEM, req(amount="5000")) == (200, INSUFFICIENT)
    assert await post(client, COMMIT, ref(transaction_id="nope")) == (200, NO_TRANSACTION)
    assert await post_xml(client, DELETE, req({"matching": "email", "email": "nobody@example.com"})) == (
        200, NO_PROFILE)


async def test_error_http_status_on(client, http_status):
    tenant = http_status
    before = snapshot(tenant)
    assert await post(client, REDEEM, req(amount="5000")) == (400, INSUFFICIENT)
    assert await post(client, ACCRUE, req(amount="0.001")) == (
        400, {"error": 400, "error_text": "Incorrect amount: amount has more than 2 decimal places"})
    assert await post(client, COMMIT, ref(transaction_id="nope")) == (404, NO_TRANSACTION)
    assert await post(client, CANCEL, ref()) == (
        400, {"error": 400, "error_text": "Incorrect request: transaction_id or transaction_eid is required"})
    assert await post(client, REGISTER, req({"matching": "email", "email": "nobody@example.com"})) == (404, NO_PROFILE)
    assert await post_xml(client, REDEEM_ALIAS, req(amount="5000")) == (400, INSUFFICIENT)
    assert snapshot(tenant) == before
    await accrue(client, "1", transaction_eid="h-1")                  # success stays HTTP 200
    assert await post(client, ACCRUE, req(amount="2", transaction_eid="h-1")) == (409, CONFLICT)
    data = await redeem(client, "1", is_temp=True)
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (200, tx(data, "1400.00"))
    assert await post(client, COMMIT, ref(transaction_id=data["transaction_id"])) == (400, NOT_TEMPORARY)
    assert await post(client, DELETE, req(BOB)) == (200, {**OK, "profile_id": "profile456"})
    assert await post(client, ACCRUE, req(BOB, amount="1")) == (404, NOT_MEMBER)


async def test_error_http_status_on_without_tenant_stays_200(client, http_status):
    assert await post(client, ACCRUE, req(amount="1", token=None)) == (
        200, {"error": 401, "error_text": "API token required"})
    assert await post(client, COMMIT, ref(transaction_id="x", token="nope")) == (
        200, {"error": 403, "error_text": "Access denied: invalid API token"})


# --- the admin view -------------------------------------------------------------------------------------------------

async def test_member_view_is_the_balance_data(client, tenant):
    resp = await client.get("/__admin/tenants/demo/members/alice")
    assert (await resp.json())["views"]["altcraft"] == {"total_balance": "1800.00", "active_balance": "1400.00"}
    await accrue(client, "10.25")
    resp = await client.get("/__admin/tenants/demo/members/alice")
    view = (await resp.json())["views"]["altcraft"]
    _, body = await post(client, BALANCE, req())
    assert view == body["data"] == {"total_balance": "1810.25", "active_balance": "1410.25"}
    resp = await client.get("/__admin/tenants/demo/members/bob")
    assert (await resp.json())["views"]["altcraft"] == {"total_balance": "0.00", "active_balance": "0.00"}


async def test_member_view_of_a_removed_member(client, tenant):
    await post(client, DELETE, req(BOB))
    resp = await client.get("/__admin/tenants/demo/members/bob")
    assert (await resp.json())["views"]["altcraft"] == {"error": "member_inactive",
                                                        "message": "member is not registered in the program"}


async def test_activation_after_expiration_is_refused(client, tenant):
    from invariants import check
    body = {"token": "abc123def456", "loyalty_program_id": 123, "matching": "email", "email": "user@example.com",
            "amount": "10", "activation_date": "2026-03-20T00:00:00Z", "expiration_date": "2026-03-15T00:00:00Z"}
    r = await client.post("/api/v1.1/loyalty/accrue_points", json=body)
    out = await r.json()
    assert (r.status, out["error"]) == (200, 400)
    assert tenant.balance(tenant.member("altcraft.email", "user@example.com"),
                          tenant.only_program().default_currency).total == 1800
    check(tenant)
