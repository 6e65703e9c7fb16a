"""What Omneo's configuration and purchases change in the other dialects: a purchase recorded through Omneo earns
points Gameball, Altcraft and Brevo report (and a void takes them back everywhere); a rate created, changed or
deleted through Omneo changes what a Gameball order or cashback earns; a Gameball order shows as an Omneo point
record; rates and transactions survive a snapshot. Every response is checked against its vendor's spec."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import ALICE, BOB, BREVO_BDID, DEMO, GB, NOW, OMNEO, admin, assert_agree, read_all

GB_API = "/api/v4.0/integrations"
TX = "/api/v3/transactions"
RATES = "/api/v3/rates"
B = BOB["omneo"]


async def ok(resp, status=200):
    assert resp.status == status, await resp.text()
    return await resp.json() if status != 204 else None


def purchase(external_id="POS-1", total=150, at="2026-02-01 10:00:00", **extra):
    return {"profile_id": B, "external_id": external_id, "total": total, "transacted_at": at, **extra}


async def gb_order(client, order_id, paid, customer=BOB["gameball"], **extra):
    return await ok(await client.post(f"{GB_API}/orders", headers=GB, json={
        "customerId": customer, "orderId": order_id, "orderDate": "2026-03-10T11:00:00Z", "totalPaid": paid,
        "cashbackConfigurations": {"returnWindow": 0}, **extra}))


async def test_omneo_purchase_earns_points_every_dialect_reports(client, tenant):
    await ok(await client.post(TX, headers=OMNEO, json=purchase()), 201)      # past its return window already
    r = await read_all(client, BOB)
    assert_agree(r)
    assert (r["gameball"]["availablePointsBalance"], r["omneo"]["point_balance"], r["brevo"][BREVO_BDID],
            r["altcraft"]["active_balance"]) == (150, 150, 150, "150.00")
    # voided through Omneo: gone everywhere
    await ok(await client.post(f"{TX}/update-create", headers=OMNEO, json=purchase(is_void=True)))
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["gameball"]["availablePointsBalance"] == 0 and r["gameball"]["totalEarnedPoints"] == 0


async def test_recent_omneo_purchase_is_pending_everywhere_until_the_return_window_ends(client, tenant):
    await ok(await client.post(TX, headers=OMNEO, json=purchase(at="2026-03-10 11:00:00", total=80)), 201)
    r = await read_all(client, BOB)
    assert_agree(r)
    assert (r["gameball"]["pendingPoints"], r["altcraft"]) == (80, {"total_balance": "80.00", "active_balance": "0.00"})
    tenant.clock.set(NOW + timedelta(days=14))
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["brevo"][BREVO_BDID] == 80


async def test_a_rate_set_through_omneo_changes_what_gameball_earns(client, tenant):
    assert (await gb_order(client, "O-1", 100))["rewardedPoints"] == 100        # the program's base rate
    made = await ok(await client.post(RATES, headers=OMNEO, json={"name": "Double", "handle": "x2", "rate": 2}),
                    201)
    assert (await gb_order(client, "O-2", 100))["rewardedPoints"] == 200
    await ok(await client.put(f"{RATES}/{made['data']['id']}", headers=OMNEO, json={"rate": 3}))
    assert (await gb_order(client, "O-3", 100))["rewardedPoints"] == 300
    cashback = await ok(await client.post(f"{GB_API}/transactions/cashback", headers=GB, json={
        "customerId": BOB["gameball"], "transactionId": "CB-1", "transactionTime": "2026-03-10T11:00:00Z",
        "amount": 10}))
    assert cashback["rewardEquivalentPoints"] == 30
    await ok(await client.delete(f"{RATES}/{made['data']['id']}", headers=OMNEO), 204)
    assert (await gb_order(client, "O-4", 100))["rewardedPoints"] == 100
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["omneo"]["point_balance"] == 100 + 200 + 300 + 100          # the cashback is in its return window
    assert r["gameball"]["pendingPoints"] == 30


async def test_a_product_rate_set_through_omneo_prices_gameball_line_items(client, tenant):
    await ok(await client.post(RATES, headers=OMNEO, json={"name": "Half", "handle": "half", "rate": 0.5}), 201)
    body = await gb_order(client, "O-1", 250, lineItems=[{"productId": "P1", "quantity": 2, "price": 100},
                                                        {"price": 50}])
    assert body["rewardedPoints"] == 125
    assert [(line["decimalPoints"], line["points"]) for line in body["lineItems"]] == [(100, 100), (25, 25)]


async def test_gameball_order_is_an_omneo_point_record(client, tenant):
    await gb_order(client, "O-1", 42)
    body = await ok(await client.get(f"/api/v3/profiles/{B}/points", headers=OMNEO))
    assert [(p["value_initial"], p["value_remaining"], p["source_type"]) for p in body["data"]] == [(42, 42, None)]


async def test_rates_and_transactions_survive_a_snapshot(client, http, tenant):
    await ok(await client.post(RATES, headers=OMNEO, json={"name": "Double", "handle": "x2", "rate": 2}), 201)
    await ok(await client.post(TX, headers=OMNEO, json=purchase(receipt_ref="R-1")), 201)
    snap = await admin(http, "GET", f"{DEMO}/snapshot", 200)
    await ok(await client.post(RATES, headers=OMNEO, json={"name": "Triple", "handle": "x3", "rate": 3}), 201)
    await ok(await client.post(TX, headers=OMNEO, json=purchase("POS-2")), 201)
    await admin(http, "PUT", f"{DEMO}/snapshot", 200, json=snap)
    rates = await ok(await client.get(RATES, headers=OMNEO))
    assert [r["handle"] for r in rates["data"]] == ["x2"]
    txs = await ok(await client.get(f"/api/v3/profiles/{B}/transactions", headers=OMNEO))
    assert [t["external_id"] for t in txs["data"]] == ["POS-1"]
    found = await ok(await client.get(f"/api/v3/profiles/{B}/find-transactions?filter[receipt_ref]=R-1",
                                      headers=OMNEO))
    assert found["data"][0]["external_id"] == "POS-1"
    # the restored world goes on: the same external id is still taken, the rate still earns
    r = await client.post(TX, headers=OMNEO, json=purchase())
    assert r.status == 422
    assert (await gb_order(client, "O-1", 10))["rewardedPoints"] == 20
    assert (await read_all(client, BOB))["omneo"]["point_balance"] == 300 + 20


async def test_a_rate_issue_period_sets_when_earned_points_expire_in_every_dialect(client, tenant):
    await ok(await client.post(RATES, headers=OMNEO, json={"name": "Short", "handle": "short", "rate": 1,
                                                            "issue_period": 2, "issue_period_type": "weeks"}), 201)
    await gb_order(client, "O-1", 30)                                    # available at once, lives 14 days
    await ok(await client.post(TX, headers=OMNEO, json=purchase(at="2026-03-10 11:00:00", total=20)), 201)
    points = (await ok(await client.get(f"/api/v3/profiles/{B}/points", headers=OMNEO)))["data"]
    assert [(p["value_initial"], p["issued_at"], p["expires_at"]) for p in points] == [
        (30, "2026-03-10 12:00:00", "2026-03-24 12:00:00"), (20, "2026-03-24 11:00:00", "2026-04-07 11:00:00")]
    tenant.clock.set(NOW + timedelta(days=14))
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["omneo"]["point_balance"] == 20 and r["gameball"]["availablePointsBalance"] == 20


async def test_gameball_cashback_configuration_and_quote_show_the_rate_set_through_omneo(client, tenant):
    async def factor():
        body = await ok(await client.get(f"{GB_API}/configurations/cashback", headers=GB))
        return body["defaultCashbackRule"]["rewardWalletFactor"]
    assert await factor() == 1
    await ok(await client.post(RATES, headers=OMNEO, json={"name": "Double", "handle": "x2", "rate": 2}), 201)
    assert await factor() == 2
    quote = await ok(await client.post(f"{GB_API}/orders/cashback", headers={"apikey": GB["apikey"]}, json={
        "customerId": BOB["gameball"], "totalPaid": 50, "totalDiscount": 0, "totalShipping": 0,
        "lineItems": [{"productId": "P1", "price": 50}]}))
    assert quote["totalPoints"] == 100 and quote["lineItems"][0]["rewardWalletFactor"] == 2
