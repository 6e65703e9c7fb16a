"""Gameball batches: each item applied as its single call would be, one item's refusal its own, the job's
outcome read back from GET /batches/{batchId}/status.

Demo: alice (user-123) has 1400 points available, 400 pending; 1 point per USD; a point is worth 0.05 USD."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, GB
from invariants import check

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
T = "2026-03-10T11:00:00Z"


@pytest.fixture
def vendors():
    return ["gameball"]


async def call(client, method, path, body=None):
    r = await client.request(method, API + path, json=body, headers=GB)
    return r.status, await r.json()


async def job(client, path, items):
    status, body = await call(client, "POST", path, {"body": items})
    assert status == 200, body
    status, outcome = await call(client, "GET", f"/batches/{body['jobId']}/status")
    assert status == 200
    assert (outcome["batchId"], outcome["status"], outcome["progress"]) == (str(body["jobId"]), "completed", 100)
    assert outcome["totalItems"] == outcome["processedItems"] == len(items)
    assert outcome["failedItems"] == len(outcome["errors"])
    return outcome


async def balance(client, who=ALICE_ID):
    _, body = await call(client, "GET", f"/customers/{who}/balance")
    return body["availablePointsBalance"], body["pendingPoints"]


def cashback(tx, who=ALICE_ID, amount=10):
    return {"customerId": who, "transactionId": tx, "transactionTime": T, "amount": amount}


async def test_cashback_items_apply_alone_and_fail_alone(client, tenant):
    assert (await call(client, "POST", "/transactions/cashback", cashback("C-0")))[0] == 200
    outcome = await job(client, "/batch/cashback", [cashback("C-1"), cashback("C-0"), cashback("C-2", "nobody"),
                                                    cashback("C-3", BOB_ID, 20)])
    assert [(r["index"], r["status"]) for r in outcome["results"]] == [(0, 200), (1, 422), (2, 404), (3, 200)]
    assert [(e["index"], e["code"]) for e in outcome["errors"]] == [(1, 9004), (2, 7000)]
    first = outcome["results"][0]["body"]
    assert first == {"customerId": ALICE_ID, "gameballTransactionId": tenant.entry_by(("gameball.tx", "C-1")).seq,
                     "rewardAmount": 0.5, "rewardEquivalentPoints": 10}
    assert await balance(client) == (1400, 420)
    assert await balance(client, BOB_ID) == (0, 20)
    check(tenant)


async def test_a_batch_item_and_a_single_call_share_ids(client):
    await job(client, "/batch/cashback", [cashback("C-9")])
    status, body = await call(client, "POST", "/transactions/cashback", cashback("C-9"))
    assert (status, body["code"]) == (422, 9004)


async def test_redeem_items_in_order(client, tenant):
    redeem = lambda tx, points: {"customerId": ALICE_ID, "transactionId": tx, "transactionTime": T, "points": points}
    outcome = await job(client, "/batch/redeem", [redeem("R-1", 1000), redeem("R-2", 1000), redeem("R-3", 400)])
    assert [(r["status"], r["body"].get("redeemEquivalentPoints"), r["body"].get("code"))
            for r in outcome["results"]] == [(200, 1000, None), (422, None, 9008), (200, 400, None)]
    assert await balance(client) == (0, 400)
    check(tenant)


async def test_orders_create_customers(client, tenant):
    order = lambda oid, who, paid: {"customerId": who, "orderId": oid, "orderDate": T, "totalPaid": paid}
    outcome = await job(client, "/batch/orders", [order("O-1", "batch-new", 30), order("O-1", "batch-new", 30)])
    assert [r["status"] for r in outcome["results"]] == [200, 422]
    assert outcome["results"][0]["body"] == {"customerId": "batch-new", "redeemedPoints": 0, "rewardedPoints": 30,
                                             "lineItems": []}
    assert await balance(client, "batch-new") == (0, 30)
    outcome = await job(client, "/batch/orders/transactions", ["O-1", "o-1"])
    assert outcome["results"][0]["body"]["count"] == 1
    assert (outcome["results"][1]["status"], outcome["errors"][0]["code"]) == (404, 9002)


async def test_balance_inquiry_answers_like_the_balance_call(client):
    _, single = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    outcome = await job(client, "/batch/balance-inquiry", [{"customerId": ALICE_ID}, {"customerId": "nobody"}])
    assert outcome["results"][0] == {"index": 0, "status": 200, "body": single}
    assert outcome["errors"] == [{"index": 1, "status": 404, "code": 7000, "message": "Customer not found."}]


async def test_balance_adjustment_in_points(client, tenant):
    outcome = await job(client, "/batch/balance-adjustment", [
        {"customerId": ALICE_ID, "amount": 100, "reason": "goodwill"},
        {"customerId": ALICE_ID, "amount": -2000},
        {"customerId": ALICE_ID, "amount": -50, "reason": None}])
    assert [(r["status"], r["body"].get("points"), r["body"].get("amount")) for r in outcome["results"]] == [
        (200, 100, 5), (422, None, None), (200, -50, -2.5)]
    assert await balance(client) == (1450, 400)
    _, page = await call(client, "GET", f"/transactions?customerId={ALICE_ID}&startAfter=6")
    assert [(t["type"], t["points"], t.get("reason")) for t in page["transactions"]] == [
        ("ManualAccumulation", 100, "goodwill"), ("ManualDeduction", 50, None)]
    check(tenant)


@pytest.mark.parametrize("path,items,status,words", [
    ("/batch/cashback", [{"customerId": ALICE_ID, "transactionId": "X", "transactionTime": T, "amount": "ten"}],
     422, "body.0.amount"),
    ("/batch/cashback", [], 422, "body"),
    ("/batch/balance-adjustment", [{"customerId": ALICE_ID, "amount": 0}], 422, "body.0.amount"),
    ("/batch/redeem", [{"customerId": ALICE_ID, "transactionTime": T, "points": 5}], 400, "transactionId"),
])
async def test_a_malformed_item_refuses_the_batch(client, tenant, path, items, status, words):
    entries = tenant.store.entries_count(None)
    got, body = await call(client, "POST", path, {"body": items})
    assert got == status and words in body["message"], body
    assert tenant.store.entries_count(None) == entries
    assert (await call(client, "GET", "/batches/1/status"))[0] == 404


@pytest.mark.parametrize("batch_id", ["1", "abc"])
async def test_unknown_batch(client, batch_id):
    status, body = await call(client, "GET", f"/batches/{batch_id}/status")
    assert (status, body["code"]) == (404, 4004)
