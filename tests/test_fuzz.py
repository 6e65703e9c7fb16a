"""Fuzzing in the suite: schemathesis generates requests from every vendor spec and the admin spec (XML operations
as XML), valid and invalid alike, sent with the demo credentials and, four times in five, the demo world's ids,
to a real gateway (an HTTP server in a thread, response validation on). No answer may be a 5xx, and every answer
must conform to its spec: the gateway's own response check (no `X-Gateway-Violations`) and schemathesis's
status, content-type and schema checks. A fixed seed and a bounded number of examples per operation keep it to
seconds; `make fuzz` runs it longer, for a human (FUZZ_EXAMPLES per operation, FUZZ_SEED; FUZZ_STATS=<file>
appends one line per request: spec, operation, media type, status)."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings, strategies as st
from schemathesis import GenerationMode, checks as st_checks

from helpers import ALICE, ALTCRAFT_TOKEN, BREVO, BREVO_BDID, BREVO_PID, GB, OMNEO
from gateway import resources

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))    # per operation
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))

pytestmark = pytest.mark.xdist_group("fuzz")   # one worker: the servers are per module

# the demo world's ids, put in place of generated path values most of the time (else nearly every call is a 404)
IDS = {"customerId": ALICE["gameball"], "profile": ALICE["omneo"], "pid": BREVO_PID, "bdid": BREVO_BDID,
       "cid": ALICE["brevo"], "tenant": "demo", "member": "alice", "vendor": "gameball"}
HEADERS = {"gameball": GB, "omneo": {k: v for k, v in OMNEO.items() if k != "Accept"}, "brevo": BREVO,
           "altcraft": {}, "admin": {}}
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance]


class _Served:
    """One gateway (the demo world, response validation on) on 127.0.0.1 in a daemon thread."""

    def __init__(self) -> None:
        from helpers import demo_tenant

        from gateway.app import Config, Runner, build_app
        from gateway.engine import Engine
        engine = self.engine = Engine()
        engine.add(demo_tenant())
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start():
            self.runner = Runner(build_app(engine, Config(validate_responses=True)), access_log=None)
            await self.runner.setup()
            from aiohttp import web
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.runner.cleanup())

        threading.Thread(target=run, daemon=True).start()
        assert ready.wait(30)

    def ensure_demo(self) -> None:
        """The demo tenant back (the admin fuzz deletes it), added on the server's own loop."""
        from helpers import demo_tenant

        async def add():
            if "demo" not in {t.id for t in self.engine}:
                self.engine.add(demo_tenant())
        asyncio.run_coroutine_threadsafe(add(), self.loop).result(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def served():
    servers: dict[str, _Served] = {}

    def get(name: str) -> _Served:          # one gateway per spec: the admin fuzz deletes tenants, arms faults
        if name not in servers:
            servers[name] = _Served()
        return servers[name]
    yield get
    for s in servers.values():
        s.stop()


def _schema(name: str):
    document = yaml.safe_load(resources.spec_file(f"{name}.yaml").read_text())
    return schemathesis.openapi.from_dict(document)


def _operations(name: str):
    return [result.ok() for result in _schema(name).get_all_operations()]


def _prepare(name: str, case, use_ids: bool) -> dict:
    """The demo credentials (Altcraft's token in its body), the demo ids where asked; the headers to send."""
    if use_ids and case.path_parameters:
        case.path_parameters = {k: IDS.get(k, v) for k, v in case.path_parameters.items()}
    if name == "altcraft" and isinstance(case.body, dict):
        case.body = {**case.body, "token": ALTCRAFT_TOKEN}
    case.headers = {**(case.headers or {}), **HEADERS[name]}     # the demo credentials win over generated ones
    return dict(HEADERS[name])


def _fuzz(name: str, operation, served) -> None:
    url = served(name).url
    session = requests.Session()
    seen: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)),
           use_ids=st.integers(0, 4).map(bool))     # the demo ids four times in five
    def run(case, use_ids):
        headers = _prepare(name, case, use_ids)
        if name == "admin":
            served(name).ensure_demo()
        response = case.call(base_url=url, session=session, headers=headers, timeout=10)
        seen.append(response.headers.get("Content-Type", ""))
        if os.environ.get("FUZZ_STATS"):
            with open(os.environ["FUZZ_STATS"], "a") as out:
                out.write(f"{name} {operation.label} {case.media_type} {response.status_code}\n")
        assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: " \
                                           f"{response.text[:500]}"
        assert "X-Gateway-Violations" not in response.headers, (
            f"{case.method} {case.formatted_path} -> {response.status_code} violates the spec: {response.text[:500]}")
        if not response.headers.get("Content-Type", "").startswith("application/xml"):
            case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    assert seen, f"{operation.label}: no example ran"


SPECS = ["gameball", "omneo", "brevo", "altcraft", "admin"]
OPERATIONS = [(name, op) for name in SPECS for op in _operations(name)]


@pytest.mark.parametrize("name, operation", OPERATIONS, ids=[f"{n}:{op.label}" for n, op in OPERATIONS])
def test_fuzz(served, name, operation):
    _fuzz(name, operation, served)


def test_xml_operations_are_fuzzed_as_xml():
    """Altcraft's XML bodies: schemathesis writes them under the `<xml>` root its schemas name (`xml: {name: xml}`),
    so they reach the handler instead of all being refused as malformed."""
    op = next(o for o in _operations("altcraft") if o.path.endswith("/account/balance"))
    bodies = []

    @seed(SEED)
    @settings(max_examples=40, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy())
    def draw(case):
        if case.media_type in ("application/xml", "text/xml") and isinstance(case.body, dict):
            data = case.as_transport_kwargs(base_url="http://x")["data"]
            bodies.append(data.decode() if isinstance(data, bytes) else data)
    draw()
    assert bodies and all(b.startswith("<xml>") and b.endswith("</xml>") for b in bodies), bodies[:3]
