"""POST /__admin/tenants: the demo world (no body or `{}`) under a new id and new credentials; a fixtures
document keeping its own id and credentials unless another tenant has them (409 tenant_conflict, nothing
created); reset and snapshots keep what the tenant was created with."""
from __future__ import annotations

import copy
import re

import pytest
import yaml

from gateway.vendors import registry

from helpers import ALICE, FIXTURES, GB, NOW, admin, gb_balance

VENDORS = registry.names()
DEMO_CREDENTIALS = {"omneo": {"token": "demo-omneo-token"}, "altcraft": {"token": "abc123def456"},
                    "gameball": GB, "brevo": {"api_key": "demo-brevo-key"}}


def doc(**top) -> dict:
    d = copy.deepcopy(FIXTURES)
    d.update(top)
    return d


def headers(gameball: dict) -> dict:
    return {"apikey": gameball["apikey"], "secretkey": gameball["secretkey"]}


async def tenant_ids(http) -> list[str]:
    return [t["tenant"] for t in (await admin(http, "GET", "/__admin/tenants", 200))["tenants"]]


def all_fresh(creds: dict, other: dict = DEMO_CREDENTIALS) -> None:
    assert list(creds) == VENDORS
    for vendor in VENDORS:
        assert set(creds[vendor]) == set(other[vendor])
        for name, secret in creds[vendor].items():
            assert secret != other[vendor][name] and re.fullmatch(r"[a-z-]+-[0-9a-f]{24}", secret)


# --- the demo world -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    {},
    {"json": {}},
    {"data": b"{}", "headers": {"Content-Type": "application/yaml"}},
    {"data": b"# nothing\n", "headers": {"Content-Type": "application/yaml"}},
], ids=["no-body", "json-{}", "yaml-{}", "yaml-empty"])
async def test_no_document_is_the_demo_world_with_new_id_and_credentials(client, http, kw):
    created = await admin(http, "POST", "/__admin/tenants", 201, **kw)
    assert re.fullmatch(r"t-[0-9a-f]{12}", created["tenant"])
    all_fresh(created["credentials"])
    assert await tenant_ids(http) == ["demo", created["tenant"]]
    members = await admin(http, "GET", f"/__admin/tenants/{created['tenant']}/members", 200)
    assert [m["id"] for m in members["members"]] == ["alice", "bob"]
    status, body = await gb_balance(client, headers=headers(created["credentials"]["gameball"]))
    assert (status, body["availablePointsBalance"]) == (200, 1400)


async def test_two_demo_worlds_share_nothing(http):
    a = await admin(http, "POST", "/__admin/tenants", 201, json={})
    b = await admin(http, "POST", "/__admin/tenants", 201)
    assert a["tenant"] != b["tenant"]
    all_fresh(b["credentials"], a["credentials"])


# --- a document's own id and credentials -------------------------------------------------------------------------

async def test_a_document_keeps_its_own_id_and_credentials(client, http, engine):
    own_gb = {"apikey": "shop-eu-apikey", "secretkey": "shop-eu-secret"}
    created = await admin(http, "POST", "/__admin/tenants", 201,
                          json=doc(tenant="shop-eu", credentials={"gameball": own_gb,
                                                                  "brevo": {"api_key": "shop-eu-brevo"}}))
    assert created["tenant"] == "shop-eu"
    creds = created["credentials"]
    assert (creds["gameball"], creds["brevo"]) == (own_gb, {"api_key": "shop-eu-brevo"})
    assert re.fullmatch(r"omneo-[0-9a-f]{24}", creds["omneo"]["token"])
    assert re.fullmatch(r"altcraft-[0-9a-f]{24}", creds["altcraft"]["token"])
    # the answer is what is in force
    assert engine.get("shop-eu").credentials == creds
    status, body = await gb_balance(client, "carol-1", headers=own_gb)
    assert (status, body["availablePointsBalance"]) == (200, 200)
    assert engine.by_credential("brevo.api_key", "shop-eu-brevo").id == "shop-eu"
    assert engine.by_credential("omneo.token", creds["omneo"]["token"]).id == "shop-eu"


async def test_a_document_without_id_or_credentials_gets_new_ones(http):
    created = await admin(http, "POST", "/__admin/tenants", 201, json=FIXTURES)
    assert re.fullmatch(r"t-[0-9a-f]{12}", created["tenant"])
    all_fresh(created["credentials"])


async def test_the_demo_document_itself_collides_with_the_demo_tenant(http):
    """fixtures/demo.yaml names `tenant: demo` and the demo credentials: as a document it is refused while
    the demo tenant lives (the empty body is the way to a second demo world)."""
    from gateway import fixtures
    body = await admin(http, "POST", "/__admin/tenants", 409, json=fixtures.demo_document())
    assert body["error"] == "tenant_conflict"
    assert body["message"] == "tenant 'demo' already exists"
    assert body["errors"] == [
        {"pointer": "/tenant", "message": "tenant 'demo' already exists"},
        {"pointer": "/credentials/omneo/token", "message": "omneo.token already opens another tenant"},
        {"pointer": "/credentials/altcraft/token", "message": "altcraft.token already opens another tenant"},
        {"pointer": "/credentials/gameball/apikey", "message": "gameball.apikey already opens another tenant"},
        {"pointer": "/credentials/gameball/secretkey", "message": "gameball.secretkey already opens another tenant"},
        {"pointer": "/credentials/brevo/api_key", "message": "brevo.api_key already opens another tenant"}]
    assert await tenant_ids(http) == ["demo"]


@pytest.mark.parametrize("top,message,errors", [
    ({"tenant": "demo"}, "tenant 'demo' already exists",
     [{"pointer": "/tenant", "message": "tenant 'demo' already exists"}]),
    ({"credentials": {"gameball": {"apikey": GB["apikey"], "secretkey": "mine"}}},
     "credentials already used by another tenant: gameball.apikey",
     [{"pointer": "/credentials/gameball/apikey", "message": "gameball.apikey already opens another tenant"}]),
    ({"credentials": {"omneo": {"token": "demo-omneo-token"}, "brevo": {"api_key": "demo-brevo-key"}}},
     "credentials already used by another tenant: brevo.api_key, omneo.token",
     [{"pointer": "/credentials/omneo/token", "message": "omneo.token already opens another tenant"},
      {"pointer": "/credentials/brevo/api_key", "message": "brevo.api_key already opens another tenant"}]),
], ids=["id", "one-credential", "two-vendors"])
async def test_a_collision_is_409_and_creates_nothing(client, http, engine, top, message, errors):
    body = await admin(http, "POST", "/__admin/tenants", 409, json=doc(tenant="shop-eu", **top)
                       if "tenant" not in top else doc(**top))
    assert body == {"error": "tenant_conflict", "message": message, "errors": errors}
    assert await tenant_ids(http) == ["demo"]
    assert engine.get("demo").credentials == DEMO_CREDENTIALS
    assert [m.id for m in engine.get("demo").store.members()] == ["alice", "bob"]
    status, balance = await gb_balance(client)
    assert (status, balance["availablePointsBalance"]) == (200, 1400)
    # nothing of the refused document was registered: the same id with free credentials is taken at once
    fixed = doc(tenant="shop-eu") if "tenant" not in top else doc(tenant="shop-eu-2")
    assert (await admin(http, "POST", "/__admin/tenants", 201, json=fixed))["tenant"] == fixed["tenant"]


async def test_the_same_document_twice_collides_with_itself_until_deleted(http):
    world = doc(tenant="shop-eu", credentials={"altcraft": {"token": "shop-eu-altcraft"}})
    await admin(http, "POST", "/__admin/tenants", 201, json=world)
    body = await admin(http, "POST", "/__admin/tenants", 409, json=world)
    assert [e["pointer"] for e in body["errors"]] == ["/tenant", "/credentials/altcraft/token"]
    await admin(http, "DELETE", "/__admin/tenants/shop-eu", 204)
    created = await admin(http, "POST", "/__admin/tenants", 201, json=world)
    assert (created["tenant"], created["credentials"]["altcraft"]) == ("shop-eu", {"token": "shop-eu-altcraft"})


@pytest.mark.parametrize("top,pointer", [
    ({"tenant": "no spaces"}, "/tenant"),
    ({"credentials": {"gameball": {"apikey": "only-half"}}}, "/credentials/gameball"),
    ({"credentials": {"shopify": {"token": "x"}}}, "/credentials"),
])
async def test_malformed_id_or_credentials_are_invalid_fixtures(http, top, pointer):
    body = await admin(http, "POST", "/__admin/tenants", 422, json=doc(**top))
    assert body["error"] == "invalid_fixtures" and [e["pointer"] for e in body["errors"]] == [pointer]
    assert await tenant_ids(http) == ["demo"]


async def test_yaml_document_keeps_its_credentials(client, http):
    world = doc(tenant="yaml-world", credentials={"gameball": {"apikey": "yaml-api", "secretkey": "yaml-secret"}})
    created = await admin(http, "POST", "/__admin/tenants", 201, data=yaml.safe_dump(world),
                          headers={"Content-Type": "application/yaml"})
    assert (created["tenant"], created["credentials"]["gameball"]) == (
        "yaml-world", {"apikey": "yaml-api", "secretkey": "yaml-secret"})


# --- what the tenant keeps ---------------------------------------------------------------------------------------------

async def test_reset_and_snapshots_keep_the_credentials_in_force(client, http):
    own_gb = {"apikey": "kept-api", "secretkey": "kept-secret"}
    created = await admin(http, "POST", "/__admin/tenants", 201,
                          json=doc(tenant="kept", credentials={"gameball": own_gb}))
    base = "/__admin/tenants/kept"
    assert (await admin(http, "POST", f"{base}/reset", 200)) == {"tenant": "kept", "now": NOW.isoformat()
                                                                 .replace("+00:00", "Z")}
    snap = await admin(http, "GET", f"{base}/snapshot", 200)
    assert (snap["tenant"], snap["credentials"]) == ("kept", created["credentials"])
    # a document naming other credentials (another tenant's, even) does not change the tenant's
    other = doc(credentials={"gameball": GB}, tenant="elsewhere")
    assert (await admin(http, "PUT", f"{base}/snapshot", 200, json=other))["tenant"] == "kept"
    snap = await admin(http, "GET", f"{base}/snapshot", 200)
    assert (snap["tenant"], snap["credentials"]) == ("kept", created["credentials"])
    status, body = await gb_balance(client, "carol-1", headers=own_gb)
    assert (status, body["availablePointsBalance"]) == (200, 200)
    status, body = await gb_balance(client, ALICE["gameball"], headers=GB)     # demo is still demo's
    assert (status, body["availablePointsBalance"]) == (200, 1400)


async def test_restoring_a_snapshot_of_an_older_format_is_a_422(http):
    snap = await admin(http, "GET", "/__admin/tenants/demo/snapshot", 200)
    del snap["state"]["store"]["format"]
    body = await admin(http, "PUT", "/__admin/tenants/demo/snapshot", 422, json=snap)
    assert body["error"] == "invalid_fixtures"
    assert body["errors"][0]["pointer"] == "/state/store"
    assert "store format 1, written by an older loyalty-gateway" in body["errors"][0]["message"]
