"""Shared test fixtures: the demo world and a client whose every response is checked against
the vendor spec (the gateway runs with response validation on; a violation fails the test)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import os

import pytest
from hypothesis import settings

# CI gates a landing: the same examples every run there; elsewhere hypothesis explores new ones each run.
settings.register_profile("ci", derandomize=True)
settings.register_profile("dev", derandomize=False)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from gateway import fixtures
from gateway.app import Config, build_app
from gateway.engine import Engine

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


def demo_tenant(**clock):
    doc = fixtures.demo_document()
    doc["clock"] = {"now": NOW.isoformat(), "frozen": True, **clock}
    return fixtures.build(doc)


@pytest.fixture
def engine():
    e = Engine()
    e.add(demo_tenant())
    return e


@pytest.fixture
def tenant(engine):
    return engine.get("demo")


@pytest.fixture
def alice(tenant):
    """The demo member with history (reachable by every vendor identity)."""
    return tenant.member_by_id("alice")


@pytest.fixture
def points(tenant):
    return tenant.program("main").default_currency


@pytest.fixture
def other_program(tenant):
    """A second program with its own definition and one member, contact 19."""
    main = tenant.program("main")
    currency = replace(main.default_currency, id="other-points",
                       external={"brevo.balance_definition_id": OTHER_BDID})
    program = replace(main, id="other", external={"brevo.program_id": OTHER_PID}, currencies=(currency,))
    tenant.programs["other"] = program
    tenant.add_member(program, {"brevo.contact": "19"})
    return program


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
        return resp

    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)

    async def post(self, path, **kw):
        return await self.request("POST", path, **kw)

    async def put(self, path, **kw):
        return await self.request("PUT", path, **kw)

    async def delete(self, path, **kw):
        return await self.request("DELETE", path, **kw)


@pytest.fixture
def vendors():
    return None   # all vendors; a test module may narrow it


@pytest.fixture
async def client(aiohttp_client, engine, vendors):
    app = build_app(engine, Config(validate_responses=True), vendors=vendors)
    return CheckedClient(await aiohttp_client(app))
