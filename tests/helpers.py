"""What the tests share: the demo world's fixed instant, identities and credentials, the spec-checked client,
the control-plane helper that checks every admin answer against specs/admin.yaml, and the four-dialect read.
Test modules import from here (and get fixtures from conftest), never from each other."""
from __future__ import annotations

import os

import json
import re
from datetime import datetime, timezone
from decimal import Decimal

import yaml

from gateway import fixtures, specs

import gameball_reference

# A fixed instant: figures and dates in assertions never depend on when the suite runs.
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)

GB = {"apikey": "demo-gameball-apikey", "secretkey": "demo-gameball-secretkey"}
OMNEO = {"Authorization": "Bearer demo-omneo-token", "Accept": "application/json"}
BREVO = {"api-key": "demo-brevo-key"}
ALTCRAFT_TOKEN = "abc123def456"
ALICE = {"omneo": "3f2a9c4e-7b1d-4e8a-9f60-1c2d3e4f5a6b", "gameball": "user-123", "email": "user@example.com",
         "brevo": 17}
BOB = {"omneo": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "gameball": "user-456", "email": "new.member@example.com",
       "brevo": 18}
BREVO_PID = "0b1e5f3a-6c2d-4e7f-8a9b-1c2d3e4f5a6b"
BREVO_BDID = "7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a"
OTHER_PID = "11111111-2222-4333-8444-555555555555"
OTHER_BDID = "66666666-7777-4888-9999-aaaaaaaaaaaa"


def demo_tenant(stores=None, **clock):
    doc = fixtures.demo_document()
    doc["clock"] = {"now": NOW.isoformat(), "frozen": True, **clock}
    return fixtures.build(doc, stores=stores)


# The stores the contract suite runs on; LOYALTY_GATEWAY_TEST_STORES=memory (or sqlite) runs one only, e.g. while
# working on one store.
TEST_STORES = [s for s in os.environ.get("LOYALTY_GATEWAY_TEST_STORES", "memory,sqlite").split(",") if s]


def open_test_stores(kind: str, directory):
    """The store factory of one kind of the contract suite: None (the engine's default, memory) or a SQLite file
    in `directory` (close it after)."""
    if kind == "memory":
        return None
    from gateway.store import open_stores
    return open_stores(f"sqlite:{directory}/world.db")


class CheckedClient:
    """Wraps the aiohttp test client: every response must satisfy the spec (no violation header)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    async def request(self, method, path, **kw):
        resp = await self._client.request(method, path, **kw)
        await resp.read()
        assert "X-Gateway-Violations" not in resp.headers, (
            f"{method} {path} -> {resp.status} violates the spec: {await resp.text()}")
        assert resp.status != 501, f"{method} {path} is not implemented"
        if gameball_reference.PREFIX.match(path) and resp.content_type == "application/json":
            problems = gameball_reference.check(method, path, resp.status, json.loads(await resp.read()))
            assert problems == [], f"{method} {path} -> {resp.status} violates Gameball's reference: {problems}"
        return resp

    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)

    async def post(self, path, **kw):
        return await self.request("POST", path, **kw)

    async def put(self, path, **kw):
        return await self.request("PUT", path, **kw)

    async def delete(self, path, **kw):
        return await self.request("DELETE", path, **kw)



# --- the control plane ---------------------------------------------------------------------------------

ADMIN = specs.load("admin")
GB_BALANCE = "/api/v4.0/integrations/customers/{}/balance"
OMNEO_BALANCE = "/api/v3/profiles/{}/balances"
ALTCRAFT_BALANCE = "/api/v1.1/loyalty/account/balance"
BREVO_BALANCES = f"/v3/loyalty/balance/programs/{BREVO_PID}/subscriptions/{{}}/balances"
DEMO = "/__admin/tenants/demo"
_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def utc_seconds(at) -> str:
    """An instant to the second, UTC with `Z` (as Brevo and Altcraft clients write times)."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def z(dt) -> str:
    """An instant as the control plane writes it."""
    return dt.isoformat().replace("+00:00", "Z")


# --- the spec-checking helper -------------------------------------------------------------------------

_ROUTES = [(op.method, re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", op.path) + "$"), op)
           for op in ADMIN.operations.values()]


def operation(method: str, path: str) -> specs.Operation:
    path = path.split("?", 1)[0]
    found = [op for m, rx, op in _ROUTES if m == method and rx.match(path)]
    assert len(found) == 1, f"{method} {path} is not (or ambiguously) documented in specs/admin.yaml"
    return found[0]


async def admin(http, method: str, path: str, status: int, **kw):
    """One control-plane call: the status expected and the body valid against specs/admin.yaml."""
    resp = await http.request(method, path, **kw)
    raw = await resp.read()
    media = resp.content_type
    if media == "application/json":
        body = json.loads(raw)
    else:
        body = raw.decode() if raw else None
    assert resp.status == status, f"{method} {path} -> {resp.status}: {body}"
    problems = operation(method, path).validate_response(resp.status, body, media)
    assert problems == [], f"{method} {path} -> {resp.status} violates specs/admin.yaml: " + "; ".join(
        f"{v.pointer or '/'} {v.message}" for v in problems)
    return body


def pointers(body) -> list[str]:
    return [e["pointer"] for e in body["errors"]]


async def gb_balance(client, customer=ALICE["gameball"], headers=GB, query=""):
    resp = await client.get(GB_BALANCE.format(customer) + query, headers=headers)
    return resp.status, await resp.json()


def credit(tenant, identity, value, amount):
    """A credit written straight through the engine, available at once."""
    member = tenant.member(identity, value)
    currency = tenant.program(member.program_id).default_currency
    return tenant.credit(member, currency, Decimal(amount), available_at=tenant.now(), origin="manual")


FIXTURES = {
    "version": 1,
    "clock": {"now": NOW.isoformat(), "frozen": True},
    "programs": [{"id": "shop", "money_currency": "EUR",
                  "point_currencies": [{"id": "stars", "name": "Stars", "value": "0.01", "pending_days": 0}]}],
    "members": [{"id": "carol", "identities": {"gameball.customer": "carol-1", "brevo.contact": 31},
                 "joined_at": "-30d", "history": [{"at": "-10d", "credit": 250}, {"at": "-2d", "debit": 50}]}],
}


_SAMPLE = {"member": "alice", "fault": "1", "tenant": "nope", "task": "task_1"}
_BODIES = {"put_snapshot": {"json": FIXTURES}, "set_clock": {"json": {"frozen": True}},
           "advance_clock": {"json": {"by": "P1D"}},
           "arm_fault": {"json": {"vendor": "gameball", "kind": "drop", "times": 1}}}
TENANT_ROUTES = sorted((op.operation_id, op.method, re.sub(r"\{([^}]+)\}", lambda m: _SAMPLE[m.group(1)], op.path))
                       for op in ADMIN.operations.values() if "{tenant}" in op.path)


async def arm(http, **fault):
    return await admin(http, "POST", f"{DEMO}/faults", 201, json=fault)


async def faults(http):
    return (await admin(http, "GET", f"{DEMO}/faults", 200))["faults"]



# --- the four dialects, side by side -----------------------------------------------------------------

async def read_all(client, who) -> dict:
    gb = await (await client.get(f"/api/v4.0/integrations/customers/{who['gameball']}/balance", headers=GB)).json()
    alt_json = await (await client.post("/api/v1.1/loyalty/account/balance", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": who["email"]})).json()
    alt_xml = await (await client.post(
        "/api/v1.1/loyalty/account/balance?format=json",
        data=f"<xml><token>{ALTCRAFT_TOKEN}</token><loyalty_program_id>123</loyalty_program_id>"
             f"<points_currency_iid>1</points_currency_iid><matching>email</matching><email>{who['email']}</email></xml>",
        headers={"Content-Type": "application/xml"})).json()
    omneo = (await (await client.get(f"/api/v3/profiles/{who['omneo']}/balances", headers=OMNEO)).json())["data"]
    brevo = await (await client.get(
        f"/v3/loyalty/balance/programs/{BREVO_PID}/subscriptions/{who['brevo']}/balances", headers=BREVO)).json()
    return {"gameball": gb, "altcraft": alt_json["data"], "altcraft_xml": alt_xml["data"], "omneo": omneo,
            "brevo": {b["balanceDefinitionId"]: b["value"] for b in brevo["balance"]}}


def assert_agree(r: dict) -> None:
    gb, alt, om, br = r["gameball"], r["altcraft"], r["omneo"], r["brevo"]
    assert Decimal(str(gb["availablePointsBalance"])) == Decimal(alt["active_balance"]) \
        == Decimal(str(om["point_balance"])) == Decimal(str(br[BREVO_BDID]))
    assert Decimal(str(gb["totalPointsBalance"])) == Decimal(alt["total_balance"])
    assert Decimal(str(gb["availablePointsValue"])) == Decimal(str(om["point_balance_dollars"]))
    assert r["altcraft_xml"] == alt


def member_pages_only(entries_page):
    """Wraps a store's `entries_page` so that reading a member's entries without a `limit` (the member's whole
    history) fails the test; a page, or the tenant's entries after a cursor (what one call wrote), pass."""
    def page(member_id=None, *a, **kw):
        if member_id is not None and kw.get("limit") is None:
            raise AssertionError("a read called store.entries_page without a limit: the member's whole history")
        return entries_page(member_id, *a, **kw)
    return page
