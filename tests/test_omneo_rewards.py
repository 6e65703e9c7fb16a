"""Omneo rewards beyond issuing: the profile's and the tenant's reward lists, reads, issuing under a profile's path,
changes, deletion, extension, and reward definitions (CRUD; a definition in use is not deleted). Every response is
checked against specs/omneo.yaml; balances are read back through GET .../balances.

Demo: alice has reward #1 (welcome-reward, 5 USD, expired -70d) and #2 (birthday-reward, 10 USD, issued -10d,
expires +20d); bob has none. Definitions #6 birthday-reward (10 USD, 30 days) and #7 welcome-reward (5 USD, 30 days)."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, OMNEO
import invariants

REWARDS = "/api/v3/rewards"
PROFILE_REWARDS = "/api/v3/profiles/{}/rewards"
DEFS = "/api/v3/rewards/definitions"
BAL = "/api/v3/profiles/{}/balances"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
T0 = "2026-03-10 12:00:00"


@pytest.fixture
def vendors():
    return ["omneo"]


async def ok(resp, status=200):
    body = await resp.json() if status != 204 else None
    assert resp.status == status, await resp.text()
    return body


async def reward_balance(client, who=ALICE):
    return (await ok(await client.get(BAL.format(who["omneo"]), headers=OMNEO)))["data"]["reward_balance"]


def state(tenant):
    return ({r.id: r for m in ("alice", "bob") for r in tenant.store.rewards(m)},
            {p: tenant.program(p).reward_definitions for p in tenant.programs})


async def refused(client, tenant, method, path, status, body, **kw):
    before = state(tenant)
    r = await client.request(method, path, headers=OMNEO, **kw)
    assert (r.status, await r.json()) == (status, body)
    assert state(tenant) == before
    invariants.check(tenant)


def laravel(field, message):
    return {"message": message, "errors": {field: [message]}}


def not_found(model, key):
    return {"message": f"No query results for model [App\\Models\\{model}] {key}"}


# === reads ============================================================================================================

async def test_profile_rewards_newest_first(client, tenant):
    body = await ok(await client.get(PROFILE_REWARDS.format(ALICE["omneo"]), headers=OMNEO))
    assert [(r["id"], r["value_remaining"], r["is_active"], r["is_expired"]) for r in body["data"]] == \
        [(2, 10, True, False), (1, 5, True, True)]
    assert (body["meta"]["total"], body["meta"]["per_page"], body["links"]["next"]) == (2, 15, None)
    page = await ok(await client.get(PROFILE_REWARDS.format(ALICE["omneo"]) + "?page[size]=1&page[number]=2",
                                     headers=OMNEO))
    assert [r["id"] for r in page["data"]] == [1]
    assert (await ok(await client.get(PROFILE_REWARDS.format(BOB["omneo"]), headers=OMNEO)))["data"] == []
    r = await client.get(PROFILE_REWARDS.format(UNKNOWN), headers=OMNEO)
    assert (r.status, await r.json()) == (404, not_found("Profile", UNKNOWN))


async def test_reward_reads(client, tenant):
    one = await ok(await client.get(PROFILE_REWARDS.format(ALICE["omneo"]) + "/2", headers=OMNEO))
    assert (one["data"]["id"], one["data"]["definition"]["handle"]) == (2, "birthday-reward")
    assert await ok(await client.get(f"{REWARDS}/2", headers=OMNEO)) == one
    for path, key in ((PROFILE_REWARDS.format(BOB["omneo"]) + "/2", 2), (f"{REWARDS}/99", 99)):
        r = await client.get(path, headers=OMNEO)
        assert (r.status, await r.json()) == (404, not_found("Reward", key))
    every = await ok(await client.get(REWARDS, headers=OMNEO))
    assert [r["id"] for r in every["data"]] == [2, 1]


# === writes ===========================================================================================================

async def test_issue_under_the_profile_path(client, tenant):
    r = await ok(await client.post(PROFILE_REWARDS.format(BOB["omneo"]), headers=OMNEO, json={
        "reward_definition_handle": "welcome-reward", "timezone": "Australia/Melbourne"}), 201)
    d = r["data"]
    assert (d["id"], d["profile_id"], d["value_initial"], d["issued_at"], d["expires_at"], d["timezone"]) == \
        (3, BOB["omneo"], 5, T0, "2026-04-09 12:00:00", "Australia/Melbourne")
    assert await reward_balance(client, BOB) == 5
    await refused(client, tenant, "POST", PROFILE_REWARDS.format(UNKNOWN), 404, not_found("Profile", UNKNOWN),
                  json={"reward_definition_id": 6, "timezone": "UTC"})
    await refused(client, tenant, "POST", PROFILE_REWARDS.format(BOB["omneo"]), 422,
                  laravel("reward_definition_id", "The selected reward definition id is invalid."),
                  json={"reward_definition_id": 60, "timezone": "UTC"})


async def test_update_a_reward(client, tenant):
    r = await ok(await client.put(f"{REWARDS}/2", headers=OMNEO, json={"value_remaining": 4, "meta": {"why": "fix"}}))
    assert (r["data"]["value_initial"], r["data"]["value_remaining"], r["data"]["meta"], r["data"]["updated_at"]) == \
        (10, 4, {"why": "fix"}, T0)
    assert await reward_balance(client) == 4
    r = await ok(await client.put(f"{REWARDS}/1", headers=OMNEO, json={"expires_at": None}))
    assert (r["data"]["expires_at"], r["data"]["is_expired"]) == (None, False)
    assert await reward_balance(client) == 9          # the expired 5 USD reward counts again
    r = await ok(await client.put(f"{REWARDS}/2", headers=OMNEO, json={"expires_at": "2026-05-01 00:00:00"}))
    assert r["data"]["expires_at"] == "2026-05-01 00:00:00"
    await refused(client, tenant, "PUT", f"{REWARDS}/2", 422,
                  laravel("value_remaining", "The value remaining must not be greater than the value initial."),
                  json={"value_remaining": 11})
    await refused(client, tenant, "PUT", f"{REWARDS}/2", 422,
                  laravel("value_initial", "The value initial must not be less than the value remaining."),
                  json={"value_initial": 3})
    await refused(client, tenant, "PUT", f"{REWARDS}/2", 422,
                  laravel("value_remaining", "The value remaining must be at least 0."), json={"value_remaining": -1})
    await refused(client, tenant, "PUT", f"{REWARDS}/2", 422,
                  laravel("value_initial", "The value initial has more than 2 decimal places."),
                  json={"value_initial": 10.001})
    await refused(client, tenant, "PUT", f"{REWARDS}/77", 404, not_found("Reward", 77), json={"value_remaining": 1})


async def test_delete_a_reward(client, tenant):
    await ok(await client.delete(f"{REWARDS}/2", headers=OMNEO), 204)
    assert await reward_balance(client) == 0
    r = await client.get(f"{REWARDS}/2", headers=OMNEO)
    assert r.status == 404
    assert [r["id"] for r in (await ok(await client.get(REWARDS, headers=OMNEO)))["data"]] == [1]
    await refused(client, tenant, "DELETE", f"{REWARDS}/2", 404, not_found("Reward", 2))
    invariants.check(tenant)


async def test_extend_rewards_once(client, tenant):
    r = await ok(await client.post(f"{REWARDS}/extend", headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "ids": [2], "extend_days": 10}))
    assert [(x["id"], x["expires_at"], x["extended_at"]) for x in r["data"]] == [(2, "2026-04-09 12:00:00", T0)]
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("ids.0", "The reward 2 has already been extended."),
                  json={"profile_id": ALICE["omneo"], "ids": [2], "extend_days": 1})
    # the expired reward comes back to life until the date given
    r = await ok(await client.post(f"{REWARDS}/extend", headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "ids": [1], "extend_date": "2026-04-01 00:00:00"}))
    assert (r["data"][0]["expires_at"], r["data"][0]["is_expired"]) == ("2026-04-01 00:00:00", False)
    assert await reward_balance(client) == 15


async def test_extend_refusals(client, tenant):
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("ids.1", "The selected ids.1 is invalid."),
                  json={"profile_id": ALICE["omneo"], "ids": [2, 5], "extend_days": 3})
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("ids.0", "The selected ids.0 is invalid."),
                  json={"profile_id": BOB["omneo"], "ids": [2], "extend_days": 3})
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("profile_id", "The selected profile id is invalid."),
                  json={"profile_id": UNKNOWN, "ids": [2], "extend_days": 3})
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("ids", "The ids field is required."), json={"profile_id": ALICE["omneo"], "extend_days": 3})
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("extend_days", "The extend days field is required when extend date is not present."),
                  json={"profile_id": ALICE["omneo"], "ids": [2]})
    await refused(client, tenant, "POST", f"{REWARDS}/extend", 422,
                  laravel("extend_days", "The extend days field prohibits extend date from being present."),
                  json={"profile_id": ALICE["omneo"], "ids": [2], "extend_days": 1, "extend_date": "2026-05-01 00:00:00"})
    await refused(client, tenant, "POST", PROFILE_REWARDS.format(BOB["omneo"]), 422,
                  laravel("reward_definition_id",
                          "The reward definition id field is required when reward definition handle is not present."),
                  json={"timezone": "UTC"})


# === definitions ======================================================================================================

async def test_definition_reads(client, tenant):
    body = await ok(await client.get(DEFS, headers=OMNEO))
    assert [(d["id"], d["handle"], d["value"], d["period"]) for d in body["data"]] == \
        [(6, "birthday-reward", 10, 30), (7, "welcome-reward", 5, 30)]
    assert (await ok(await client.get(f"{DEFS}/7", headers=OMNEO)))["data"] == body["data"][1]
    r = await client.get(f"{DEFS}/9", headers=OMNEO)
    assert (r.status, await r.json()) == (404, not_found("RewardDefinition", 9))


async def test_a_new_definition_issues_rewards_and_is_not_deleted_while_in_use(client, tenant):
    d = (await ok(await client.post(DEFS, headers=OMNEO, json={
        "name": "Spring", "handle": "spring", "type": "campaign", "value": 20, "period": 2, "period_type": "weeks",
        "is_extendable": True, "tags": ["2026"]}), 201))["data"]
    assert (d["id"], d["handle"], d["type"], d["value"], d["period"], d["period_type"], d["is_extendable"],
            d["tags"], d["created_at"]) == (8, "spring", "campaign", 20, 14, "days", True, ["2026"], T0)
    reward = (await ok(await client.post(REWARDS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_handle": "spring", "timezone": "UTC"}), 201))["data"]
    assert (reward["value_initial"], reward["expires_at"], reward["definition"]) == (20, "2026-03-24 12:00:00", d)
    assert await reward_balance(client, BOB) == 20
    await refused(client, tenant, "DELETE", f"{DEFS}/8", 422,
                  laravel("reward_definition", "The reward definition is in use by 1 reward."))
    await ok(await client.delete(f"{REWARDS}/{reward['id']}", headers=OMNEO), 204)
    await ok(await client.delete(f"{DEFS}/8", headers=OMNEO), 204)
    r = await client.get(f"{DEFS}/8", headers=OMNEO)
    assert r.status == 404
    await refused(client, tenant, "DELETE", f"{DEFS}/8", 404, not_found("RewardDefinition", 8))


async def test_update_a_definition_changes_later_rewards_only(client, tenant):
    d = (await ok(await client.put(f"{DEFS}/7", headers=OMNEO, json={"value": 7.5, "period": None})))["data"]
    assert (d["value"], d["period"], d["period_type"], d["updated_at"], d["name"]) == \
        (7.5, None, None, T0, "Welcome Reward")
    r = (await ok(await client.post(REWARDS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_id": 7, "timezone": "UTC"}), 201))["data"]
    assert (r["value_initial"], r["expires_at"]) == (7.5, None)
    assert (await ok(await client.get(f"{REWARDS}/1", headers=OMNEO)))["data"]["value_initial"] == 5


async def test_definition_refusals(client, tenant):
    await refused(client, tenant, "POST", DEFS, 422, laravel("handle", "The handle has already been taken."),
                  json={"name": "Again", "handle": "welcome-reward"})
    await refused(client, tenant, "PUT", f"{DEFS}/6", 422, laravel("handle", "The handle has already been taken."),
                  json={"handle": "welcome-reward"})
    await refused(client, tenant, "POST", DEFS, 422, {
        "message": "The name field is required. (and 1 more error)",
        "errors": {"name": ["The name field is required."], "handle": ["The handle field is required."]}}, json={})
    await refused(client, tenant, "POST", DEFS, 422, laravel("type", "The selected type is invalid."),
                  json={"name": "X", "handle": "x", "type": "gift"})
    await refused(client, tenant, "POST", DEFS, 422, laravel("value", "The value has more than 2 decimal places."),
                  json={"name": "X", "handle": "x", "value": 1.234})
    await refused(client, tenant, "PUT", f"{DEFS}/60", 404, not_found("RewardDefinition", 60), json={"name": "Y"})


async def test_reward_reads_never_read_every_reward(client, tenant, monkeypatch):
    """300 rewards on bob, 290 of them used up: lists read one page and balances read the live rewards only (the
    store's whole-history reward read fails the test)."""
    bob = tenant.member_by_id("bob")
    for i in range(300):
        r = tenant.issue_reward(bob, 6)
        if i >= 10:
            tenant.update_reward(r.id, value_remaining=0)

    def history(*a, **k):
        raise AssertionError("read every reward of the member")
    monkeypatch.setattr(tenant.store, "rewards", history)
    body = await ok(await client.get(PROFILE_REWARDS.format(BOB["omneo"]) + "?page[number]=10", headers=OMNEO))
    assert (len(body["data"]), body["meta"]["total"], body["data"][0]["id"]) == (15, 300, 302 - 135)
    assert await reward_balance(client, BOB) == 100
    assert len(tenant.store.open_rewards("bob", tenant.now())) == 10
