"""Every Gameball answer is valid against Gameball's own published OpenAPI (tests/data/gameball-openapi.json),
and the fidelity fixes found by checking against it: times, nulls, selectors, error words, prefixes.

The checked client (helpers.CheckedClient) validates every Gameball answer of the whole suite against the
reference; the scenario below calls every operation of specs/gameball.yaml, so each is judged at least once."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

import gameball_reference as ref
from gateway import specs
from helpers import ALICE, BOB, DEMO, GB, NOW, admin, credit

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
TIME = "2026-03-10T11:00:00Z"


@pytest.fixture
def vendors():
    return ["gameball"]


async def call(client, method, path, body=None, headers=GB, prefix=API):
    r = await client.request(method, prefix + path, json=body, headers=headers)
    return r.status, await r.json()


# --- the judge itself can fail --------------------------------------------------------------------------------

def test_the_reference_rejects_what_gameball_clients_cannot_read():
    balance = f"{API}/customers/x/balance"
    assert ref.check("GET", balance, 200, {"nextExpiringPointsDate": None}) != []
    assert ref.check("GET", balance, 200, {"nextExpiringPointsDate": "2024-12-01T00:00:00.000Z"}) == []
    hold = f"{API}/transactions/hold/abc"
    assert ref.check("GET", hold, 200, {"dateToExpire": "2024-10-16T08:11:24.675401"}) != []
    assert ref.check("GET", hold, 200, {"dateToExpire": "2024-10-16T08:11:24.675Z"}) == []
    manual = f"{API}/transactions/manual"
    assert ref.check("POST", manual, 400, {"code": 3000, "type": "PAYLOAD_ERROR", "message": "x"}) != []
    assert ref.check("POST", manual, 400, {"error": 400, "message": "x"}) == []
    assert ref.check("GET", "/api/v4.1/integrations/customers/x/balance", 200, {"totalPointsBalance": "1"}) != []
    assert ref.check("GET", f"{API}/nothing", 200, {}) != []


def test_every_operation_of_our_spec_is_an_operation_of_the_reference():
    ours = specs.load("gameball").operations.values()
    missing = [(op.method, op.path) for op in ours if ref.operation(op.method, op.path)[0] is None]
    assert missing == []


# --- what the reference's own examples send, our spec takes ------------------------------------------------------

def _with_example(op) -> bool:
    body = ref.request_example(op.method, op.path)
    return body is not None and ref.required_present(op.method, op.path, body)


EXAMPLED = [op for op in specs.load("gameball").operations.values() if _with_example(op)]


def test_the_reference_examples_cover_the_main_writes():
    assert {op.operation_id for op in EXAMPLED} >= {"track_order", "cashback", "manual_transaction", "hold_points",
                                                    "redeem_points", "refund", "track_payment",
                                                    "order_cashback_quote", "send_otp", "set_customer_activation"}


@pytest.mark.parametrize("op", EXAMPLED, ids=lambda op: op.operation_id)
def test_our_spec_accepts_the_references_own_request_examples(op):
    """Bodies made of the reference's property examples (`points: 0` beside `amount`, offset-less times ...)."""
    body = json.loads(json.dumps(ref.request_example(op.method, op.path)), parse_float=Decimal)
    assert op.validate_body(body) == []


@pytest.mark.parametrize("op", EXAMPLED, ids=lambda op: op.operation_id)
async def test_the_gateway_takes_the_references_own_request_examples(client, http, op):
    """Sent as they are: refused for business reasons at most (unknown customer, unknown hold), never as invalid."""
    path = re.sub(r"\{[^}]+\}", ALICE_ID, op.path)
    r = await client.request(op.method.upper(), path, json=ref.request_example(op.method, op.path), headers=GB)
    journal = await admin(http, "GET", f"{DEMO}/journal?limit=1", 200)
    [entry] = journal["entries"]
    assert (entry["operation"], entry["request_violations"]) == (op.operation_id, []), await r.text()
    assert r.status != 400


# --- a scenario through every operation, each answer judged by the reference ------------------------------------

def _scenario():
    """(method, path, body, status) in order; one world, each operation at least once."""
    t = TIME
    return [
        ("POST", "/customers", {"customerId": "cust-s", "email": "s@example.com", "mobile": None,
                                "customerAttributes": {"firstName": "Sam", "lastName": None}}, 200),
        ("GET", f"/customers/{ALICE_ID}/balance", None, 200),
        ("GET", f"/customers/{BOB_ID}/balance?expand=tier,referrals", None, 200),
        ("GET", "/customers/nobody/balance", None, 404),
        ("POST", "/orders", {"customerId": "cust-s", "orderId": "S-ORD-1", "orderDate": "2026-03-10T11:00:00",
                             "totalPaid": 120, "lineItems": [{"productId": "P1", "price": 100, "quantity": 1},
                                                             {"price": 20}], "redemption": None}, 200),
        ("POST", "/transactions/cashback", {"customerId": ALICE_ID, "transactionId": "S-CB-1", "transactionTime": t,
                                            "amount": 50, "configurations": {"returnWindow": 0}}, 200),
        ("PUT", "/transactions/S-ORD-1/activate", None, 200),
        ("POST", "/transactions/manual", {"customerId": ALICE_ID, "transactionId": "S-MAN-1", "username": "admin",
                                          "reason": "bonus", "points": 10, "amount": 0}, 200),
        ("POST", "/transactions/manual", {"customerId": ALICE_ID, "transactionId": "S-MAN-2", "username": "admin",
                                          "reason": "bonus", "points": 10, "expiryAfter": -1}, 400),
        ("POST", "/transactions/manual", {"transactionId": "S-MAN-3", "username": "admin", "reason": "x"}, 400),
        ("POST", "/transactions/hold", {"customerId": ALICE_ID, "transactionTime": t, "pointsToHold": 100,
                                        "amountToHold": None, "ruleId": None}, 200),
        ("GET", "/transactions/hold/{hold}", None, 200),
        ("POST", "/transactions/redeem", {"customerId": ALICE_ID, "transactionId": "S-RED-1", "transactionTime": t,
                                          "holdReference": "{hold}", "amount": 0, "points": None}, 200),
        ("POST", "/transactions/hold", {"customerId": ALICE_ID, "transactionTime": t, "amountToHold": 1}, 200),
        ("DELETE", "/transactions/hold/{hold}", None, 200),
        ("POST", "/transactions/redeem", {"customerId": ALICE_ID, "transactionId": "S-RED-2", "transactionTime": t,
                                          "amount": 10, "points": 0, "holdReference": None, "reason": "Discount"},
         200),
        ("POST", "/transactions/refund", {"customerId": ALICE_ID, "refundTransactionId": "S-REF-1",
                                          "reverseTransactionId": "S-CB-1", "transactionTime": t,
                                          "refundAmount": None}, 200),
        ("GET", "/customers/cust-s", None, 200),
        ("GET", "/customers/cust-s/details", None, 200),
        ("GET", f"/customers/{ALICE_ID}/tier-progress", None, 200),
        ("GET", f"/customers/{ALICE_ID}/referrals/count", None, 200),
        ("PUT", "/customers/cust-s/activate", {"isActive": False}, 200),
        ("PUT", "/customers/nobody/activate", {"isActive": False}, 404),
        ("PUT", "/customers/cust-s/activate", {}, 400),
        ("DELETE", "/customers/cust-s", None, 200),
        ("POST", "/payments", {"customerId": BOB_ID, "paymentId": "S-PAY-1", "paymentDate": t, "totalPaid": 30.5,
                               "paymentDetails": [{"serviceId": "S1", "amount": 30.5}], "redemption": None}, 200),
        ("POST", "/orders/cashback", {"customerId": BOB_ID, "totalPaid": 30, "totalDiscount": 0, "totalShipping": 0,
                                      "lineItems": [{"productId": "P", "price": 30}]}, 200),
        ("GET", "/orders/S-PAY-1/transactions", None, 200),
        ("GET", "/orders/S-ORD-1/transactions", None, 200),
        ("POST", "/transactions/hold", {"customerId": ALICE_ID, "transactionTime": t, "ruleId": "1"}, 200),
        ("POST", "/transactions/otp", {"customerId": ALICE_ID, "points": 10}, 422),
        ("GET", "/configurations/redemption", None, 200),
        ("POST", "/batch/cashback", {"body": [{"customerId": ALICE_ID, "transactionId": "S-B1",
                                               "transactionTime": t, "amount": 5}]}, 200),
        ("POST", "/batch/redeem", {"body": [{"customerId": ALICE_ID, "transactionId": "S-B2", "transactionTime": t,
                                             "points": 5}]}, 200),
        ("POST", "/batch/orders", {"body": [{"customerId": BOB_ID, "orderId": "S-B3", "orderDate": t,
                                             "totalPaid": 5}]}, 200),
        ("POST", "/batch/orders/transactions", {"body": ["S-B3"]}, 200),
        ("POST", "/batch/balance-inquiry", {"body": [{"customerId": BOB_ID}]}, 200),
        ("POST", "/batch/balance-adjustment", {"body": [{"customerId": BOB_ID, "amount": 3}]}, 200),
        ("GET", "/batches/1/status", None, 200),
        ("GET", "/batches/99/status", None, 404),
        ("POST", "/events", {"customerId": "cust-ev", "events": {"write_review": {"stars": 5}}}, 200),
        ("GET", "/configurations/cashback?customerId=x", None, 200),
        ("GET", "/configurations/tiers", None, 200),
        ("GET", "/transactions?limit=3&direction=-", None, 200),
        ("GET", "/transactions/customer-view?startAfter=2", None, 200),
        ("GET", f"/transactions/count?customerId={ALICE_ID}&status=Active", None, 200),
    ]


async def test_scenario_covers_every_operation_and_the_reference_accepts_every_answer(client):
    await _scenario_run(client)


async def test_the_otp_path_as_well(client, tenant):
    tenant.settings.setdefault("gameball", {})["otp"] = "123456"
    status, body = await call(client, "POST", "/transactions/otp", {"customerId": ALICE_ID, "ruleId": 1})
    assert (status, body["success"]) == (200, True)


async def _scenario_run(client):
    hold = None
    called = set()
    for method, path, body, status in _scenario():
        if "{hold}" in path:
            path = path.replace("{hold}", hold)
        if body is not None and body.get("holdReference") == "{hold}":
            body = {**body, "holdReference": hold}
        got, answer = await call(client, method, path, body)      # the checked client judges it
        assert got == status, (method, path, answer)
        if "holdReference" in answer:
            hold = answer["holdReference"]
        template, _ = ref.operation(method, API + path)
        called.add((method, template))
    ours = {(op.method, ref.operation(op.method, op.path)[0]) for op in specs.load("gameball").operations.values()}
    assert ours - called == set()


# --- times ------------------------------------------------------------------------------------------------------

async def test_times_without_offset_are_utc(client):
    """NOW is 12:00Z: 11:59:59.249 without offset is in the past, 12:30:00 is in the future, whatever the host's zone."""
    body = {"customerId": ALICE_ID, "transactionId": "T-1", "transactionTime": "2026-03-10T11:59:59.249", "amount": 10}
    assert (await call(client, "POST", "/transactions/cashback", body))[0] == 200
    status, answer = await call(client, "POST", "/transactions/cashback",
                                {**body, "transactionId": "T-2", "transactionTime": "2026-03-10T12:30:00"})
    assert (status, answer["code"]) == (422, 9007)
    status, answer = await call(client, "POST", "/transactions/cashback",
                                {**body, "transactionId": "T-3", "transactionTime": "2026-13-10T10:00:00"})
    assert (status, answer["code"]) == (422, 9007)
    assert "transactionTime" in answer["message"]


async def test_times_sent_have_one_form(client):
    status, held = await call(client, "POST", "/transactions/hold",
                              {"customerId": ALICE_ID, "transactionTime": TIME, "pointsToHold": 10})
    assert status == 200
    _, detail = await call(client, "GET", f"/transactions/hold/{held['holdReference']}")
    assert detail["dateToExpire"] == "2026-03-10T12:10:00.000Z"
    _, balance = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    assert balance["nextExpiringPointsDate"] == "2026-04-24T12:00:00.000Z"


# --- null means absent; unused selectors -----------------------------------------------------------------------

async def test_null_in_optional_fields_means_absent(client):
    status, answer = await call(client, "POST", "/orders", {
        "customerId": BOB_ID, "orderId": "N-1", "orderDate": TIME, "totalPaid": 100, "email": None, "mobile": None,
        "lineItems": None, "redemption": None, "merchant": None, "channel": None, "cashbackConfigurations": None,
        "extra": None, "guest": None})
    assert (status, answer) == (200, {"customerId": BOB_ID, "redeemedPoints": 0, "rewardedPoints": 100,
                                      "lineItems": []})
    status, answer = await call(client, "POST", "/transactions/cashback", {
        "customerId": BOB_ID, "transactionId": "N-2", "transactionTime": TIME, "amount": 10,
        "configurations": {"returnWindow": None}, "merchant": {"uniqueId": None, "branch": None}})
    assert status == 200 and answer["rewardEquivalentPoints"] == 10


async def test_a_required_field_sent_null_is_3001(client):
    status, answer = await call(client, "POST", "/transactions/cashback",
                                {"customerId": None, "transactionId": "N-3", "transactionTime": TIME, "amount": 10})
    assert (status, answer["code"]) == (422, 3001)
    assert "customerId" in answer["message"]


async def test_redeem_as_the_reference_example_sends_it(client):
    """The reference's redeem example sends `points: 0` beside `amount` and `holdReference: null`."""
    status, answer = await call(client, "POST", "/transactions/redeem", {
        "customerId": ALICE_ID, "transactionId": "E-1", "transactionTime": TIME, "amount": 10, "points": 0,
        "holdReference": None, "hash": "HASH1234", "otp": "123456", "ignoreOTP": False,
        "reason": "Discount on order #12345"})
    assert status == 200
    assert (answer["redeemEquivalentPoints"], answer["redeemAmount"], answer["reason"]) == (200, 10, "Discount on order #12345")
    _, balance = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    assert balance["availablePointsBalance"] == 1200


async def test_points_zero_alone_is_still_refused(client):
    status, answer = await call(client, "POST", "/transactions/redeem", {
        "customerId": ALICE_ID, "transactionId": "E-2", "transactionTime": TIME, "points": 0})
    assert (status, answer["code"]) == (422, 3003)
    assert "amount, points, holdReference" in answer["message"]


# --- error words -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value,words", [
    ("amount", "abc", "amount"),
    ("amount", -5, "amount"),
    ("transactionTime", "yesterday", "transactionTime"),
    ("customerId", "", "customerId"),
])
async def test_error_messages_name_the_field_and_carry_no_repr(client, field, value, words):
    body = {"customerId": ALICE_ID, "transactionId": "W-1", "transactionTime": TIME, "amount": 10, field: value}
    status, answer = await call(client, "POST", "/transactions/cashback", body)
    assert (status, answer["code"]) == (422, 3003)
    message = answer["message"]
    assert words in message
    for leak in ("Decimal(", "{", "'W-1'", "'customerId':", "None"):
        assert leak not in message, message


async def test_manual_missing_field_and_bad_json_are_error_message_bodies(client):
    status, answer = await call(client, "POST", "/transactions/manual",
                                {"transactionId": "M-1", "username": "admin", "reason": "x", "points": 5})
    assert (status, answer) == (400, {"error": 400, "message": "Missing arguments: customerId is required."})
    r = await client.post(API + "/transactions/manual", data=b"{not json", headers={**GB, "Content-Type": "application/json"})
    assert r.status == 400 and set(await r.json()) == {"error", "message"}
    # another operation keeps the full envelope
    status, answer = await call(client, "POST", "/transactions/cashback", {"transactionId": "M-2"})
    assert status == 400 and answer["code"] == 3000 and set(answer) == {"code", "type", "message", "documentationUrl",
                                                                         "requestId"}


# --- fractional points written through another dialect ------------------------------------------------------------

async def test_fractional_points_from_another_dialect_show_exactly(client, tenant):
    """Gameball documents whole points, but its balance fields are `number`: a 0.75 credit made through a dialect
    that allows fractions is shown as it is (the figures agree with every other dialect); money is in cents."""
    credit(tenant, "gameball.customer", ALICE_ID, "0.75")
    _, balance = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    assert Decimal(str(balance["availablePointsBalance"])) == Decimal("1400.75")
    assert Decimal(str(balance["availablePointsValue"])) == Decimal("70.04")     # 70.0375, half up to cents


# --- version prefixes --------------------------------------------------------------------------------------------

async def test_the_v4_and_v41_prefixes_are_served(client):
    status, v40 = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    status4, v4 = await call(client, "GET", f"/customers/{ALICE_ID}/balance", prefix="/api/v4/integrations")
    assert (status, status4, v4) == (200, 200, v40)
    # v4.1 ("Secure Integration Mode"): secretkey on every call, POST /customers included
    apikey_only = {"apikey": GB["apikey"]}
    status, answer = await call(client, "POST", "/customers", {"customerId": "v41"}, headers=apikey_only,
                                prefix="/api/v4.1/integrations")
    assert (status, answer["code"]) == (401, 1001)
    assert (await call(client, "POST", "/customers", {"customerId": "v41"}, headers=apikey_only))[0] == 200
    assert (await call(client, "POST", "/customers", {"customerId": "v41"},
                       prefix="/api/v4.1/integrations"))[0] == 200


@pytest.mark.parametrize("prefix", ["/api/v4.2/integrations", "/api/v4.0/integration", "/api/v40/integrations"])
async def test_a_wrong_prefix_gets_gameballs_404(client, prefix):
    r = await client._client.get(f"{prefix}/customers/{ALICE_ID}/balance", headers=GB)
    body = await r.json()
    assert r.status == 404
    assert (body["code"], body["type"]) == (4004, "GENERAL_ERROR")
    assert set(body) == {"code", "type", "message", "documentationUrl", "requestId"}
