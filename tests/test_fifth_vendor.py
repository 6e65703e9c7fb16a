"""A vendor is one folder and one spec (issue 8): a fifth vendor, written here into a temporary folder and
registered at run time, is served over the same engine, listed and checked by /__admin, accepted by the
fixtures schema and known to the pytest plugin -- without a file of the gateway changing. Also: the files'
written vendor parts (specs/fixtures.schema.json, specs/admin.yaml) are what the built-ins' descriptors make."""
from __future__ import annotations

import json
import secrets
import sys
import textwrap

import pytest
import yaml

from gateway import admin as admin_module
from gateway import fixtures, resources, specs
from gateway.app import Config, build_app
from gateway.engine import Engine
from gateway.pytest_plugin import LoyaltyGateway
from gateway.vendors import registry
from gateway.vendors.descriptor import Credential, VendorDescriptor

from helpers import ALICE, GB, NOW

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.xdist_group("fifth_vendor")

# --- the fifth vendor: "acme", a package of five small files and its own spec ------------------------------

FILES = {
    "__init__.py": '''
        """Acme Loyalty API v1 (a made-up fifth vendor)."""
        from .descriptor import DESCRIPTOR
        from .adapter import AcmeVendor

        VENDOR = AcmeVendor()
        ''',
    "descriptor.py": '''
        from gateway.vendors.descriptor import Credential, VendorDescriptor

        DESCRIPTOR = VendorDescriptor(
            name="acme",
            title="Acme Loyalty API v1",
            spec="spec/acme.yaml",
            path_prefixes=("/acme/v1/",),
            credentials=(Credential("key", prefix="acme", header="X-Acme-Key", description="X-Acme-Key header"),),
            test_headers={"Accept": "application/json"},
            identities=("acme.member",),
            settings={"points_label": {"type": "string", "minLength": 1}},
            currency_external={"acme.currency_code": "Acme's currency code"},
        )
        ''',
    "auth.py": '''
        from gateway.vendors.base import Reply, VendorError
        from .descriptor import DESCRIPTOR

        KEY = DESCRIPTOR.credential_key("key")


        def authenticate(request, engine):
            tenant = engine.by_credential(KEY, request.headers.get("X-Acme-Key"))
            if tenant is None:
                raise VendorError(Reply(401, {"error": {"code": "unauthorized", "message": "bad key"}}))
            return tenant
        ''',
    "responses.py": '''
        from gateway.vendors.base import Call, Reply

        MEMBER = "acme.member"


        def _balance(call, member):
            program = call.tenant.program(member.program_id)
            b = call.tenant.balance(member, program.default_currency)
            return {"memberId": member.identities[MEMBER], "points": int(b.available),
                    "label": call.setting("points_label", "points")}


        def get_balance(call: Call) -> Reply:
            return Reply(200, _balance(call, call.tenant.member(MEMBER, call.path["memberId"])))


        def credit_points(call: Call) -> Reply:
            member = call.tenant.member(MEMBER, call.path["memberId"])
            program = call.tenant.program(member.program_id)
            call.tenant.credit(member, program.default_currency, call.body["points"], origin="acme",
                               key=("acme.tx", call.body["reference"]), pending_days=0)   # at once
            return Reply(201, {**_balance(call, member), "credited": call.body["points"]})
        ''',
    "adapter.py": '''
        from gateway.engine.errors import MemberNotFound
        from gateway.vendors.base import Reply, Vendor
        from . import auth, responses

        FAULTS = {"rate_limit": 429, "server_error": 500}


        def error(status, code, message):
            return Reply(status, {"error": {"code": code, "message": message}})


        class AcmeVendor(Vendor):
            name = "acme"
            responses = responses
            fault_cases = {case: f"HTTP {status}" for case, status in FAULTS.items()}

            def authenticate(self, request, op, engine, body):
                return auth.authenticate(request, engine)

            def malformed(self, op, message, fmt="json"):
                return error(400, "malformed", message)

            def invalid(self, op, violations):
                return error(422, "invalid", f"{violations[0].pointer}: {violations[0].message}")

            def engine_error(self, op, exc):
                if isinstance(exc, MemberNotFound):
                    return error(404, "member_not_found", exc.message)
                return error(422, exc.code, exc.message)

            def not_found_route(self, path):
                return error(404, "no_route", path)

            def internal(self, op):
                return error(500, "internal", "internal error")

            def fault(self, case, op):
                return error(FAULTS[case], case, case)

            def member_view(self, tenant, member):
                if responses.MEMBER not in member.identities:
                    return None
                b = tenant.balance(member, tenant.program(member.program_id).default_currency)
                return {"memberId": member.identities[responses.MEMBER], "points": int(b.available)}
        ''',
    "spec/acme.yaml": '''
        openapi: 3.1.0
        info: {title: Acme Loyalty API, version: 1.0.0}
        paths:
          /acme/v1/members/{memberId}/balance:
            parameters:
              - {name: memberId, in: path, required: true, schema: {type: string, minLength: 1}}
            get:
              operationId: get_balance
              responses:
                "200":
                  description: the balance
                  content: {application/json: {schema: {$ref: "#/components/schemas/Balance"}}}
                default:
                  description: an error
                  content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
          /acme/v1/members/{memberId}/credits:
            parameters:
              - {name: memberId, in: path, required: true, schema: {type: string, minLength: 1}}
            post:
              operationId: credit_points
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      additionalProperties: false
                      required: [points, reference]
                      properties:
                        points: {type: integer, minimum: 1}
                        reference: {type: string, minLength: 1}
              responses:
                "201":
                  description: credited
                  content:
                    application/json:
                      schema:
                        allOf:
                          - {$ref: "#/components/schemas/Balance"}
                          - {type: object, required: [credited], properties: {credited: {type: integer}}}
                default:
                  description: an error
                  content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
        components:
          schemas:
            Balance:
              type: object
              required: [memberId, points, label]
              properties:
                memberId: {type: string}
                points: {type: integer}
                label: {type: string}
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties: {code: {type: string}, message: {type: string}}
        ''',
}

BALANCE = "/acme/v1/members/{}/balance"
CREDIT = "/acme/v1/members/{}/credits"
GB_BALANCE = "/api/v4.0/integrations/customers/{}/balance"
KEY = {"X-Acme-Key": "acme-demo-key"}


def write_vendor(folder) -> str:
    """The fifth vendor's package, under a module name no other test run has used (the import system keeps
    modules by name)."""
    module = f"acme_{secrets.token_hex(4)}"
    for name, text in FILES.items():
        path = folder / module / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return module


@pytest.fixture
def acme(tmp_path):
    """The fifth vendor on sys.path and registered; forgotten afterwards (other tests see the four)."""
    module = write_vendor(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield registry.register(module)
    finally:
        registry.unregister("acme")
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            del sys.modules[name]
    assert "acme" not in registry.names()


def world(**changes) -> dict:
    """The demo world, with Alice known to Acme as A-1, an Acme key and an Acme setting."""
    doc = fixtures.demo_document()
    doc["clock"] = {"now": NOW.isoformat(), "frozen": True}
    doc["credentials"]["acme"] = {"key": "acme-demo-key"}
    doc.setdefault("settings", {})["acme"] = {"points_label": "stars"}
    for m in doc["members"]:
        if m.get("id") == "alice":
            m["identities"]["acme.member"] = "A-1"
    doc.update(changes)
    return doc


@pytest.fixture
async def client(aiohttp_client, acme):
    engine = Engine()
    engine.add(fixtures.build(world()))
    return await aiohttp_client(build_app(engine, Config(validate_responses=True)))


async def call(client, method, path, status, **kw):
    resp = await client.request(method, path, **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    assert resp.status == status, f"{method} {path} -> {resp.status}: {body}"
    assert "X-Gateway-Violations" not in resp.headers, body
    return body


async def admin(client, method, path, status, **kw):
    """A control-plane call, its answer checked against admin.yaml as the gateway fills it (acme included)."""
    resp = await client.request(method, path, **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.text()
    assert resp.status == status, f"{method} {path} -> {resp.status}: {body}"
    ops = [op for op in admin_module.spec().operations.values() if op.method == method
           and _matches(op.path, path.split("?")[0])]
    assert len(ops) == 1
    problems = ops[0].validate_response(resp.status, body, resp.content_type)
    assert problems == [], problems
    return body


def _matches(template: str, path: str) -> bool:
    a, b = template.split("/"), path.split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b))


# --- served ---------------------------------------------------------------------------------------------------

async def test_its_read_and_write_over_the_one_engine(client):
    before = await call(client, "GET", GB_BALANCE.format(ALICE["gameball"]), 200, headers=GB)
    assert await call(client, "GET", BALANCE.format("A-1"), 200, headers=KEY) == \
        {"memberId": "A-1", "points": before["availablePointsBalance"], "label": "stars"}
    body = await call(client, "POST", CREDIT.format("A-1"), 201, headers=KEY, json={"points": 25, "reference": "r-1"})
    assert body == {"memberId": "A-1", "points": before["availablePointsBalance"] + 25, "label": "stars",
                    "credited": 25}
    after = await call(client, "GET", GB_BALANCE.format(ALICE["gameball"]), 200, headers=GB)
    assert after["availablePointsBalance"] == before["availablePointsBalance"] + 25


async def test_its_refusals_are_in_its_own_words(client):
    assert (await call(client, "GET", BALANCE.format("A-1"), 401, headers={"X-Acme-Key": "nope"}))["error"]["code"] \
        == "unauthorized"
    assert (await call(client, "GET", BALANCE.format("nobody"), 404, headers=KEY))["error"]["code"] \
        == "member_not_found"
    body = await call(client, "POST", CREDIT.format("A-1"), 422, headers=KEY, json={"points": 0, "reference": "r"})
    assert body["error"]["code"] == "invalid"
    assert (await call(client, "GET", "/acme/v1/nowhere", 404))["error"]["code"] == "no_route"   # its prefix


# --- in admin -------------------------------------------------------------------------------------------------

async def test_health_and_specs_list_it(client):
    health = await admin(client, "GET", "/__admin/health", 200)
    assert list(health["vendors"]) == ["omneo", "altcraft", "gameball", "brevo", "acme"]
    assert health["vendors"]["acme"] == "1.0.0"
    listed = await admin(client, "GET", "/__admin/specs", 200)
    assert {"vendor": "acme", "version": "1.0.0", "title": "Acme Loyalty API", "operations": 2,
            "url": "/__admin/specs/acme"} in listed["specs"]
    text = await admin(client, "GET", "/__admin/specs/acme", 200)
    assert text == (registry.spec_path("acme")).read_text()
    assert yaml.safe_load(text)["info"]["title"] == "Acme Loyalty API"
    assert not resources.has_spec("acme.yaml")          # its spec is in its own folder, not the bundle


async def test_a_fresh_tenant_has_its_credentials(client):
    created = await admin(client, "POST", "/__admin/tenants", 201)
    key = created["credentials"]["acme"]["key"]
    assert key.startswith("acme-") and set(created["credentials"]) == set(registry.names())
    body = await call(client, "GET", BALANCE.format("A-1"), 404, headers={"X-Acme-Key": key})   # its tenant:
    assert body["error"]["code"] == "member_not_found"                                         # no A-1 there
    own = world(tenant="shop-acme", credentials={"acme": {"key": "shop-acme-key"}})
    created = await admin(client, "POST", "/__admin/tenants", 201, json=own)
    assert created["credentials"]["acme"] == {"key": "shop-acme-key"}
    body = await call(client, "GET", BALANCE.format("A-1"), 200, headers={"X-Acme-Key": "shop-acme-key"})
    assert body["memberId"] == "A-1"
    conflict = await admin(client, "POST", "/__admin/tenants", 409, json={**own, "tenant": "other"})
    assert conflict["errors"] == [{"pointer": "/credentials/acme/key", "message": "acme.key already opens another tenant"}]


async def test_the_member_view_includes_its_view(client):
    member = await admin(client, "GET", "/__admin/tenants/demo/members/A-1", 200)
    assert member["identities"]["acme.member"] == "A-1"
    assert list(member["views"]) == ["omneo", "altcraft", "gameball", "brevo", "acme"]
    assert member["views"]["acme"] == {"memberId": "A-1", "points": member["views"]["gameball"]["availablePointsBalance"]}


async def test_a_fault_can_be_armed_on_it_and_the_journal_filters_it(client):
    fault = await admin(client, "POST", "/__admin/tenants/demo/faults", 201,
                        json={"vendor": "acme", "kind": "error", "case": "rate_limit", "times": 1})
    assert (fault["vendor"], fault["case"], fault["status"]) == ("acme", "rate_limit", 429)
    by_status = await admin(client, "POST", "/__admin/tenants/demo/faults", 201,
                            json={"vendor": "acme", "operation": "credit_points", "kind": "error", "status": 500})
    assert by_status["case"] == "server_error"
    assert (await call(client, "GET", BALANCE.format("A-1"), 429, headers=KEY))["error"]["code"] == "rate_limit"
    await call(client, "GET", BALANCE.format("A-1"), 200, headers=KEY)
    refused = await admin(client, "POST", "/__admin/tenants/demo/faults", 422,
                          json={"vendor": "acme", "operation": "get_customer_balance", "kind": "drop"})
    assert [e["pointer"] for e in refused["errors"]] == ["/operation"]
    journal = await admin(client, "GET", "/__admin/tenants/demo/journal?vendor=acme", 200)
    assert [(e["operation"], e["status"]) for e in journal["entries"]] == [("get_balance", 200), ("get_balance", 429)]
    await admin(client, "GET", "/__admin/tenants/demo/journal?vendor=shopify", 422)


async def test_an_app_built_before_registration_does_not_serve_it(aiohttp_client, tmp_path):
    engine = Engine()
    engine.add(fixtures.build(fixtures.demo_document()))
    before = await aiohttp_client(build_app(engine))
    module = write_vendor(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        registry.register(module)
        assert (await before.get(BALANCE.format("A-1"), headers=KEY)).status == 404
        with pytest.raises(registry.RegistryError, match="already registered"):
            registry.register(write_vendor(tmp_path))
    finally:
        registry.unregister("acme")
        sys.path.remove(str(tmp_path))


# --- in fixtures ----------------------------------------------------------------------------------------------

def test_fixtures_accept_its_parts_and_refuse_unknown_keys(acme):
    tenant = fixtures.build(world())
    assert tenant.credentials["acme"] == {"key": "acme-demo-key"}
    assert tenant.setting("acme", "points_label") == "stars"
    assert tenant.member("acme.member", "A-1").id == "alice"
    program = world()["programs"][0]
    program["point_currencies"][0]["external"] = {"acme.currency_code": "PTS"}
    fixtures.build(world(programs=[program]))
    for change, pointer in [
            ({"credentials": {"acme": {"key": "k", "secret": "s"}}}, "/credentials/acme"),
            ({"credentials": {"acme": {}}}, "/credentials/acme"),
            ({"settings": {"acme": {"points_lable": "stars"}}}, "/settings/acme"),
            ({"settings": {"acme": {"points_label": ""}}}, "/settings/acme/points_label")]:
        with pytest.raises(fixtures.FixtureError) as info:
            fixtures.build(world(**change))
        assert [p for p, _ in info.value.errors] == [pointer], info.value.errors
    doc = world()
    doc["members"][0]["identities"]["acme.customer"] = "x"
    with pytest.raises(fixtures.FixtureError, match="acme.customer"):
        fixtures.build(doc)


def test_fixtures_forget_it_once_unregistered(tmp_path):
    module = write_vendor(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        registry.register(module)
        fixtures.validate(world())
    finally:
        registry.unregister("acme")
        sys.path.remove(str(tmp_path))
    with pytest.raises(fixtures.FixtureError):
        fixtures.validate(world())


# --- in the plugin ----------------------------------------------------------------------------------------------

def test_plugin_headers(acme):
    gw = LoyaltyGateway("http://x", "t", {"acme": {"key": "k-1"}, "gameball": GB,
                                         "omneo": {"token": "o"}, "altcraft": {"token": "a"}, "brevo": {"api_key": "b"}})
    assert gw.headers("acme") == {"X-Acme-Key": "k-1", "Accept": "application/json"}
    assert gw.headers("gameball") == GB          # the built-ins as before
    assert gw.headers("omneo") == {"Authorization": "Bearer o", "Accept": "application/json"}
    assert gw.headers("altcraft") == {"Authorization": "Bearer a"}
    assert gw.headers("brevo") == {"api-key": "b"}


USER_CONFTEST = '''
import sys

from gateway.vendors import registry


def pytest_configure(config):
    sys.path.insert(0, {folder!r})
    registry.register({module!r})
'''

USER_TESTS = '''
import json
import urllib.request

WORLD = {{"programs": [{{"id": "p", "money_currency": "EUR", "point_currencies": [{{"id": "pts", "value": "0.01"}}]}}],
         "members": [{{"identities": {{"acme.member": "m-1", "gameball.customer": "c-1"}},
                      "history": [{{"at": "-1d", "credit": 42}}]}}],
         "settings": {{"acme": {{"points_label": "coins"}}}}}}


def send(gw, method, path, vendor, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {{**gw.headers(vendor), **({{"Content-Type": "application/json"}} if data else {{}})}}
    with urllib.request.urlopen(urllib.request.Request(gw.url(path), data=data, method=method, headers=headers)) as r:
        return json.loads(r.read())


def test_acme_through_the_fixture(loyalty_gateway):
    gw = loyalty_gateway
    assert set(gw.credentials) == {{"omneo", "altcraft", "gameball", "brevo", "acme"}}
    gw.load(WORLD)
    assert send(gw, "GET", "/acme/v1/members/m-1/balance", "acme") == {{"memberId": "m-1", "points": 42, "label": "coins"}}
    send(gw, "POST", "/acme/v1/members/m-1/credits", "acme", {{"points": 8, "reference": "r"}})
    assert send(gw, "GET", "/api/v4.0/integrations/customers/c-1/balance", "gameball")["availablePointsBalance"] == 50
    assert gw.views("m-1")["acme"] == {{"memberId": "m-1", "points": 50}}
    gw.fault("acme", "error", case="server_error", times=1)
    try:
        send(gw, "GET", "/acme/v1/members/m-1/balance", "acme")
    except urllib.error.HTTPError as exc:
        assert exc.code == 500
    else:
        raise AssertionError("the fault did not fire")
    assert [e["status"] for e in gw.journal(vendor="acme")][:1] == [500]
'''


def test_a_user_project_registers_it_and_uses_the_fixture(pytester, tmp_path):
    folder = tmp_path / "vendors"
    module = write_vendor(folder)
    pytester.makeconftest(USER_CONFTEST.format(folder=str(folder), module=module))
    pytester.makepyfile(test_acme=USER_TESTS.format())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


# --- the files' vendor parts are the built-ins' descriptors -----------------------------------------------------

def test_the_fixtures_schema_file_is_the_builtins_composition():
    written = json.loads(resources.spec_file("fixtures.schema.json").read_text())
    builtins = [registry.descriptor(n) for n in ("omneo", "altcraft", "gameball", "brevo")]
    assert fixtures.compose(written, builtins) == written


def _without_descriptions(node):
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(v) for v in node]
    return node


def test_admin_yaml_as_filled_for_the_builtins_is_the_file():
    """With the four built-ins the filled vendor lists validate exactly what the file's do."""
    assert registry.names() == ["omneo", "altcraft", "gameball", "brevo"]
    written, filled = specs.load("admin"), admin_module.spec()
    for oid, op in written.operations.items():
        other = filled.operations[oid]
        assert _without_descriptions(other.body_schema) == _without_descriptions(op.body_schema), oid
        assert _without_descriptions(other.responses) == _without_descriptions(op.responses), oid
        assert [_without_descriptions(p.schema) for p in other.params] == \
            [_without_descriptions(p.schema) for p in op.params], oid


def test_a_descriptor_is_checked():
    with pytest.raises(ValueError, match="not `acme.<kind>`"):
        VendorDescriptor(name="acme", spec="a.yaml", path_prefixes=("/a/",), credentials=(Credential("k", "a", "K"),),
                         identities=("gameball.customer",))
    with pytest.raises(ValueError, match="distinct names"):
        VendorDescriptor(name="acme", spec="a.yaml", path_prefixes=("/a/",), credentials=(), identities=())
    with pytest.raises(registry.RegistryError, match="built-in"):
        registry.unregister("gameball")


def test_serve_takes_it_with_the_vendor_option(tmp_path):
    """`loyalty-gateway serve --vendor PACKAGE`, as a process: served beside the four, with fresh credentials."""
    import os
    import re
    import subprocess
    import urllib.request
    module = write_vendor(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", "0", "--quiet", "--vendor", module],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        base = re.search(r"on (http://\S+)$", line.strip()).group(1)

        def http(method, path, body=None, headers=None):
            req = urllib.request.Request(base + path, method=method, headers={"Content-Type": "application/json",
                                                                              **(headers or {})},
                                         data=None if body is None else json.dumps(body).encode())
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())

        assert "acme" in http("GET", "/__admin/health")["vendors"]
        doc = world(tenant="with-acme", clock={"frozen": True})
        doc["credentials"] = {"acme": {"key": "acme-second-key"}}
        created = http("POST", "/__admin/tenants", doc)
        assert created["credentials"]["acme"] == {"key": "acme-second-key"} and set(created["credentials"]) == {
            "omneo", "altcraft", "gameball", "brevo", "acme"}
        assert http("GET", BALANCE.format("A-1"), headers={"X-Acme-Key": "acme-second-key"})["points"] == 1400
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_serve_refuses_a_vendor_it_cannot_import(tmp_path):
    import subprocess
    out = subprocess.run([sys.executable, "-m", "gateway", "serve", "--port", "0", "--vendor", "no_such_vendor_pkg"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("loyalty-gateway: error: --vendor no_such_vendor_pkg: ") and "cannot be imported" in line
