"""Gameball customer profile operations: get, details, opt in/out, delete, tier progress, referral count.

Demo: alice (user-123, gameballId 1) is Silver (1900 points earned in the window; Gold at 5000); bob (user-456)
has nothing."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, GB, NOW
from invariants import check

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
TIME = "2026-03-10T11:00:00Z"


@pytest.fixture
def vendors():
    return None      # all: a deletion is checked through another dialect too


async def call(client, method, path, body=None, headers=GB):
    r = await client.request(method, API + path, json=body, headers=headers)
    return r.status, await r.json()


def error(body, code):
    assert set(body) == {"code", "type", "message", "documentationUrl", "requestId"}, body
    assert body["code"] == code, body


async def test_profile_public_and_details(client):
    created = {"customerId": "cust-p", "email": "p@example.com", "mobile": "+201000",
               "customerAttributes": {"firstName": "Pat", "lastName": None, "country": "EG", "city": "Cairo",
                                      "custom": {"tier": "vip"}, "dateOfBirth": "1990-01-02"}}
    status, body = await call(client, "POST", "/customers", created, headers={"apikey": GB["apikey"]})
    assert status == 200
    gid = body["gameballId"]
    status, public = await call(client, "GET", "/customers/cust-p", headers={"apikey": GB["apikey"]})
    assert (status, public) == (200, {"gameballId": gid, "customerId": "cust-p", "isReferred": False,
                                      "customerAttributes": {"country": "EG", "city": "Cairo",
                                                             "custom": {"tier": "vip"}}})
    status, details = await call(client, "GET", "/customers/cust-p/details")
    assert (status, details) == (200, {"customerId": "cust-p", "gameballId": gid, "isReferred": False,
                                       "customerAttributes": {"firstName": "Pat", "email": "p@example.com",
                                                              "mobile": "+201000", "dateOfBirth": "1990-01-02",
                                                              "country": "EG", "city": "Cairo",
                                                              "custom": {"tier": "vip"}}})


async def test_details_need_the_secret_and_unknown_is_7000(client):
    status, body = await call(client, "GET", f"/customers/{ALICE_ID}/details", headers={"apikey": GB["apikey"]})
    assert status == 401 and body["code"] == 1001
    for path in ("/customers/nobody", "/customers/nobody/details", "/customers/nobody/tier-progress",
                 "/customers/nobody/referrals/count"):
        status, body = await call(client, "GET", path)
        assert status == 404, path
        error(body, 7000)


async def test_opt_out_is_idempotent_and_stops_earning(client, tenant):
    status, body = await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {"isActive": False})
    assert (status, body) == (200, {"customerId": ALICE_ID, "isActive": False, "stateChanged": True})
    status, body = await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {"isActive": False})
    assert (status, body) == (200, {"customerId": ALICE_ID, "isActive": False, "stateChanged": False})
    entries = len(tenant.store.entries_page("alice"))
    status, body = await call(client, "POST", "/transactions/cashback", {
        "customerId": ALICE_ID, "transactionId": "OPT-1", "transactionTime": TIME, "amount": 10})
    assert status == 422
    error(body, 3009)
    assert len(tenant.store.entries_page("alice")) == entries
    assert (await call(client, "GET", f"/customers/{ALICE_ID}"))[0] == 200        # still a profile
    status, body = await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {"isActive": True})
    assert (status, body) == (200, {"customerId": ALICE_ID, "isActive": True, "stateChanged": True})
    assert (await call(client, "POST", "/transactions/cashback", {
        "customerId": ALICE_ID, "transactionId": "OPT-1", "transactionTime": TIME, "amount": 10}))[0] == 200


async def test_activation_refusals(client):
    status, body = await call(client, "PUT", "/customers/nobody/activate", {"isActive": True})
    assert status == 404
    error(body, 7000)
    status, body = await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {})
    assert status == 400
    error(body, 3000)
    assert "isActive" in body["message"]
    status, body = await call(client, "PUT", f"/customers/{'x' * 101}/activate", {"isActive": True})
    assert status == 422


async def test_delete_releases_the_id_and_keeps_history(client, tenant):
    status, body = await call(client, "DELETE", f"/customers/{ALICE_ID}")
    assert (status, body) == (200, {"success": True, "message": "Customer deleted successfully"})
    for path in (f"/customers/{ALICE_ID}", f"/customers/{ALICE_ID}/balance"):
        status, body = await call(client, "GET", path)
        assert status == 404
        error(body, 7000)
    assert (await call(client, "DELETE", f"/customers/{ALICE_ID}"))[0] == 404
    alice = tenant.member_by_id("alice")
    assert not alice.active and len(tenant.store.entries_page("alice")) > 0
    # the id names a new, empty customer from now on
    status, body = await call(client, "POST", "/customers", {"customerId": ALICE_ID})
    assert status == 200 and body["gameballId"] != alice.seq
    status, balance = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    assert (balance["totalPointsBalance"], balance["totalEarnedPoints"]) == (0, 0)
    check(tenant)


async def test_tier_progress(client, tenant):
    status, body = await call(client, "GET", f"/customers/{ALICE_ID}/tier-progress")
    assert (status, body) == (200, {"current": {"order": 2, "name": "Silver", "minProgress": 1000, "icon": ""},
                                    "next": {"order": 3, "name": "Gold", "minProgress": 5000, "icon": ""},
                                    "progress": 1900})
    status, _ = await call(client, "POST", "/transactions/manual", {
        "customerId": ALICE_ID, "transactionId": "TIER-1", "username": "admin", "reason": "gold", "points": 4000})
    assert status == 200
    status, body = await call(client, "GET", f"/customers/{ALICE_ID}/tier-progress")
    assert status == 200
    assert body["current"]["name"] == "Gold" and "next" not in body


async def test_referrals_count(client):
    status, body = await call(client, "GET", f"/customers/{BOB_ID}/referrals/count")
    assert (status, body) == (200, {"count": 0, "totalPending": 0, "totalActive": 0})


async def test_an_update_keeps_an_opted_out_customer_out(client):
    assert (await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {"isActive": False}))[0] == 200
    status, _ = await call(client, "POST", "/customers", {"customerId": ALICE_ID, "email": "new@example.com"})
    assert status == 200
    status, body = await call(client, "PUT", f"/customers/{ALICE_ID}/activate", {"isActive": False})
    assert (status, body["stateChanged"]) == (200, False)
