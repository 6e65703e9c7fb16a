"""Omneo tiers beyond the profile tier read: tier definitions (CRUD; the lowest tier and tiers in use are not
deleted), tier points (added by hand, the profile's and the tenant's lists, by source), calculate, assign, and
the anniversary. Every response is checked against specs/omneo.yaml.

Demo: Bronze (0, floor, not assignable) / Silver (1000) / Gold (5000); alice has 1900 tier points in the window and is
Silver since -114d; bob has none (Bronze)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import ALICE, BOB, OMNEO
import invariants

DEFS = "/api/v3/tiers/definitions"
TIER_POINTS = "/api/v3/tiers/points"
TIERS = "/api/v3/profiles/{}/tiers"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
T0 = "2026-03-10 12:00:00"


@pytest.fixture
def vendors():
    return ["omneo"]


async def ok(resp, status=200):
    body = await resp.json() if status != 204 else None
    assert resp.status == status, await resp.text()
    return body


async def tier(client, who=ALICE, path=""):
    return (await ok(await client.get(TIERS.format(who["omneo"]) + path, headers=OMNEO)))["data"]


def state(tenant):
    return ({p: tenant.program(p).tiers for p in tenant.programs}, tenant.store.tier_credit_count(None),
            tenant.store.record("tier_status", "alice"), tenant.store.record("tier_status", "bob"))


async def refused(client, tenant, method, path, status, body, **kw):
    before = state(tenant)
    r = await client.request(method, path, headers=OMNEO, **kw)
    assert (r.status, await r.json()) == (status, body)
    assert state(tenant) == before


def laravel(field, message):
    return {"message": message, "errors": {field: [message]}}


# === definitions ======================================================================================================

async def test_definition_reads(client, tenant):
    body = await ok(await client.get(DEFS, headers=OMNEO))
    assert [(d["id"], d["handle"], d["value_min"], d["is_floor"]) for d in body["data"]] == \
        [(1, "bronze", 0, True), (2, "silver", 1000, False), (3, "gold", 5000, False)]
    assert (await ok(await client.get(f"{DEFS}/2", headers=OMNEO)))["data"] == body["data"][1]
    r = await client.get(f"{DEFS}/9", headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": "No query results for model [App\\Models\\TierDefinition] 9"})


async def test_a_new_tier_within_reach_is_attained_at_the_next_read(client, tenant):
    assert (await tier(client))["current_tier"]["handle"] == "silver"
    d = (await ok(await client.post(DEFS, headers=OMNEO, json={
        "name": "Platinum", "handle": "platinum", "value_min": 1500, "is_assignable": True,
        "short_description": "P"}), 201))["data"]
    assert (d["id"], d["value_maintain"], d["is_floor"], d["is_assignable"], d["created_at"]) == \
        (4, 1500, False, True, T0)
    t = await tier(client)
    assert (t["current_tier"]["handle"], t["prev_tier"]["handle"], t["next_tier"]["handle"]) == \
        ("platinum", "silver", "gold")
    assert (t["achieved_at"], t["current_credit"], t["anniversary_at"], t["next_remain"]) == \
        (T0, 400, "2027-03-10 23:59:59", 3100)
    invariants.check(tenant)


async def test_update_and_delete_definitions(client, tenant):
    d = (await ok(await client.put(f"{DEFS}/3", headers=OMNEO, json={"value_min": 1800, "value_maintain": 1200})))
    assert (d["data"]["value_min"], d["data"]["value_maintain"], d["data"]["updated_at"]) == (1800, 1200, T0)
    t = await tier(client)
    assert (t["current_tier"]["handle"], t["next_tier"], t["next_remain"]) == ("gold", None, None)
    await refused(client, tenant, "DELETE", f"{DEFS}/3", 422,
                  laravel("tier_definition", "The tier definition is in use by 1 profile."))
    await refused(client, tenant, "DELETE", f"{DEFS}/1", 422,
                  laravel("tier_definition", "The lowest tier cannot be deleted."))
    await ok(await client.delete(f"{DEFS}/2", headers=OMNEO), 204)      # nobody is on silver any more
    assert [d["handle"] for d in (await ok(await client.get(DEFS, headers=OMNEO)))["data"]] == ["bronze", "gold"]
    assert (await tier(client))["prev_tier"]["handle"] == "bronze"
    await refused(client, tenant, "DELETE", f"{DEFS}/2", 404,
                  {"message": "No query results for model [App\\Models\\TierDefinition] 2"})


async def test_definition_refusals(client, tenant):
    await refused(client, tenant, "POST", DEFS, 422, laravel("handle", "The handle has already been taken."),
                  json={"name": "Again", "handle": "gold", "value_min": 7})
    await refused(client, tenant, "PUT", f"{DEFS}/2", 422, laravel("handle", "The handle has already been taken."),
                  json={"handle": "gold"})
    await refused(client, tenant, "POST", DEFS, 422, {
        "message": "The name field is required. (and 2 more errors)",
        "errors": {"name": ["The name field is required."], "handle": ["The handle field is required."],
                   "value_min": ["The value min field is required."]}}, json={})
    await refused(client, tenant, "POST", DEFS, 422, laravel("value_min", "The value min must be at least 0."),
                  json={"name": "N", "handle": "n", "value_min": -1})
    await refused(client, tenant, "POST", DEFS, 422, laravel("value_min", "The value min must be an integer."),
                  json={"name": "N", "handle": "n", "value_min": 1.5})
    await refused(client, tenant, "PUT", f"{DEFS}/8", 404,
                  {"message": "No query results for model [App\\Models\\TierDefinition] 8"}, json={"name": "X"})


# === tier points ======================================================================================================

async def test_tier_points_added_by_hand_move_the_tier(client, tenant):
    r = await ok(await client.post(TIER_POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value": 1200, "meta": {"why": "migration"},
        "accrued_at": "2026-03-01 00:00:00"}), 201)
    assert r == {"data": {"id": 5, "profile_id": BOB["omneo"], "point_definition_id": 1, "value": 1200,
                          "issued_at": T0, "accrued_at": "2026-03-01 00:00:00", "status": None, "source_id": None,
                          "source_type": None, "source": None, "meta": {"why": "migration"},
                          "created_at": T0, "updated_at": T0}}
    t = await tier(client, BOB)
    assert (t["current_tier"]["handle"], t["achieved_at"], t["current_credit"], t["total_points_12m"]) == \
        ("silver", T0, 200, 1200)
    assert await ok(await client.get(f"{TIER_POINTS}/5", headers=OMNEO)) == r
    listed = await ok(await client.get(TIERS.format(BOB["omneo"]) + "/points", headers=OMNEO))
    assert (listed["data"], listed["meta"]["total"]) == ([r["data"]], 1)
    # points taken away do not move a member down (only the anniversary does)
    await ok(await client.post(TIER_POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value": -1200}), 201)
    t = await tier(client, BOB)
    assert (t["current_tier"]["handle"], t["total_points_12m"]) == ("silver", 0)
    assert (await ok(await client.get(f"/api/v3/profiles/{BOB['omneo']}/balances", headers=OMNEO)))["data"][
        "point_balance"] == 0


async def test_tier_point_lists(client, tenant):
    body = await ok(await client.get(TIERS.format(ALICE["omneo"]) + "/points?page[size]=3", headers=OMNEO))
    # latest first: each points credit of alice's history, with the point record it came with
    assert [(p["id"], p["value"], p["issued_at"], p["source_type"], p["source_id"]) for p in body["data"]] == [
        (4, 400, "2026-03-05 12:00:00", "point", 6), (3, 1200, "2025-11-16 12:00:00", "point", 3),
        (2, 300, "2025-04-10 12:00:00", "point", 2)]
    assert (body["meta"]["total"], body["meta"]["last_page"]) == (4, 2)
    every = await ok(await client.get(TIER_POINTS, headers=OMNEO))
    assert [p["id"] for p in every["data"]] == [4, 3, 2, 1]
    r = await client.get(f"{TIER_POINTS}/77", headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": "No query results for model [App\\Models\\TierPoint] 77"})


async def test_tier_points_by_source(client, tenant):
    r = await ok(await client.post("/api/v3/transactions", headers=OMNEO, json={
        "profile_id": BOB["omneo"], "external_id": "POS-9", "receipt_ref": "R-9", "total": 150,
        "transacted_at": "2026-03-10 11:00:00"}), 201)
    tx = r["data"]["id"]
    by = "/api/v3/profiles/{}/tiers/points/by-source?source={}&identifier_type={}&identifier={}"
    for kind, identifier in (("id", tx), ("external_id", "POS-9"), ("receipt_ref", "R-9")):
        body = await ok(await client.get(by.format(BOB["omneo"], "transaction", kind, identifier), headers=OMNEO))
        assert [(p["value"], p["issued_at"], p["source_type"], p["source_id"]) for p in body["data"]] == \
            [(150, "2026-03-10 11:00:00", "transaction", tx)]
    for path, model in ((by.format(ALICE["omneo"], "transaction", "id", tx), f"Transaction] {tx}"),
                        (by.format(BOB["omneo"], "transaction_item", "external_id", "NOPE"), "Transaction] NOPE"),
                        (by.format(BOB["omneo"], "benefit", "id", 3), "Benefit] 3")):
        r = await client.get(path, headers=OMNEO)
        assert (r.status, await r.json()) == (404, {"message": f"No query results for model [App\\Models\\{model}"})


async def test_tier_point_refusals(client, tenant):
    await refused(client, tenant, "POST", TIER_POINTS, 422, laravel("value", "The value must not be 0."),
                  json={"profile_id": BOB["omneo"], "point_definition_id": 1, "value": 0})
    await refused(client, tenant, "POST", TIER_POINTS, 422, {
        "message": "The selected profile id is invalid. (and 1 more error)",
        "errors": {"profile_id": ["The selected profile id is invalid."],
                   "point_definition_id": ["The selected point definition id is invalid."]}},
        json={"profile_id": UNKNOWN, "point_definition_id": 9, "value": 5})
    await refused(client, tenant, "POST", TIER_POINTS, 422, laravel("issued_at", "The issued at must not be in the future."),
                  json={"profile_id": BOB["omneo"], "point_definition_id": 1, "value": 5,
                        "issued_at": "2026-03-11 12:00:00"})
    await refused(client, tenant, "POST", TIER_POINTS, 422, laravel("value", "The value must be an integer."),
                  json={"profile_id": BOB["omneo"], "point_definition_id": 1, "value": 2.5})


# === calculate, assign, anniversary ===================================================================================

async def test_calculate_is_the_tier_read(client, tenant):
    assert await tier(client, ALICE, "/calculate") == await tier(client)


async def test_assign_then_drop_on_the_anniversary(client, tenant):
    r = await ok(await client.post(TIERS.format(BOB["omneo"]) + "/assign", headers=OMNEO, json={"tier": "gold"}))
    t = r["data"]
    assert (t["current_tier"]["handle"], t["assigned_at"], t["achieved_at"], t["anniversary_at"], t["current_remain"]) \
        == ("gold", T0, T0, "2027-03-10 23:59:59", 5000)
    assert await tier(client, BOB) == t
    tenant.clock.advance(timedelta(days=366))         # no points in the cycle: the highest tier the window meets
    t = await tier(client, BOB)
    assert (t["current_tier"]["handle"], t["achieved_at"], t["assigned_at"]) == ("bronze", "2027-03-10 23:59:59", None)


async def test_assign_refusals(client, tenant):
    await refused(client, tenant, "POST", TIERS.format(BOB["omneo"]) + "/assign", 422,
                  laravel("tier", "The selected tier is not assignable."), json={"tier": "bronze"})
    await refused(client, tenant, "POST", TIERS.format(BOB["omneo"]) + "/assign", 422,
                  laravel("tier", "The selected tier is invalid."), json={"tier": "diamond"})
    await refused(client, tenant, "POST", TIERS.format(UNKNOWN) + "/assign", 404,
                  {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}, json={"tier": "gold"})


async def test_a_tier_read_looks_at_new_movements_once(client, tenant, monkeypatch):
    """2000 credits on bob: the first read looks at them, the next ones at none (running totals do the rest)."""
    bob = tenant.member_by_id("bob")
    points = tenant.program("main").default_currency
    for _ in range(2000):
        tenant.credit(bob, points, 1)
    seen = []
    sums = tenant.store.tier_window_sums

    def counted(*a):
        for row in sums(*a):
            seen.append(1)
            yield row
    monkeypatch.setattr(tenant.store, "tier_window_sums", counted)
    assert (await tier(client, BOB))["current_tier"]["handle"] == "silver"
    assert sum(seen) == 2000
    seen.clear()
    t = await tier(client, BOB)
    assert (t["total_points_12m"], sum(seen)) == (2000, 0)


@pytest.mark.parametrize("path, model", [
    ("/api/v3/tiers/definitions/abc", "TierDefinition] abc"),
    ("/api/v3/rewards/definitions/0", "RewardDefinition] 0"),
    ("/api/v3/tiers/points/x", "TierPoint] x"),
    ("/api/v3/redemptions/items/x", "RedemptionItem] x"),
    ("/api/v3/rewards/x", "Reward] x"),
])
async def test_unusable_ids_in_the_path_are_not_found(client, path, model):
    r = await client.get(path, headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": f"No query results for model [App\\Models\\{model}"})


def test_a_snapshot_keeps_tier_points_redemption_lists_and_tier_status(tenant):
    from gateway.store.memory import MemoryTenantStore
    alice = tenant.member_by_id("alice")
    tenant.redeem_value(alice, 5, ["points"])
    tenant.add_tier_points(alice, 7)
    tenant.tier_progress(alice)
    restored = MemoryTenantStore.restore(tenant.store.export())
    assert restored.tier_credit_page("alice", 0, 10) == tenant.store.tier_credit_page("alice", 0, 10)
    assert restored.tier_sum("alice", tenant.now() - timedelta(days=365), tenant.now()) == 1907
    assert list(restored.indexed("redemption", "member:alice")) == [1]
    assert restored.record("tier_status", "alice") == tenant.store.record("tier_status", "alice")
    assert restored.add_tier_credit("alice", tenant.now(), 1) == 6      # numbering goes on


def test_window_sums_agree_with_adding_up(tenant):
    """The store's one-pass window sums (and tier_sum) are the plain sums, ties and negatives included."""
    import random
    from decimal import Decimal
    rnd = random.Random(7)
    now = tenant.now()
    rows = [(now - timedelta(days=rnd.randrange(0, 800)), Decimal(rnd.randrange(-50, 100))) for _ in range(400)]
    for at, amount in rows:
        tenant.store.add_tier_credit("bob", at, amount)
    window = timedelta(days=365)
    after = now - timedelta(days=500)
    got = [(c.at, total) for c, total in tenant.store.tier_window_sums("bob", after, now, window)]
    expected = sorted((at, sum((a for t, a in rows if at - window < t <= at), Decimal(0)))
                      for at, _ in rows if after < at <= now)
    assert got == expected
    assert tenant.store.tier_sum("bob", now - window, now) == sum(a for t, a in rows if now - window < t <= now)
