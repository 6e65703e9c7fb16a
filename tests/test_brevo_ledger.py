"""Brevo's answers agree with its own balance, whatever dialect wrote the points: `/active-balance` lots add up to
the balance `value` while points are held (a Gameball hold, an Altcraft temporary redemption), and
`/transaction-history` says what the balance says (a cashback in its return window is not completed yet, a
reservation is a draft until committed). Also: `null` in optional fields means absent."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import utc_seconds as z
from helpers import ALICE, ALTCRAFT_TOKEN, BREVO, BREVO_BDID, BREVO_PID, GB, NOW

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
GBW = "/api/v4.0/integrations"
AC = "/api/v1.1/loyalty"




pytestmark = pytest.mark.usefixtures("ledger_invariants")


async def ok(resp, status=200) -> dict:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def brevo(client, path) -> dict:
    return await ok(await client.get(BASE + path, headers=BREVO))


async def value(client) -> int:
    return (await brevo(client, "/subscriptions/17/balances"))["balance"][0]["value"]


async def lots(client, **query) -> dict:
    q = "&".join(f"{k}={v}" for k, v in {"contactId": 17, "balanceDefinitionId": BREVO_BDID, **query}.items())
    return await brevo(client, f"/active-balance?{q}")


async def history(client, **query) -> dict:
    q = "&".join(f"{k}={v}" for k, v in {"contactId": 17, "balanceDefinitionId": BREVO_BDID, **query}.items())
    return await brevo(client, f"/transaction-history?{q}")


async def gb_hold(client, points) -> str:
    body = await ok(await client.post(f"{GBW}/transactions/hold", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionTime": z(NOW), "pointsToHold": points}))
    return body["holdReference"]


async def altcraft(client, method, **fields) -> dict:
    body = await ok(await client.post(f"{AC}/{method}", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"], **fields}))
    assert body["error"] == 0, body
    return body["data"]


# --- active balances while points are held ----------------------------------------------------------------

async def test_a_gameball_hold_takes_from_the_soonest_expiring_lot(client):
    before = await lots(client)
    assert [b["amount"] for b in before["activeBalances"]] == [1200, 200]
    await gb_hold(client, 30)
    after = await lots(client)
    assert await value(client) == 1370
    assert [(b["id"], b["amount"]) for b in after["activeBalances"]] == [
        (before["activeBalances"][0]["id"], 1200), (before["activeBalances"][1]["id"], 170)]
    assert (after["count"], sum(b["amount"] for b in after["activeBalances"])) == (2, 1370)


async def test_a_hold_that_takes_a_whole_lot_drops_it_from_the_list_and_the_count(client, tenant):
    await gb_hold(client, 250)
    body = await lots(client)
    assert (body["count"], [b["amount"] for b in body["activeBalances"]]) == (1, [1150])
    assert await value(client) == 1150
    assert (await lots(client, offset=1))["activeBalances"] == []
    tenant.clock.advance(timedelta(minutes=10))          # the hold lapses: the lots are whole again
    body = await lots(client)
    assert (body["count"], [b["amount"] for b in body["activeBalances"]]) == (2, [1200, 200])


async def test_an_altcraft_temporary_redemption_is_held_points_then_a_debit(client):
    data = await altcraft(client, "redeeme_points", amount="250", transaction_eid="r-1", is_temp=True)
    tid = data["transaction_id"]
    body = await lots(client, sort="asc")
    assert [b["amount"] for b in body["activeBalances"]] == [1150]
    assert await value(client) == 1150
    rows = (await history(client, limit=1))["transactionHistory"]
    assert [(r["amount"], r["transactionType"], r["status"], r["completedAt"]) for r in rows] == [
        (-250, "debit", "draft", None)]
    await altcraft(client, "commit_transaction", transaction_id=tid)
    body = await lots(client)
    assert [b["amount"] for b in body["activeBalances"]] == [1150]      # the debit took what the hold showed
    assert await value(client) == 1150
    row = (await history(client, limit=1))["transactionHistory"][0]
    assert (row["amount"], row["status"], row["completedAt"]) == (-250, "completed", z(NOW))


async def test_a_rolled_back_reservation_is_cancelled_in_the_history(client):
    data = await altcraft(client, "redeeme_points", amount="100", transaction_eid="r-2", is_temp=True)
    await altcraft(client, "rollback_transaction", transaction_id=data["transaction_id"])
    row = (await history(client, limit=1))["transactionHistory"][0]
    assert (row["amount"], row["status"], row["completedAt"]) == (-100, "cancelled", None)
    assert await value(client) == 1400
    assert (await history(client, status="completed"))["count"] == 4


async def test_a_reservation_that_times_out_is_expired_in_the_history(client, tenant):
    await altcraft(client, "redeeme_points", amount="100", transaction_eid="r-3", is_temp=True,
                   temp_timeout_sec=60)
    tenant.clock.advance(timedelta(minutes=2))
    row = (await history(client, limit=1))["transactionHistory"][0]
    assert (row["amount"], row["status"]) == (-100, "expired")
    assert await value(client) == 1400


# --- the history says what the balance says ---------------------------------------------------------------

async def test_a_cashback_in_its_return_window_is_not_completed_until_its_points_are_available(client, tenant):
    await ok(await client.post(f"{GBW}/transactions/cashback", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "cb-1", "transactionTime": z(NOW), "amount": 80}))
    assert await value(client) == 1400                                  # pending: not in the balance
    row = (await history(client, limit=1))["transactionHistory"][0]
    assert (row["amount"], row["status"], row["completedAt"], row["balanceExpirationDate"]) == (80, "draft", None, None)
    assert (await history(client, status="draft"))["count"] == 2         # with the fixtures' 400, pending too
    tenant.clock.advance(timedelta(days=14))
    assert await value(client) == 1400 + 400 + 80
    row = (await history(client, limit=1))["transactionHistory"][0]
    assert (row["status"], row["completedAt"], row["balanceExpirationDate"]) == (
        "completed", z(NOW + timedelta(days=14)), z(NOW + timedelta(days=14 + 365)))
    assert (await history(client, status="draft"))["count"] == 0


async def test_completed_rows_less_expired_points_are_the_spendable_points(client, tenant, alice, points):
    """What the property test checks after every write, here on the demo member with a hold on top."""
    await gb_hold(client, 100)
    rows = (await history(client, status="completed", limit=500))["transactionHistory"]
    b = tenant.balance(alice, points)
    expired = tenant.store.totals(alice.id, points.id).expired
    assert sum(r["amount"] for r in rows) - expired == b.available + b.held == 1400
    assert sum(a["amount"] for a in (await lots(client))["activeBalances"]) == b.available == 1300


# --- null means absent ------------------------------------------------------------------------------------

async def test_nulls_in_optional_fields_mean_absent(client):
    body = await ok(await client.post(f"{BASE}/transactions", headers=BREVO, json={
        "amount": 5, "balanceDefinitionId": BREVO_BDID, "contactId": 17, "eventTime": None, "ttl": None,
        "transactionType": None, "autoComplete": None, "balanceExpiryInMinutes": None, "meta": None,
        "LoyaltySubscriptionId": None, "loyaltySubscriptionId": None}))
    assert (body["status"], body["amount"], body["transactionType"], body["eventTime"], body["meta"]) == (
        "draft", 5, "credit", z(NOW), {})
    order = await ok(await client.post(f"{BASE}/create-order", headers=BREVO, json={
        "amount": 5, "balanceDefinitionId": BREVO_BDID, "contactId": 17, "dueAt": z(NOW), "source": "user",
        "expiresAt": None, "meta": None}))
    assert (order["expiresAt"], order["meta"]) == (None, {})


async def test_every_page_of_active_balances_is_a_slice_of_the_whole_list(client, tenant, alice, points):
    """Lots skipped (wholly held, pending, provisional) anywhere in the order: each page is the slice it names."""
    for amount in (10, 20, 30, 40):
        tenant.clock.advance(timedelta(seconds=1))
        tenant.credit(alice, points, amount, available_at=tenant.now())
    tenant.credit(alice, points, 7)                            # pending: its return window
    tenant.temporary(alice, points, "credit", 9)               # provisional
    await gb_hold(client, 215)            # soonest-expiring first: the whole 200 lot, then 15 of the 1200
    whole = await lots(client, limit=500)
    assert (whole["count"], [b["amount"] for b in whole["activeBalances"]]) == (5, [40, 30, 20, 10, 1185])
    assert await value(client) == 1285
    for sort in ("desc", "asc"):
        ordered = (await lots(client, limit=500, sort=sort))["activeBalances"]
        for offset in range(len(ordered) + 1):
            for limit in (1, 2, 3):
                page = await lots(client, sort=sort, offset=offset, limit=limit)
                assert page["activeBalances"] == ordered[offset:offset + limit], (sort, offset, limit)
                assert page["count"] == len(ordered)


async def test_a_restored_snapshot_lists_the_same(client, tenant):
    """The lists' indexes are derived (not in the snapshot): a restored tenant rebuilds them on its first call."""
    await gb_hold(client, 30)
    await altcraft(client, "redeeme_points", amount="50", transaction_eid="r-9", is_temp=True)
    paths = ["/transaction-history?contactId=17&balanceDefinitionId=" + BREVO_BDID + "&limit=50",
             "/transaction-history?contactId=17&balanceDefinitionId=" + BREVO_BDID + "&status=draft",
             "/active-balance?contactId=17&balanceDefinitionId=" + BREVO_BDID,
             "/contact-balances?balanceDefinitionId=" + BREVO_BDID + "&sortField=value"]
    before = [await brevo(client, p) for p in paths]
    snapshot = await ok(await client.get("/__admin/tenants/demo/snapshot"))
    resp = await client.put("/__admin/tenants/demo/snapshot", json=snapshot)
    assert resp.status in (200, 204), await resp.text()
    assert [await brevo(client, p) for p in paths] == before
    assert before[1]["count"] == 2          # the pending 400 and the reservation
