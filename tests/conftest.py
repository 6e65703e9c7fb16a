"""Shared test fixtures: the demo world and a client whose every response is checked against
the vendor spec (the gateway runs with response validation on; a violation fails the test).
Shared values and helpers live in helpers.py."""
from __future__ import annotations

from dataclasses import replace
import os

import pytest
from hypothesis import settings

# CI gates a landing: the same examples every run there; elsewhere hypothesis explores new ones each run.
settings.register_profile("ci", derandomize=True)
settings.register_profile("dev", derandomize=False)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

from gateway.app import Config, build_app
from gateway.engine import Engine

import processes
from helpers import OTHER_BDID, OTHER_PID, TEST_STORES, CheckedClient, demo_tenant, open_test_stores
from invariants import check


@pytest.fixture
def ledger_invariants(engine):
    """Every tenant's ledger invariants, checked after the test (`pytestmark = usefixtures("ledger_invariants")`)."""
    yield
    for tenant in engine:
        check(tenant)


# The contract suite: every test that builds its world through `engine` (the engine unit tests, the ledger
# invariants, the dialect and cross-dialect tests) and the property test run once per store (helpers.TEST_STORES);
# a store is correct when they all pass on it.
@pytest.fixture(params=TEST_STORES)
def store(request, tmp_path):
    """The store factory the test's engine keeps its tenants in (None: memory, the engine's default)."""
    stores = open_test_stores(request.param, tmp_path)
    yield stores
    if stores is not None:
        stores.close()


@pytest.fixture
def engine(store):
    e = Engine(store)
    e.add(demo_tenant(stores=store))
    return e


@pytest.fixture
def tenant(engine):
    return engine.get("demo")


@pytest.fixture
def alice(tenant):
    """The demo member with history (reachable by every vendor identity)."""
    return tenant.member_by_id("alice")


@pytest.fixture
def t(tenant):
    """The demo tenant for engine-level tests, its ledger invariants checked after the test."""
    yield tenant
    check(tenant)


@pytest.fixture
def bob(tenant):
    """The demo member with no history."""
    return tenant.member_by_id("bob")


@pytest.fixture
def pts(points):
    """The demo program's point currency (the engine tests' short name)."""
    return points


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


@pytest.fixture
def vendors():
    return None   # all vendors; a test module may narrow it


@pytest.fixture
async def client(aiohttp_client, engine, vendors):
    app = build_app(engine, Config(validate_responses=True), vendors=vendors)
    return CheckedClient(await aiohttp_client(app))


@pytest.fixture
def http(client):
    """The raw test client (admin calls; vendor calls where the answer is not the point)."""
    return client._client


@pytest.fixture
def serve(tmp_path):
    """Start `serve` processes (`serve(*args)`: a processes.Gateway); each is SIGKILLed at the end with its
    process group, so its workers too (even one that outlived its parent)."""
    started: list[processes.Gateway] = []

    def start(*args: str, **kw) -> processes.Gateway:
        started.append(processes.Gateway(tmp_path, *args, **kw))
        return started[-1]
    yield start
    for g in started:
        g.kill()
