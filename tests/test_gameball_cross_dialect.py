"""What Gameball writes (orders, payments, refunds, deletions) every other dialect reads, converted."""
from __future__ import annotations

import pytest

from helpers import BOB, BREVO_BDID, GB, assert_agree, read_all

API = "/api/v4.0/integrations"
TIME = "2026-03-10T11:00:00Z"


async def _post(client, path, body):
    r = await client.post(API + path, json=body, headers=GB)
    assert r.status == 200, await r.text()
    return await r.json()


@pytest.mark.parametrize("path,id_field,date_field", [("/orders", "orderId", "orderDate"),
                                                      ("/payments", "paymentId", "paymentDate")])
async def test_a_gameball_purchase_shows_everywhere(client, path, id_field, date_field):
    await _post(client, path, {"customerId": BOB["gameball"], id_field: "X-1", date_field: TIME, "totalPaid": 120.9,
                               "cashbackConfigurations": {"returnWindow": 0}})
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["altcraft"] == {"total_balance": "120.00", "active_balance": "120.00"}
    assert (r["omneo"]["point_balance"], r["omneo"]["point_balance_dollars"], r["brevo"][BREVO_BDID]) == (120, 6, 120)


async def test_a_pending_payment_then_its_refund(client):
    await _post(client, "/payments", {"customerId": BOB["gameball"], "paymentId": "X-2", "paymentDate": TIME,
                                      "totalPaid": 80})
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["altcraft"] == {"total_balance": "80.00", "active_balance": "0.00"}
    await _post(client, "/transactions/refund", {"customerId": BOB["gameball"], "refundTransactionId": "X-2R",
                                                 "reverseTransactionId": "X-2", "transactionTime": TIME,
                                                 "refundAmount": 20})
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["altcraft"] == {"total_balance": "60.00", "active_balance": "0.00"}
