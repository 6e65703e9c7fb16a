"""POST /events: accepted and recorded, never rewarded (earning rules on events are not modelled)."""
from __future__ import annotations

import pytest

from helpers import ALICE, GB

API = "/api/v4.0/integrations"
APIKEY = {"apikey": GB["apikey"]}


@pytest.fixture
def vendors():
    return ["gameball"]


async def test_the_reference_example_is_recorded_for_a_new_customer(client, tenant):
    r = await client.post(f"{API}/events", headers=APIKEY, json={
        "customerId": "1848877205", "events": {"write_review": {"product_id": "1653503260",
                                                                "review": "5 Stars Product"}}})
    assert (r.status, await r.json()) == (200, {"success": True, "message": "Events processed"})
    member = tenant.member("gameball.customer", "1848877205")
    event = tenant.event(1)
    assert (event["member_id"], event["name"], event["properties"]) == (
        member.id, "write_review", {"product_id": "1653503260", "review": "5 Stars Product"})
    assert tenant.store.entries_count(member.id) == 0             # nothing earned


async def test_several_events_in_order_and_no_points(client, tenant):
    entries = tenant.store.entries_count(None)
    r = await client.post(f"{API}/events", headers=APIKEY, json={
        "customerId": ALICE["gameball"], "events": {"login": {}, "share": {"channel": "x"}, "visit": None}})
    assert r.status == 200
    assert [tenant.event(i)["name"] for i in (1, 2, 3)] == ["login", "share", "visit"]
    assert tenant.store.entries_count(None) == entries


@pytest.mark.parametrize("body,status,code", [
    ({"customerId": "x"}, 400, 3000),
    ({"customerId": "x", "events": {}}, 422, 3003),
    ({"customerId": "x", "events": {"a": 5}}, 422, 3003),
])
async def test_bad_events_change_nothing(client, tenant, body, status, code):
    r = await client.post(f"{API}/events", headers=APIKEY, json=body)
    assert (r.status, (await r.json())["code"]) == (status, code)
    assert tenant.store.find_member("gameball.customer", "x") is None and tenant.event(1) is None


async def test_an_opted_out_customer_is_refused(client, tenant):
    r = await client.put(f"{API}/customers/{ALICE['gameball']}/activate", headers=GB, json={"isActive": False})
    assert r.status == 200
    r = await client.post(f"{API}/events", headers=APIKEY, json={"customerId": ALICE["gameball"],
                                                                 "events": {"login": {}}})
    assert (r.status, (await r.json())["code"]) == (422, 3009)
    assert tenant.event(1) is None
