"""Brevo balance limits: create / get / update / delete, and ENFORCED once published: a transaction beyond a limit in
its window (sliding, or the calendar bucket) is rejected with its reason, and a movement made in another dialect
counts and is refused the same way. Time is the gateway's clock."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import utc_seconds as z
from helpers import ALICE, BREVO, BREVO_BDID, BREVO_PID, GB, NOW

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
LIMITS = f"{BASE}/balance-definitions/{BREVO_BDID}/limits"
PUBLISH = f"/v3/loyalty/config/programs/{BREVO_PID}/publish"
UNKNOWN = "00000000-0000-4000-8000-000000000000"




pytestmark = pytest.mark.usefixtures("ledger_invariants")


async def call(client, method, path, body=None, status=200, headers=BREVO):
    resp = await client.request(method, path, json=body, headers=headers) if body is not None \
        else await client.request(method, path, headers=headers)
    out = await resp.json() if resp.status != 204 else None
    assert resp.status == status, out
    return out


async def limit(client, publish=True, **body):
    out = await call(client, "POST", LIMITS, {"constraintType": "transaction", "durationUnit": "day",
                                              "durationValue": 1, "transactionType": "credit", "value": 2, **body})
    if publish:
        await call(client, "POST", PUBLISH, status=204)
    return out


async def tx(client, amount):
    return await call(client, "POST", f"{BASE}/transactions", {
        "amount": amount, "balanceDefinitionId": BREVO_BDID, "contactId": 17, "autoComplete": True})


async def value(client):
    return (await call(client, "GET", f"{BASE}/subscriptions/17/balances"))["balance"][0]["value"]


# --- lifecycle -----------------------------------------------------------------------------------------

async def test_create_get_update_delete(client, tenant):
    created = await limit(client, publish=False, slidingSchedule=True)
    assert created == {"id": created["id"], "balanceDefinitionId": BREVO_BDID, "transactionType": "credit",
                       "constraintType": "transaction", "durationValue": 1, "durationUnit": "day", "value": 2,
                       "slidingSchedule": True, "createdAt": z(NOW), "updatedAt": z(NOW)}
    path = f"{LIMITS}/{created['id']}"
    assert await call(client, "GET", path) == created
    not_found = {"code": "document_not_found", "message": "balance limit not found"}
    assert await call(client, "GET", f"{path}?version=active", status=404) == not_found     # not published yet
    await call(client, "POST", PUBLISH, status=204)
    assert await call(client, "GET", f"{path}?version=active") == created
    tenant.clock.advance(timedelta(minutes=1))
    changed = await call(client, "PUT", f"{LIMITS}/{created['id'].upper()}",      # ids in any case
                         {"constraintType": "amount", "durationUnit": "month", "durationValue": 2,
                          "transactionType": "debit", "value": 500})
    assert changed == {**created, "transactionType": "debit", "constraintType": "amount", "durationValue": 2,
                       "durationUnit": "month", "value": 500, "slidingSchedule": False,
                       "updatedAt": z(NOW + timedelta(minutes=1))}
    assert await call(client, "GET", path) == changed
    assert await call(client, "GET", f"{path}?version=active") == created
    assert await call(client, "DELETE", path, status=204) is None
    assert await call(client, "GET", path, status=404) == not_found
    assert await call(client, "GET", f"{path}?version=active") == created
    await call(client, "POST", PUBLISH, status=204)
    assert await call(client, "GET", f"{path}?version=active", status=404) == not_found


@pytest.mark.parametrize("body, code, message", [
    ({"durationUnit": "hour"}, "invalid_parameter", "durationUnit must be one of: day, week, month, year"),
    ({"value": -1}, "out_of_range", "value must be greater than or equal to 0"),
    ({"durationValue": 0}, "out_of_range", "durationValue must be greater than or equal to 1"),
    ({"constraintType": "count"}, "invalid_parameter", "constraintType must be one of: transaction, amount"),
    ({"value": 2.5}, "invalid_parameter", "value must be an integer"),
])
async def test_refusals(client, tenant, body, code, message):
    before = tenant.program("main")
    assert await call(client, "POST", LIMITS, {"constraintType": "transaction", "durationUnit": "day",
                                               "durationValue": 1, "transactionType": "credit", "value": 2, **body},
                      status=422) == {"code": code, "message": message}
    assert tenant.program("main") == before


async def test_unknown_limit_and_definition(client):
    body = {"constraintType": "transaction", "durationUnit": "day", "durationValue": 1, "transactionType": "credit",
            "value": 2}
    missing = {"code": "document_not_found", "message": "balance limit not found"}
    assert await call(client, "GET", f"{LIMITS}/{UNKNOWN}", status=404) == missing
    assert await call(client, "PUT", f"{LIMITS}/{UNKNOWN}", body, status=404) == missing
    assert await call(client, "DELETE", f"{LIMITS}/{UNKNOWN}", status=404) == missing
    assert await call(client, "POST", f"{BASE}/balance-definitions/{UNKNOWN}/limits", body, status=404) == {
        "code": "document_not_found", "message": "balance definition doesn't exist"}


# --- enforcement ----------------------------------------------------------------------------------------

async def test_a_count_limit_per_calendar_day(client, tenant):
    await limit(client)                                          # 2 credits per day
    assert [(await tx(client, 10))["status"] for _ in range(2)] == ["completed", "completed"]
    third = await tx(client, 10)
    assert (third["status"], third["rejectReason"]) == ("rejected", "credit limit of 2 transactions per 1 day reached")
    assert await value(client) == 1420
    assert (await tx(client, -5))["status"] == "completed"       # debits are not limited
    tenant.clock.advance(timedelta(hours=12))                    # midnight: a new calendar day
    assert (await tx(client, 10))["status"] == "completed"
    assert await value(client) == 1425


async def test_a_sliding_amount_limit(client, tenant):
    await limit(client, constraintType="amount", value=100, slidingSchedule=True)
    assert (await tx(client, 60))["status"] == "completed"
    tenant.clock.advance(timedelta(hours=13))                    # past midnight, inside the 24 hours
    over = await tx(client, 50)
    assert (over["status"], over["rejectReason"]) == ("rejected", "credit limit of 100 points per 1 day reached")
    assert (await tx(client, 40))["status"] == "completed"       # 60 + 40 = 100: within
    tenant.clock.advance(timedelta(hours=11, seconds=1))         # the 60 left the window
    assert (await tx(client, 50))["status"] == "completed"
    assert await value(client) == 1400 + 150


async def test_a_draft_completed_beyond_the_limit_is_rejected(client):
    await limit(client, value=1)
    drafts = [await call(client, "POST", f"{BASE}/transactions", {
        "amount": 5, "balanceDefinitionId": BREVO_BDID, "contactId": 17}) for _ in range(2)]
    assert (await call(client, "POST", f"{BASE}/transactions/{drafts[0]['id']}/complete"))["status"] == "completed"
    second = await call(client, "POST", f"{BASE}/transactions/{drafts[1]['id']}/complete")
    assert (second["status"], second["rejectReason"]) == ("rejected", "credit limit of 1 transactions per 1 day reached")


async def test_a_limit_counts_and_refuses_movements_of_other_dialects(client):
    await limit(client, transactionType="debit", constraintType="amount", value=100, durationUnit="week")
    resp = await client.post("/api/v4.0/integrations/transactions/redeem", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "r-1", "transactionTime": z(NOW), "points": 80})
    assert resp.status == 200, await resp.text()
    over = await tx(client, -30)                                 # 80 + 30 > 100 this week
    assert (over["status"], over["rejectReason"]) == ("rejected", "debit limit of 100 points per 1 week reached")
    resp = await client.post("/api/v4.0/integrations/transactions/redeem", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "r-2", "transactionTime": z(NOW), "points": 30})
    assert 400 <= resp.status < 500
    assert await value(client) == 1320


async def test_an_unpublished_limit_is_not_enforced_and_a_deleted_one_no_longer(client):
    created = await limit(client, publish=False, value=0)
    assert (await tx(client, 10))["status"] == "completed"
    await call(client, "POST", PUBLISH, status=204)
    assert (await tx(client, 10))["status"] == "rejected"
    await call(client, "DELETE", f"{LIMITS}/{created['id']}", status=204)
    await call(client, "POST", PUBLISH, status=204)
    assert (await tx(client, 10))["status"] == "completed"
