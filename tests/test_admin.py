"""The /__admin control plane: every answer is checked against specs/admin.yaml (status declared,
body valid, closed objects), and its effects are checked through the vendor dialects and the engine."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import aiohttp
import pytest
import yaml

import gateway
from helpers import ALICE, BOB, GB, NOW
from gateway import specs
from gateway.app import GATEWAY, Config, build_app
from gateway import resources

from helpers import (ADMIN, ALTCRAFT_BALANCE, BREVO_BALANCES, DEMO, FIXTURES, GB_BALANCE, OMNEO_BALANCE, TENANT_ROUTES,
                     _BODIES, _YAML, admin, arm, credit, faults, gb_balance, pointers, z)


# --- the document itself ----------------------------------------------------------------------------------

async def test_every_admin_route_is_documented(client):
    """The routes are the spec's operations, HEAD beside each GET, and one catch-all (any method) last."""
    app = client._client.server.app
    admin_routes = [(r.method, r.resource.canonical) for r in app.router.routes()
                    if r.resource is not None and r.resource.canonical.startswith("/__admin")]
    documented = {(op.method, op.path) for op in ADMIN.operations.values()}
    heads = {("HEAD", path) for method, path in documented if method == "GET"}
    assert admin_routes[-1] == ("*", "/__admin{tail}")
    assert set(admin_routes[:-1]) == documented | heads
    assert len(admin_routes) == len(documented) + len(heads) + 1


def test_every_operation_has_its_handler():
    from gateway import admin as admin_module
    for op in ADMIN.operations.values():
        assert op.handler == op.operation_id
        assert callable(getattr(admin_module, op.operation_id)), op.operation_id


def test_every_validated_operation_names_its_error_code():
    """An operation that takes a body or query parameters says which code its schema violations get, and its
    422 response shows that code."""
    checked = set()
    for op in ADMIN.operations.values():
        if op.body_schema is None and not op.params_in("query"):
            assert "x-error-code" not in op.spec, op.operation_id
            continue
        code = op.spec["x-error-code"]
        response = op.spec["responses"]["422"]["content"]["application/json"]
        examples = [response["example"]] if "example" in response else [e["value"] for e in response["examples"].values()]
        assert {e["error"] for e in examples} == {code}, op.operation_id
        checked.add(op.operation_id)
    assert checked == {"create_tenant", "put_snapshot", "get_journal", "get_member", "list_members", "set_clock",
                       "advance_clock", "arm_fault"}


def _examples(content: dict):
    for media, m in (content or {}).items():
        if "example" in m:
            yield media, m["schema"], m["example"]
        for name, ex in (m.get("examples") or {}).items():
            yield media, m["schema"], ex["value"]


def test_spec_examples_match_their_schemas():
    checked = 0
    for op in ADMIN.operations.values():
        contents = [(f"{op.operation_id} request", (op.spec.get("requestBody") or {}).get("content"))]
        contents += [(f"{op.operation_id} {status}", r.get("content")) for status, r in op.spec["responses"].items()]
        for where, content in contents:
            for media, schema, example in _examples(content):
                errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                          for e in specs.compile_schema(schema).iter_errors(example)]
                assert errors == [], f"{where} {media} example: {errors}"
                checked += 1
    assert checked >= 25


async def test_openapi_document_is_served(http):
    text = await admin(http, "GET", "/__admin/openapi.yaml", 200)
    assert text == resources.spec_file("admin.yaml").read_text()
    assert yaml.load(text, Loader=_YAML)["openapi"] == "3.1.0"


# --- health and specs ---------------------------------------------------------------------------------------

async def test_health(http, store):
    body = await admin(http, "GET", "/__admin/health", 200)
    assert body["version"] == gateway.__version__ != ""
    where = {"kind": "memory"} if store is None else {"kind": "sqlite", "path": store.path, "schema": 1,
                                                      "sync": "normal"}
    assert body == {"status": "ok", "version": gateway.__version__, "tenants": 1,
                    "vendors": {v: specs.get(v).version for v in ("omneo", "altcraft", "gameball", "brevo")},
                    "store": where, "workers": 1}


async def test_specs_list(http):
    body = await admin(http, "GET", "/__admin/specs", 200)
    assert [s["vendor"] for s in body["specs"]] == ["omneo", "altcraft", "gameball", "brevo"]
    for s in body["specs"]:
        spec = specs.get(s["vendor"])
        assert s["version"] == spec.version != ""
        assert s["operations"] == len(spec.operations) > 0
        assert s["title"] == spec.document["info"]["title"]
        assert s["url"] == f"/__admin/specs/{s['vendor']}"


async def test_one_spec_is_served(http):
    text = await admin(http, "GET", "/__admin/specs/gameball", 200)
    assert text == resources.spec_file("gameball.yaml").read_text()
    doc = yaml.load(text, Loader=_YAML)
    assert doc["paths"]["/api/v4.0/integrations/customers/{customerId}/balance"]["get"]["operationId"] \
        == "get_customer_balance"


async def test_unknown_vendor_spec(http):
    body = await admin(http, "GET", "/__admin/specs/shopify", 404)
    assert body["error"] == "vendor_not_found" and body["errors"] == []


# --- tenants ----------------------------------------------------------------------------------------------------

async def test_new_demo_tenant_credentials_work_for_all_four_vendors(client, http):
    created = await admin(http, "POST", "/__admin/tenants", 201)
    tid, creds = created["tenant"], created["credentials"]
    assert re.fullmatch(r"t-[0-9a-f]{12}", tid)
    assert creds["gameball"]["apikey"] != GB["apikey"] and creds["omneo"]["token"] != "demo-omneo-token"
    tenants = await admin(http, "GET", "/__admin/tenants", 200)
    assert {t["tenant"]: t["members"] for t in tenants["tenants"]} == {"demo": 2, tid: 2}
    assert (await admin(http, "GET", "/__admin/health", 200))["tenants"] == 2

    status, body = await gb_balance(client, headers={"apikey": creds["gameball"]["apikey"],
                                                     "secretkey": creds["gameball"]["secretkey"]})
    assert (status, body["availablePointsBalance"], body["pendingPoints"]) == (200, 1400, 400)
    r = await client.get(OMNEO_BALANCE.format(ALICE["omneo"]),
                         headers={"Authorization": f"Bearer {creds['omneo']['token']}", "Accept": "application/json"})
    assert r.status == 200 and (await r.json())["data"]["point_balance"] == 1400
    r = await client.post(ALTCRAFT_BALANCE, json={"token": creds["altcraft"]["token"], "loyalty_program_id": 123,
                                                  "points_currency_eid": "starts", "matching": "email",
                                                  "email": ALICE["email"]})
    assert r.status == 200 and (await r.json())["data"]["active_balance"] == "1400.00"
    r = await client.get(BREVO_BALANCES.format(ALICE["brevo"]), headers={"api-key": creds["brevo"]["api_key"]})
    assert r.status == 200 and (await r.json())["balance"][0]["value"] == 1400


async def test_tenants_are_isolated(client, http, engine):
    created = await admin(http, "POST", "/__admin/tenants", 201)
    tid, gb = created["tenant"], created["credentials"]["gameball"]
    new_headers = {"apikey": gb["apikey"], "secretkey": gb["secretkey"]}

    credit(engine.get(tid), "gameball.customer", ALICE["gameball"], "100")
    assert (await gb_balance(client, headers=new_headers))[1]["availablePointsBalance"] == 1500
    assert (await gb_balance(client, headers=GB))[1]["availablePointsBalance"] == 1400

    credit(engine.get("demo"), "gameball.customer", ALICE["gameball"], "7")
    assert (await gb_balance(client, headers=GB))[1]["availablePointsBalance"] == 1407
    assert (await gb_balance(client, headers=new_headers))[1]["availablePointsBalance"] == 1500

    # one tenant's apikey with the other's secretkey opens nothing
    status, body = await gb_balance(client, headers={"apikey": gb["apikey"], "secretkey": GB["secretkey"]})
    assert (status, body["code"]) == (401, 1001)
    # each tenant journals its own calls only
    demo_journal = await admin(http, "GET", f"{DEMO}/journal", 200)
    new_journal = await admin(http, "GET", f"/__admin/tenants/{tid}/journal", 200)
    assert [e["status"] for e in demo_journal["entries"]] == [200, 200]
    assert [e["status"] for e in new_journal["entries"]] == [200, 200]   # the 401 resolved no tenant


@pytest.mark.parametrize("encoding", ["json", "yaml"])
async def test_new_tenant_from_a_fixtures_document(client, http, encoding):
    if encoding == "json":
        kw = {"json": FIXTURES}
    else:
        kw = {"data": yaml.safe_dump(FIXTURES), "headers": {"Content-Type": "application/yaml"}}
    created = await admin(http, "POST", "/__admin/tenants", 201, **kw)
    base = f"/__admin/tenants/{created['tenant']}"
    members = await admin(http, "GET", f"{base}/members", 200)
    assert members == {"members": [{"id": "carol", "identities": {"gameball.customer": "carol-1",
                                                                   "brevo.contact": "31"}, "active": True}]}
    carol = await admin(http, "GET", f"{base}/members/carol-1", 200)
    assert carol["program"] == "shop" and list(carol["ledger"]) == ["stars"]
    assert carol["ledger"]["stars"]["balance"]["available"] == "200.00"
    assert (await admin(http, "GET", f"{base}/clock", 200))["now"] == z(NOW)
    gb = created["credentials"]["gameball"]
    status, body = await gb_balance(client, "carol-1", headers={"apikey": gb["apikey"], "secretkey": gb["secretkey"]})
    assert (status, body["availablePointsBalance"], body["currency"], body["pointsName"]) == (200, 200, "EUR", "Stars")
    # the demo members are not in it
    assert (await admin(http, "GET", f"{base}/members/alice", 404))["error"] == "member_not_found"


def _with(path: str, value):
    doc = json.loads(json.dumps(FIXTURES))
    *parents, last = path.strip("/").split("/")
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return doc


@pytest.mark.parametrize("doc,pointer", [
    (_with("/programs/0/point_currencies/0/value", "abc"), "/programs/0/point_currencies/0/value"),
    (_with("/programs/0/money_currency", "euro"), "/programs/0/money_currency"),
    (_with("/programs", KeyError), "/"),
    (_with("/members/0/identities/shoe.size", "42"), "/members/0/identities"),
    (_with("/members/0/history/0/at", "+1d"), "/members/0/history/0/at"),
    (_with("/members/0/history/1/debit", 9999), "/members/0/history/1"),
])
async def test_malformed_fixtures_name_the_pointer(http, doc, pointer):
    body = await admin(http, "POST", "/__admin/tenants", 422, json=doc)
    assert body["error"] == "invalid_fixtures"
    assert pointer in pointers(body), body
    assert (await admin(http, "GET", "/__admin/health", 200))["tenants"] == 1


@pytest.mark.parametrize("kw,status,code", [
    ({"data": b"{nope", "headers": {"Content-Type": "application/json"}}, 400, "malformed_body"),
    ({"data": b"programs: [", "headers": {"Content-Type": "application/yaml"}}, 400, "malformed_body"),
    ({"json": [1]}, 422, "invalid_fixtures"),
    ({"json": "demo"}, 422, "invalid_fixtures"),
])
async def test_create_tenant_with_a_body_that_is_no_document(http, kw, status, code):
    body = await admin(http, "POST", "/__admin/tenants", status, **kw)
    assert body["error"] == code
    assert (await admin(http, "GET", "/__admin/health", 200))["tenants"] == 1


async def test_create_tenant_with_an_empty_list_is_refused(http):
    body = await admin(http, "POST", "/__admin/tenants", 422, json=[])
    assert body == {"error": "invalid_fixtures", "message": "the body does not match create_tenant's schema",
                    "errors": [{"pointer": "/", "message": "[] is not of type 'object'"}]}
    assert (await admin(http, "GET", "/__admin/health", 200))["tenants"] == 1


async def test_delete_tenant(client, http):
    created = await admin(http, "POST", "/__admin/tenants", 201)
    base = f"/__admin/tenants/{created['tenant']}"
    gb = created["credentials"]["gameball"]
    assert await admin(http, "DELETE", base, 204) is None
    assert (await admin(http, "DELETE", base, 404))["error"] == "tenant_not_found"
    assert (await admin(http, "GET", f"{base}/clock", 404))["error"] == "tenant_not_found"
    status, body = await gb_balance(client, headers={"apikey": gb["apikey"], "secretkey": gb["secretkey"]})
    assert (status, body["code"]) == (401, 1000)
    assert [t["tenant"] for t in (await admin(http, "GET", "/__admin/tenants", 200))["tenants"]] == ["demo"]


@pytest.mark.parametrize("op_id,method,path", TENANT_ROUTES, ids=[r[0] for r in TENANT_ROUTES])
async def test_unknown_tenant_on_every_tenant_route(http, op_id, method, path):
    body = await admin(http, method, path, 404, **_BODIES.get(op_id, {}))
    assert body == {"error": "tenant_not_found", "message": "no tenant 'nope'", "errors": []}


def test_every_tenant_route_is_covered():
    assert len(TENANT_ROUTES) == 16


# --- reset and snapshots ------------------------------------------------------------------------------------------

def _ledger(member_body, ids: bool = True) -> dict:
    """What must survive a snapshot round trip (record ids too) or a reset (figures only: ids are new)."""
    led = member_body["ledger"]["points"]
    strip = (lambda r: r) if ids else (lambda r: {k: v for k, v in r.items() if k not in ("id", "entry_id")})
    return {"balance": led["balance"], "entries": len(led["entries"]), "holds": [strip(h) for h in led["holds"]],
            "lots": [strip(l) for l in led["lots"]], "totals": led["totals"]}


async def test_reset_restores_fixtures_and_clock(client, http, engine):
    before = _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200), ids=False)
    await gb_balance(client)
    credit(engine.get("demo"), "gameball.customer", ALICE["gameball"], "300")
    await admin(http, "POST", f"{DEMO}/clock/advance", 200, json={"by": "P30D"})
    changed = _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200), ids=False)
    assert changed["entries"] == 7 and changed != before

    body = await admin(http, "POST", f"{DEMO}/reset", 200)
    assert body == {"tenant": "demo", "now": z(NOW)}
    assert await admin(http, "GET", f"{DEMO}/clock", 200) == {"now": z(NOW), "frozen": True,
                                                               "earliest": z(NOW - timedelta(days=5))}
    assert _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200), ids=False) == before
    # same credentials; the journal is kept
    assert (await gb_balance(client))[1]["availablePointsBalance"] == 1400
    assert (await admin(http, "GET", f"{DEMO}/journal", 200))["count"] == 2


async def test_snapshot_then_changes_then_put_restores_the_state(client, http, engine):
    snap = await admin(http, "GET", f"{DEMO}/snapshot", 200)
    assert snap["tenant"] == "demo" and snap["clock"] == {"now": NOW.isoformat(), "frozen": True}
    before = _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200))
    assert before["holds"] == [] and before["entries"] == 6

    tenant = engine.get("demo")
    credit(tenant, "gameball.customer", ALICE["gameball"], "50")
    alice = tenant.member("gameball.customer", ALICE["gameball"])
    tenant.hold(alice, tenant.program("main").default_currency, Decimal("100"))
    await admin(http, "POST", f"{DEMO}/clock/advance", 200, json={"by": "PT1M"})
    changed = _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200))
    assert (changed["entries"], len(changed["holds"]), changed["balance"]["available"]) == (7, 1, "1350.00")

    body = await admin(http, "PUT", f"{DEMO}/snapshot", 200, json=snap)
    assert body == {"tenant": "demo", "now": z(NOW)}
    assert _ledger(await admin(http, "GET", f"{DEMO}/members/alice", 200)) == before
    assert (await admin(http, "GET", f"{DEMO}/clock", 200))["now"] == z(NOW)
    assert (await gb_balance(client))[1]["availablePointsBalance"] == 1400


async def test_put_a_fixtures_document_loads_it(http):
    await admin(http, "PUT", f"{DEMO}/snapshot", 200, json=FIXTURES)
    members = await admin(http, "GET", f"{DEMO}/members", 200)
    assert [m["id"] for m in members["members"]] == ["carol"]
    # reset goes back to the fixtures the tenant was created from
    await admin(http, "POST", f"{DEMO}/reset", 200)
    assert [m["id"] for m in (await admin(http, "GET", f"{DEMO}/members", 200))["members"]] == ["alice", "bob"]


@pytest.mark.parametrize("kind", ["programs", "store", "array", "text", "empty"])
async def test_snapshot_put_of_garbage(client, http, kind):
    snap = await admin(http, "GET", f"{DEMO}/snapshot", 200)
    if kind == "programs":
        body = await admin(http, "PUT", f"{DEMO}/snapshot", 422, json={"programs": "x"})
        assert pointers(body) == ["/programs"]
    elif kind == "store":
        snap["state"]["store"] = {"garbage": 1}
        body = await admin(http, "PUT", f"{DEMO}/snapshot", 422, json=snap)
        assert pointers(body) == ["/state/store"]
    elif kind == "array":
        body = await admin(http, "PUT", f"{DEMO}/snapshot", 422, json=[snap])
    elif kind == "text":
        body = await admin(http, "PUT", f"{DEMO}/snapshot", 400, data=b"garbage",
                           headers={"Content-Type": "application/json"})
    else:
        body = await admin(http, "PUT", f"{DEMO}/snapshot", 400)
        assert body["error"] == "missing_body"
    assert (await gb_balance(client))[1]["availablePointsBalance"] == 1400


def _corrupt(snap: dict, what: str) -> dict:
    if what == "decimal":
        snap["state"]["store"]["totals"][0][2]["earned"] = {"$d": "zz"}
    else:
        snap["state"]["high_water"] = "garbage"
    return snap


@pytest.mark.parametrize("what", ["decimal", "high_water"])
async def test_snapshot_put_of_corrupt_state(http, what):
    snap = await admin(http, "GET", f"{DEMO}/snapshot", 200)
    body = await admin(http, "PUT", f"{DEMO}/snapshot", 422, json=_corrupt(snap, what))
    assert body["error"] == "invalid_fixtures" and pointers(body)[0].startswith("/state")


# --- members ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", [ALICE["omneo"], ALICE["gameball"], ALICE["email"], str(ALICE["brevo"]), "alice"],
                         ids=["omneo-uuid", "gameball-id", "email", "brevo-contact", "member-id"])
async def test_member_by_each_identity(http, ref):
    body = await admin(http, "GET", f"{DEMO}/members/{ref}", 200)
    assert (body["id"], body["program"], body["active"]) == ("alice", "main", True)
    assert body["identities"] == {
        "omneo.profile": ALICE["omneo"], "gameball.customer": ALICE["gameball"], "altcraft.email": ALICE["email"],
        "altcraft.phone": "+1234567890", "altcraft.profile_id": "profile123", "altcraft.field.user_id": "123456",
        "brevo.contact": "17", "brevo.subscription": "cust_abc123"}
    assert body["joined_at"] == z(NOW - timedelta(days=500))
    led = body["ledger"]["points"]
    b = led["balance"]
    assert (b["available"], b["pending"], b["total"], b["lifetime_earned"]) == ("1400.00", "400.00", "1800.00",
                                                                                 "2400.00")
    assert Decimal(b["held"]) == 0
    assert (b["next_expiring_amount"], b["next_expiring_at"]) == ("200.00", z(NOW + timedelta(days=45)))
    t = led["totals"]
    assert (t["earned"], t["spent"], t["expired"]) == ("2400.00", "100.00", "500.00")
    live = [l for l in led["lots"] if Decimal(l["remaining"]) > 0]
    assert sorted(l["remaining"] for l in live) == ["1200.00", "200.00", "400.00"]
    assert [(e["kind"], e["amount"]) for e in led["entries"]] == [
        ("credit", "500.00"), ("credit", "300.00"), ("credit", "1200.00"), ("expire", "500.00"),
        ("debit", "100.00"), ("credit", "400.00")]
    assert led["holds"] == []
    assert [(r["definition_id"], r["value_remaining"]) for r in body["rewards"]] == [(7, "5"), (6, "10")]
    assert set(body["views"]) == {"omneo", "altcraft", "gameball", "brevo"}


async def test_members_list(http):
    body = await admin(http, "GET", f"{DEMO}/members", 200)
    assert [(m["id"], m["identities"]["gameball.customer"]) for m in body["members"]] == [
        ("alice", ALICE["gameball"]), ("bob", BOB["gameball"])]


@pytest.mark.parametrize("ref", ["nobody", "user-999", "99"])
async def test_unknown_member(http, ref):
    body = await admin(http, "GET", f"{DEMO}/members/{ref}", 404)
    assert body["error"] == "member_not_found" and body["errors"] == []


# --- journal -----------------------------------------------------------------------------------------------------------

async def _three_calls(client):
    assert (await gb_balance(client))[0] == 200
    assert (await gb_balance(client, "nobody"))[0] == 404
    assert (await gb_balance(client, query="?expand=wallet"))[0] == 422


async def test_journal_records_vendor_calls(client, http):
    await _three_calls(client)
    body = await admin(http, "GET", f"{DEMO}/journal", 200)
    assert body["count"] == 3
    assert [(e["status"], e["path"]) for e in body["entries"]] == [
        (422, GB_BALANCE.format(ALICE["gameball"])), (404, GB_BALANCE.format("nobody")),
        (200, GB_BALANCE.format(ALICE["gameball"]))]
    for e in body["entries"]:
        assert (e["vendor"], e["operation"], e["method"], e["at"]) == ("gameball", "get_customer_balance", "GET",
                                                                       z(NOW))
        assert e["duration_ms"] >= 0 and e["response_violations"] == []
    invalid, missing, ok = body["entries"]
    assert [v["pointer"] for v in invalid["request_violations"]] == ["/query/expand"]
    assert invalid["request_violations"][0]["keyword"] == "pattern"
    assert missing["request_violations"] == [] and ok["request_violations"] == []
    assert ok["id"] < missing["id"] < invalid["id"]


@pytest.mark.parametrize("query,statuses", [
    ("?vendor=gameball", [422, 404, 200]),
    ("?vendor=omneo", []),
    ("?operation=get_customer_balance", [422, 404, 200]),
    ("?operation=track_order", []),
    ("?status=404", [404]),
    ("?status=201", []),
    ("?limit=1", [422]),
    ("?limit=2", [422, 404]),
    ("?vendor=gameball&operation=get_customer_balance&status=200&limit=5", [200]),
])
async def test_journal_filters(client, http, query, statuses):
    await _three_calls(client)
    body = await admin(http, "GET", f"{DEMO}/journal{query}", 200)
    assert [e["status"] for e in body["entries"]] == statuses and body["count"] == len(statuses)


@pytest.mark.parametrize("query", ["?limit=0", "?limit=-1", "?limit=ten", "?status=ok"])
async def test_journal_bad_query(http, query):
    body = await admin(http, "GET", f"{DEMO}/journal{query}", 422)
    assert body["error"] == "invalid_query"


async def test_journal_clear(client, http):
    await _three_calls(client)
    assert await admin(http, "DELETE", f"{DEMO}/journal", 204) is None
    assert await admin(http, "GET", f"{DEMO}/journal", 200) == {"entries": [], "count": 0}
    await gb_balance(client)
    assert [e["status"] for e in (await admin(http, "GET", f"{DEMO}/journal", 200))["entries"]] == [200]


async def test_journal_is_bounded(aiohttp_client, engine):
    http = await aiohttp_client(build_app(engine, Config(journal_size=3, validate_responses=True)))
    for customer in ("user-123", "user-456", "nobody", "user-123", "user-456"):
        await http.get(GB_BALANCE.format(customer), headers=GB)
    body = await admin(http, "GET", f"{DEMO}/journal", 200)
    assert [(e["id"], e["path"]) for e in body["entries"]] == [
        (5, GB_BALANCE.format("user-456")), (4, GB_BALANCE.format("user-123")), (3, GB_BALANCE.format("nobody"))]


async def test_journal_skips_calls_no_tenant_owns(client, http):
    await gb_balance(client, headers={"apikey": "nobody-knows", "secretkey": "x"})
    assert (await admin(http, "GET", f"{DEMO}/journal", 200))["count"] == 0


# --- clock ---------------------------------------------------------------------------------------------------------------

async def test_clock_get(http):
    body = await admin(http, "GET", f"{DEMO}/clock", 200)
    # the latest history event of the demo world is alice's credit five days ago
    assert body == {"now": z(NOW), "frozen": True, "earliest": z(NOW - timedelta(days=5))}


async def test_clock_put_now_and_frozen(http, engine):
    body = await admin(http, "PUT", f"{DEMO}/clock", 200, json={"now": "+1d"})
    assert (body["now"], body["frozen"]) == (z(NOW + timedelta(days=1)), True)
    at = NOW + timedelta(days=20, hours=3)
    body = await admin(http, "PUT", f"{DEMO}/clock", 200, json={"now": z(at), "frozen": True})
    assert (body["now"], body["frozen"]) == (z(at), True)
    assert engine.get("demo").now() == at
    body = await admin(http, "PUT", f"{DEMO}/clock", 200, json={"frozen": False})
    assert body["frozen"] is False and not engine.get("demo").clock.frozen
    assert engine.get("demo").now() >= at
    body = await admin(http, "PUT", f"{DEMO}/clock", 200, json={"now": z(NOW), "frozen": True})
    assert body == {"now": z(NOW), "frozen": True, "earliest": z(NOW - timedelta(days=5))}


async def test_advance_makes_pending_points_available(client, http, tenant):
    status, before = await gb_balance(client)
    assert (before["availablePointsBalance"], before["pendingPoints"]) == (1400, 400)
    written = tenant.high_water         # the last instant history was written at (a read writes none)
    assert written is not None and written < NOW
    body = await admin(http, "POST", f"{DEMO}/clock/advance", 200, json={"by": "P14D"})
    assert body == {"now": z(NOW + timedelta(days=14)), "frozen": True, "earliest": z(written)}
    status, after = await gb_balance(client)
    assert (after["availablePointsBalance"], after["pendingPoints"], after["totalPointsBalance"]) == (1800, 0, 1800)


@pytest.mark.parametrize("by", ["14 days", "P", "PT", "P1DT", "", "p 14d", 14, None])
async def test_advance_refuses_what_is_no_duration(http, engine, by):
    body = await admin(http, "POST", f"{DEMO}/clock/advance", 422, json={"by": by})
    assert body["error"] == "invalid_duration"
    assert engine.get("demo").now() == NOW


async def test_advance_needs_by(http):
    assert (await admin(http, "POST", f"{DEMO}/clock/advance", 422, json={"for": "P1D"}))["error"] == "invalid_duration"
    assert (await admin(http, "POST", f"{DEMO}/clock/advance", 400))["error"] == "missing_body"


@pytest.mark.parametrize("payload", [{}, {"frozen": "yes"}, {"now": "tomorrow"}, {"later": 1}, ["now"],
                                     {"now": z(NOW), "zone": "UTC"}])
async def test_clock_put_refuses_what_is_no_clock(http, engine, payload):
    body = await admin(http, "PUT", f"{DEMO}/clock", 422, json=payload)
    assert body["error"] == "invalid_clock"
    assert engine.get("demo").now() == NOW and engine.get("demo").clock.frozen


async def _refused(http, method, path, payload):
    """A 409 for a clock move before history; the body is checked against the spec separately (xfail below)."""
    resp = await http.request(method, path, json=payload)
    body = await resp.json()
    assert resp.status == 409, body
    assert (body["error"], body["message"]) == ("invalid_time", "the clock cannot go back before recorded history")
    return body


async def test_clock_cannot_go_back_before_history(http, engine):
    # the demo world's history ends at NOW-5d: earlier is refused, later is fine
    await _refused(http, "PUT", f"{DEMO}/clock", {"now": z(NOW - timedelta(days=6))})
    assert (await admin(http, "GET", f"{DEMO}/clock", 200))["now"] == z(NOW)
    body = await admin(http, "PUT", f"{DEMO}/clock", 200, json={"now": z(NOW - timedelta(days=3))})
    assert body["now"] == z(NOW - timedelta(days=3))
    await admin(http, "PUT", f"{DEMO}/clock", 200, json={"now": z(NOW)})
    # a write at NOW moves the earliest allowed instant to NOW
    credit(engine.get("demo"), "gameball.customer", ALICE["gameball"], "10")
    assert (await admin(http, "GET", f"{DEMO}/clock", 200))["earliest"] == z(NOW)
    await _refused(http, "PUT", f"{DEMO}/clock", {"now": z(NOW - timedelta(days=1))})
    await _refused(http, "PUT", f"{DEMO}/clock", {"now": "-1s", "frozen": False})
    await _refused(http, "POST", f"{DEMO}/clock/advance", {"by": "-P1D"})
    assert await admin(http, "GET", f"{DEMO}/clock", 200) == {"now": z(NOW), "frozen": True, "earliest": z(NOW)}


async def test_clock_conflict_body_follows_the_error_schema(http):
    body = await admin(http, "PUT", f"{DEMO}/clock", 409, json={"now": z(NOW - timedelta(days=6))})
    assert pointers(body) == ["/now"]


@pytest.mark.parametrize("by", ["P999999Y", "P999999999D"])
async def test_advance_out_of_range(http, engine, by):
    body = await admin(http, "POST", f"{DEMO}/clock/advance", 422, json={"by": by})
    assert body["error"] == "invalid_duration"
    assert engine.get("demo").now() == NOW


# --- faults -----------------------------------------------------------------------------------------------------------------

async def test_error_fault_fires_once(client, http):
    fault = await arm(http, vendor="gameball", kind="error", case="rate_limit", times=1)
    assert fault == {"id": fault["id"], "vendor": "gameball", "operation": None, "kind": "error", "latency_ms": None,
                     "case": "rate_limit", "status": 429, "times": 1, "probability": None, "fired": 0}
    status, body = await gb_balance(client)
    assert status == 429
    assert set(body) == {"code", "type", "message", "documentationUrl", "requestId"}
    assert (body["code"], body["type"]) == (4029, "GENERAL_ERROR")
    status, body = await gb_balance(client)
    assert (status, body["availablePointsBalance"]) == (200, 1400)
    assert await faults(http) == []
    journal = await admin(http, "GET", f"{DEMO}/journal", 200)
    assert [e["status"] for e in journal["entries"]] == [200, 429]


async def test_latency_fault(client, http):
    fault = await arm(http, vendor="gameball", operation="get_customer_balance", kind="latency", latency_ms=50,
                      times=1)
    assert (fault["latency_ms"], fault["times"]) == ([50, 50], 1)
    status, body = await gb_balance(client)
    assert (status, body["availablePointsBalance"]) == (200, 1400)
    entry = (await admin(http, "GET", f"{DEMO}/journal?limit=1", 200))["entries"][0]
    assert entry["status"] == 200 and entry["duration_ms"] >= 50
    assert await faults(http) == []


async def test_drop_fault(client, http):
    await arm(http, vendor="gameball", kind="drop", times=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(GB_BALANCE.format(ALICE["gameball"]), headers=GB)
    assert (await gb_balance(client))[0] == 200
    assert await faults(http) == []


async def test_fault_with_probability_one_fires_every_time(client, http):
    fault = await arm(http, vendor="gameball", kind="error", case="server_error", probability=1.0, seed=7)
    assert (fault["probability"], fault["times"]) == (1.0, None)
    for _ in range(3):
        status, body = await gb_balance(client)
        assert (status, body["code"], body["type"]) == (500, 5000, "SERVER_ERROR")
    assert [(f["id"], f["fired"]) for f in await faults(http)] == [(fault["id"], 3)]


async def test_fault_on_one_operation_spares_the_others(client, http):
    await arm(http, vendor="gameball", operation="get_customer_balance", kind="error", case="unavailable")
    await arm(http, vendor="omneo", kind="error", case=sorted(client._client.server.app[GATEWAY]
                                                              .vendors["omneo"].fault_cases)[0])
    # another Gameball operation is not hit (whatever it answers, it is not the armed 503/5003)
    r = await http.get("/api/v4.0/integrations/transactions/hold/no-such-hold", headers=GB)
    assert r.status != 503 and (await r.json()).get("code") != 5003
    assert [f["fired"] for f in await faults(http)] == [0, 0]
    status, body = await gb_balance(client)
    assert (status, body["code"]) == (503, 5003)
    assert [f["fired"] for f in await faults(http)] == [1, 0]


async def test_faults_are_per_tenant(client, http):
    created = await admin(http, "POST", "/__admin/tenants", 201)
    await admin(http, "POST", f"/__admin/tenants/{created['tenant']}/faults", 201,
                json={"vendor": "gameball", "kind": "error", "case": "rate_limit"})
    assert (await gb_balance(client))[0] == 200
    assert await faults(http) == []


async def test_list_and_disarm_faults(client, http):
    a = await arm(http, vendor="gameball", kind="error", case="rate_limit")
    b = await arm(http, vendor="brevo", kind="latency", latency_ms=[1, 2])
    c = await arm(http, vendor="omneo", kind="drop", times=2)
    assert [f["id"] for f in await faults(http)] == [a["id"], b["id"], c["id"]]
    assert b["latency_ms"] == [1, 2]
    assert await admin(http, "DELETE", f"{DEMO}/faults/{a['id']}", 204) is None
    assert [f["id"] for f in await faults(http)] == [b["id"], c["id"]]
    assert (await gb_balance(client))[0] == 200
    assert (await admin(http, "DELETE", f"{DEMO}/faults/{a['id']}", 404))["error"] == "fault_not_found"
    assert (await admin(http, "DELETE", f"{DEMO}/faults/999", 404))["error"] == "fault_not_found"
    resp = await http.delete(f"{DEMO}/faults/abc")
    assert resp.status == 404 and (await resp.json())["error"] == "fault_not_found"
    assert await admin(http, "DELETE", f"{DEMO}/faults", 204) is None
    assert await faults(http) == []


@pytest.mark.parametrize("fault,expected", [
    ({"vendor": "shopify", "kind": "drop"}, ["/vendor"]),
    ({"kind": "drop"}, ["/vendor"]),
    ({"vendor": "gameball", "operation": "get_balance", "kind": "drop"}, ["/operation"]),
    ({"vendor": "gameball", "operation": "get_profile_balances", "kind": "drop"}, ["/operation"]),
    ({"vendor": "gameball", "kind": "error", "case": "teapot"}, ["/case"]),
    ({"vendor": "gameball", "kind": "error"}, ["/case"]),
    ({"vendor": "gameball", "kind": "explode"}, ["/kind"]),
    ({"vendor": "gameball"}, ["/kind"]),
    ({"vendor": "gameball", "kind": "latency"}, ["/latency_ms"]),
    ({"vendor": "gameball", "kind": "latency", "latency_ms": [50, 10]}, ["/latency_ms"]),
    ({"vendor": "gameball", "kind": "latency", "latency_ms": 60001}, ["/latency_ms"]),
    ({"vendor": "gameball", "kind": "drop", "times": 0}, ["/times"]),
    ({"vendor": "gameball", "kind": "drop", "times": True}, ["/times"]),
    ({"vendor": "gameball", "kind": "drop", "times": 1.5}, ["/times"]),
    ({"vendor": "gameball", "kind": "drop", "probability": 2}, ["/probability"]),
    ({"vendor": "gameball", "kind": "drop", "probability": 0}, ["/probability"]),
    ({"vendor": "gameball", "kind": "drop", "probability": "1"}, ["/probability"]),
    ({"vendor": "nope", "operation": "x", "kind": "z", "times": 0, "probability": 2},
     ["/kind", "/probability", "/times", "/vendor"]),
])
async def test_invalid_fault_arms_nothing(client, http, fault, expected):
    body = await admin(http, "POST", f"{DEMO}/faults", 422, json=fault)
    assert body["error"] == "invalid_fault"
    assert pointers(body) == expected
    assert await faults(http) == []
    assert (await gb_balance(client))[0] == 200


async def test_fault_body_must_be_an_object(http):
    assert (await admin(http, "POST", f"{DEMO}/faults", 422, json=["drop"]))["error"] == "invalid_fault"
    assert (await admin(http, "POST", f"{DEMO}/faults", 400))["error"] == "missing_body"
    assert await faults(http) == []


async def test_invalid_seed_arms_nothing(http):
    body = await admin(http, "POST", f"{DEMO}/faults", 422,
                       json={"vendor": "gameball", "kind": "drop", "probability": 0.5, "seed": {"a": 1}})
    assert pointers(body) == ["/seed"]
    assert await faults(http) == []


@pytest.mark.parametrize("fault,pointer", [
    ({"vendor": ["gameball"], "kind": "drop"}, "/vendor"),
    ({"vendor": "gameball", "operation": ["get_customer_balance"], "kind": "drop"}, "/operation"),
    ({"vendor": "gameball", "kind": "error", "case": {"rate": "limit"}}, "/case"),
])
async def test_unhashable_fault_fields_are_422(http, fault, pointer):
    body = await admin(http, "POST", f"{DEMO}/faults", 422, json=fault)
    assert pointers(body) == [pointer]


# --- the journal marks the calls a fault fired on ----------------------------------------------------------------------------

async def test_journal_marks_each_call_a_fault_fired_on(client, http):
    error = await arm(http, vendor="gameball", kind="error", status=429, times=1)
    assert (await gb_balance(client))[0] == 429
    latency = await arm(http, vendor="gameball", kind="latency", latency_ms=1, times=1)
    assert (await gb_balance(client))[0] == 200
    drop = await arm(http, vendor="gameball", kind="drop", times=1)
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(GB_BALANCE.format(ALICE["gameball"]), headers=GB)
    assert (await gb_balance(client))[0] == 200
    entries = (await admin(http, "GET", f"{DEMO}/journal", 200))["entries"]
    assert [(e["status"], e.get("fault")) for e in entries] == [
        (200, None),
        (0, {"id": drop["id"], "kind": "drop", "case": None}),
        (200, {"id": latency["id"], "kind": "latency", "case": None}),
        (429, {"id": error["id"], "kind": "error", "case": "rate_limit"}),
    ]
