"""Brevo dialect, writes (/v3/loyalty/balance/...): create/complete/cancel transaction, create order,
create subscription balance, transaction history; the currency rules of the engine seen over HTTP;
the admin view of a member. Every response is checked against specs/brevo.yaml by the `client`
fixture, and the ledger invariants are checked after every test."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from gateway import fixtures

from helpers import utc_seconds as z
from helpers import ALICE, BOB, BREVO, BREVO_BDID, BREVO_PID, NOW, OTHER_BDID, OTHER_PID

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
TRANSACTIONS = f"{BASE}/transactions"
ORDERS = f"{BASE}/create-order"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"
JSON = {**BREVO, "Content-Type": "application/json"}




@pytest.fixture
def vendors():
    return ["brevo"]


pytestmark = pytest.mark.usefixtures("ledger_invariants")


@pytest.fixture
def subscribed_alice(tenant, alice):
    """Alice with a loyaltySubscriptionId (Brevo's guide example)."""
    return tenant.update_member(alice, identities={**alice.identities, "brevo.subscription": "cust_abc123"})


def tx(amount=50, cid=ALICE["brevo"], **extra) -> dict:
    body = {"amount": amount, "balanceDefinitionId": BREVO_BDID, **extra}
    if cid is not None:
        body["contactId"] = cid
    return body


async def post(client, path, body=None, status=200, headers=BREVO):
    resp = await client.post(path, json=body, headers=headers) if body is not None \
        else await client.post(path, headers=headers)
    out = await resp.json()
    assert resp.status == status, out
    return out


async def post_raw(client, path, raw: bytes, status):
    resp = await client.post(path, data=raw, headers=JSON)
    out = await resp.json()
    assert resp.status == status, out
    return out


async def get(client, path, status=200, headers=BREVO):
    resp = await client.get(path, headers=headers)
    out = await resp.json()
    assert resp.status == status, out
    return out


async def value(client, cid=ALICE["brevo"], base=BASE, headers=BREVO, bdid=BREVO_BDID):
    """The member's balance of one definition, as get_subscription_balances reads it."""
    body = await get(client, f"{base}/subscriptions/{cid}/balances", headers=headers)
    return next(b["value"] for b in body["balance"] if b["balanceDefinitionId"] == bdid)


async def complete(client, tid, status=200, base=BASE, headers=BREVO):
    return await post(client, f"{base}/transactions/{tid}/complete", status=status, headers=headers)


async def cancel(client, tid, status=200, base=BASE, headers=BREVO):
    return await post(client, f"{base}/transactions/{tid}/cancel", status=status, headers=headers)


async def advance(client, by: str):
    resp = await client.post("/__admin/tenants/demo/clock/advance", json={"by": by})
    assert resp.status == 200, await resp.text()


def history_path(cid=ALICE["brevo"], bdid=BREVO_BDID, base=BASE, **extra) -> str:
    query = {"contactId": cid, "balanceDefinitionId": bdid, **extra}
    return f"{base}/transaction-history?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


def state(tenant, alice, points):
    """Everything a failed request must leave as it was."""
    return (tenant.balance(alice, points), len(tenant.entries(alice)), tenant.store.export()["records"])


NOT_DRAFT = {"code": "unprocessable_entity", "message": "transaction is not in draft status"}
NOT_SUBSCRIBED = {"code": "unprocessable_entity", "message": "contact is not subscribed to the loyalty program"}
TX_NOT_FOUND = {"code": "document_not_found", "message": "transaction not found"}


def draft_body(tid, amount=50, kind="credit", meta=None, at=NOW) -> dict:
    return {"id": tid, "amount": amount, "transactionType": kind, "status": "draft", "meta": meta or {},
            "loyaltyProgramId": BREVO_PID, "balanceDefinitionId": BREVO_BDID, "contactId": 17,
            "eventTime": z(at), "rejectReason": None, "rejectedAt": None, "expirationDate": None,
            "completedAt": None, "cancelledAt": None, "createdAt": z(at), "updatedAt": z(at)}


# --- create_transaction ------------------------------------------------------------------------------

async def test_credit_left_as_draft_changes_nothing(client, tenant, alice, points):
    body = await post(client, TRANSACTIONS, tx(50, meta={"reason": "signup_bonus"}))
    assert body == draft_body(body["id"], meta={"reason": "signup_bonus"})
    assert "balance" not in body
    assert tenant.draft(body["id"]).status == "draft"
    assert await value(client) == 1400
    assert tenant.balance(alice, points).total == 1800


async def test_credit_auto_completed(client, tenant, alice, points):
    body = await post(client, TRANSACTIONS, tx(50, autoComplete=True, meta={"reason": "signup_bonus"}))
    assert body == {**draft_body(body["id"], meta={"reason": "signup_bonus"}), "status": "completed",
                    "balance": 1450, "completedAt": z(NOW),
                    # the definition's expiry: 365 days
                    "expirationDate": z(NOW + timedelta(days=365))}
    assert await value(client) == 1450
    lot = tenant.lots(alice, points)[-1]
    assert (lot.amount, lot.expires_at) == (Decimal(50), NOW + timedelta(days=365))


async def test_auto_complete_false_is_the_default_and_explicit(client):
    explicit = await post(client, TRANSACTIONS, tx(20, autoComplete=False))
    assert explicit["status"] == "draft"
    assert await value(client) == 1400


async def test_complete_a_draft(client, tenant):
    created = await post(client, TRANSACTIONS, tx(50))
    await advance(client, "PT5S")
    done = await complete(client, created["id"])
    later = NOW + timedelta(seconds=5)
    assert done == {**draft_body(created["id"]), "status": "completed", "balance": 1450,
                    "completedAt": z(later), "updatedAt": z(later),
                    "expirationDate": z(later + timedelta(days=365))}
    assert await value(client) == 1450


async def test_cancel_a_draft(client, tenant, alice, points):
    entries = len(tenant.entries(alice))
    created = await post(client, TRANSACTIONS, tx(50))
    await advance(client, "PT2M")
    later = NOW + timedelta(minutes=2)
    body = await cancel(client, created["id"])
    assert body == {**draft_body(created["id"]), "status": "cancelled", "cancelledAt": z(later),
                    "updatedAt": z(later)}
    assert await value(client) == 1400
    assert len(tenant.entries(alice)) == entries


async def test_debit_by_negative_amount(client):
    body = await post(client, TRANSACTIONS, tx(-200, autoComplete=True))
    assert (body["transactionType"], body["amount"], body["status"], body["balance"]) == ("debit", -200, "completed",
                                                                                           1200)
    assert body["expirationDate"] is None
    assert await value(client) == 1200


async def test_debit_over_the_balance_is_rejected(client, tenant, alice, points):
    before = tenant.balance(alice, points)
    body = await post(client, TRANSACTIONS, tx(-1500, autoComplete=True))
    assert body == {**draft_body(body["id"], amount=-1500, kind="debit"), "status": "rejected",
                    "rejectReason": "insufficient points", "rejectedAt": z(NOW)}
    assert "balance" not in body
    assert await value(client) == 1400
    assert tenant.balance(alice, points) == before


async def test_debit_draft_rejected_at_completion(client, tenant, alice, points):
    created = await post(client, TRANSACTIONS, tx(-1000))
    await post(client, TRANSACTIONS, tx(-500, autoComplete=True))      # the balance moves meanwhile: 900
    await advance(client, "PT1M")
    body = await complete(client, created["id"])
    assert (body["status"], body["rejectReason"], body["rejectedAt"], body["completedAt"]) == (
        "rejected", "insufficient points", z(NOW + timedelta(minutes=1)), None)
    assert "balance" not in body
    assert await value(client) == 900
    # a rejected transaction is final
    assert await complete(client, created["id"], 422) == NOT_DRAFT
    assert await cancel(client, created["id"], 422) == NOT_DRAFT


async def test_transaction_type_decides_the_direction(client, tenant, alice, points):
    # one convention: a debit is negative wherever it is shown, whether it was sent positive with its type or negative
    debit = await post(client, TRANSACTIONS, tx(50, transactionType="debit", autoComplete=True))
    assert (debit["transactionType"], debit["amount"], debit["balance"]) == ("debit", -50, 1350)
    signed = await post(client, TRANSACTIONS, tx(-4, transactionType="debit", autoComplete=True))
    assert (signed["transactionType"], signed["amount"], signed["balance"]) == ("debit", -4, 1346)
    history = await get(client, history_path(limit=2))
    assert [(i["id"], i["amount"]) for i in history["transactionHistory"]] == [(signed["id"], -4), (debit["id"], -50)]
    # a negative credit contradicts itself: refused, nothing recorded (never +30 echoed as -30)
    before = state(tenant, alice, points)
    for auto in (True, False):
        assert await post(client, TRANSACTIONS, tx(-30, transactionType="credit", autoComplete=auto), 422) == {
            "code": "unprocessable_entity", "message": "a credit's amount cannot be negative"}
    assert state(tenant, alice, points) == before
    assert await value(client) == 1346


async def test_event_time_and_meta_are_echoed(client):
    body = await post(client, TRANSACTIONS, tx(5, eventTime="2026-03-01T10:00:00+02:00",
                                               meta={"orderId": "order_789", "lines": [1, 2.5]}))
    assert body["eventTime"] == "2026-03-01T08:00:00Z"
    assert body["meta"] == {"orderId": "order_789", "lines": [1, 2.5]}
    assert body["createdAt"] == z(NOW)
    done = await complete(client, body["id"])
    assert (done["eventTime"], done["meta"]) == ("2026-03-01T08:00:00Z", {"orderId": "order_789", "lines": [1, 2.5]})


async def test_balance_expiry_in_minutes_with_auto_complete(client, tenant, alice, points):
    body = await post(client, TRANSACTIONS, tx(100, transactionType="credit", autoComplete=True,
                                               balanceExpiryInMinutes=43200, ttl=600))
    assert body["expirationDate"] == z(NOW + timedelta(days=30))
    active = await get(client, f"{BASE}/active-balance?contactId=17&balanceDefinitionId={BREVO_BDID}")
    assert {"amount": 100, "expiresAt": z(NOW + timedelta(days=30))} in [
        {k: b[k] for k in ("amount", "expiresAt")} for b in active["activeBalances"]]


async def test_balance_expiry_in_minutes_ignored_without_auto_complete(client):
    created = await post(client, TRANSACTIONS, tx(100, balanceExpiryInMinutes=60))
    done = await complete(client, created["id"])
    assert done["expirationDate"] == z(NOW + timedelta(days=365))


async def test_draft_expires_after_its_ttl(client, tenant):
    created = await post(client, TRANSACTIONS, tx(50, ttl=60))
    assert created["status"] == "draft"
    await advance(client, "PT59S")
    still = await post(client, TRANSACTIONS, tx(7, ttl=60))
    await advance(client, "PT2S")               # the first one's ttl has passed, not the second's
    assert await complete(client, created["id"], 422) == NOT_DRAFT
    assert await cancel(client, created["id"], 422) == NOT_DRAFT
    assert tenant.draft(created["id"]).status == "expired"
    assert (await complete(client, still["id"]))["balance"] == 1407
    history = await get(client, history_path(status="expired"))
    assert [(i["id"], i["status"], i["completedAt"], i["cancelledAt"]) for i in history["transactionHistory"]] == [
        (created["id"], "expired", None, None)]
    assert await value(client) == 1407


async def test_by_loyalty_subscription_id_either_spelling(client, subscribed_alice):
    upper = await post(client, TRANSACTIONS, tx(10, cid=None, LoyaltySubscriptionId="cust_abc123",
                                               autoComplete=True))
    lower = await post(client, TRANSACTIONS, tx(-20, cid=None, loyaltySubscriptionId="cust_abc123",
                                               autoComplete=True))
    both = await post(client, TRANSACTIONS, tx(5, LoyaltySubscriptionId="cust_abc123",
                                              loyaltySubscriptionId="cust_abc123", autoComplete=True))
    assert [(b["contactId"], b["balance"]) for b in (upper, lower, both)] == [(17, 1410), (17, 1390), (17, 1395)]
    assert await value(client) == 1395


@pytest.mark.parametrize("body, expected", [
    (tx(10, cid=None), {"code": "missing_parameter", "message": "contactId or LoyaltySubscriptionId is required"}),
    (tx(10, cid=None, LoyaltySubscriptionId="cust_abc123", loyaltySubscriptionId="cust_other"),
     {"code": "duplicate_parameter",
      "message": "LoyaltySubscriptionId and loyaltySubscriptionId are given with different values"}),
    (tx(10, cid=18, LoyaltySubscriptionId="cust_abc123"),
     {"code": "invalid_parameter", "message": "contactId and LoyaltySubscriptionId name different subscriptions"}),
    (tx(10, cid=None, loyaltySubscriptionId="cust_unknown"), NOT_SUBSCRIBED),
    (tx(10, cid=999), NOT_SUBSCRIBED),                 # unknown contact
    (tx(10, cid=19), NOT_SUBSCRIBED),                  # a member of another program
    (tx(10, cid=0), {"code": "out_of_range", "message": "contactId must be greater than or equal to 1"}),
    (tx(10, cid="17"), {"code": "invalid_parameter", "message": "contactId must be an integer"}),
    (tx(10, cid=None, LoyaltySubscriptionId=""),
     {"code": "out_of_range", "message": "LoyaltySubscriptionId must be at least 1 characters long"}),
])
async def test_member_refusals(client, tenant, alice, points, subscribed_alice, other_program, body, expected):
    before = state(tenant, alice, points)
    assert await post(client, TRANSACTIONS, body, 422) == expected
    assert state(tenant, alice, points) == before


async def test_contact_not_subscribed(client, tenant, alice, points):
    tenant.update_member(alice, active=False)
    before = (len(tenant.entries(alice)), tenant.store.export()["records"])
    assert await post(client, TRANSACTIONS, tx(10, autoComplete=True), 422) == NOT_SUBSCRIBED
    assert (len(tenant.entries(alice)), tenant.store.export()["records"]) == before


@pytest.mark.parametrize("amount, expected", [
    (0, {"code": "unprocessable_entity", "message": "amount must be greater than 0"}),
    (-0.0, {"code": "unprocessable_entity", "message": "amount must be greater than 0"}),
    ("abc", {"code": "invalid_parameter", "message": "amount must be a number"}),
    ("NaN", {"code": "invalid_parameter", "message": "amount must be a number"}),
    ("50", {"code": "invalid_parameter", "message": "amount must be a number"}),
    (None, {"code": "invalid_parameter", "message": "amount must be a number"}),
    (1e30, {"code": "unprocessable_entity", "message": "amount is too large"}),
    (-1e30, {"code": "unprocessable_entity", "message": "amount is too large"}),
    (0.001, {"code": "unprocessable_entity", "message": "amount has more than 2 decimal places"}),
    (-12.345, {"code": "unprocessable_entity", "message": "amount has more than 2 decimal places"}),
])
@pytest.mark.parametrize("auto", [False, True])
async def test_invalid_amounts(client, tenant, alice, points, amount, expected, auto):
    before = state(tenant, alice, points)
    assert await post(client, TRANSACTIONS, tx(amount, autoComplete=auto), 422) == expected
    assert state(tenant, alice, points) == before
    assert await value(client) == 1400


@pytest.mark.parametrize("raw", [
    b'{"amount": NaN, "balanceDefinitionId": "7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a", "contactId": 17}',
    b'{"amount": Infinity, "balanceDefinitionId": "7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a", "contactId": 17}',
    b'{"amount": 50, "balanceDefinitionId": ',
    b"amount=50",
])
async def test_malformed_json(client, tenant, alice, points, raw):
    before = state(tenant, alice, points)
    assert await post_raw(client, TRANSACTIONS, raw, 400) == {"code": "bad_request", "message": "Malformed JSON body"}
    assert state(tenant, alice, points) == before


@pytest.mark.parametrize("body, code, message", [
    ({"amount": 50, "contactId": 17}, "missing_parameter", "balanceDefinitionId is required"),
    ({"balanceDefinitionId": BREVO_BDID, "contactId": 17}, "missing_parameter", "amount is required"),
    (tx(50, balanceDefinitionId="7d8e9f0a"), "invalid_parameter", "balanceDefinitionId must be a valid uuid"),
    (tx(50, transactionType="refund"), "invalid_parameter", "transactionType must be one of: credit, debit"),
    (tx(50, autoComplete="yes"), "invalid_parameter", "autoComplete must be a boolean"),
    (tx(50, ttl=9), "out_of_range", "ttl must be greater than or equal to 10"),
    (tx(50, ttl=60.5), "invalid_parameter", "ttl must be an integer"),
    (tx(50, balanceExpiryInMinutes=0), "out_of_range", "balanceExpiryInMinutes must be greater than or equal to 1"),
    (tx(50, eventTime="2026-03-01"), "invalid_parameter", "eventTime must be a valid RFC 3339 date-time"),
    (tx(50, meta=["a"]), "invalid_parameter", "meta must be an object"),
    ([tx(50)], "invalid_parameter", "body must be an object"),
])
async def test_invalid_bodies(client, tenant, alice, points, body, code, message):
    before = state(tenant, alice, points)
    assert await post(client, TRANSACTIONS, body, 422) == {"code": code, "message": message}
    assert state(tenant, alice, points) == before


async def test_missing_body(client):
    resp = await client.post(TRANSACTIONS, headers=BREVO)
    assert resp.status == 422
    assert await resp.json() == {"code": "missing_parameter", "message": "body is required"}


async def test_unknown_definition_and_program(client, tenant, alice, points):
    before = state(tenant, alice, points)
    assert await post(client, TRANSACTIONS, tx(50, balanceDefinitionId=UNKNOWN_UUID), 404) == {
        "code": "document_not_found", "message": "balance definition doesn't exist"}
    assert await post(client, f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}/transactions", tx(50), 404) == {
        "code": "document_not_found", "message": "not found"}
    assert state(tenant, alice, points) == before


async def test_definition_of_another_program(client, other_program, tenant, alice, points):
    before = state(tenant, alice, points)
    assert await post(client, TRANSACTIONS, tx(50, balanceDefinitionId=OTHER_BDID), 404) == {
        "code": "document_not_found", "message": "balance definition doesn't exist"}
    assert state(tenant, alice, points) == before


# --- complete_transaction / cancel_transaction -----------------------------------------------------------

async def test_complete_twice(client, tenant, alice, points):
    entries = len(tenant.entries(alice))
    created = await post(client, TRANSACTIONS, tx(50))
    assert (await complete(client, created["id"]))["balance"] == 1450
    assert await complete(client, created["id"], 422) == NOT_DRAFT
    assert await value(client) == 1450       # counted once
    assert len(tenant.entries(alice)) == entries + 1


async def test_complete_a_cancelled_transaction(client):
    created = await post(client, TRANSACTIONS, tx(50))
    await cancel(client, created["id"])
    assert await complete(client, created["id"], 422) == NOT_DRAFT
    assert await cancel(client, created["id"], 422) == NOT_DRAFT
    assert await value(client) == 1400


async def test_cancel_a_completed_transaction(client):
    created = await post(client, TRANSACTIONS, tx(-300, autoComplete=True))
    assert await cancel(client, created["id"], 422) == NOT_DRAFT
    assert await value(client) == 1100


async def test_transaction_id_matched_in_any_case(client):
    created = await post(client, TRANSACTIONS, tx(50))
    assert (await complete(client, created["id"].upper()))["id"] == created["id"]


@pytest.mark.parametrize("action", [complete, cancel])
async def test_unknown_transaction(client, tenant, alice, points, action):
    before = state(tenant, alice, points)
    assert await action(client, UNKNOWN_UUID, 404) == TX_NOT_FOUND
    # an id of a ledger entry is not a transaction of this API
    assert await action(client, tenant.entries(alice)[0].id, 404) == TX_NOT_FOUND
    assert state(tenant, alice, points) == before


@pytest.mark.parametrize("action", [complete, cancel])
async def test_malformed_transaction_id(client, action):
    assert await action(client, "not-a-uuid", 422) == {"code": "invalid_parameter",
                                                       "message": "tid must be a valid uuid"}


@pytest.mark.parametrize("action", [complete, cancel])
async def test_transaction_of_another_program(client, tenant, other_program, action):
    other = await post(client, f"/v3/loyalty/balance/programs/{OTHER_PID}/transactions",
                       tx(50, cid=19, balanceDefinitionId=OTHER_BDID))
    assert await action(client, other["id"], 404) == TX_NOT_FOUND
    assert await action(client, other["id"], 404, base=f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}") == TX_NOT_FOUND
    assert tenant.draft(other["id"]).status == "draft"
    body = await action(client, other["id"], base=f"/v3/loyalty/balance/programs/{OTHER_PID}")
    assert (body["loyaltyProgramId"], body["balanceDefinitionId"], body["contactId"]) == (OTHER_PID, OTHER_BDID, 19)


async def test_writes_need_the_api_key(client, tenant, alice, points):
    created = await post(client, TRANSACTIONS, tx(50))
    before = state(tenant, alice, points)
    missing = {"message": "authentication not found in headers", "code": "unauthorized"}
    wrong = {"message": "Key not found", "code": "unauthorized"}
    assert await post(client, TRANSACTIONS, tx(50, autoComplete=True), 401, headers={}) == missing
    assert await post(client, TRANSACTIONS, tx(50), 401, headers={"api-key": "nope"}) == wrong
    assert await complete(client, created["id"], 401, headers={"api-key": "nope"}) == wrong
    assert await cancel(client, created["id"], 401, headers={}) == missing
    assert await post(client, ORDERS, {}, 401, headers={}) == missing
    assert await post(client, f"{BASE}/subscriptions/17/balances", {}, 401, headers={}) == missing
    assert state(tenant, alice, points) == before


# --- create_order ------------------------------------------------------------------------------------------

def order_body(**extra) -> dict:
    return {"amount": 120.5, "balanceDefinitionId": BREVO_BDID, "contactId": 17, "dueAt": "2026-03-15T00:00:00Z",
            "source": "user", **extra}


async def test_order_then_complete_its_transaction(client, tenant):
    order = await post(client, ORDERS, order_body(expiresAt="2026-04-15T00:00:00+02:00", meta={"orderId": "o-789"}))
    assert order == {"id": order["id"], "amount": 120.5, "balanceDefinitionId": BREVO_BDID, "contactId": 17,
                     "loyaltyProgramId": BREVO_PID, "dueAt": "2026-03-15T00:00:00Z",
                     "expiresAt": "2026-04-14T22:00:00Z", "meta": {"orderId": "o-789"}, "processedAt": None,
                     "transactionid": order["transactionid"], "createdAt": z(NOW), "updatedAt": z(NOW)}
    assert await value(client) == 1400           # an order changes nothing until its transaction completes
    await advance(client, "PT10M")
    done = await complete(client, order["transactionid"])
    later = NOW + timedelta(minutes=10)
    assert done == {**draft_body(order["transactionid"], amount=120.5, meta={"orderId": "o-789"}),
                    "status": "completed", "balance": 1520.5, "completedAt": z(later), "updatedAt": z(later),
                    "expirationDate": z(later + timedelta(days=365))}
    assert await value(client) == 1520.5
    record = tenant.order(order["id"])
    assert (record.processed_at, record.updated_at) == (later, later)
    history = await get(client, history_path())
    assert history["transactionHistory"][0] == {
        "id": order["transactionid"], "amount": 120.5, "transactionType": "credit", "status": "completed",
        "meta": {"orderId": "o-789"}, "balanceExpirationDate": z(later + timedelta(days=365)),
        "createdAt": z(NOW), "completedAt": z(later), "cancelledAt": None, "rejectedAt": None, "rejectReason": None}


async def test_order_cancelled_is_never_processed(client, tenant):
    order = await post(client, ORDERS, order_body())
    assert (await cancel(client, order["transactionid"]))["status"] == "cancelled"
    assert tenant.order(order["id"]).processed_at is None
    assert await value(client) == 1400


async def test_order_rejected_is_never_processed(client, tenant):
    order = await post(client, ORDERS, order_body(amount=-2000))     # a negative order debits
    assert order["amount"] == -2000
    done = await complete(client, order["transactionid"])
    assert (done["status"], done["transactionType"], done["rejectReason"]) == ("rejected", "debit",
                                                                               "insufficient points")
    assert tenant.order(order["id"]).processed_at is None
    assert await value(client) == 1400


@pytest.mark.parametrize("body, status, expected", [
    (order_body(amount=0), 422, {"code": "unprocessable_entity", "message": "amount must be greater than 0"}),
    (order_body(amount=0.001), 422,
     {"code": "unprocessable_entity", "message": "amount has more than 2 decimal places"}),
    (order_body(expiresAt="2026-03-10T11:59:59Z"), 422,
     {"code": "out_of_range", "message": "expiresAt must be in the future"}),
    (order_body(expiresAt=z(NOW)), 422, {"code": "out_of_range", "message": "expiresAt must be in the future"}),
    (order_body(contactId=999), 422, NOT_SUBSCRIBED),
    (order_body(source="robot"), 422, {"code": "invalid_parameter", "message": "source must be one of: engine, user"}),
    (order_body(dueAt="soon"), 422, {"code": "invalid_parameter", "message": "dueAt must be a valid RFC 3339 date-time"}),
    ({k: v for k, v in order_body().items() if k != "dueAt"}, 422,
     {"code": "missing_parameter", "message": "dueAt is required"}),
    ({k: v for k, v in order_body().items() if k != "contactId"}, 422,
     {"code": "missing_parameter", "message": "contactId is required"}),
    (order_body(balanceDefinitionId=UNKNOWN_UUID), 404,
     {"code": "document_not_found", "message": "balance definition doesn't exist"}),
])
async def test_order_refusals(client, tenant, alice, points, body, status, expected):
    before = state(tenant, alice, points)
    assert await post(client, ORDERS, body, status) == expected
    assert state(tenant, alice, points) == before


async def test_order_for_an_unsubscribed_contact(client, tenant, alice):
    tenant.update_member(alice, active=False)
    assert await post(client, ORDERS, order_body(), 422) == NOT_SUBSCRIBED


async def test_order_malformed_json(client, tenant, alice, points):
    before = state(tenant, alice, points)
    assert await post_raw(client, ORDERS, b'{"amount": NaN}', 400) == {"code": "bad_request",
                                                                       "message": "Malformed JSON body"}
    assert state(tenant, alice, points) == before


# --- create_subscription_balance -------------------------------------------------------------------------

ADDED_BDID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"


def add_definition(tenant, points, **changes):
    """A second balance definition, added to the demo program an hour ago (after its members joined)."""
    program = tenant.program("main")
    added = replace(points, id="added", name="Added", external={"brevo.balance_definition_id": ADDED_BDID},
                    created_at=NOW - timedelta(hours=1), **changes)
    tenant.programs["main"] = replace(program, currencies=(*program.currencies, added))
    return added


async def test_open_a_balance_then_duplicate(client, tenant, alice, points):
    add_definition(tenant, points)
    path = f"{BASE}/subscriptions/18/balances"
    body = await post(client, path, {"balanceDefinitionId": ADDED_BDID})
    assert body == {"id": body["id"], "amount": 0, "loyaltyProgramId": BREVO_PID, "organizationId": 5456004,
                    "contactId": 18, "balanceDefinitionId": ADDED_BDID, "createdAt": z(NOW),
                    "expiresAt": z(NOW + timedelta(days=365)), "consumedAt": None}
    assert await value(client, cid=18, bdid=ADDED_BDID) == 0
    records = tenant.store.export()["records"]
    duplicate = {"code": "duplicate_request", "message": "the contact already has a balance of this balance definition"}
    assert await post(client, path, {"balanceDefinitionId": ADDED_BDID.upper()}, 422) == duplicate
    # every member has a balance of each definition its program had when it joined: not a second zero record
    assert await post(client, path, {"balanceDefinitionId": BREVO_BDID}, 422) == duplicate
    assert await post(client, f"{BASE}/subscriptions/17/balances", {"balanceDefinitionId": BREVO_BDID}, 422) == duplicate
    assert tenant.store.export()["records"] == records
    # another contact still may open the added one, once
    assert (await post(client, f"{BASE}/subscriptions/17/balances", {"balanceDefinitionId": ADDED_BDID}))[
        "contactId"] == 17
    assert await value(client) == 1400


async def test_open_a_balance_once_used_is_a_duplicate(client, tenant, points):
    add_definition(tenant, points)
    await post(client, TRANSACTIONS, tx(5, balanceDefinitionId=ADDED_BDID))    # a draft: the contact uses it
    assert await post(client, f"{BASE}/subscriptions/17/balances", {"balanceDefinitionId": ADDED_BDID}, 422) == {
        "code": "duplicate_request", "message": "the contact already has a balance of this balance definition"}


async def test_open_a_balance_without_expiry_and_organization_from_settings(client, tenant, points):
    add_definition(tenant, points, expiry_days=None)
    tenant.settings["brevo"] = {"organization_id": 42}
    body = await post(client, f"{BASE}/subscriptions/17/balances", {"balanceDefinitionId": ADDED_BDID})
    assert (body["expiresAt"], body["organizationId"]) == (None, 42)


@pytest.mark.parametrize("cid, body, status, expected", [
    (17, {"balanceDefinitionId": UNKNOWN_UUID}, 404,
     {"code": "document_not_found", "message": "balance definition doesn't exist"}),
    (999, {"balanceDefinitionId": BREVO_BDID}, 404, {"code": "document_not_found", "message": "subscription not found"}),
    (19, {"balanceDefinitionId": BREVO_BDID}, 404, {"code": "document_not_found", "message": "subscription not found"}),
    (17, {}, 422, {"code": "missing_parameter", "message": "balanceDefinitionId is required"}),
    (17, {"balanceDefinitionId": "x"}, 422,
     {"code": "invalid_parameter", "message": "balanceDefinitionId must be a valid uuid"}),
    ("abc", {"balanceDefinitionId": BREVO_BDID}, 422, {"code": "invalid_parameter", "message": "cid must be an integer"}),
])
async def test_open_a_balance_refusals(client, tenant, other_program, cid, body, status, expected):
    records = tenant.store.export()["records"]
    assert await post(client, f"{BASE}/subscriptions/{cid}/balances", body, status) == expected
    assert tenant.store.export()["records"] == records


async def test_open_a_balance_unknown_program(client):
    body = await post(client, f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}/subscriptions/17/balances",
                      {"balanceDefinitionId": BREVO_BDID}, 404)
    assert body == {"code": "document_not_found", "message": "not found"}


# --- get_transaction_history -------------------------------------------------------------------------------

def fixture_history(tenant, alice) -> list[dict]:
    """Alice's fixture history as Brevo transactions, newest first (the expiry of her first lot is
    not a transaction)."""
    ids = {(e.kind, e.amount): e.id for e in tenant.entries(alice) if e.kind in ("credit", "debit")}

    def item(kind, amount, days_ago, expires_in, status="completed", available_after=14):
        at = NOW - timedelta(days=days_ago)
        done = at + timedelta(days=available_after if kind == "credit" else 0)
        return {"id": ids[(kind, Decimal(amount))], "amount": amount if kind == "credit" else -amount,
                "transactionType": kind, "status": status, "meta": {},
                "balanceExpirationDate": z(NOW + timedelta(days=expires_in)) if expires_in is not None else None,
                "createdAt": z(at), "completedAt": z(done) if status == "completed" else None,
                "cancelledAt": None, "rejectedAt": None, "rejectReason": None}
    # the 400 are in their return window (available in 9 days): not in the balance yet, so not completed
    return [item("credit", 400, 5, None, "draft"), item("debit", 100, 20, None), item("credit", 1200, 114, 265),
            item("credit", 300, 334, 45), item("credit", 500, 420, -41)]


async def test_history_of_the_demo_member(client, tenant, alice):
    body = await get(client, history_path())
    assert body == {"loyaltyProgramId": BREVO_PID, "contactId": 17, "balanceDefinitionId": BREVO_BDID, "count": 5,
                    "transactionHistory": fixture_history(tenant, alice)}


async def test_history_of_bob(client):
    assert await get(client, history_path(cid=BOB["brevo"])) == {
        "loyaltyProgramId": BREVO_PID, "contactId": 18, "balanceDefinitionId": BREVO_BDID, "count": 0,
        "transactionHistory": []}


async def test_history_lists_every_status_newest_first(client, tenant, alice):
    completed = await post(client, TRANSACTIONS, tx(50, autoComplete=True, meta={"n": 1}))
    draft = await post(client, TRANSACTIONS, tx(-20))
    cancelled = await post(client, TRANSACTIONS, tx(30))
    await cancel(client, cancelled["id"])
    rejected = await post(client, TRANSACTIONS, tx(-9000, autoComplete=True))
    expired = await post(client, TRANSACTIONS, tx(10, ttl=10))
    await advance(client, "PT1M")
    body = await get(client, history_path())
    assert body["count"] == 10
    rows = [(i["id"], i["amount"], i["transactionType"], i["status"]) for i in body["transactionHistory"][:5]]
    assert rows == [(expired["id"], 10, "credit", "expired"), (rejected["id"], -9000, "debit", "rejected"),
                    (cancelled["id"], 30, "credit", "cancelled"), (draft["id"], -20, "debit", "draft"),
                    (completed["id"], 50, "credit", "completed")]
    assert body["transactionHistory"][4] == {
        "id": completed["id"], "amount": 50, "transactionType": "credit", "status": "completed", "meta": {"n": 1},
        "balanceExpirationDate": z(NOW + timedelta(days=365)), "createdAt": z(NOW), "completedAt": z(NOW),
        "cancelledAt": None, "rejectedAt": None, "rejectReason": None}
    assert body["transactionHistory"][1]["rejectReason"] == "insufficient points"
    assert body["transactionHistory"][1]["rejectedAt"] == z(NOW)
    assert body["transactionHistory"][2]["cancelledAt"] == z(NOW)
    assert body["transactionHistory"][5:] == fixture_history(tenant, alice)
    ascending = await get(client, history_path(sort="asc"))
    assert ascending["transactionHistory"] == list(reversed(body["transactionHistory"]))


@pytest.mark.parametrize("query, amounts", [
    ({"status": "draft"}, [-20, 400]),
    ({"status": "completed"}, [50, -100, 1200, 300, 500]),
    ({"status": "completed", "transactionType": "debit"}, [-100]),
    ({"transactionType": "credit"}, [50, 400, 1200, 300, 500]),
    ({"status": "rejected"}, []),
    ({"limit": 2}, [-20, 50]),
    ({"limit": 2, "offset": 2}, [400, -100]),
    ({"offset": 6}, [500]),
    ({"offset": 7}, []),
    ({"sort": "asc", "limit": 1}, [500]),
])
async def test_history_filters_and_paging(client, query, amounts):
    await post(client, TRANSACTIONS, tx(50, autoComplete=True))
    await post(client, TRANSACTIONS, tx(-20))
    body = await get(client, history_path(**query))
    assert [i["amount"] for i in body["transactionHistory"]] == amounts
    unpaged = {k: v for k, v in query.items() if k not in ("limit", "offset", "sort")}
    assert body["count"] == len((await get(client, history_path(**unpaged)))["transactionHistory"])


async def test_history_shows_a_reversal_made_in_another_dialect(client, tenant, alice):
    done = await post(client, TRANSACTIONS, tx(50, autoComplete=True))
    await advance(client, "PT1M")
    tenant.cancel(tenant.draft(done["id"]).entry_id)     # e.g. a Gameball reversal of the same points
    reversal = tenant.entries(alice)[-1]
    assert reversal.kind == "cancel"
    body = await get(client, history_path(limit=2))
    assert body["transactionHistory"] == [
        {"id": reversal.id, "amount": -50, "transactionType": "debit", "status": "completed", "meta": {},
         "balanceExpirationDate": None, "createdAt": z(NOW + timedelta(minutes=1)),
         "completedAt": z(NOW + timedelta(minutes=1)), "cancelledAt": None, "rejectedAt": None,
         "rejectReason": None},
        {**body["transactionHistory"][1], "id": done["id"], "status": "completed", "amount": 50}]
    assert await value(client) == 1400


async def test_history_legacy_names_and_subscription_id(client, subscribed_alice):
    camel = await get(client, history_path(sort="asc"))
    legacy = await get(client, f"{BASE}/transaction-history?contact_id=17&balance_definition_id={BREVO_BDID}"
                               "&sort_field=created_at&sort=asc")
    assert legacy == camel
    assert await get(client, history_path(loyaltySubscriptionId="cust_abc123", sort="asc")) == camel


@pytest.mark.parametrize("path, status, expected", [
    (history_path(cid=None), 422, {"code": "missing_parameter", "message": "contactId is required"}),
    (history_path(bdid=None), 422, {"code": "missing_parameter", "message": "balanceDefinitionId is required"}),
    (history_path(contact_id=18), 422,
     {"code": "duplicate_parameter", "message": "contactId and contact_id are given with different values"}),
    (history_path(status="pending"), 422, {
        "code": "invalid_parameter", "message": "status must be one of: draft, completed, rejected, cancelled, expired"}),
    (history_path(transactionType="refund"), 422,
     {"code": "invalid_parameter", "message": "transactionType must be one of: credit, debit"}),
    (history_path(limit=0), 422, {"code": "out_of_range", "message": "limit must be greater than or equal to 1"}),
    (history_path(cid=999), 404, {"code": "document_not_found", "message": "subscription not found"}),
    (history_path(loyaltySubscriptionId="cust_abc123", cid=18), 404,
     {"code": "document_not_found", "message": "subscription not found"}),
    (history_path(loyaltySubscriptionId="cust_unknown"), 404,
     {"code": "document_not_found", "message": "subscription not found"}),
    (history_path(bdid=UNKNOWN_UUID), 404, {"code": "document_not_found", "message": "balance definition doesn't exist"}),
    (history_path(base=f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}"), 404,
     {"code": "document_not_found", "message": "not found"}),
])
async def test_history_refusals(client, subscribed_alice, path, status, expected):
    assert await get(client, path, status) == expected


# --- member_view (admin) -----------------------------------------------------------------------------------

async def test_member_view_is_the_subscription_balances_body(client, tenant, alice):
    from gateway.vendors.brevo import VENDOR
    await post(client, TRANSACTIONS, tx(-0.5, autoComplete=True))
    wire = await get(client, f"{BASE}/subscriptions/17/balances")
    assert wire == {"loyaltyProgramId": BREVO_PID, "contactId": 17,
                    "balance": [{"balanceDefinitionId": BREVO_BDID, "value": 1399.5}]}
    assert VENDOR.member_view(tenant, alice) == wire
    admin = await client.get("/__admin/tenants/demo/members/alice")
    assert (await admin.json())["views"]["brevo"] == wire
    tenant.update_member(alice, active=False)
    assert VENDOR.member_view(tenant, tenant.member_by_id("alice")) == await get(
        client, f"{BASE}/subscriptions/17/balances", 404)
    nobody = tenant.add_member(tenant.program("main"), {"gameball.customer": "no-brevo"})
    assert VENDOR.member_view(tenant, nobody) is None


# --- the engine's currency rules, seen over HTTP --------------------------------------------------------------

RULES_KEY = {"api-key": "rules-brevo-key"}
RULES_PID = "5e0c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
CAPPED = "aaaaaaaa-0000-4000-8000-000000000001"     # max credit 500, max balance 1000 strict, min 100, lower/upper
PARTIAL = "aaaaaaaa-0000-4000-8000-000000000002"    # max balance 1000 partial, credit rounding upper
NATURAL = "aaaaaaaa-0000-4000-8000-000000000003"    # credit rounding natural, max debit 50
RULES_BASE = f"/v3/loyalty/balance/programs/{RULES_PID}"

RULES_DOC = {
    "version": 1, "tenant": "rules", "clock": {"now": NOW.isoformat(), "frozen": True},
    "tenant": "rules",
    "credentials": {"brevo": {"api_key": "rules-brevo-key"}},
    "programs": [{
        "id": "shop", "money_currency": "EUR", "external": {"brevo.program_id": RULES_PID},
        "point_currencies": [
            {"id": "capped", "value": 1, "decimals": 0, "external": {"brevo.balance_definition_id": CAPPED},
             "rules": {"max_credit": 500, "max_balance": 1000, "overtaking": "strict", "min_balance": 100,
                       "credit_rounding": "lower", "debit_rounding": "upper"}},
            {"id": "partial", "value": 1, "decimals": 0, "external": {"brevo.balance_definition_id": PARTIAL},
             "rules": {"max_balance": 1000, "overtaking": "partial", "credit_rounding": "upper"}},
            {"id": "natural", "value": 1, "decimals": 0, "external": {"brevo.balance_definition_id": NATURAL},
             "rules": {"credit_rounding": "natural", "max_debit": 50}},
        ]}],
    "members": [{"id": "carol", "identities": {"brevo.contact": 21, "brevo.subscription": "cust_carol"},
                 "history": [{"at": "-1d", "credit": 300, "currency": "capped"},
                             {"at": "-1d", "credit": 900, "currency": "partial"},
                             {"at": "-1d", "credit": 80, "currency": "natural"}]}],
}


@pytest.fixture
def rules(engine):
    return engine.add(fixtures.build(RULES_DOC))


async def rules_tx(client, bdid, amount, status=200, **extra):
    return await post(client, f"{RULES_BASE}/transactions",
                      {"amount": amount, "balanceDefinitionId": bdid, "contactId": 21, **extra}, status,
                      headers=RULES_KEY)


async def rules_value(client, bdid):
    return await value(client, cid=21, base=RULES_BASE, headers=RULES_KEY, bdid=bdid)


async def test_rules_tenant_balances(client, rules):
    body = await get(client, f"{RULES_BASE}/subscriptions/21/balances", headers=RULES_KEY)
    assert body == {"loyaltyProgramId": RULES_PID, "contactId": 21, "balance": [
        {"balanceDefinitionId": CAPPED, "value": 300}, {"balanceDefinitionId": PARTIAL, "value": 900},
        {"balanceDefinitionId": NATURAL, "value": 80}]}


async def test_rule_max_credit_per_operation(client, rules):
    over = await rules_tx(client, CAPPED, 501, autoComplete=True)
    assert (over["status"], over["rejectReason"], over["amount"]) == (
        "rejected", "credit exceeds the per-operation limit", 501)
    assert "balance" not in over
    assert await rules_value(client, CAPPED) == 300
    # rounding comes first: 500.9 rounded down is 500, within the cap
    ok = await rules_tx(client, CAPPED, 500.9, autoComplete=True)
    assert (ok["status"], ok["amount"], ok["balance"]) == ("completed", 500, 800)
    assert await rules_value(client, CAPPED) == 800


async def test_rule_max_credit_at_completion_of_a_draft(client, rules):
    draft = await rules_tx(client, CAPPED, 600)
    assert (draft["status"], draft["amount"]) == ("draft", 600)
    done = await complete(client, draft["id"], base=RULES_BASE, headers=RULES_KEY)
    assert (done["status"], done["rejectReason"], done["rejectedAt"]) == (
        "rejected", "credit exceeds the per-operation limit", z(NOW))
    assert await rules_value(client, CAPPED) == 300


async def test_rule_max_balance_strict(client, rules):
    assert (await rules_tx(client, CAPPED, 400, autoComplete=True))["balance"] == 700
    over = await rules_tx(client, CAPPED, 301, autoComplete=True)
    assert (over["status"], over["rejectReason"]) == ("rejected", "credit would exceed the maximum balance")
    assert await rules_value(client, CAPPED) == 700
    exact = await rules_tx(client, CAPPED, 300, autoComplete=True)
    assert (exact["status"], exact["balance"]) == ("completed", 1000)
    assert await rules_value(client, CAPPED) == 1000


async def test_rule_max_balance_partial(client, rules):
    draft = await rules_tx(client, PARTIAL, 250)
    assert draft["amount"] == 250
    done = await complete(client, draft["id"], base=RULES_BASE, headers=RULES_KEY)
    # only what fits under the maximum is credited, and `amount` says so
    assert (done["status"], done["amount"], done["balance"]) == ("completed", 100, 1000)
    assert await rules_value(client, PARTIAL) == 1000
    full = await rules_tx(client, PARTIAL, 1, autoComplete=True)
    assert (full["status"], full["rejectReason"]) == ("rejected", "credit would exceed the maximum balance")
    assert await rules_value(client, PARTIAL) == 1000
    history = await get(client, history_path(cid=21, bdid=PARTIAL, base=RULES_BASE, limit=2), headers=RULES_KEY)
    assert [(i["amount"], i["status"]) for i in history["transactionHistory"]] == [(1, "rejected"),
                                                                                  (100, "completed")]


@pytest.mark.parametrize("bdid, amount, rounded, balance", [
    (CAPPED, 10.9, 10, 310),      # lower
    (CAPPED, 10.1, 10, 310),
    (PARTIAL, 10.1, 11, 911),     # upper
    (PARTIAL, 10.9, 11, 911),
    (NATURAL, 10.5, 11, 91),      # natural: half up
    (NATURAL, 10.49, 10, 90),
])
async def test_rule_credit_rounding(client, rules, bdid, amount, rounded, balance):
    draft = await rules_tx(client, bdid, amount)
    assert draft["amount"] == rounded                   # rounded when the transaction is created
    done = await complete(client, draft["id"], base=RULES_BASE, headers=RULES_KEY)
    assert (done["amount"], done["balance"]) == (rounded, balance)
    assert await rules_value(client, bdid) == balance


async def test_rule_credit_rounded_to_nothing(client, rules):
    body = await rules_tx(client, CAPPED, 0.9, 422, autoComplete=True)
    assert body == {"code": "unprocessable_entity", "message": "amount must be greater than 0"}
    assert await rules_value(client, CAPPED) == 300


async def test_rule_debit_rounding_upper(client, rules):
    body = await rules_tx(client, CAPPED, -10.2, autoComplete=True)
    assert (body["amount"], body["transactionType"], body["balance"]) == (-11, "debit", 289)
    assert await rules_value(client, CAPPED) == 289


async def test_rule_min_balance(client, rules):
    below = await rules_tx(client, CAPPED, -201, autoComplete=True)
    assert (below["status"], below["rejectReason"]) == ("rejected", "debit would take the balance below its minimum")
    assert await rules_value(client, CAPPED) == 300
    ok = await rules_tx(client, CAPPED, -200, autoComplete=True)
    assert (ok["status"], ok["balance"]) == ("completed", 100)
    assert await rules_value(client, CAPPED) == 100


async def test_rule_max_debit_per_operation(client, rules):
    over = await rules_tx(client, NATURAL, -51, autoComplete=True)
    assert (over["status"], over["rejectReason"]) == ("rejected", "debit exceeds the per-operation limit")
    assert await rules_value(client, NATURAL) == 80
    ok = await rules_tx(client, NATURAL, 50, transactionType="debit", autoComplete=True)
    assert (ok["status"], ok["amount"], ok["balance"]) == ("completed", -50, 30)


async def test_rules_tenant_by_subscription_id(client, rules):
    body = await post(client, f"{RULES_BASE}/transactions",
                      {"amount": 5, "balanceDefinitionId": NATURAL, "LoyaltySubscriptionId": "cust_carol",
                       "autoComplete": True}, headers=RULES_KEY)
    assert (body["contactId"], body["balance"]) == (21, 85)
    # the demo tenant's key does not open the rules tenant's program
    assert await post(client, f"{RULES_BASE}/transactions", tx(5, balanceDefinitionId=NATURAL), 404) == {
        "code": "document_not_found", "message": "not found"}


async def test_demo_member_reachable_by_the_guides_subscription_id(client, tenant):
    body = await post(client, TRANSACTIONS, {"amount": 25, "balanceDefinitionId": BREVO_BDID,
                                             "LoyaltySubscriptionId": "cust_abc123", "autoComplete": True})
    assert (body["contactId"], body["status"], body["balance"]) == (17, "completed", 1425)
