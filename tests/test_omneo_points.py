"""Omneo point records over HTTP: the profile's and the tenant's paginated lists, one record, records issued
partly used or never expiring, linked points, point definitions and currencies. Every response is checked
against specs/omneo.yaml by the `client` fixture; the ledger invariants after each write.

Demo figures: alice's point records are #1 (500, expired), #2 (300 issued, 200 left, expires 2026-04-24),
#3 (1200, expires 2026-11-30) and #6 (400 pending until 2026-03-19); bob has none."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import ALICE, BOB, GB, NOW, OMNEO, gb_balance, member_pages_only
import invariants
from test_omneo_writes import snapshot

POINTS = "/api/v3/points"
PROFILE_POINTS = "/api/v3/profiles/{}/points"
BAL = "/api/v3/profiles/{}/balances"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
T0 = "2026-03-10 12:00:00"


@pytest.fixture
def vendors():
    return ["omneo", "gameball"]


def rows(body):
    return [(p["id"], p["value_initial"], p["value_remaining"], p["issued_at"], p["expires_at"]) for p in body["data"]]


async def test_profile_points_list(client):
    r = await client.get(PROFILE_POINTS.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == 200
    body = await r.json()
    assert rows(body) == [
        (1, 500, 0, "2025-01-28 12:00:00", "2026-01-28 12:00:00"),
        (2, 300, 200, "2025-04-24 12:00:00", "2026-04-24 12:00:00"),
        (3, 1200, 1200, "2025-11-30 12:00:00", "2026-11-30 12:00:00"),
        (6, 400, 400, "2026-03-19 12:00:00", "2027-03-19 12:00:00")]
    assert all(p["profile_id"] == ALICE["omneo"] and p["definition"]["id"] == 1 for p in body["data"])
    assert body["meta"]["total"] == 4 and body["meta"]["per_page"] == 15
    page = await (await client.get(PROFILE_POINTS.format(ALICE["omneo"]) + "?page[size]=2&page[number]=2",
                                   headers=OMNEO)).json()
    assert [p["id"] for p in page["data"]] == [3, 6]
    assert (page["meta"]["from"], page["meta"]["to"], page["meta"]["last_page"]) == (3, 4, 2)
    bob = await (await client.get(PROFILE_POINTS.format(BOB["omneo"]), headers=OMNEO)).json()
    assert bob["data"] == [] and bob["meta"]["total"] == 0


async def test_one_point_record_and_404s(client):
    r = await client.get(PROFILE_POINTS.format(ALICE["omneo"]) + "/2", headers=OMNEO)
    assert r.status == 200
    data = (await r.json())["data"]
    assert (data["id"], data["value_initial"], data["value_remaining"], data["value_remaining_currency"]) == \
        (2, 300, 200, 10)
    assert (await (await client.get(POINTS + "/2", headers=OMNEO)).json())["data"] == data
    for path in (PROFILE_POINTS.format(BOB["omneo"]) + "/2", POINTS + "/4", POINTS + "/999", POINTS + "/x"):
        r = await client.get(path, headers=OMNEO)
        assert r.status == 404, path
        assert (await r.json())["message"].startswith("No query results for model [App\\Models\\Point]")
    r = await client.get(PROFILE_POINTS.format(UNKNOWN), headers=OMNEO)
    assert r.status == 404
    assert await r.json() == {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}


async def test_tenant_points_list_spans_profiles(client):
    await client.post(POINTS, headers=OMNEO, json={"profile_id": BOB["omneo"], "point_definition_id": 1,
                                                   "value_initial": 5, "issued_at": None})
    body = await (await client.get(POINTS + "?page[size]=100", headers=OMNEO)).json()
    assert [(p["id"], p["profile_id"]) for p in body["data"]] == [
        (1, ALICE["omneo"]), (2, ALICE["omneo"]), (3, ALICE["omneo"]), (6, ALICE["omneo"]), (7, BOB["omneo"])]
    assert body["meta"]["total"] == 5


async def test_partly_used_record(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 100, "value_remaining": 40,
        "issued_at": "2026-03-01 08:30:00"})
    assert r.status == 201
    data = (await r.json())["data"]
    assert (data["value_initial"], data["value_remaining"], data["value_initial_currency"],
            data["value_remaining_currency"], data["issued_at"]) == (100, 40, 5, 2, "2026-03-01 08:30:00")
    assert (await (await client.get(BAL.format(BOB["omneo"]), headers=OMNEO)).json())["data"]["point_balance"] == 40
    status, gb = await gb_balance(client, BOB["gameball"])
    assert status == 200 and gb["availablePointsBalance"] == 40
    listed = await (await client.get(PROFILE_POINTS.format(BOB["omneo"]), headers=OMNEO)).json()
    assert rows(listed) == [(data["id"], 100, 40, "2026-03-01 08:30:00", "2027-03-01 08:30:00")]
    invariants.check(tenant)


async def test_fully_used_record(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 100, "value_remaining": 0,
        "issued_at": None})
    assert r.status == 201 and (await r.json())["data"]["value_remaining"] == 0
    assert (await (await client.get(BAL.format(BOB["omneo"]), headers=OMNEO)).json())["data"]["point_balance"] == 0
    invariants.check(tenant)


async def test_expires_at_null_never_expires(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 30, "issued_at": None,
        "expires_at": None})
    assert r.status == 201
    assert (await r.json())["data"]["expires_at"] is None
    tenant.clock.set(NOW + timedelta(days=3650))
    assert (await (await client.get(BAL.format(BOB["omneo"]), headers=OMNEO)).json())["data"]["point_balance"] == 30
    invariants.check(tenant)


async def test_issued_at_is_echoed_as_sent(client):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 0.1,
        "issued_at": "2024-01-01 00:00:00", "expires_at": None, "meta": {"test": True}})
    data = (await r.json())["data"]
    assert (data["issued_at"], data["accrued_at"], data["value_initial"], data["meta"]) == \
        ("2024-01-01 00:00:00", "2024-01-01 00:00:00", 0.1, {"test": True})


async def test_linked_points(client, tenant):
    body = await (await client.get(f"/api/v3/profiles/{ALICE['omneo']}/linked_points", headers=OMNEO)).json()
    assert body["data"] == [] and body["meta"]["total"] == 0
    program, currency = tenant.program("main"), tenant.program("main").default_currency
    kids = [tenant.add_member(program, {"omneo.profile": f"00000000-0000-4000-8000-00000000000{i}"},
                              attributes={"linked_profile_id": ALICE["omneo"]}) for i in range(2)]
    for kid, amounts in zip(kids, ([5, 6], [7])):
        for amount in amounts:
            tenant.grant(kid, currency, amount)
    tenant.grant(tenant.member_by_id("bob"), currency, 99)             # not linked
    body = await (await client.get(f"/api/v3/profiles/{ALICE['omneo']}/linked_points?page[size]=2&page[number]=2",
                                   headers=OMNEO)).json()
    assert [(p["profile_id"], p["linked_profile_id"], p["value_initial"]) for p in body["data"]] == \
        [("00000000-0000-4000-8000-000000000001", ALICE["omneo"], 7)]
    assert body["meta"]["total"] == 3
    body = await (await client.get(f"/api/v3/profiles/{ALICE['omneo']}/linked_points", headers=OMNEO)).json()
    assert [p["value_initial"] for p in body["data"]] == [5, 6, 7]
    r = await client.get(f"/api/v3/profiles/{UNKNOWN}/linked_points", headers=OMNEO)
    assert r.status == 404


async def test_point_definitions(client):
    body = await (await client.get(POINTS + "/definitions", headers=OMNEO)).json()
    assert [(d["id"], d["name"], d["handle"], d["issue_period"], d["issue_period_type"]) for d in body["data"]] == \
        [(1, "Reward Points", "points", 365, "days")]
    r = await client.get(POINTS + "/definitions/1", headers=OMNEO)
    assert r.status == 200 and (await r.json())["data"] == body["data"][0]
    for bad in ("2", "abc"):
        r = await client.get(POINTS + "/definitions/" + bad, headers=OMNEO)
        assert r.status == 404
        assert await r.json() == {"message": f"No query results for model [App\\Models\\PointDefinition] {bad}"}


async def test_currencies_are_what_balances_accept(client):
    body = await (await client.get("/api/v3/currencies", headers=OMNEO)).json()
    got = [(c["id"], c["from"], c["to"], c["rate"], c["is_system"]) for c in body["data"]]
    assert got == [(1, "USD", "USD", 1, True), (2, "USD", "AUD", 1.5, False), (3, "USD", "EUR", 0.92, False)]
    for _, _, code, _, _ in got:
        r = await client.get(BAL.format(ALICE["omneo"]) + f"?currency={code}", headers=OMNEO)
        assert r.status == 200 and (await r.json())["data"]["currency"]["to"] == code


async def test_lists_read_one_page_not_the_history(client, tenant, monkeypatch):
    """300 point records and 300 transactions: a page is 15 rows, read without scanning the member's entries
    (the store's whole-history reads fail the test if called)."""
    bob = tenant.member_by_id("bob")
    currency = tenant.program("main").default_currency
    for i in range(300):
        tenant.grant(bob, currency, 1)
        tenant.record_receipt(bob, 2, transacted_at=NOW - timedelta(days=30), external_id=f"E{i}")

    def history(*a, **k):
        raise AssertionError("a list read the member's whole history")
    monkeypatch.setattr(tenant.store, "entries_page", member_pages_only(tenant.store.entries_page))
    monkeypatch.setattr(tenant.store, "members", history)
    body = await (await client.get(PROFILE_POINTS.format(BOB["omneo"]) + "?page[number]=20", headers=OMNEO)).json()
    assert (len(body["data"]), body["meta"]["total"], body["meta"]["last_page"]) == (15, 600, 40)
    assert [m["label"] for m in body["meta"]["links"]] == \
        ["&laquo; Previous", "1", "2", "...", "17", "18", "19", "20", "21", "22", "23", "...", "39", "40", "Next &raquo;"]
    body = await (await client.get(f"/api/v3/profiles/{BOB['omneo']}/transactions?page[number]=20",
                                   headers=OMNEO)).json()
    assert (len(body["data"]), body["meta"]["total"], body["data"][0]["external_id"]) == (15, 300, "E285")
    body = await (await client.get(POINTS + "?page[size]=100&page[number]=7", headers=OMNEO)).json()
    assert (len(body["data"]), body["meta"]["total"]) == (4, 604)


async def test_sort_newest_first(client):
    body = await (await client.get(PROFILE_POINTS.format(ALICE["omneo"]) + "?sort=-id&page[size]=3",
                                   headers=OMNEO)).json()
    assert [p["id"] for p in body["data"]] == [6, 3, 2] and body["meta"]["total"] == 4
    body = await (await client.get(PROFILE_POINTS.format(ALICE["omneo"]) + "?sort=-id&page[size]=3&page[number]=2",
                                   headers=OMNEO)).json()
    assert [p["id"] for p in body["data"]] == [1]
    assert body["links"]["first"].endswith("?sort=-id&page[size]=3&page[number]=1")
    body = await (await client.get(POINTS + "?sort=-created_at&page[number]=3&page[size]=2", headers=OMNEO)).json()
    assert body["data"] == []
    r = await client.get(POINTS + "?sort=value", headers=OMNEO)
    assert (r.status, await r.json()) == (422, {"message": "The selected sort is invalid.",
                                                "errors": {"sort": ["The selected sort is invalid."]}})


async def test_value_remaining_with_too_many_decimals_is_refused_on_its_field(client, tenant):
    before = snapshot(tenant)
    r = await client.post(POINTS, headers=OMNEO, json={"profile_id": BOB["omneo"], "point_definition_id": 1,
                                                       "value_initial": 10, "value_remaining": 5.555, "issued_at": None})
    assert (r.status, await r.json()) == (422, {
        "message": "The value remaining has more than 2 decimal places.",
        "errors": {"value_remaining": ["The value remaining has more than 2 decimal places."]}})
    assert snapshot(tenant) == before
