"""Omneo profile lookups over HTTP: the profile with its balances and tier summary, search-id, the filtered and
paginated profile list (the shared Laravel paginator of gateway/vendors/omneo/paging.py). Every response is
checked against specs/omneo.yaml by the `client` fixture.

Demo figures: alice has 1400 available points (70 USD) and a 10 USD reward, tier Silver achieved 2025-11-16;
bob joined a day ago with nothing (Bronze)."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, OMNEO

PROFILE = "/api/v3/profiles/{}"
SEARCH = "/api/v3/profiles/search-id"
LIST = "/api/v3/profiles"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"


@pytest.fixture
def vendors():
    return ["omneo"]


ALICE_PROFILE = {
    "id": ALICE["omneo"], "external_id": None, "title": None, "first_name": "Alice", "last_name": "Example",
    "full_name": "Alice Example", "email": "user@example.com", "mobile_phone": "+1234567890", "currency": "USD",
    "joined_at": "2024-10-26 12:00:00", "profile_type": "active", "tier_handle": "silver",
    "tier": {"id": 1, "profile_id": ALICE["omneo"], "name": "Silver", "handle": "silver",
             "anniversary_at": "2026-11-16 23:59:59", "maintained_at": None, "assigned_at": None,
             "achieved_at": "2025-11-16 12:00:00"},
    "identities": [], "tags": [], "statuses": [], "attributes": {},
    "reward_balance": 10, "point_balance": 1400, "point_balance_dollars": 70, "combined_balance_dollars": 80,
    "credit_balance": 0, "benefit_balance": 0, "created_at": "2024-10-26 12:00:00",
    "updated_at": "2024-10-26 12:00:00"}


async def test_profile_embeds_balances_and_tier(client):
    r = await client.get(PROFILE.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == 200
    assert (await r.json())["data"] == ALICE_PROFILE
    bal = (await (await client.get(PROFILE.format(ALICE["omneo"]) + "/balances", headers=OMNEO)).json())["data"]
    assert bal["point_balance"] == 1400 and bal["combined_balance_dollars"] == 80


async def test_unknown_profile_is_404(client):
    r = await client.get(PROFILE.format(UNKNOWN), headers=OMNEO)
    assert r.status == 404
    assert await r.json() == {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}


async def test_profile_by_identity_handle(client, tenant):
    tenant.add_member(tenant.program("main"), {"omneo.profile": "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5",
                                               "omneo.identity.shopify": "6400218448100"},
                      attributes={"first_name": "Sho", "email": "sho@example.com", "comms": {"sms": True}})
    r = await client.get(PROFILE.format("6400218448100") + "?identity[handle]=shopify", headers=OMNEO)
    assert r.status == 200
    data = (await r.json())["data"]
    assert data["id"] == "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"
    assert data["external_id"] == "6400218448100"
    assert data["identities"] == [{"handle": "shopify", "identifier": "6400218448100"}]
    assert data["attributes"] == {"comms": {"sms": True}}
    assert data["full_name"] == "Sho" and data["tier_handle"] == "bronze" and data["point_balance"] == 0
    r = await client.get(PROFILE.format("6400218448100") + "?identity[handle]=square", headers=OMNEO)
    assert r.status == 404
    r = await client.post(SEARCH, json={"type": "shopify", "id": 6400218448100}, headers=OMNEO)
    assert r.status == 200 and (await r.json())["data"]["id"] == "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"


@pytest.mark.parametrize("body, who", [
    ({"type": "email", "id": "user@example.com"}, ALICE["omneo"]),
    ({"type": "mobile_phone", "id": "+1234567890"}, ALICE["omneo"]),
    ({"type": "email", "id": "new.member@example.com"}, BOB["omneo"]),
])
async def test_search_id_finds_the_profile(client, body, who):
    r = await client.post(SEARCH, json=body, headers=OMNEO)
    assert r.status == 200
    assert (await r.json())["data"]["id"] == who


async def test_search_id_errors(client):
    r = await client.post(SEARCH, json={"type": "email", "id": "nobody@example.com"}, headers=OMNEO)
    assert r.status == 404
    r = await client.post(SEARCH, json={"type": "email"}, headers=OMNEO)
    assert r.status == 422
    assert await r.json() == {"message": "The id field is required.", "errors": {"id": ["The id field is required."]}}
    r = await client.post(SEARCH, json={}, headers=OMNEO)
    assert r.status == 422
    assert set((await r.json())["errors"]) == {"type", "id"}


async def test_list_filtered_by_email(client):
    r = await client.get(LIST + "?filter[email]=user@example.com", headers=OMNEO)
    assert r.status == 200
    body = await r.json()
    assert body["data"] == [ALICE_PROFILE]
    meta = body["meta"]
    assert {k: meta[k] for k in ("current_page", "from", "last_page", "per_page", "to", "total")} == \
        {"current_page": 1, "from": 1, "last_page": 1, "per_page": 15, "to": 1, "total": 1}
    assert meta["path"].endswith("/api/v3/profiles")
    assert body["links"]["prev"] is None and body["links"]["next"] is None
    assert body["links"]["first"].endswith("/api/v3/profiles?filter[email]=user%40example.com&page[number]=1")
    assert [l["label"] for l in meta["links"]] == ["&laquo; Previous", "1", "Next &raquo;"]
    r = await client.get(LIST + "?filter[email]=nobody@example.com", headers=OMNEO)
    body = await r.json()
    assert body["data"] == [] and body["meta"]["total"] == 0 and body["meta"]["from"] is None


async def test_list_pages(client, tenant):
    program = tenant.program("main")
    for i in range(3):
        tenant.add_member(program, {"omneo.profile": f"00000000-0000-4000-8000-00000000000{i}"},
                          attributes={"email": "same@example.com"})
    r = await client.get(LIST + "?filter[email]=same@example.com&page[size]=2&page[number]=2", headers=OMNEO)
    body = await r.json()
    assert [p["id"] for p in body["data"]] == ["00000000-0000-4000-8000-000000000002"]
    assert body["meta"]["total"] == 3 and body["meta"]["last_page"] == 2 and body["meta"]["from"] == 3
    assert body["links"]["prev"].endswith("page[size]=2&page[number]=1")
    # the older page / per_page names, and all profiles in join order
    body = await (await client.get(LIST + "?per_page=2&page=1", headers=OMNEO)).json()
    assert [p["id"] for p in body["data"]] == [ALICE["omneo"], BOB["omneo"]]
    assert body["meta"]["total"] == 5
    body = await (await client.get(LIST + "?filter[email]=&per_page=2", headers=OMNEO)).json()
    assert body["meta"]["total"] == 5                        # an empty filter is no filter
    # past the last page: an empty page
    body = await (await client.get(LIST + "?page[number]=9", headers=OMNEO)).json()
    assert body["data"] == [] and body["meta"]["current_page"] == 9


@pytest.mark.parametrize("query, field, message", [
    ("page[size]=0", "page.size", "The page.size must be at least 1."),
    ("page[size]=101", "page.size", "The page.size must not be greater than 100."),
    ("page[number]=x", "page.number", "The page.number must be an integer."),
    ("filter[email]=" + "x" * 256, "filter.email", "The filter.email must not be greater than 255 characters."),
])
async def test_bad_page_is_422(client, query, field, message):
    r = await client.get(f"{LIST}?{query}", headers=OMNEO)
    assert r.status == 422
    assert await r.json() == {"message": message, "errors": {field: [message]}}


async def test_omneo_identities_from_fixtures(aiohttp_client):
    """Fixtures name a profile's Omneo identities as `omneo.identity.<handle>`: the profile lists them and is
    found by them."""
    from helpers import CheckedClient, NOW
    from gateway import fixtures
    from gateway.app import Config, build_app
    from gateway.engine import Engine
    doc = fixtures.demo_document()
    doc["clock"] = {"now": NOW.isoformat(), "frozen": True}
    doc["members"][1]["identities"]["omneo.identity.shopify"] = "6400218448100"
    engine = Engine()
    engine.add(fixtures.build(doc))
    client = CheckedClient(await aiohttp_client(build_app(engine, Config(validate_responses=True),
                                                          vendors=["omneo"])))
    r = await client.post(SEARCH, json={"type": "shopify", "id": "6400218448100"}, headers=OMNEO)
    data = (await r.json())["data"]
    assert (r.status, data["id"], data["external_id"], data["identities"]) == \
        (200, BOB["omneo"], "6400218448100", [{"handle": "shopify", "identifier": "6400218448100"}])
