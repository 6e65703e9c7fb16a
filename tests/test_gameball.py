"""Gameball balance read over HTTP: all twelve fields, auth in any casing, vendor-shaped errors."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import ALICE, BOB, GB, NOW

URL = "/api/v4.0/integrations/customers/{}/balance"


@pytest.fixture
def vendors():
    return ["gameball"]


async def test_alice_balance_every_field(client):
    r = await client.get(URL.format(ALICE["gameball"]), headers=GB)
    assert r.status == 200
    assert await r.json() == {
        "totalPointsBalance": 1800, "totalPointsValue": 90,
        "availablePointsBalance": 1400, "availablePointsValue": 70,
        "pendingPoints": 400, "pendingPointsValue": 20,
        "currency": "USD", "pointsName": "Reward Points",
        "nextExpiringPointsAmount": 200, "nextExpiringPointsValue": 10,
        "nextExpiringPointsDate": (NOW + timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "totalEarnedPoints": 2400,
    }


async def test_bob_has_nothing_and_nothing_expires(client):
    r = await client.get(URL.format(BOB["gameball"]), headers=GB)
    body = await r.json()
    assert r.status == 200
    assert body["totalPointsBalance"] == 0 and body["availablePointsValue"] == 0
    assert (body["nextExpiringPointsAmount"], body["nextExpiringPointsValue"]) == (0, 0)
    assert "nextExpiringPointsDate" not in body


async def test_pending_points_become_available_after_return_window(client, tenant):
    tenant.clock.advance(timedelta(days=9))
    body = await (await client.get(URL.format(ALICE["gameball"]), headers=GB)).json()
    assert (body["availablePointsBalance"], body["pendingPoints"], body["totalPointsBalance"]) == (1800, 0, 1800)


async def test_header_names_in_any_casing(client):
    r = await client.get(URL.format(ALICE["gameball"]),
                         headers={"APIKey": GB["apikey"], "SecretKey": GB["secretkey"]})
    assert r.status == 200


async def test_expand_tier_and_referrals(client):
    body = await (await client.get(URL.format(ALICE["gameball"]) + "?expand=tier,referrals", headers=GB)).json()
    assert body["tier"] == {"current": {"order": 2, "name": "Silver", "minProgress": 1000, "icon": ""},
                            "next": {"order": 3, "name": "Gold", "minProgress": 5000, "icon": ""}, "progress": 1900}
    assert body["referrals"] == {"count": 0, "totalPending": 0, "totalActive": 0}


def _error(body, code, type_):
    assert body["code"] == code and body["type"] == type_
    assert set(body) == {"code", "type", "message", "documentationUrl", "requestId"}


@pytest.mark.parametrize("headers,code", [
    ({}, 1000),
    ({"apikey": "wrong", "secretkey": GB["secretkey"]}, 1000),
    ({"apikey": GB["apikey"]}, 1001),
    ({"apikey": GB["apikey"], "secretkey": "wrong"}, 1001),
])
async def test_credentials(client, headers, code):
    r = await client.get(URL.format(ALICE["gameball"]), headers=headers)
    assert r.status == 401
    _error(await r.json(), code, "AUTHENTICATION_ERROR")


async def test_unknown_customer(client):
    r = await client.get(URL.format("nobody"), headers=GB)
    assert r.status == 404
    _error(await r.json(), 7000, "CUSTOMER_ERROR")


async def test_bad_expand_value(client):
    r = await client.get(URL.format(ALICE["gameball"]) + "?expand=wallet", headers=GB)
    assert r.status == 422
    _error(await r.json(), 3003, "PAYLOAD_ERROR")


async def test_high_security_mode_needs_secret_everywhere(client, tenant):
    tenant.settings.setdefault("gameball", {})["high_security"] = True
    r = await client.post("/api/v4.0/integrations/customers", json={"customerId": "x1"},
                          headers={"apikey": GB["apikey"]})
    assert r.status == 401
    _error(await r.json(), 1001, "AUTHENTICATION_ERROR")
    assert tenant.store.find_member("gameball.customer", "x1") is None


async def test_unknown_path_under_prefix_is_gameball_shaped(client):
    r = await client._client.get("/api/v4.0/integrations/nothing-here", headers=GB)
    assert r.status == 404
    _error(await r.json(), 4004, "GENERAL_ERROR")
