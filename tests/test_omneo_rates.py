"""Omneo earn rates over HTTP: CRUD, the Laravel 422s, and POST /v3/rates/calculate through the engine's earning
rule (engine/rates.py: the applicable rate of the highest priority, product- and location-specific rates, time
windows; the program's base rate of 1 point per USD when none applies). Every response is checked against
specs/omneo.yaml; what the rates change in other dialects is in test_omneo_cross_dialect.py."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import NOW, OMNEO
from test_omneo_writes import snapshot

RATES = "/api/v3/rates"
CALC = "/api/v3/rates/calculate"


@pytest.fixture
def vendors():
    return ["omneo"]


def rate_body(id, name, handle, rate, *, created="2026-03-10 12:00:00", updated=None, **over):
    body = {"id": id, "handle": handle, "type": None, "code": None, "name": name, "rate": rate, "location": None,
            "location_id": None, "location_object": None, "region_id": None, "region": None, "country_iso_2": None,
            "profile_conditions": None, "product_conditions": None, "start_time": None, "end_time": None,
            "priority": 0, "is_default": False, "is_archived": False, "is_published": True, "issue_period": None,
            "issue_period_type": None, "issue_absolute_expiry": None, "earn_instructions": None,
            "internal_notes": None, "created_at": created, "updated_at": updated or created}
    body.update(over)
    return body


async def create(client, **body):
    r = await client.post(RATES, headers=OMNEO, json=body)
    assert r.status == 201, await r.text()
    return (await r.json())["data"]


async def calc(client, **body):
    r = await client.post(CALC, headers=OMNEO, json=body)
    assert r.status == 200, await r.text()
    return (await r.json())["total"]


async def test_crud(client, tenant):
    made = await create(client, name="Double", handle="x2", rate=2, priority=5, internal_notes="spring",
                        product_conditions={"any": True}, start_time="2026-03-01 00:00:00")
    assert made == rate_body(1, "Double", "x2", 2, priority=5, internal_notes="spring",
                             product_conditions={"any": True}, start_time="2026-03-01 00:00:00")
    r = await client.get(f"{RATES}/1", headers=OMNEO)
    assert (r.status, (await r.json())["data"]) == (200, made)
    tenant.clock.advance(timedelta(minutes=1))
    r = await client.put(f"{RATES}/1", headers=OMNEO, json={"rate": 2.5, "name": "Two and a half"})
    assert r.status == 200
    assert (await r.json())["data"] == rate_body(1, "Two and a half", "x2", 2.5, priority=5, internal_notes="spring",
                                                 product_conditions={"any": True},
                                                 start_time="2026-03-01 00:00:00", updated="2026-03-10 12:01:00")
    await create(client, name="Shoes", handle="shoes", rate=3, type="category", code="shoes")
    body = await (await client.get(RATES + "?page[size]=1&page[number]=2", headers=OMNEO)).json()
    assert [x["handle"] for x in body["data"]] == ["shoes"] and body["meta"]["total"] == 2
    r = await client.delete(f"{RATES}/1", headers=OMNEO)
    assert r.status == 204 and await r.read() == b""
    for method in ("get", "put", "delete"):
        r = await getattr(client, method)(f"{RATES}/1", headers=OMNEO, **({"json": {}} if method == "put" else {}))
        assert r.status == 404
        assert await r.json() == {"message": "No query results for model [App\\Models\\Rate] 1"}
    body = await (await client.get(RATES, headers=OMNEO)).json()
    assert [x["id"] for x in body["data"]] == [2]


@pytest.mark.parametrize("body, errors", [
    ({"handle": "x"}, {"name": ["The name field is required."], "rate": ["The rate field is required."]}),
    ({"name": "n", "handle": "x", "rate": -1}, {"rate": ["The rate must be at least 0."]}),
    ({"name": "n", "handle": "x", "rate": "two"}, {"rate": ["The rate must be a number."]}),
    ({"name": "n", "handle": "x", "rate": 1, "start_time": "soon"}, {"start_time": ["The start time is not a valid date."]}),
    ({"name": "n", "handle": "x", "rate": 1, "start_time": "2026-03-02 00:00:00", "end_time": "2026-03-01 00:00:00"},
     {"end_time": ["The end time must be a date after start time."]}),
    ({"name": "n", "handle": "taken", "rate": 1}, {"handle": ["The handle has already been taken."]}),
])
async def test_invalid_rates_are_refused_and_change_nothing(client, tenant, body, errors):
    await create(client, name="t", handle="taken", rate=1)
    before = snapshot(tenant), tenant.rates()
    r = await client.post(RATES, headers=OMNEO, json=body)
    assert r.status == 422
    got = await r.json()
    assert got["errors"] == errors
    assert got["message"].startswith(next(iter(errors.values()))[0])
    assert (snapshot(tenant), tenant.rates()) == before


async def test_update_to_a_taken_handle_is_refused(client, tenant):
    await create(client, name="a", handle="a", rate=1)
    await create(client, name="b", handle="b", rate=2)
    r = await client.put(f"{RATES}/2", headers=OMNEO, json={"handle": "a", "rate": 5})
    assert r.status == 422
    assert (await (await client.get(f"{RATES}/2", headers=OMNEO)).json())["data"]["rate"] == 2


async def test_calculate_follows_the_earning_rule(client, tenant):
    assert await calc(client, price=10.99) == 10                       # the base rate: 1 per USD, rounded down
    await create(client, name="Double", handle="x2", rate=2)
    assert await calc(client, price=10.99) == 21
    await create(client, name="Shoes", handle="shoes", rate=5, type="category", code="shoes")
    assert await calc(client, price=10, type="category", code="shoes") == 50   # product-specific beats general
    assert await calc(client, price=10, type="category", code="hats") == 20
    await create(client, name="Store 7", handle="store-7", rate=4, location_id=7, priority=1)
    assert await calc(client, price=10, location=7) == 40              # higher priority
    assert await calc(client, price=10, location="7", type="category", code="shoes") == 40
    assert await calc(client, price=10, location=8) == 20
    assert await calc(client, price=10, handle="shoes") == 50           # a named rate, whatever applies
    await create(client, name="Later", handle="later", rate=9, priority=9, start_time="2026-03-11 00:00:00",
                 end_time="2026-03-12 00:00:00")
    await create(client, name="Archived", handle="old", rate=8, priority=8, is_archived=True)
    await create(client, name="Draft", handle="draft", rate=8, priority=8, is_published=False)
    assert await calc(client, price=10) == 20
    tenant.clock.set(NOW + timedelta(days=1))
    assert await calc(client, price=10) == 90
    tenant.clock.set(NOW + timedelta(days=2))
    assert await calc(client, price=10) == 20


async def test_calculate_changes_nothing_and_checks_its_input(client, tenant):
    before = snapshot(tenant), tenant.rates()
    assert await calc(client, price=0) == 0
    r = await client.post(CALC, headers=OMNEO, json={"price": 10, "handle": "nope"})
    assert (r.status, await r.json()) == (422, {"message": "The selected handle is invalid.",
                                                "errors": {"handle": ["The selected handle is invalid."]}})
    r = await client.post(CALC, headers=OMNEO, json={})
    assert (r.status, (await r.json())["errors"]) == (422, {"price": ["The price field is required."]})
    assert (snapshot(tenant), tenant.rates()) == before
