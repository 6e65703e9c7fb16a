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
    assert [t["tier_eid"] for t in body["data"]] == ["gold"]


# --- transactions_export: the task id, then the file from the control plane --------------------------------------

EXPORT = "/api/v1.1/loyalty/transactions_export"


def z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_req(start: datetime, end: datetime, **fields) -> dict:
    return {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "points_currency_eid": "stars",
            "date_from": z(start), "date_to": z(end), **fields}


async def export_file(client, task: str) -> list[dict]:
    import csv
    resp = await client._client.get(f"/__admin/tenants/demo/exports/{task}")
    assert (resp.status, resp.content_type) == (200, "text/csv")
    return list(csv.DictReader((await resp.text()).splitlines()))


async def test_export_holds_the_programs_transactions_of_the_period(client, tenant):
    await earn_and_spend(client, "gameball", 500, 120)          # bob, now
    await ok(await client.post("/api/v1.1/loyalty/accrue_points", json=altcraft(
        ALICE, amount="25.50", transaction_eid="t-1", promotion_id="PROMO123")))
    body = await ok(await client.post(EXPORT, json=export_req(NOW - timedelta(days=30), NOW)))
    task = body["data"]["task_id"]
    assert body == {"error": 0, "error_text": "Successful operation", "data": {"task_id": task}}
    assert task.startswith("task_") and len(task) == 41
    rows = await export_file(client, task)
    assert list(rows[0]) == ["transaction_id", "transaction_eid", "profile_id", "created_at", "transaction_type",
                             "status", "amount", "balance_before", "balance_after", "promo_iid", "promo_eid",
                             "description", "activation_date", "expiration_date", "source_type", "source_iid"]
    assert [(r["profile_id"], r["created_at"], r["transaction_type"], r["amount"], r["balance_after"])
            for r in rows] == [
        ("profile123", z(NOW - timedelta(days=20)), "redemption", "100.00", "1400.00"),
        ("profile123", z(NOW - timedelta(days=5)), "accrual", "400.00", "1800.00"),
        ("profile456", z(NOW), "accrual", "500.00", "500.00"),
        ("profile456", z(NOW), "redemption", "120.00", "380.00"),
        ("profile123", z(NOW), "accrual", "25.50", "1825.50"),
    ]
    assert (rows[-1]["transaction_eid"], rows[-1]["promo_iid"], rows[-1]["promo_eid"], rows[-1]["source_iid"]) == (
        "t-1", "8", "PROMO123", "")
    # each row is what account/transactions says of the same record
    listed = (await ok(await client.post(TRANSACTIONS, json=altcraft(BOB))))["data"]
    for r, same in zip(rows[2:4], listed):
        assert {k: v for k, v in r.items() if k != "profile_id"} == {
            k: "" if v is None else str(v) for k, v in same.items()}


async def test_export_is_taken_when_asked_and_resumes_after_from_id(client, tenant):
    start, end = NOW - timedelta(days=30), NOW + timedelta(days=1)
    first = (await ok(await client.post(EXPORT, json=export_req(start, end))))["data"]["task_id"]
    await earn_and_spend(client, "brevo", 50, 10)
    later = (await ok(await client.post(EXPORT, json=export_req(start, end))))["data"]["task_id"]
    assert len(await export_file(client, first)) == 2                 # the file is what was true then
    rows = await export_file(client, later)
    assert [r["amount"] for r in rows] == ["100.00", "400.00", "50.00", "10.00"]
    resumed = (await ok(await client.post(EXPORT, json=export_req(
        start, end, from_id=rows[1]["transaction_id"]))))["data"]["task_id"]
    assert [r["transaction_id"] for r in await export_file(client, resumed)] == [r["transaction_id"] for r in rows[2:]]


async def test_export_survives_a_snapshot(client, tenant):
    task = (await ok(await client.post(EXPORT, json=export_req(NOW - timedelta(days=30), NOW))))["data"]["task_id"]
    snapshot = await ok(await client._client.get("/__admin/tenants/demo/snapshot"))
    await ok(await client._client.put("/__admin/tenants/demo/snapshot", json=snapshot))
    assert len(await export_file(client, task)) == 2


@pytest.mark.parametrize("fields, expected", [
    ({"from_id": "nope"}, {"error": 404, "error_text": "Transaction not found"}),
    ({"date_to": "2026-01-01T00:00:00Z"}, {"error": 400, "error_text": "Incorrect date: the period ends before it starts"}),
    ({"date_from": None}, {"error": 400, "error_text": "Incorrect request: date_from is required"}),
    ({"points_currency_eid": None}, {"error": 400,
                                     "error_text": "Incorrect request: points_currency_iid or points_currency_eid is required"}),
])
async def test_export_refusals(client, tenant, fields, expected):
    payload = {k: v for k, v in {**export_req(NOW - timedelta(days=3), NOW), **fields}.items() if v is not None}
    assert await ok(await client.post(EXPORT, json=payload)) == expected


async def test_an_unknown_task_is_a_404_and_head_works(client):
    resp = await client._client.get("/__admin/tenants/demo/exports/task_nope")
    assert (resp.status, (await resp.json())["error"]) == (404, "not_found")
    task = (await ok(await client.post(EXPORT, json=export_req(NOW - timedelta(days=30), NOW))))["data"]["task_id"]
    head = await client._client.head(f"/__admin/tenants/demo/exports/{task}")
    assert (head.status, head.content_type, await head.read()) == (200, "text/csv", b"")


async def test_export_in_xml(client, tenant):
    import xmltodict
    fields = export_req(NOW - timedelta(days=30), NOW, points_currency_eid="starts")
    raw = "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>"
    resp = await client.post(EXPORT, data=raw, headers={"Content-Type": "application/xml"})
    body = xmltodict.parse(await resp.text())["xml"]
    assert (body["error"], body["error_text"]) == ("0", "Successful operation")
    assert [r["amount"] for r in await export_file(client, body["data"]["task_id"])] == ["100.00", "400.00"]
