"""What Omneo writes (redemptions, returns, rewards, tier configuration), the other dialects read: Gameball,
Altcraft (JSON and XML) and Brevo report the points an Omneo redemption took or a return gave back, a reward issued
through Omneo changes what a later redemption takes from the points every dialect reports, and a tier definition
written through Omneo is the tier Gameball reports."""
from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import ALICE, BOB, BREVO_BDID, GB, OMNEO, assert_agree, read_all
import invariants

REDEEM = "/api/v3/profiles/{}/redeem"


async def ok(resp, status=200):
    body = await resp.json()
    assert resp.status == status, body
    return body


async def omneo_redeem(client, body, who=ALICE):
    return (await ok(await client.post(REDEEM.format(who["omneo"]), headers=OMNEO, json=body), 201))["data"]


def points_everywhere(r) -> Decimal:
    assert_agree(r)
    return Decimal(str(r["gameball"]["availablePointsBalance"]))


async def test_an_omneo_redemption_in_aud_takes_points_every_dialect_reports(client, tenant):
    await omneo_redeem(client, {"amount": 15, "currency": "AUD", "strategies": ["points"]})   # 10 USD = 200 points
    r = await read_all(client, ALICE)
    assert points_everywhere(r) == 1200
    assert r["altcraft"] == {"total_balance": "1600.00", "active_balance": "1200.00"}
    assert r["brevo"][BREVO_BDID] == 1200
    invariants.check(tenant)


async def test_an_omneo_return_and_reversal_give_points_back_everywhere(client, tenant):
    red = await omneo_redeem(client, {"amount": 60, "strategies": ["points"]})                # 1200 points
    assert points_everywhere(await read_all(client, ALICE)) == 200
    await ok(await client.post(f"/api/v3/redemptions/{red['id']}/return", headers=OMNEO, json={"amount": 15}), 201)
    assert points_everywhere(await read_all(client, ALICE)) == 500
    await ok(await client.post(f"/api/v3/redemptions/{red['id']}/reversal", headers=OMNEO), 201)
    r = await read_all(client, ALICE)
    assert points_everywhere(r) == 1400
    assert r["altcraft"] == {"total_balance": "1800.00", "active_balance": "1400.00"}
    invariants.check(tenant)


async def test_a_reward_issued_through_omneo_is_spent_before_the_points_others_report(client, tenant):
    """bob earns 500 points through Gameball; a 10 USD reward issued through Omneo covers most of a 12 USD redemption,
    so only 2 USD of points (40) leave the balance Gameball, Altcraft and Brevo report."""
    await ok(await client.post("/api/v4.0/integrations/transactions/manual", headers=GB, json={
        "customerId": BOB["gameball"], "transactionId": "m-1", "username": "ops", "reason": "bonus", "points": 500}))
    await ok(await client.post("/api/v3/rewards", headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_id": 6, "timezone": "UTC"}), 201)
    red = await omneo_redeem(client, {"amount": 12}, BOB)
    assert [(i["type"], i["value"]) for i in red["items"]] == [("reward", 10), ("point", 40)]
    r = await read_all(client, BOB)
    assert points_everywhere(r) == 460
    assert (r["omneo"]["reward_balance"], r["omneo"]["combined_balance_dollars"]) == (0, 23)
    invariants.check(tenant)


async def test_a_deleted_or_changed_reward_changes_what_a_redemption_takes_from_points(client, tenant):
    await ok(await client.put("/api/v3/rewards/2", headers=OMNEO, json={"value_remaining": 2}))
    await omneo_redeem(client, {"amount": 5})                       # 2 USD of reward, then 3 USD = 60 points
    assert points_everywhere(await read_all(client, ALICE)) == 1340
    r = await client.delete("/api/v3/rewards/2", headers=OMNEO)
    assert r.status == 204
    await omneo_redeem(client, {"amount": 1})                       # no reward left: 20 points
    assert points_everywhere(await read_all(client, ALICE)) == 1320
    invariants.check(tenant)


# --- tiers configured and moved through Omneo ---------------------------------------------------------------------

async def gameball_tier(client, who):
    body = await ok(await client.get(f"/api/v4.0/integrations/customers/{who['gameball']}/balance?expand=tier",
                                     headers=GB))
    return body["tier"]


async def test_a_tier_defined_through_omneo_is_the_tier_gameball_reports(client, tenant):
    assert (await gameball_tier(client, ALICE))["current"]["name"] == "Silver"
    await ok(await client.post("/api/v3/tiers/definitions", headers=OMNEO, json={
        "name": "Platinum", "handle": "platinum", "value_min": 1500}), 201)
    t = await gameball_tier(client, ALICE)
    assert (t["current"], t["next"]["name"], t["progress"]) == (
        {"order": 3, "name": "Platinum", "minProgress": 1500, "icon": ""}, "Gold", 1900)
    omneo = (await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}/tiers", headers=OMNEO)))["data"]
    assert omneo["current_tier"]["handle"] == "platinum"


async def test_tier_points_and_assignment_through_omneo_move_gameballs_tier(client, tenant):
    await ok(await client.post("/api/v3/tiers/points", headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value": 1000}), 201)
    assert (await gameball_tier(client, BOB))["current"]["name"] == "Silver"
    assert points_everywhere(await read_all(client, BOB)) == 0     # tier points are not redeemable points
    await ok(await client.post(f"/api/v3/profiles/{BOB['omneo']}/tiers/assign", headers=OMNEO, json={"tier": "gold"}))
    assert (await gameball_tier(client, BOB))["current"]["name"] == "Gold"


async def test_an_admin_snapshot_brings_back_redemptions_rewards_and_tiers(client, tenant):
    """GET the snapshot after Omneo writes, write more, PUT it back: lists, counts and tiers are as they were."""
    http = client._client
    red = await omneo_redeem(client, {"amount": 5})
    await ok(await client.post("/api/v3/tiers/points", headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value": 1000}), 201)
    snap = await http.get("/__admin/tenants/demo/snapshot")
    assert snap.status == 200
    saved = await snap.json()
    await omneo_redeem(client, {"amount": 1})
    r = await http.put("/__admin/tenants/demo/snapshot", json=saved)
    assert r.status in (200, 204), await r.text()
    listed = await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}/redemptions", headers=OMNEO))
    assert [x["id"] for x in listed["data"]] == [red["id"]]
    assert (await gameball_tier(client, BOB))["current"]["name"] == "Silver"
    points = await ok(await client.get(f"/api/v3/profiles/{BOB['omneo']}/tiers/points", headers=OMNEO))
    assert [p["value"] for p in points["data"]] == [1000]


async def test_definitions_written_through_omneo_live_in_the_tenant_state(client, tenant):
    """A snapshot taken before a new tier and reward definition brings the old configuration back; a refused write
    leaves the configuration as it was."""
    http = client._client
    saved = await (await http.get("/__admin/tenants/demo/snapshot")).json()
    await ok(await client.post("/api/v3/tiers/definitions", headers=OMNEO, json={
        "name": "Platinum", "handle": "platinum", "value_min": 1500}), 201)
    await ok(await client.post("/api/v3/rewards/definitions", headers=OMNEO, json={
        "name": "Spring", "handle": "spring", "value": 3}), 201)
    assert (await gameball_tier(client, ALICE))["current"]["name"] == "Platinum"
    assert (await http.put("/__admin/tenants/demo/snapshot", json=saved)).status in (200, 204)
    assert (await gameball_tier(client, ALICE))["current"]["name"] == "Silver"
    defs = await ok(await client.get("/api/v3/rewards/definitions", headers=OMNEO))
    assert [d["handle"] for d in defs["data"]] == ["birthday-reward", "welcome-reward"]
