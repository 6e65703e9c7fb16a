"""/__admin as a whole: routes come from specs/admin.yaml, and every answer that is not a success -- an unknown
path, a wrong method, a body that is no JSON, a parameter its schema refuses, a bug -- is the admin envelope
`{error, message, errors}`, never aiohttp's plain text."""
from __future__ import annotations

import json
import re

import pytest

from helpers import ADMIN, DEMO, NOW, TENANT_ROUTES, admin
from gateway import specs

ERROR = specs.compile_schema(ADMIN.operations["get_health"].responses["500"]["application/json"])
_SAMPLE = {"tenant": "demo", "member": "alice", "fault": "1", "vendor": "gameball"}


def sample(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: _SAMPLE[m.group(1)], path)


async def envelope(http, method: str, path: str, status: int, **kw) -> tuple[dict, object]:
    """An error answer outside the operations (or where any operation's error applies): the status, JSON, and
    the body valid against the spec's Error schema."""
    resp = await http.request(method, path, **kw)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = json.loads(await resp.read())
    assert [e.message for e in ERROR.iter_errors(body)] == []
    return body, resp


PATHS = sorted({op.path for op in ADMIN.operations.values()})
GETS = sorted(op.path for op in ADMIN.operations.values() if op.method == "GET")


def methods_of(path: str) -> list[str]:
    served = {op.method for op in ADMIN.operations.values() if op.path == path}
    return sorted(served | ({"HEAD"} if "GET" in served else set()))


# --- unknown paths and methods ---------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/__admin/nope"),
    ("GET", "/__admin"),
    ("GET", "/__admin/"),
    ("POST", "/__admin/health/extra"),
    ("GET", "/__admin/tenants/demo/nothing"),
    ("DELETE", "/__admin/tenants/demo/members/alice/ledger"),
    ("PUT", "/__admin/specs/gameball/raw"),
])
async def test_unknown_admin_path_is_404_in_the_envelope(http, method, path):
    body, _ = await envelope(http, method, path, 404)
    assert body == {"error": "not_found", "message": f"no control-plane route {path}", "errors": []}


async def test_paths_beside_the_admin_prefix_are_not_admin(http):
    resp = await http.get("/__adminx")
    assert resp.status == 404 and "error" not in await resp.json()   # the gateway's own 404, not the admin one


@pytest.mark.parametrize("path", PATHS)
async def test_wrong_method_is_405_with_allow_on_every_admin_path(http, path):
    body, resp = await envelope(http, "PATCH", sample(path), 405)
    allow = ", ".join(methods_of(path))
    assert resp.headers["Allow"] == allow
    assert body == {"error": "method_not_allowed",
                    "message": f"PATCH is not allowed on {sample(path)}; allowed: {allow}", "errors": []}


@pytest.mark.parametrize("method,path,allow", [
    ("DELETE", "/__admin/health", "GET, HEAD"),
    ("PUT", "/__admin/tenants", "GET, HEAD, POST"),
    ("GET", f"{DEMO}", "DELETE"),
    ("GET", f"{DEMO}/reset", "POST"),
    ("POST", f"{DEMO}/clock", "GET, HEAD, PUT"),
    ("GET", f"{DEMO}/faults/1", "DELETE"),
])
async def test_wrong_method_names_the_methods_the_path_serves(http, engine, method, path, allow):
    before = engine.get("demo").now()
    _, resp = await envelope(http, method, path, 405)
    assert resp.headers["Allow"] == allow
    assert [t.id for t in engine] == ["demo"] and engine.get("demo").now() == before


# --- HEAD ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", GETS)
async def test_head_wherever_get(http, path):
    got = await http.get(sample(path))
    head = await http.head(sample(path))
    assert (head.status, head.content_type) == (got.status, got.content_type)
    assert got.status == 200 and await got.read() != b""
    assert await head.read() == b""


async def test_head_on_an_error_and_an_unknown_path_has_no_body(http):
    head = await http.head("/__admin/tenants/nope/clock")
    assert (head.status, await head.read()) == (404, b"")
    head = await http.head("/__admin/nope")
    assert (head.status, head.content_type, await head.read()) == (404, "application/json", b"")


# --- bodies -----------------------------------------------------------------------------------------------------------

BODY_OPS = sorted((op.operation_id, op.method, sample(op.path))
                  for op in ADMIN.operations.values() if op.body_schema is not None)
REQUIRED_BODY_OPS = [r for r in BODY_OPS if ADMIN.operations[r[0]].body_required]


def test_body_operations():
    assert [r[0] for r in BODY_OPS] == ["advance_clock", "arm_fault", "create_tenant", "put_snapshot", "set_clock"]
    assert [r[0] for r in REQUIRED_BODY_OPS] == ["advance_clock", "arm_fault", "put_snapshot", "set_clock"]


@pytest.mark.parametrize("op_id,method,path", BODY_OPS, ids=[r[0] for r in BODY_OPS])
@pytest.mark.parametrize("raw,detail", [
    (b"{nope", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b'{"times": NaN}', "NaN is not JSON"),
    (b'{"probability": Infinity}', "Infinity is not JSON"),
    (b'{"probability": 1e400}', "number out of range: 1e400"),
    (b"\xff\xfe", None),
])
async def test_malformed_json_is_400(http, engine, op_id, method, path, raw, detail):
    body = await admin(http, method, path, 400, data=raw, headers={"Content-Type": "application/json"})
    assert body["error"] == "malformed_body" and body["errors"] == []
    kind = "JSON or YAML" if op_id in ("create_tenant", "put_snapshot") else "JSON"
    assert body["message"].startswith(f"the body is not valid {kind}: ")
    if detail is not None:
        assert body["message"] == f"the body is not valid {kind}: {detail}"
    assert [t.id for t in engine] == ["demo"] and engine.get("demo").now() == NOW


@pytest.mark.parametrize("op_id,method,path", REQUIRED_BODY_OPS, ids=[r[0] for r in REQUIRED_BODY_OPS])
@pytest.mark.parametrize("raw", [b"", b"  \n", b"null"])
async def test_missing_body_is_400(http, op_id, method, path, raw):
    body = await admin(http, method, path, 400, data=raw, headers={"Content-Type": "application/json"})
    assert body == {"error": "missing_body", "message": "a JSON body is required", "errors": []}


@pytest.mark.parametrize("op_id,method,path", BODY_OPS, ids=[r[0] for r in BODY_OPS])
@pytest.mark.parametrize("payload", [[], ["x"], "P1D", 5, True])
async def test_a_body_that_is_no_object_is_422_with_the_operations_code(http, engine, op_id, method, path, payload):
    body = await admin(http, method, path, 422, json=payload)
    assert body == {"error": ADMIN.operations[op_id].spec["x-error-code"],
                    "message": f"the body does not match {op_id}'s schema",
                    "errors": [{"pointer": "/", "message": f"{payload!r} is not of type 'object'"}]}
    assert [t.id for t in engine] == ["demo"] and engine.get("demo").now() == NOW


async def test_yaml_only_where_the_operation_takes_it(http, engine):
    yaml_headers = {"Content-Type": "application/yaml"}
    body = await admin(http, "POST", f"{DEMO}/clock/advance", 400, data=b"by: P1D", headers=yaml_headers)
    assert body["error"] == "malformed_body" and body["message"].startswith("the body is not valid JSON: ")
    assert engine.get("demo").now() == NOW
    body = await admin(http, "POST", "/__admin/tenants", 400, data=b"programs: [", headers=yaml_headers)
    assert body["error"] == "malformed_body"
    assert body["message"].startswith("the body is not valid JSON or YAML: ")


async def test_body_too_large_is_413(http, engine):
    big = json.dumps({"now": "x" * (2 << 20)})
    body = await admin(http, "PUT", f"{DEMO}/clock", 413, data=big, headers={"Content-Type": "application/json"})
    assert body == {"error": "body_too_large", "message": "the body is larger than 1048576 bytes", "errors": []}
    assert engine.get("demo").now() == NOW


# --- parameters ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,pointer,message", [
    ("?vendor=shopify", "/query/vendor", "'shopify' is not one of ['omneo', 'altcraft', 'gameball', 'brevo']"),
    ("?limit=0", "/query/limit", "0 is less than the minimum of 1"),
    ("?limit=ten", "/query/limit", "'ten' is not of type 'integer'"),
    ("?status=0", "/query/status", "0 is less than the minimum of 1"),
])
async def test_query_parameters_are_checked_by_the_spec(http, query, pointer, message):
    body = await admin(http, "GET", f"{DEMO}/journal{query}", 422)
    assert body == {"error": "invalid_query", "message": "the query is not valid",
                    "errors": [{"pointer": pointer, "message": message}]}


@pytest.mark.parametrize("fault", ["abc", "0", "-1", "1.5"])
async def test_a_path_value_its_schema_refuses_names_nothing(http, fault):
    body = await admin(http, "DELETE", f"{DEMO}/faults/{fault}", 404)
    assert body == {"error": "fault_not_found", "message": f"no fault {fault!r}", "errors": []}


async def test_the_tenant_is_looked_up_before_other_path_values(http):
    body = await admin(http, "DELETE", "/__admin/tenants/nope/faults/abc", 404)
    assert body == {"error": "tenant_not_found", "message": "no tenant 'nope'", "errors": []}


# --- a bug ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_bug_is_a_500_in_the_envelope(http, monkeypatch, method):
    from gateway import fixtures

    def boom(tenant):
        raise RuntimeError("bug")
    monkeypatch.setattr(fixtures, "snapshot_head", boom)     # before the first byte of the streamed snapshot
    if method == "HEAD":
        resp = await http.head(f"{DEMO}/snapshot")
        assert (resp.status, resp.content_type, await resp.read()) == (500, "application/json", b"")
        return
    body = await admin(http, "GET", f"{DEMO}/snapshot", 500)
    assert body == {"error": "internal_error", "message": "RuntimeError: bug", "errors": []}


def test_tenant_routes_still_cover_every_tenant_operation():
    assert {r[0] for r in TENANT_ROUTES} == {op.operation_id for op in ADMIN.operations.values()
                                            if "{tenant}" in op.path}
