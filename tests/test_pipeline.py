"""The request pipeline's promises, for every vendor: credentials checked before the body (except
Altcraft, whose token may be in it), a bug answered in the vendor's own 500 envelope and never as a
bare page, dropped connections journaled, and warn mode serving invalid requests with a flag."""
from __future__ import annotations

import aiohttp
import pytest

from helpers import ALICE, ALTCRAFT_TOKEN, BREVO, BREVO_BDID, BREVO_PID, GB, OMNEO
from gateway.app import Config, GATEWAY, build_app

BAD_JSON = b'{"amount": 5,'


async def test_header_vendors_check_credentials_before_the_body(client):
    r = await client.post("/api/v4.0/integrations/transactions/redeem", data=BAD_JSON,
                          headers={"apikey": "wrong", "Content-Type": "application/json"})
    assert r.status == 401 and (await r.json())["code"] == 1000
    r = await client.post("/api/v3/points", data=BAD_JSON,
                          headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"})
    assert r.status == 401 and await r.json() == {"message": "Unauthenticated."}
    r = await client.post(f"/v3/loyalty/balance/programs/{BREVO_PID}/transactions", data=BAD_JSON,
                          headers={"api-key": "wrong", "Content-Type": "application/json"})
    assert r.status == 401 and (await r.json())["code"] == "unauthorized"


async def test_altcraft_malformed_body_is_a_bad_request(client):
    r = await client.post("/api/v1.1/loyalty/account/balance", data=BAD_JSON,
                          headers={"Content-Type": "application/json"})
    body = await r.json()
    assert r.status == 200 and body["error"] == 400


CALLS = {
    "gameball": ("GET", f"/api/v4.0/integrations/customers/{ALICE['gameball']}/balance", GB, None),
    "omneo": ("GET", f"/api/v3/profiles/{ALICE['omneo']}/balances", OMNEO, None),
    "brevo": ("GET", f"/v3/loyalty/balance/programs/{BREVO_PID}/balance-definitions/{BREVO_BDID}", BREVO, None),
    "altcraft": ("POST", "/api/v1.1/loyalty/account/balance", {},
                 {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"]}),
}
SERVER_ERRORS = {
    "gameball": lambda r, b: r.status == 500 and b["code"] == 5000 and b["type"] == "SERVER_ERROR",
    "omneo": lambda r, b: r.status == 500 and set(b) == {"message"},
    "brevo": lambda r, b: r.status == 500 and "message" in b,
    "altcraft": lambda r, b: r.status == 200 and b["error"] == 500 and set(b) == {"error", "error_text"},
}


@pytest.mark.parametrize("vendor", sorted(CALLS))
async def test_a_bug_answers_in_the_vendor_envelope(client, monkeypatch, vendor):
    gw = client.app[GATEWAY]
    op_id = {"gameball": "get_customer_balance", "omneo": "get_profile_balances",
             "brevo": "get_balance_definition", "altcraft": "get_account_balance"}[vendor]

    def boom(call):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(gw.vendors[vendor].responses, op_id, boom)
    app = build_app(gw.engine, Config(validate_responses=True))   # routes bind handlers at build time
    from aiohttp.test_utils import TestClient, TestServer
    async with TestClient(TestServer(app)) as c:
        method, path, headers, body = CALLS[vendor]
        r = await c.request(method, path, headers=headers, json=body)
        assert r.content_type == "application/json"
        payload = await r.json()
        assert SERVER_ERRORS[vendor](r, payload), payload
        assert "Traceback" not in await r.text()
        assert "X-Gateway-Violations" not in r.headers


async def test_dropped_connection_is_journaled(client):
    gw = client.app[GATEWAY]
    fault = gw.faults.arm(tenant="demo", vendor="gameball", kind="drop", times=1)
    method, path, headers, _ = CALLS["gameball"]
    with pytest.raises(aiohttp.ClientError):
        await client._client.request(method, path, headers=headers)
    entry = gw.journal("demo").list(limit=1)[0]
    assert (entry["status"], entry["operation"]) == (0, "get_customer_balance")
    assert entry["fault"] == {"id": fault.id, "kind": "drop", "case": None}
    r = await client.request(method, path, headers=headers)   # only once
    assert r.status == 200


async def test_warn_mode_serves_and_flags(aiohttp_client, engine):
    c = await aiohttp_client(build_app(engine, Config(validation="warn")))
    r = await c.get(f"/api/v4.0/integrations/customers/{ALICE['gameball']}/balance?expand=wallet", headers=GB)
    assert r.status == 200 and r.headers["X-Gateway-Violations"] == "1"
    entry = c.app[GATEWAY].journal("demo").list(limit=1)[0]
    assert entry["request_violations"][0]["pointer"] == "/query/expand"


async def test_validation_off_skips_checks(aiohttp_client, engine):
    c = await aiohttp_client(build_app(engine, Config(validation="off")))
    r = await c.get(f"/api/v4.0/integrations/customers/{ALICE['gameball']}/balance?expand=wallet", headers=GB)
    assert r.status == 200 and "X-Gateway-Violations" not in r.headers


async def test_wrong_method_is_405_with_allow(client):
    r = await client._client.delete(f"/api/v4.0/integrations/customers/{ALICE['gameball']}/balance", headers=GB)
    assert r.status == 405 and r.headers["Allow"] == "GET"


async def test_unknown_path_outside_every_vendor(client):
    r = await client._client.get("/nothing/here")
    assert r.status == 404 and (await r.json())["message"] == "no route for GET /nothing/here"


async def test_journal_says_why_the_engine_refused(client):
    r = await client.post("/api/v4.0/integrations/transactions/redeem", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "too-much", "transactionTime": "2026-03-10T12:00:00Z",
        "points": 99999})
    assert r.status == 422 and (await r.json())["code"] == 9008
    entry = client.app[GATEWAY].journal("demo").list(limit=1)[0]
    assert entry["refusal"]["reason"] == "insufficient_points"
    assert entry["refusal"]["detail"] == {"requested": "99999.00", "available": "1400.00"}
    assert entry["entries"] == []


REDEEM = "/api/v4.0/integrations/transactions/redeem"
OUTCOMES = [
    # (armed fault, method, path, headers, body, status, journal entries: [(status, fault kind or None)])
    (None, "GET", CALLS["gameball"][1], GB, None, 200, [(200, None)]),
    (None, "GET", CALLS["gameball"][1], {"apikey": "wrong", "secretkey": "x"}, None, 401, []),   # no tenant
    (None, "POST", REDEEM, {**GB, "Content-Type": "application/json"}, BAD_JSON, 400, [(400, None)]),
    (None, "GET", CALLS["gameball"][1] + "?expand=wallet", GB, None, 422, [(422, None)]),
    ({"kind": "error", "case": "rate_limit", "status": 429}, "GET", CALLS["gameball"][1], GB, None, 429,
     [(429, "error")]),
    ({"kind": "latency", "latency_ms": (0, 0)}, "GET", CALLS["gameball"][1], GB, None, 200, [(200, "latency")]),
    ({"kind": "drop"}, "GET", CALLS["gameball"][1], GB, None, None, [(0, "drop")]),
]


@pytest.mark.parametrize("fault, method, path, headers, body, status, journaled", OUTCOMES,
                         ids=["served", "bad-credentials", "malformed", "invalid", "fault-error", "fault-latency",
                              "dropped"])
async def test_every_outcome_is_journaled_once(client, fault, method, path, headers, body, status, journaled):
    gw = client.app[GATEWAY]
    before = len(gw.journal("demo"))
    if fault is not None:
        gw.faults.arm(tenant="demo", vendor="gameball", times=1, **fault)
    if status is None:
        with pytest.raises(aiohttp.ClientError):
            await client._client.request(method, path, headers=headers, data=body)
    else:
        r = await client._client.request(method, path, headers=headers, data=body)
        assert r.status == status
    entries = gw.journal("demo").list(limit=10)[:len(gw.journal("demo")) - before]
    assert [(e["status"], e.get("fault", {}).get("kind")) for e in entries] == journaled
