"""What Altcraft's account reads say after writes made through the other dialects: account/transactions lists
them as the ledger recorded them, account/expiring_points agrees with Gameball's next-expiring figure."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

import invariants
from helpers import ALICE, ALTCRAFT_TOKEN, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW, OMNEO, read_all

GBW = "/api/v4.0/integrations"
BREVO_TX = f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions"
TRANSACTIONS = "/api/v1.1/loyalty/account/transactions"
EXPIRING = "/api/v1.1/loyalty/account/expiring_points"


def altcraft(who, **fields) -> dict:
    return {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "points_currency_iid": 1, "matching": "email",
            "email": who["email"], **fields}


async def ok(resp, status=200):
    body = await resp.json()
    assert resp.status == status, body
    return body


async def earn_and_spend(client, writer: str, earn: int, spend: int) -> None:
    """Give bob `earn` spendable points and spend `spend` of them, through one dialect."""
    if writer == "gameball":
        await ok(await client.post(f"{GBW}/transactions/manual", headers=GB, json={
            "customerId": BOB["gameball"], "transactionId": "m-1", "username": "ops", "reason": "bonus",
            "points": earn}))
        await ok(await client.post(f"{GBW}/transactions/redeem", headers=GB, json={
            "customerId": BOB["gameball"], "transactionId": "r-1", "transactionTime": "2026-03-10T12:00:00Z",
            "points": spend}))
    elif writer == "brevo":
        for amount in (earn, -spend):
            await ok(await client.post(BREVO_TX, headers=BREVO, json={
                "amount": amount, "balanceDefinitionId": BREVO_BDID, "contactId": BOB["brevo"], "autoComplete": True}))
    elif writer == "omneo":
        await ok(await client.post("/api/v3/points", headers=OMNEO, json={
            "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": earn, "issued_at": None}), 201)
        await ok(await client.post(f"/api/v3/profiles/{BOB['omneo']}/redeem", headers=OMNEO, json={
            "amount": float(Decimal(spend) * Decimal("0.05")), "strategies": ["points"], "strict": True}), 201)


@pytest.mark.parametrize("writer", ["gameball", "brevo", "omneo"])
async def test_altcraft_lists_what_another_dialect_wrote(client, tenant, writer):
    await earn_and_spend(client, writer, 500, 120)
    body = await ok(await client.post(TRANSACTIONS, json=altcraft(BOB)))
    rows = [(r["transaction_type"], r["status"], r["amount"], r["balance_before"], r["balance_after"])
            for r in body["data"]]
    assert rows == [("accrual", "committed", "500.00", "0.00", "500.00"),
                    ("redemption", "committed", "120.00", "500.00", "380.00")]
    assert (body["total_count"], body["next_from_id"]) == (2, None)
    r = await read_all(client, BOB)
    assert r["altcraft"]["total_balance"] == body["data"][-1]["balance_after"]
    assert Decimal(str(r["gameball"]["totalPointsBalance"])) == Decimal(body["data"][-1]["balance_after"])
    invariants.check(tenant)


async def test_a_gameball_order_is_an_accrual_pending_until_the_return_window_ends(client, tenant):
    await ok(await client.post(f"{GBW}/orders", headers=GB, json={
        "customerId": BOB["gameball"], "orderId": "o-1", "orderDate": "2026-03-10T12:00:00Z", "totalPaid": 250}))
    body = await ok(await client.post(TRANSACTIONS, json=altcraft(BOB)))
    [row] = body["data"]
    z = lambda d: (NOW + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (row["transaction_type"], row["amount"], row["activation_date"], row["expiration_date"]) == (
        "accrual", "250.00", z(14), z(14 + 365))


async def test_a_gameball_hold_redeemed_is_one_redemption(client, tenant):
    hold = await ok(await client.post(f"{GBW}/transactions/hold", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionTime": "2026-03-10T12:00:00Z", "pointsToHold": 300}))
    await ok(await client.post(f"{GBW}/transactions/redeem", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "r-9", "transactionTime": "2026-03-10T12:00:00Z",
        "holdReference": hold["holdReference"]}))
    body = await ok(await client.post(TRANSACTIONS, json=altcraft(ALICE, limit=100)))
    assert [(r["transaction_type"], r["amount"]) for r in body["data"][6:]] == [("redemption", "300.00")]
    balance = await ok(await client.post("/api/v1.1/loyalty/account/balance", json=altcraft(ALICE)))
    assert balance["data"]["total_balance"] == "1500.00"


async def gameball_next_expiring(client, who) -> tuple[Decimal, str | None]:
    gb = await ok(await client.get(f"{GBW}/customers/{who['gameball']}/balance", headers=GB))
    return Decimal(str(gb["nextExpiringPointsAmount"])), gb.get("nextExpiringPointsDate")


async def altcraft_expiring(client, who, start: datetime, end: datetime) -> Decimal:
    z = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = await ok(await client.post(EXPIRING, json=altcraft(who, date_from=z(start), date_to=z(end))))
    return Decimal(body["data"]["expiring_points"])


def instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=NOW.tzinfo)


async def test_expiring_points_agree_with_gameball_after_writes(client, tenant):
    amount, when = await gameball_next_expiring(client, ALICE)
    assert amount == Decimal(200)
    assert await altcraft_expiring(client, ALICE, NOW, instant(when)) == amount
    await ok(await client.post(f"{GBW}/transactions/redeem", headers=GB, json={       # soonest-expiring first
        "customerId": ALICE["gameball"], "transactionId": "r-2", "transactionTime": "2026-03-10T12:00:00Z",
        "points": 150}))
    amount, when = await gameball_next_expiring(client, ALICE)
    assert amount == Decimal(50)
    assert await altcraft_expiring(client, ALICE, NOW, instant(when)) == Decimal(50)
    await ok(await client.post(BREVO_TX, headers=BREVO, json={                          # the rest of that lot
        "amount": -50, "balanceDefinitionId": BREVO_BDID, "contactId": ALICE["brevo"], "autoComplete": True}))
    amount, when = await gameball_next_expiring(client, ALICE)
    assert amount == Decimal(1200)
    assert await altcraft_expiring(client, ALICE, NOW, instant(when)) == Decimal(1200)
    assert await altcraft_expiring(client, ALICE, NOW, NOW + timedelta(days=400)) == Decimal(1600)
    r = await read_all(client, ALICE)
    assert Decimal(r["altcraft"]["total_balance"]) == Decimal(1600)
    invariants.check(tenant)


async def test_altcraft_tiers_agree_with_omneo_after_a_gameball_credit(client, tenant):
    await ok(await client.post(f"{GBW}/transactions/manual", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "m-7", "username": "ops", "reason": "bonus",
        "points": 3500}))
    body = await ok(await client.post("/api/v1.1/loyalty/account/tiers", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "tiers_group_id": 10, "matching": "email",
        "email": ALICE["email"]}))
    omneo = (await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}/tiers", headers=OMNEO)))["data"]
    current = body["data"][-1]
    assert (current["tier_eid"], current["tier_id"]) == (omneo["current_tier"]["handle"], omneo["current_tier"]["id"])
    assert current["reached_at"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert omneo["achieved_at"] == NOW.strftime("%Y-%m-%d %H:%M:%S")
    assert [t["tier_eid"] for t in body["data"]] == ["bronze", "silver", "gold"]
