"""One member read through all four dialects: the figures agree (issue 2), and they keep agreeing
as time moves (pending points become available, lots expire, rewards lapse)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from helpers import ALICE, ALTCRAFT_TOKEN, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW, OMNEO


from helpers import assert_agree, read_all


@pytest.mark.parametrize("who", [ALICE, BOB], ids=["alice", "bob"])
async def test_four_dialects_agree(client, who):
    assert_agree(await read_all(client, who))


async def test_alice_figures_in_every_dialect(client):
    r = await read_all(client, ALICE)
    assert r["altcraft"] == {"total_balance": "1800.00", "active_balance": "1400.00"}
    assert (r["gameball"]["availablePointsBalance"], r["omneo"]["point_balance"], r["brevo"][BREVO_BDID]) \
        == (1400, 1400, 1400)
    assert (r["gameball"]["availablePointsValue"], r["omneo"]["point_balance_dollars"]) == (70, 70)


@pytest.mark.parametrize("days,available,total", [
    (9, 1800, 1800),      # the return window ends: pending points available everywhere
    (45, 1600, 1600),     # the 200-point lot expires
    (265, 400, 400),      # the 1200-point lot expires too
    (400, 0, 0),          # everything has expired
])
async def test_they_keep_agreeing_as_time_moves(client, tenant, days, available, total):
    tenant.clock.set(NOW + timedelta(days=days))
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert (r["gameball"]["availablePointsBalance"], r["gameball"]["totalPointsBalance"]) == (available, total)


# --- issue 3: what one dialect writes, every other reads -------------------------------------------------------

GBW = "/api/v4.0/integrations"
BREVO_TX = f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions"


async def _ok(resp, status=200):
    body = await resp.json()
    assert resp.status == status, body
    if isinstance(body, dict) and "error" in body and isinstance(body["error"], int):
        assert body["error"] == 0, body
    return body


async def earn_and_spend(client, writer: str, earn: int, spend: int):
    """Give bob `earn` spendable points and spend `spend` of them, through one dialect."""
    if writer == "gameball":
        await _ok(await client.post(f"{GBW}/transactions/manual", headers=GB, json={
            "customerId": BOB["gameball"], "transactionId": "m-1", "username": "ops", "reason": "bonus",
            "points": earn}))
        await _ok(await client.post(f"{GBW}/transactions/redeem", headers=GB, json={
            "customerId": BOB["gameball"], "transactionId": "r-1", "transactionTime": "2026-03-10T12:00:00Z",
            "points": spend}))
    elif writer == "altcraft":
        base = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": BOB["email"]}
        await _ok(await client.post("/api/v1.1/loyalty/accrue_points", json={**base, "amount": str(earn)}))
        await _ok(await client.post(
            "/api/v1.1/loyalty/redeeme_points?format=json", headers={"Content-Type": "application/xml"},
            data=f"<xml><token>{ALTCRAFT_TOKEN}</token><loyalty_program_id>123</loyalty_program_id>"
                 f"<matching>email</matching><email>{BOB['email']}</email><amount>{spend}</amount></xml>"))
    elif writer == "brevo":
        for amount in (earn, -spend):
            await _ok(await client.post(BREVO_TX, headers=BREVO, json={
                "amount": amount, "balanceDefinitionId": BREVO_BDID, "contactId": BOB["brevo"], "autoComplete": True}))
    elif writer == "omneo":
        await _ok(await client.post("/api/v3/points", headers=OMNEO, json={
            "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": earn, "issued_at": None}), 201)
        money = Decimal(spend) * Decimal("0.05")
        await _ok(await client.post(f"/api/v3/profiles/{BOB['omneo']}/redeem", headers=OMNEO, json={
            "amount": float(money), "strategies": ["points"], "strict": True}), 201)


@pytest.mark.parametrize("writer", ["gameball", "altcraft", "brevo", "omneo"])
async def test_each_dialect_writes_every_dialect_reads(client, tenant, writer):
    from invariants import check
    await earn_and_spend(client, writer, 500, 120)
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["altcraft"] == {"total_balance": "380.00", "active_balance": "380.00"}
    assert (r["gameball"]["availablePointsValue"], r["omneo"]["point_balance_dollars"]) == (19, 19)
    check(tenant)


async def test_gameball_order_pending_until_return_window_then_available_everywhere(client, tenant):
    await _ok(await client.post(f"{GBW}/orders", headers=GB, json={
        "customerId": BOB["gameball"], "orderId": "o-1", "orderDate": "2026-03-10T12:00:00Z", "totalPaid": 250}))
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["gameball"]["pendingPoints"] == 250
    assert r["altcraft"] == {"total_balance": "250.00", "active_balance": "0.00"}
    assert r["omneo"]["point_balance"] == 0
    tenant.clock.advance(timedelta(days=14))
    r = await read_all(client, BOB)
    assert_agree(r)
    assert r["altcraft"] == {"total_balance": "250.00", "active_balance": "250.00"}
    assert (r["omneo"]["point_balance"], r["omneo"]["point_balance_dollars"]) == (250, 12.5)


async def test_gameball_hold_reduces_available_in_brevo_and_altcraft(client, tenant):
    body = await _ok(await client.post(f"{GBW}/transactions/hold", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionTime": "2026-03-10T12:00:00Z", "pointsToHold": 300}))
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert r["brevo"][BREVO_BDID] == 1100
    assert r["altcraft"] == {"total_balance": "1500.00", "active_balance": "1100.00"}
    tenant.clock.advance(timedelta(minutes=10))           # the hold lapses: the points come back everywhere
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert r["brevo"][BREVO_BDID] == 1400
    hold = await (await client.get(f"{GBW}/transactions/hold/{body['holdReference']}", headers=GB)).json()
    assert hold["state"] == "expired"


async def test_altcraft_temporary_redemption_times_out(client, tenant):
    base = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"]}
    body = await _ok(await client.post("/api/v1.1/loyalty/redeeme_points", json={
        **base, "amount": "400", "is_temp": True, "temp_timeout_sec": 120}))
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert (r["gameball"]["availablePointsBalance"], r["omneo"]["point_balance"]) == (1000, 1000)
    tenant.clock.advance(timedelta(seconds=120))
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert (r["gameball"]["availablePointsBalance"], r["brevo"][BREVO_BDID]) == (1400, 1400)
    late = await (await client.post("/api/v1.1/loyalty/commit_transaction", json={
        "token": ALTCRAFT_TOKEN, "transaction_id": body["data"]["transaction_id"]})).json()
    assert late["error"] == 400
    assert (await read_all(client, ALICE))["gameball"]["availablePointsBalance"] == 1400


async def test_omneo_reversal_of_points_cancelled_through_altcraft_says_they_were_cancelled(client, tenant):
    """Issue 8: the engine says why it refuses a reversal. Redeem through Omneo, cancel that debit through
    Altcraft, reverse through Omneo at once (clock frozen, well inside the 10-minute window): the answer is the
    cancellation, not the window; and the refused reversal changes nothing."""
    from gateway.app import GATEWAY
    from invariants import check
    assert tenant.clock.frozen
    r = await client.post(f"/api/v3/profiles/{ALICE['omneo']}/redeem", headers=OMNEO, json={"amount": 80})
    assert r.status == 201, await r.text()
    rid = (await r.json())["data"]["id"]
    debit_id = next(record_id for kind, record_id, _, _ in tenant.redemption(rid).items if kind == "point")
    await _ok(await client.post("/api/v1.1/loyalty/cancel_transaction",
                                json={"token": ALTCRAFT_TOKEN, "transaction_id": debit_id}))
    before = tenant.store.export()
    r = await client.post(f"/api/v3/redemptions/{rid}/reversal", headers=OMNEO)
    assert (r.status, await r.json()) == (422, {
        "message": "The redemption has already been cancelled.",
        "errors": {"redemption": ["The redemption has already been cancelled."]}})
    assert tenant.store.export() == before
    assert client.app[GATEWAY].journal("demo").list(limit=1)[0]["refusal"]["reason"] == "entry_cancelled"
    check(tenant)


async def test_points_cancelled_meanwhile_is_the_reason_even_after_the_window(client, tenant):
    """Both apply (cancelled through Altcraft, and 11 minutes later): the state of the record is the reason given,
    as for a redemption already reversed; the window is only the reason when nothing else stands in the way."""
    r = await client.post(f"/api/v3/profiles/{ALICE['omneo']}/redeem", headers=OMNEO, json={"amount": 80})
    rid = (await r.json())["data"]["id"]
    debit_id = next(record_id for kind, record_id, _, _ in tenant.redemption(rid).items if kind == "point")
    await _ok(await client.post("/api/v1.1/loyalty/cancel_transaction",
                                json={"token": ALTCRAFT_TOKEN, "transaction_id": debit_id}))
    tenant.set_clock(tenant.now() + timedelta(minutes=11))
    r = await client.post(f"/api/v3/redemptions/{rid}/reversal", headers=OMNEO)
    assert (r.status, (await r.json())["message"]) == (422, "The redemption has already been cancelled.")
