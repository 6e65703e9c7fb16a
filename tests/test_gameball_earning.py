"""Gameball earning beyond orders and cashback: POST /payments (with a hold burned), POST /orders/cashback
(a quote that writes nothing) and GET /orders/{orderId}/transactions.

Demo: alice (user-123) has 1400 points available; 1 point per USD paid; a point is worth 0.05 USD; earned
points stay pending 14 days."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, GB
from invariants import check

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
TIME = "2026-03-10T11:00:00"           # offset-less, as Gameball's examples send it: UTC


@pytest.fixture
def vendors():
    return ["gameball"]


async def call(client, method, path, body=None, headers=GB):
    r = await client.request(method, API + path, json=body, headers=headers)
    return r.status, await r.json()


async def balance(client, who=ALICE_ID):
    status, body = await call(client, "GET", f"/customers/{who}/balance")
    assert status == 200
    return body["availablePointsBalance"], body["pendingPoints"]


def payment(pid="PAY-1", customer=ALICE_ID, paid=100.5, **extra):
    return {"customerId": customer, "paymentId": pid, "paymentDate": TIME, "totalPaid": paid, **extra}


async def test_payment_earns_per_service_and_burns_a_hold(client, tenant):
    status, held = await call(client, "POST", "/transactions/hold",
                              {"customerId": ALICE_ID, "transactionTime": TIME, "pointsToHold": 100})
    assert status == 200
    status, body = await call(client, "POST", "/payments", payment(
        paymentDetails=[{"serviceId": "ELEC", "serviceName": "Electricity", "amount": 60.5}, {"amount": 40}],
        redemption={"pointsHoldReference": held["holdReference"]}))
    assert (status, body) == (200, {"customerId": ALICE_ID, "redeemedPoints": 100, "rewardedPoints": 100,
                                    "paymentDetails": [
                                        {"serviceId": "ELEC", "decimalPoints": 60.5, "points": 60, "score": 0},
                                        {"decimalPoints": 40, "points": 40, "score": 0}]})
    assert await balance(client) == (1300, 500)           # 100 burned; 100 earned, pending
    _, detail = await call(client, "GET", f"/transactions/hold/{held['holdReference']}")
    assert detail["state"] == "used"
    check(tenant)


async def test_payment_creates_the_customer_and_refuses_reuse(client, tenant):
    assert (await call(client, "POST", "/payments", payment(customer="pay-new", paid=20)))[0] == 200
    assert tenant.member("gameball.customer", "pay-new") is not None
    assert await balance(client, "pay-new") == (0, 20)
    status, body = await call(client, "POST", "/payments", payment(customer="pay-new", paid=30))
    assert (status, body["code"]) == (422, 9004)
    # the id space is shared with orders
    status, body = await call(client, "POST", "/orders", {"customerId": "pay-new", "orderId": "PAY-1",
                                                          "orderDate": TIME, "totalPaid": 5})
    assert (status, body["code"]) == (422, 9004)
    assert await balance(client, "pay-new") == (0, 20)


@pytest.mark.parametrize("change,code", [
    ({"paymentDate": "2026-03-10T13:00:00"}, 9007),       # an hour ahead of the clock (UTC)
    ({"totalPaid": -1}, 3003),
    ({"redemption": {"pointsHoldReference": "no-such-hold"}}, 9006),
    ({"paymentId": None}, 3001),
])
async def test_payment_refusals_change_nothing(client, tenant, change, code):
    before = len(tenant.store.entries_page("alice"))
    status, body = await call(client, "POST", "/payments", {**payment(), **change})
    assert body["code"] == code, body
    assert len(tenant.store.entries_page("alice")) == before


async def test_cashback_quote_awards_nothing(client, tenant):
    entries = tenant.store.entries_count(None)
    status, body = await call(client, "POST", "/orders/cashback", {
        "customerId": ALICE_ID, "totalPaid": 150.5, "totalDiscount": 0, "totalShipping": 0,
        "lineItems": [{"productId": "X", "price": 75.25, "quantity": 2}, {"productId": "Y"}]},
        headers={"apikey": GB["apikey"]})
    assert (status, body) == (200, {"totalPoints": 150, "totalScore": 0, "lineItems": [
        {"productId": "X", "quantity": 2, "totalDecimalPoints": 150.5, "totalPoints": 150, "totalScore": 0,
         "rewardWalletFactor": 1},
        {"productId": "Y", "quantity": 1, "totalDecimalPoints": 0, "totalPoints": 0, "totalScore": 0,
         "rewardWalletFactor": 1}]})
    assert tenant.store.entries_count(None) == entries
    assert await balance(client) == (1400, 400)
    status, body = await call(client, "POST", "/orders/cashback", {"totalPaid": 10, "totalDiscount": 0})
    assert (status, body["code"]) == (400, 3000) and "totalShipping" in body["message"]


async def test_a_quote_equals_what_the_order_then_earns(client):
    _, quote = await call(client, "POST", "/orders/cashback", {"totalPaid": 99.99, "totalDiscount": 0,
                                                               "totalShipping": 5})
    _, order = await call(client, "POST", "/orders", {"customerId": BOB_ID, "orderId": "Q-1", "orderDate": TIME,
                                                      "totalPaid": 99.99})
    assert quote["totalPoints"] == order["rewardedPoints"] == 99


async def test_order_transactions_follow_refunds(client, tenant):
    _, held = await call(client, "POST", "/transactions/hold",
                         {"customerId": ALICE_ID, "transactionTime": TIME, "pointsToHold": 100})
    status, _ = await call(client, "POST", "/orders", {
        "customerId": ALICE_ID, "orderId": "ORD-T", "orderDate": TIME, "totalPaid": 100,
        "redemption": {"pointsHoldReference": held["holdReference"]}})
    assert status == 200
    status, _ = await call(client, "POST", "/transactions/refund", {
        "customerId": ALICE_ID, "refundTransactionId": "REF-T", "reverseTransactionId": "ORD-T",
        "transactionTime": TIME, "refundAmount": 50})
    assert status == 200
    status, body = await call(client, "GET", "/orders/ORD-T/transactions")
    assert status == 200 and body["count"] == 4
    assert [(t["transactionType"], t["transactionId"], t["amount"], t["equivalentPoints"])
            for t in body["transactions"]] == [
        ("Redemption", "ORD-T", 5, 100),          # the hold burned
        ("PaymentReward", "ORD-T", 100, 100),     # earned on 100 paid
        ("Cancel", "REF-T", 50, 50),              # half refunded: half the earning taken back
        ("PartialRefund", "REF-T", 2.5, 50),      # and half the burned points given back
    ]
    ids = [t["gameballTransactionId"] for t in body["transactions"]]
    assert ids == sorted(ids)
    status, body = await call(client, "GET", "/orders/ord-t/transactions")     # case-sensitive
    assert (status, body["code"]) == (404, 9002)
    check(tenant)
