"""Omneo transactions over HTTP (the earning side): recording a purchase earns through the rates, pending for the
return window, with tier points; update-create voids or lowers (takes back) or raises (earns the rise);
incentive-estimate changes nothing; the profile's transaction list, one transaction, find-transactions.
Every response is checked against specs/omneo.yaml; the ledger invariants after each write.

Demo: bob has nothing; 1 point per USD (base rate), points worth 0.05 USD, a 14-day return window."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import ALICE, BOB, NOW, OMNEO
from gateway.app import GATEWAY
from test_omneo_writes import snapshot
import invariants

TX = "/api/v3/transactions"
UPSERT = "/api/v3/transactions/update-create"
ESTIMATE = "/api/v3/transactions/incentive-estimate"
PROFILE_TX = "/api/v3/profiles/{}/transactions"
FIND = "/api/v3/profiles/{}/find-transactions"
BAL = "/api/v3/profiles/{}/balances"
POINTS = "/api/v3/profiles/{}/points"
TIERS = "/api/v3/profiles/{}/tiers"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
B = BOB["omneo"]


@pytest.fixture
def vendors():
    return ["omneo"]


def tx(external_id="POS-1", total=150, at="2026-03-10 11:00:00", profile=B, **extra):
    return {"profile_id": profile, "external_id": external_id, "total": total, "transacted_at": at, **extra}


SHOES = [{"name": "Runner", "quantity": 1, "price_current": 120, "price_sell": 120,
          "product_variant": {"sku": "RUN-42", "category": "shoes", "brand": "Acme", "title": "Runner", "price": 120}},
         {"name": "Socks", "quantity": 2, "price_sell": 15}]


async def figures(client, profile=B):
    """(point_balance, pending points, next_progress tier points), as Omneo reports them."""
    bal = (await (await client.get(BAL.format(profile), headers=OMNEO)).json())["data"]
    pts = (await (await client.get(POINTS.format(profile) + "?page[size]=100", headers=OMNEO)).json())["data"]
    tier = (await (await client.get(TIERS.format(profile), headers=OMNEO)).json())["data"]
    now = client.server.app[GATEWAY].engine.get("demo").now().strftime("%Y-%m-%d %H:%M:%S")
    pending = sum(p["value_remaining"] for p in pts if p["issued_at"] > now)
    return bal["point_balance"], pending, tier["next_progress"]


async def post(client, path, body, status):
    r = await client.post(path, headers=OMNEO, json=body)
    assert r.status == status, await r.text()
    return await r.json()


async def test_purchase_earns_pending_points_and_tier_points(client, tenant):
    body = await post(client, TX, tx(receipt_ref="R-1", timezone="Australia/Melbourne", tags=["pos"],
                                     meta={"till": 3}, items=SHOES), 201)
    data = body["data"]
    assert {k: data[k] for k in ("id", "profile_id", "external_id", "receipt_ref", "total", "transacted_at",
                                 "is_void", "timezone", "tags", "meta", "redemption")} == {
        "id": 1, "profile_id": B, "external_id": "POS-1", "receipt_ref": "R-1", "total": 150,
        "transacted_at": "2026-03-10 11:00:00", "is_void": False, "timezone": "Australia/Melbourne",
        "tags": ["pos"], "meta": {"till": 3}, "redemption": None}
    assert data["items"][0]["product_variant"]["category"] == "shoes" and data["items"][1]["quantity"] == 2
    # 120 + 2 x 15 = 150 at 1 point per USD, pending for 14 days from the purchase; 150 tier points at once
    assert await figures(client) == (0, 150, 150)
    points = (await (await client.get(POINTS.format(B), headers=OMNEO)).json())["data"]
    assert [(p["value_initial"], p["issued_at"], p["accrued_at"], p["source_type"], p["source"]["external_id"],
             p["rate"]) for p in points] == [(150, "2026-03-24 11:00:00", "2026-03-10 11:00:00", "transaction",
                                              "POS-1", None)]
    tenant.clock.set(NOW + timedelta(days=14))
    assert (await figures(client))[:2] == (150, 0)
    invariants.check(tenant)


async def test_purchase_earns_through_the_rates(client, tenant):
    await post(client, "/api/v3/rates", {"name": "Shoes x3", "handle": "shoes", "rate": 3, "type": "category",
                                         "code": "shoes"}, 201)
    await post(client, TX, tx(items=SHOES), 201)
    assert await figures(client) == (0, 390, 390)          # 120 x 3 + 30 x 1
    points = (await (await client.get(POINTS.format(B), headers=OMNEO)).json())["data"]
    assert points[0]["rate"]["handle"] == "shoes"
    # without items the total earns at the general rate
    await post(client, TX, tx("POS-2", total=99.99), 201)
    assert (await figures(client))[1] == 390 + 99
    invariants.check(tenant)


async def test_old_purchase_is_available_at_once(client, tenant):
    await post(client, TX, tx(at="2026-02-01 10:00:00", total=40), 201)
    assert await figures(client) == (40, 0, 40)


async def test_void_purchase_earns_nothing(client, tenant):
    await post(client, TX, tx(is_void=True), 201)
    assert await figures(client) == (0, 0, 0)
    body = await (await client.get(PROFILE_TX.format(B), headers=OMNEO)).json()
    assert [(t["external_id"], t["is_void"]) for t in body["data"]] == [("POS-1", True)]


async def test_voiding_takes_back_what_it_earned(client, tenant):
    await post(client, TX, tx(), 201)
    body = await post(client, UPSERT, tx(is_void=True), 200)
    assert body["data"]["is_void"] is True
    assert await figures(client) == (0, 0, 0)
    # voiding again changes nothing; a void transaction stays void
    await post(client, UPSERT, tx(is_void=True), 200)
    r = await client.post(UPSERT, headers=OMNEO, json=tx(is_void=False))
    assert r.status == 422
    assert await figures(client) == (0, 0, 0)
    invariants.check(tenant)


async def test_return_lowers_the_total_and_takes_back_its_share(client, tenant):
    await post(client, TX, tx(total=150), 201)
    body = await post(client, UPSERT, tx(total=50), 200)
    assert body["data"]["total"] == 50
    assert await figures(client) == (0, 50, 50)            # 150 x 50 / 150
    await post(client, UPSERT, tx(total=80), 200)            # a raise earns the rise
    assert await figures(client) == (0, 80, 80)
    await post(client, UPSERT, tx(total=0), 200)
    assert await figures(client) == (0, 0, 0)
    invariants.check(tenant)


async def test_points_already_spent_cannot_be_taken_back(client, tenant):
    await post(client, TX, tx(at="2026-02-01 10:00:00", total=100), 201)
    await post(client, f"/api/v3/profiles/{B}/redeem", {"amount": 4, "strategies": ["points"]}, 201)  # 80 points
    before = snapshot(tenant)
    r = await client.post(UPSERT, headers=OMNEO, json=tx(at="2026-02-01 10:00:00", is_void=True))
    assert r.status == 422
    assert await r.json() == {"message": "The points this transaction earned have already been spent.",
                              "errors": {"total": ["The points this transaction earned have already been spent."]}}
    assert snapshot(tenant) == before
    body = await post(client, UPSERT, tx(at="2026-02-01 10:00:00", total=80), 200)   # takes back the 20 left
    assert body["data"]["total"] == 80 and (await figures(client))[0] == 0
    invariants.check(tenant)


async def test_update_create_creates_then_updates(client, tenant):
    body = await post(client, UPSERT, tx("NEW-1", total=10, receipt_is_email=True), 201)
    assert body["data"]["receipt_is_email"] is True
    body = await post(client, UPSERT, tx("NEW-1", total=10, receipt_ref="R-9"), 200)
    assert body["data"]["receipt_ref"] == "R-9" and body["data"]["id"] == 1
    r = await client.post(UPSERT, headers=OMNEO, json=tx("NEW-1", total=10, profile=ALICE["omneo"]))
    assert r.status == 422 and set((await r.json())["errors"]) == {"profile_id"}


@pytest.mark.parametrize("body, errors", [
    ({}, {"profile_id": ["The profile id field is required."], "total": ["The total field is required."],
          "transacted_at": ["The transacted at field is required."]}),
    (tx(profile=UNKNOWN), {"profile_id": ["The selected profile id is invalid."]}),
    (tx(total=-5), {"total": ["The total must be at least 0."]}),
    (tx(at="yesterday"), {"transacted_at": ["The transacted at is not a valid date."]}),
    (tx(at="2026-03-11 12:00:00"), {"transacted_at": ["The transacted at must be a date before or equal to now."]}),
    (tx(items=[{"name": "x"}]), {"items.0.price_sell": ["The items.0.price sell field is required."]}),
    (tx(total=10.005), {"total": ["The total has more than 2 decimal places."]}),
])
async def test_invalid_transactions_are_refused_and_change_nothing(client, tenant, body, errors):
    before = snapshot(tenant)
    r = await client.post(TX, headers=OMNEO, json=body)
    assert r.status == 422
    assert (await r.json())["errors"] == errors
    assert snapshot(tenant) == before


async def test_duplicate_external_id_is_refused(client, tenant):
    await post(client, TX, tx(), 201)
    before = snapshot(tenant)
    r = await client.post(TX, headers=OMNEO, json=tx(total=999))
    assert (r.status, await r.json()) == (422, {"message": "The external id has already been taken.",
                                                "errors": {"external_id": ["The external id has already been taken."]}})
    assert snapshot(tenant) == before


@pytest.mark.parametrize("body", [{"is_void": None}, {"receipt_is_email": None}, {"external_id": None}])
async def test_update_create_refuses_nulls(client, tenant, body):
    r = await client.post(UPSERT, headers=OMNEO, json={**tx(), **body})
    assert r.status == 422 and set((await r.json())["errors"]) == set(body)


async def test_incentive_estimate_changes_nothing(client, tenant):
    await post(client, "/api/v3/rates", {"name": "Shoes x3", "handle": "shoes", "rate": 3, "type": "category",
                                         "code": "shoes"}, 201)
    before = snapshot(tenant)
    body = await post(client, ESTIMATE, {"profile_id": B, "total": 150, "items": SHOES}, 200)
    data = body["data"]
    assert (data["points"], data["points_dollars"], data["tier_points"], data["available_at"]) == \
        (390, 19.5, 390, "2026-03-24 12:00:00")
    assert [(i["index"], i["points"], i["rate"] and i["rate"]["handle"]) for i in data["items"]] == \
        [(0, 360, "shoes"), (1, 30, None)]
    body = await post(client, ESTIMATE, {"total": 10.5, "transacted_at": "2026-02-01 00:00:00"}, 200)
    assert (body["data"]["points"], body["data"]["available_at"]) == (10, "2026-02-15 00:00:00")
    assert snapshot(tenant) == before
    r = await client.post(ESTIMATE, headers=OMNEO, json={"profile_id": UNKNOWN, "total": 1})
    assert r.status == 422


async def test_profile_transactions_list_get_and_find(client, tenant):
    for i in range(3):
        await post(client, TX, tx(f"POS-{i}", total=10 + i, receipt_ref="R-A" if i < 2 else "R-B"), 201)
    await post(client, TX, tx("ALICE-1", profile=ALICE["omneo"], receipt_ref="R-A"), 201)
    body = await (await client.get(PROFILE_TX.format(B) + "?page[size]=2&page[number]=2", headers=OMNEO)).json()
    assert [t["external_id"] for t in body["data"]] == ["POS-2"] and body["meta"]["total"] == 3
    body = await (await client.get(PROFILE_TX.format(B) + "?sort=-id", headers=OMNEO)).json()
    assert [t["external_id"] for t in body["data"]] == ["POS-2", "POS-1", "POS-0"]
    r = await client.get(PROFILE_TX.format(B) + "/2", headers=OMNEO)
    assert (r.status, (await r.json())["data"]["external_id"]) == (200, "POS-1")
    for path in (PROFILE_TX.format(B) + "/4", PROFILE_TX.format(B) + "/99", PROFILE_TX.format(B) + "/x"):
        r = await client.get(path, headers=OMNEO)
        assert r.status == 404
        assert (await r.json())["message"].startswith("No query results for model [App\\Models\\Transaction]")
    body = await (await client.get(FIND.format(B) + "?filter[receipt_ref]=R-A", headers=OMNEO)).json()
    assert [t["external_id"] for t in body["data"]] == ["POS-0", "POS-1"]
    body = await (await client.get(FIND.format(B) + "?filter[external_id]=POS-2", headers=OMNEO)).json()
    assert [t["external_id"] for t in body["data"]] == ["POS-2"]
    r = await client.get(FIND.format(B) + "?filter[receipt_ref]=R-Z", headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": "No query results for model [App\\Models\\Transaction] R-Z"})
    r = await client.get(FIND.format(B) + "?filter[external_id]=ALICE-1", headers=OMNEO)
    assert r.status == 404
    r = await client.get(FIND.format(B), headers=OMNEO)
    assert r.status == 422
    r = await client.get(PROFILE_TX.format(UNKNOWN), headers=OMNEO)
    assert r.status == 404
