"""Omneo point definitions written through the API (POST / PUT / DELETE /api/v3/points/definitions): each is a points
currency of the engine's catalogue, published at once (Omneo has no drafts), seen by every dialect."""
from __future__ import annotations

import pytest

from helpers import ALICE, ALTCRAFT_TOKEN, BREVO, BREVO_BDID, BREVO_PID, OMNEO

DEFS = "/api/v3/points/definitions"
BREVO_DEFS = f"/v3/loyalty/balance/programs/{BREVO_PID}/balance-definitions"
T0 = "2026-03-10 12:00:00"


pytestmark = pytest.mark.usefixtures("ledger_invariants")


async def ok(resp, status=200):
    body = await resp.json() if status != 204 else None
    assert resp.status == status, await resp.text()
    return body


async def create(client, **body):
    return (await ok(await client.post(DEFS, headers=OMNEO, json={"name": "Stars", "handle": "stars", **body}),
                     201))["data"]


def laravel(field, message):
    return {"message": message, "errors": {field: [message]}}


def state(tenant):
    return tenant.program("main")


async def refused(client, tenant, method, path, status, body, **kw):
    before = state(tenant)
    r = await client.request(method, path, headers=OMNEO, **kw)
    assert (r.status, await r.json()) == (status, body)
    assert state(tenant) == before


async def brevo_definitions(client):
    r = await client.get(BREVO_DEFS, headers=BREVO)
    return {d["name"]: d for d in (await ok(r))["items"]}


async def test_create_then_read(client):
    d = await create(client, description="Star points", notes="n", is_reassignable=True, tags=["a", "b"],
                     currency="USD", region_id=None, issue_period=30, issue_period_type="days")
    assert d == {"id": 2, "name": "Stars", "handle": "stars", "description": "Star points", "notes": "n",
                 "is_reassignable": True, "tags": ["a", "b"], "currency": "USD", "region_id": None, "region": None,
                 "issue_period": 30, "issue_period_type": "days", "issue_absolute_expiry": None,
                 "created_at": T0, "updated_at": T0}
    assert (await ok(await client.get(f"{DEFS}/2", headers=OMNEO)))["data"] == d
    assert [x["handle"] for x in (await ok(await client.get(DEFS, headers=OMNEO)))["data"]] == ["points", "stars"]


async def test_a_definition_created_through_omneo_is_a_currency_of_every_dialect(client):
    await create(client, issue_period=1, issue_period_type="months")
    r = await client.post("/api/v3/points", headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "point_definition_id": 2, "value_initial": 8, "issued_at": None})
    point = (await ok(r, 201))["data"]
    assert point["expires_at"] == "2026-04-10 12:00:00"           # issued now, one month to live
    # Brevo: a balance definition (named by a UUID), with the balance
    brevo = (await brevo_definitions(client))["Stars"]
    assert (brevo["balanceAvailabilityDurationValue"], brevo["balanceAvailabilityDurationUnit"]) == (1, "month")
    r = await client.get(f"/v3/loyalty/balance/programs/{BREVO_PID}/subscriptions/{ALICE['brevo']}/balances"
                         "?includeInternal=true", headers=BREVO)
    values = {b["balanceDefinitionId"]: b["value"] for b in (await ok(r))["balance"]}
    assert (values[brevo["id"]], values[BREVO_BDID]) == (8, 1400)
    # Altcraft: the program's second points currency
    r = await client.post("/api/v1.1/loyalty/account/balance", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"],
        "points_currency_iid": 2})
    body = await r.json()
    assert (r.status, body["error"], body["data"]["active_balance"]) == (200, 0, "8.00"), body


async def test_a_definition_created_through_brevo_is_an_omneo_point_definition(client):
    r = await client.post(BREVO_DEFS, headers=BREVO, json={"name": "Wallet", "unit": "POINTS",
                                                          "description": "from Brevo",
                                                          "balanceAvailabilityDurationValue": 2,
                                                          "balanceAvailabilityDurationUnit": "week"})
    bdid = (await ok(r))["id"]
    d = (await ok(await client.get(f"{DEFS}/2", headers=OMNEO)))["data"]
    assert (d["name"], d["handle"], d["description"], d["issue_period"], d["issue_period_type"]) == \
        ("Wallet", bdid, "from Brevo", 2, "weeks")
    # and Omneo may give it a handle, published at once
    d = (await ok(await client.put(f"{DEFS}/2", headers=OMNEO, json={"handle": "wallet"})))["data"]
    assert (d["name"], d["handle"], d["issue_period"]) == ("Wallet", "wallet", 2)
    active = await ok(await client.get(f"{BREVO_DEFS}/{bdid}?version=active", headers=BREVO))
    assert (active["name"], active["description"], active["balanceAvailabilityDurationValue"]) == \
        ("Wallet", "from Brevo", 2)


async def test_an_update_changes_the_fields_sent_and_is_published_at_once(client, tenant):
    await create(client, issue_period=30, issue_period_type="days", tags=["x"])
    tenant.clock.advance(__import__("datetime").timedelta(minutes=1))
    d = (await ok(await client.put(f"{DEFS}/2", headers=OMNEO, json={"name": "Big Stars", "issue_period": 2})))["data"]
    assert (d["name"], d["handle"], d["tags"], d["issue_period"], d["issue_period_type"], d["created_at"],
            d["updated_at"]) == ("Big Stars", "stars", ["x"], 2, "days", T0, "2026-03-10 12:01:00")
    brevo = (await brevo_definitions(client))
    bdid = brevo["Big Stars"]["id"]
    active = await ok(await client.get(f"{BREVO_DEFS}/{bdid}?version=active", headers=BREVO))
    assert (active["name"], active["balanceAvailabilityDurationValue"]) == ("Big Stars", 2)
    # a Brevo draft pending for the definition is superseded by an Omneo change
    r = await client.put(f"{BREVO_DEFS}/{bdid}", headers=BREVO, json={"name": "Drafted", "unit": "POINTS"})
    await ok(r)
    await ok(await client.put(f"{DEFS}/2", headers=OMNEO, json={"issue_period": None, "issue_period_type": None}))
    draft = await ok(await client.get(f"{BREVO_DEFS}/{bdid}", headers=BREVO))
    assert (draft["name"], draft.get("balanceAvailabilityDurationValue")) == ("Big Stars", None)
    # the demo definition keeps its 365-day expiry through a change of its name
    d = (await ok(await client.put(f"{DEFS}/1", headers=OMNEO, json={"name": "Points"})))["data"]
    assert (d["name"], d["issue_period"], d["issue_period_type"]) == ("Points", 365, "days")


async def test_delete_an_unused_definition_and_refuse_one_in_use(client, tenant):
    await create(client)
    await ok(await client.delete(f"{DEFS}/2", headers=OMNEO), 204)
    assert [x["id"] for x in (await ok(await client.get(DEFS, headers=OMNEO)))["data"]] == [1]
    assert "Stars" not in await brevo_definitions(client)
    await refused(client, tenant, "DELETE", f"{DEFS}/2", 404,
                  {"message": "No query results for model [App\\Models\\PointDefinition] 2"})
    await refused(client, tenant, "DELETE", f"{DEFS}/1", 422,
                  laravel("point_definition", "The program's last point definition cannot be deleted."))
    assert (await create(client, handle="again"))["id"] == 3        # a deleted definition's id is not reused
    await refused(client, tenant, "DELETE", f"{DEFS}/1", 422,
                  laravel("point_definition", "The point definition is in use."))


async def test_refusals_change_nothing(client, tenant):
    await create(client)
    await refused(client, tenant, "POST", DEFS, 422, {
        "message": "The name field is required. (and 1 more error)",
        "errors": {"name": ["The name field is required."], "handle": ["The handle field is required."]}}, json={})
    await refused(client, tenant, "POST", DEFS, 422, laravel("handle", "The handle has already been taken."),
                  json={"name": "Again", "handle": "stars"})
    await refused(client, tenant, "PUT", f"{DEFS}/1", 422, laravel("handle", "The handle has already been taken."),
                  json={"handle": "stars"})
    await refused(client, tenant, "POST", DEFS, 422,
                  laravel("issue_period_type", "The issue period type field is required when issue period is present."),
                  json={"name": "X", "handle": "x", "issue_period": 3})
    await refused(client, tenant, "POST", DEFS, 422,
                  laravel("issue_period_type", "The selected issue period type is invalid."),
                  json={"name": "X", "handle": "x", "issue_period": 3, "issue_period_type": "hours"})
    await refused(client, tenant, "POST", DEFS, 422, laravel("currency", "The selected currency is invalid."),
                  json={"name": "X", "handle": "x", "currency": "EUR"})
    await refused(client, tenant, "PUT", f"{DEFS}/9", 404,
                  {"message": "No query results for model [App\\Models\\PointDefinition] 9"}, json={"name": "X"})


async def test_a_snapshot_keeps_and_a_reset_drops_a_definition_created_through_omneo(client):
    await create(client)

    async def handles():
        return [x["handle"] for x in (await ok(await client.get(DEFS, headers=OMNEO)))["data"]]

    snapshot = await ok(await client.get("/__admin/tenants/demo/snapshot"))
    await ok(await client.post("/__admin/tenants/demo/reset"))
    assert await handles() == ["points"]
    r = await client.put("/__admin/tenants/demo/snapshot", json=snapshot)
    assert r.status in (200, 204), await r.text()
    assert await handles() == ["points", "stars"]
    assert (await create(client, handle="more"))["id"] == 3


async def test_a_brevo_update_keeps_what_omneo_says_of_the_definition(client):
    await create(client, tags=["t"], notes="kept", description="old")
    bdid = (await brevo_definitions(client))["Stars"]["id"]
    await ok(await client.put(f"{BREVO_DEFS}/{bdid}", headers=BREVO, json={"name": "Stars 2", "unit": "POINTS"}))
    await ok(await client.post(f"/v3/loyalty/config/programs/{BREVO_PID}/publish", headers=BREVO), 204)
    d = (await ok(await client.get(f"{DEFS}/2", headers=OMNEO)))["data"]
    assert (d["name"], d["handle"], d["tags"], d["notes"], d["description"]) == ("Stars 2", "stars", ["t"], "kept", None)
