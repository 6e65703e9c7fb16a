"""Altcraft dialect: POST /api/v1.1/loyalty/account/balance in JSON and XML, as the vendor documents it.

Demo figures: alice (user@example.com, +1234567890, profile123, user_id 123456) has 1800 points in total,
1400 active; bob (new.member@example.com, +1987654321, profile456, user_id 654321) has none."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import xmltodict

from helpers import ALTCRAFT_TOKEN
from gateway.app import GATEWAY
from gateway.engine.model import PointCurrency

PATH = "/api/v1.1/loyalty/account/balance"
JSON_CT = "application/json; charset=utf-8"
XML_CT = "application/xml; charset=utf-8"

DOC_JSON = {"token": "abc123def456", "loyalty_program_id": 123, "points_currency_eid": "starts",
            "matching": "email", "email": "user@example.com"}
DOC_XML = """<xml>
<token>abc123def456</token>
<loyalty_program_id>123</loyalty_program_id>
<points_currency_eid>starts</points_currency_eid>
<matching>email</matching>
<email>user@example.com</email>
</xml>"""

ALICE_OK = {"error": 0, "error_text": "Successful operation",
            "data": {"total_balance": "1800.00", "active_balance": "1400.00"}}
EMPTY_OK = {"error": 0, "error_text": "Successful operation",
            "data": {"total_balance": "0.00", "active_balance": "0.00"}}


@pytest.fixture
def vendors():
    return ["altcraft"]


def body(**fields):
    """The documented request, with fields replaced (None removes one)."""
    out = {**DOC_JSON, **fields}
    return {k: v for k, v in out.items() if v is not None}


def xml_of(fields: dict) -> bytes:
    return ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>").encode()


async def post_json(client, payload, **kw):
    resp = await client.post(PATH, json=payload, **kw)
    assert resp.headers["Content-Type"] == JSON_CT
    return resp.status, await resp.json()


async def post_xml(client, raw, content_type="application/xml", **kw):
    headers = {"Content-Type": content_type, **kw.pop("headers", {})}
    resp = await client.post(PATH, data=raw if isinstance(raw, bytes) else raw.encode(), headers=headers, **kw)
    assert resp.headers["Content-Type"] == XML_CT
    return resp.status, xml_body(await resp.text())


def xml_body(text: str) -> dict:
    """The <xml> reply as a dict of strings; error codes back to int for comparison."""
    doc = xmltodict.parse(text)
    assert list(doc) == ["xml"]
    out = dict(doc["xml"])
    out["error"] = int(out["error"])
    return out


def alice(tenant):
    return tenant.member("altcraft.email", "user@example.com")


def snapshot(tenant):
    """What a failed request must leave as it was: alice's figures and ledger."""
    m = alice(tenant)
    program = tenant.program(m.program_id)
    b = tenant.balance(m, program.default_currency)
    return (b.available, b.pending, b.total), len(tenant.entries(m))


# --- success --------------------------------------------------------------------------------------

async def test_documented_json_request(client):
    status, data = await post_json(client, DOC_JSON)
    assert status == 200
    assert data == ALICE_OK


async def test_documented_xml_request_answers_xml(client):
    resp = await client.post(PATH, data=DOC_XML.encode(), headers={"Content-Type": "application/xml"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == XML_CT
    text = await resp.text()
    assert text.startswith("<xml>") and text.endswith("</xml>")
    assert xmltodict.parse(text) == {"xml": {"error": "0", "error_text": "Successful operation",
                                             "data": {"total_balance": "1800.00", "active_balance": "1400.00"}}}


async def test_xml_with_prolog_and_text_xml_content_type(client):
    status, data = await post_xml(client, '<?xml version="1.0" encoding="UTF-8"?>\n' + DOC_XML, "text/xml")
    assert status == 200
    assert data == {**ALICE_OK, "error": 0}


@pytest.mark.parametrize("how, expected", [
    ({"params": {"format": "xml"}}, "xml"),
    ({"body": {"format": "xml"}}, "xml"),
    ({"headers": {"Accept": "application/xml"}}, "xml"),
    ({"headers": {"Accept": "text/html, application/xml;q=0.9, */*;q=0.8"}}, "xml"),
    ({"headers": {"Accept": "application/xml;q=0.5, application/json"}}, "json"),
    ({"params": {"format": "json"}, "body": {"format": "xml"}}, "json"),
    ({"params": {"format": "xml"}, "headers": {"Accept": "application/json"}}, "xml"),
    ({"body": {"format": "json"}, "headers": {"Accept": "application/xml"}}, "json"),
    ({"headers": {"Accept": "*/*"}}, "json"),
])
async def test_json_request_response_format(client, how, expected):
    resp = await client.post(PATH, json=body(**how.get("body", {})), params=how.get("params"),
                             headers=how.get("headers"))
    assert resp.status == 200
    if expected == "xml":
        assert resp.headers["Content-Type"] == XML_CT
        assert xml_body(await resp.text()) == ALICE_OK
    else:
        assert resp.headers["Content-Type"] == JSON_CT
        assert await resp.json() == ALICE_OK


@pytest.mark.parametrize("how", [
    {"params": {"format": "json"}},
    {"body": "<format>json</format>"},
    {"headers": {"Accept": "application/json"}},
])
async def test_xml_request_can_ask_for_json(client, how):
    raw = DOC_XML.replace("</xml>", how.get("body", "") + "</xml>")
    resp = await client.post(PATH, data=raw.encode(), params=how.get("params"),
                             headers={"Content-Type": "application/xml", **how.get("headers", {})})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == JSON_CT
    assert await resp.json() == ALICE_OK


@pytest.mark.parametrize("matching", [
    {"matching": "email", "email": "user@example.com"},
    {"matching": "phone", "phone": "+1234567890"},
    {"matching": "profile_id", "profile_id": "profile123"},
    {"matching": "custom", "field_name": "user_id", "field_value": 123456},
    {"matching": "custom", "field_name": "user_id", "field_value": "123456"},
])
async def test_matching_modes_json(client, matching):
    status, data = await post_json(client, body(**{"email": None, **matching}))
    assert (status, data) == (200, ALICE_OK)


@pytest.mark.parametrize("matching", [
    {"matching": "phone", "phone": "+1234567890"},
    {"matching": "profile_id", "profile_id": "profile123"},
    {"matching": "custom", "field_name": "user_id", "field_value": "123456"},
])
async def test_matching_modes_xml(client, matching):
    fields = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, **matching}
    status, data = await post_xml(client, xml_of(fields))
    assert (status, data) == (200, ALICE_OK)


@pytest.mark.parametrize("matching", [
    {"matching": "email", "email": "new.member@example.com"},
    {"matching": "phone", "phone": "+1987654321"},
    {"matching": "profile_id", "profile_id": "profile456"},
    {"matching": "custom", "field_name": "user_id", "field_value": 654321},
])
async def test_bob_has_nothing(client, matching):
    status, data = await post_json(client, body(**{"email": None, **matching}))
    assert (status, data) == (200, EMPTY_OK)


async def test_bob_in_xml(client):
    fields = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email",
              "email": "new.member@example.com"}
    status, data = await post_xml(client, xml_of(fields))
    assert (status, data) == (200, {**EMPTY_OK})


async def test_unmatched_identifiers_are_ignored(client):
    payload = body(phone="not a phone", profile_id="", field_name="nope")
    assert await post_json(client, payload) == (200, ALICE_OK)


@pytest.mark.parametrize("currency", [
    {"points_currency_iid": 1, "points_currency_eid": None},
    {"points_currency_eid": "starts"},
    {"points_currency_eid": "stars"},
    {"points_currency_iid": 1, "points_currency_eid": "stars"},
    {"points_currency_eid": None},
])
async def test_points_currency_by_iid_eid_or_default(client, currency):
    assert await post_json(client, body(**currency)) == (200, ALICE_OK)


async def test_points_currency_iid_in_xml(client):
    raw = DOC_XML.replace("<points_currency_eid>starts</points_currency_eid>",
                          "<points_currency_iid>1</points_currency_iid>")
    assert await post_xml(client, raw) == (200, ALICE_OK)


@pytest.fixture
def two_currencies(tenant):
    """The demo program plus a second points currency (iid 2, eid "gems") nobody holds."""
    program = tenant.programs["main"]
    gems = PointCurrency(id="gems", name="Gems", value=Decimal("0.01"),
                         external={"altcraft.iid": 2, "altcraft.eid": "gems"})
    tenant.programs["main"] = dataclasses.replace(program, currencies=program.currencies + (gems,))
    return tenant


async def test_second_currency_is_read_separately(client, two_currencies):
    assert await post_json(client, body(points_currency_eid="gems")) == (200, EMPTY_OK)
    assert await post_json(client, body(points_currency_eid=None, points_currency_iid=2)) == (200, EMPTY_OK)
    assert await post_json(client, body(points_currency_eid=None, points_currency_iid=1)) == (200, ALICE_OK)


async def test_iid_and_eid_naming_different_currencies(client, two_currencies):
    before = snapshot(two_currencies)
    status, data = await post_json(client, body(points_currency_iid=2, points_currency_eid="starts"))
    assert status == 200
    assert data == {"error": 400, "error_text": "Incorrect request: points_currency_iid and points_currency_eid "
                                                "name different points currencies"}
    assert snapshot(two_currencies) == before


@pytest.mark.parametrize("where", ["body", "bearer", "query"])
async def test_token_locations(client, where):
    payload = body(token=None)
    kw = {}
    if where == "body":
        payload["token"] = ALTCRAFT_TOKEN
    elif where == "bearer":
        kw["headers"] = {"Authorization": f"Bearer {ALTCRAFT_TOKEN}"}
    else:
        kw["params"] = {"token": ALTCRAFT_TOKEN}
    assert await post_json(client, payload, **kw) == (200, ALICE_OK)


async def test_token_in_xml_bearer(client):
    raw = DOC_XML.replace("<token>abc123def456</token>", "")
    assert await post_xml(client, raw, headers={"Authorization": f"Bearer {ALTCRAFT_TOKEN}"}) == (200, ALICE_OK)


async def test_bearer_wins_over_body_and_body_over_query(client):
    ok = await post_json(client, body(token="wrong"), headers={"Authorization": f"Bearer {ALTCRAFT_TOKEN}"})
    assert ok == (200, ALICE_OK)
    status, data = await post_json(client, body(), headers={"Authorization": "Bearer wrong"})
    assert (status, data["error"]) == (200, 403)
    assert await post_json(client, body(), params={"token": "wrong"}) == (200, ALICE_OK)
    status, data = await post_json(client, body(token="wrong"), params={"token": ALTCRAFT_TOKEN})
    assert (status, data["error"]) == (200, 403)


async def test_non_bearer_authorization_is_not_a_token(client):
    status, data = await post_json(client, body(token=None), headers={"Authorization": f"Basic {ALTCRAFT_TOKEN}"})
    assert (status, data) == (200, {"error": 401, "error_text": "API token required"})


# --- errors ---------------------------------------------------------------------------------------

async def test_missing_token(client, tenant):
    before = snapshot(tenant)
    assert await post_json(client, body(token=None)) == (200, {"error": 401, "error_text": "API token required"})
    assert snapshot(tenant) == before


async def test_missing_token_xml(client):
    raw = DOC_XML.replace("<token>abc123def456</token>", "")
    assert await post_xml(client, raw) == (200, {"error": 401, "error_text": "API token required"})


async def test_wrong_token(client, tenant):
    before = snapshot(tenant)
    assert await post_json(client, body(token="nope")) == (
        200, {"error": 403, "error_text": "Access denied: invalid API token"})
    assert snapshot(tenant) == before


async def test_unknown_program(client, tenant):
    before = snapshot(tenant)
    assert await post_json(client, body(loyalty_program_id=999)) == (
        200, {"error": 404, "error_text": "Loyalty program not found"})
    assert snapshot(tenant) == before


@pytest.mark.parametrize("currency", [
    {"points_currency_eid": "nope"},
    {"points_currency_iid": 99, "points_currency_eid": None},
    {"points_currency_iid": 99, "points_currency_eid": "starts"},
    {"points_currency_iid": 1, "points_currency_eid": "nope"},
])
async def test_unknown_currency(client, currency):
    assert await post_json(client, body(**currency)) == (200, {"error": 404, "error_text": "Points currency not found"})


@pytest.mark.parametrize("matching", [
    {"matching": "email", "email": "nobody@example.com"},
    {"matching": "phone", "phone": "+15550001111"},
    {"matching": "profile_id", "profile_id": "profile999"},
    {"matching": "custom", "field_name": "user_id", "field_value": "999999"},
    {"matching": "custom", "field_name": "no_such_field", "field_value": "123456"},
])
async def test_unknown_member(client, tenant, matching):
    before = snapshot(tenant)
    assert await post_json(client, body(**{"email": None, **matching})) == (
        200, {"error": 404, "error_text": "Profile not found"})
    assert snapshot(tenant) == before


async def test_unknown_member_xml(client):
    fields = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "profile_id",
              "profile_id": "profile999"}
    assert await post_xml(client, xml_of(fields)) == (200, {"error": 404, "error_text": "Profile not found"})


async def test_removed_member_is_not_a_member(client, tenant):
    tenant.update_member(alice(tenant), active=False)
    assert await post_json(client, body()) == (
        200, {"error": 404, "error_text": "Profile is not a member of the loyalty program"})


@pytest.mark.parametrize("payload, text", [
    (body(email=None), "Incorrect request: email is required"),
    (body(email=None, matching="phone"), "Incorrect request: phone is required"),
    (body(email=None, matching="profile_id"), "Incorrect request: profile_id is required"),
    (body(email=None, matching="custom", field_name="user_id"), "Incorrect request: field_value is required"),
    (body(matching=None), "Incorrect request: matching is required"),
    (body(loyalty_program_id=None), "Incorrect request: loyalty_program_id is required"),
    (body(matching="email_sub"),
     "Incorrect request: matching: must be one of email, phone, profile_id, custom, not \"email_sub\""),
    (body(loyalty_program_id="abc"), "Incorrect request: loyalty_program_id: must be of type integer, not \"abc\""),
    (body(email="not-an-email"), "Incorrect request: email: \"not-an-email\" is not a valid email"),
    (body(phone="1234", matching="phone", email=None),
     "Incorrect request: phone: \"1234\" does not match ^\\\\+[1-9][0-9]{6,14}$"),
])
async def test_incorrect_request_json(client, tenant, payload, text):
    before = snapshot(tenant)
    assert await post_json(client, payload) == (200, {"error": 400, "error_text": text})
    assert snapshot(tenant) == before


async def test_incorrect_request_bad_format_value(client):
    status, data = await post_json(client, body(), params={"format": "yaml"})
    assert status == 200
    assert data == {"error": 400,
                    "error_text": "Incorrect request: format: must be one of json, xml, not \"yaml\""}


async def test_program_id_abc_xml(client, tenant):
    before = snapshot(tenant)
    raw = DOC_XML.replace("<loyalty_program_id>123</loyalty_program_id>",
                          "<loyalty_program_id>abc</loyalty_program_id>")
    assert await post_xml(client, raw) == (
        200, {"error": 400, "error_text": "Incorrect request: loyalty_program_id: must be of type integer, not \"abc\""})
    assert snapshot(tenant) == before


async def test_matching_without_its_field_xml(client):
    raw = DOC_XML.replace("<email>user@example.com</email>", "")
    assert await post_xml(client, raw) == (200, {"error": 400, "error_text": "Incorrect request: email is required"})


async def test_malformed_json(client, tenant):
    before = snapshot(tenant)
    resp = await client.post(PATH, data=b'{"token": "abc123def456", "loyalty_program_id": 123,',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == JSON_CT
    data = await resp.json()
    assert data["error"] == 400
    assert data["error_text"].startswith("Incorrect request: malformed JSON")
    assert set(data) == {"error", "error_text"}
    assert snapshot(tenant) == before


async def test_json_body_not_an_object(client):
    status, data = await post_json(client, [1], headers={"Authorization": f"Bearer {ALTCRAFT_TOKEN}"})
    assert status == 200
    assert data == {"error": 400, "error_text": "Incorrect request: must be of type object, not [1]"}


async def test_empty_body(client):
    resp = await client.post(PATH, data=b"", headers={"Content-Type": "application/json",
                                                      "Authorization": f"Bearer {ALTCRAFT_TOKEN}"})
    assert resp.status == 200
    assert await resp.json() == {"error": 400, "error_text": "Incorrect request: a request body is required"}


async def test_malformed_xml(client, tenant):
    before = snapshot(tenant)
    status, data = await post_xml(client, DOC_XML.replace("</email>", ""))
    assert status == 200
    assert data["error"] == 400
    assert data["error_text"].startswith("Incorrect request: malformed XML")
    assert set(data) == {"error", "error_text"}
    assert snapshot(tenant) == before


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE xml [<!ENTITY tok "abc123def456">]>',
    '<!DOCTYPE xml [<!ENTITY tok SYSTEM "file:///etc/passwd">]>',
])
async def test_xml_entities_are_refused_not_expanded(client, doctype):
    raw = doctype + DOC_XML.replace("<token>abc123def456</token>", "<token>&tok;</token>")
    resp = await client.post(PATH, data=raw.encode(), headers={"Content-Type": "application/xml"})
    assert resp.status == 200
    text = await resp.text()
    data = xml_body(text)
    assert data["error"] == 400
    assert data["error_text"].startswith("Incorrect request: malformed XML")
    assert "root:" not in text and "Successful" not in text


async def test_xml_wrong_root_element(client):
    raw = DOC_XML.replace("<xml>", "<request>").replace("</xml>", "</request>")
    assert await post_xml(client, raw) == (
        200, {"error": 400, "error_text": "Incorrect request: malformed XML: the root element must be <xml>"})


# --- HTTP status switch, faults, routes -------------------------------------------------------------

@pytest.fixture
def http_status(tenant):
    tenant.settings.setdefault("altcraft", {})["error_http_status"] = True
    return tenant


@pytest.mark.parametrize("payload, code", [
    (body(loyalty_program_id=999), 404),
    (body(points_currency_eid="nope"), 404),
    (body(email="nobody@example.com"), 404),
    (body(email=None), 400),
    (body(loyalty_program_id="abc"), 400),
])
async def test_error_http_status_mirrors_the_code(client, http_status, payload, code):
    status, data = await post_json(client, payload)
    assert status == code
    assert data["error"] == code


async def test_error_http_status_xml(client, http_status):
    raw = DOC_XML.replace("<loyalty_program_id>123</loyalty_program_id>",
                          "<loyalty_program_id>abc</loyalty_program_id>")
    status, data = await post_xml(client, raw)
    assert (status, data["error"]) == (400, 400)


async def test_error_http_status_leaves_success_at_200(client, http_status):
    assert await post_json(client, DOC_JSON) == (200, ALICE_OK)


async def test_error_http_status_unknown_tenant_stays_200(client, http_status):
    """Missing/unknown token and malformed bodies: no tenant yet, so its setting cannot apply."""
    assert (await post_json(client, body(token=None)))[0] == 200
    assert (await post_json(client, body(token="nope")))[0] == 200
    resp = await client.post(PATH, data=b"{", headers={"Content-Type": "application/json"})
    assert resp.status == 200 and (await resp.json())["error"] == 400


async def test_error_http_status_off_by_default(client, tenant):
    assert tenant.setting("altcraft", "error_http_status") is False
    assert await post_json(client, body(loyalty_program_id=999)) == (
        200, {"error": 404, "error_text": "Loyalty program not found"})


def arm(client, case):
    client.app[GATEWAY].faults.arm(tenant="demo", vendor="altcraft", kind="error", case=case,
                                   operation="get_account_balance", times=1)


@pytest.mark.parametrize("case, code, text", [
    ("tariff_limit", 402, "Tariff limit reached"),
    ("server_error", 500, "Internal error"),
    ("forbidden", 403, "Access denied"),
])
async def test_faults(client, tenant, case, code, text):
    arm(client, case)
    assert await post_json(client, DOC_JSON) == (200, {"error": code, "error_text": text})
    assert await post_json(client, DOC_JSON) == (200, ALICE_OK)      # armed once
    tenant.settings["altcraft"]["error_http_status"] = True
    arm(client, case)
    assert await post_json(client, DOC_JSON) == (code, {"error": code, "error_text": text})


async def test_fault_in_xml(client):
    arm(client, "tariff_limit")
    assert await post_xml(client, DOC_XML) == (200, {"error": 402, "error_text": "Tariff limit reached"})


async def test_unknown_route_in_altcraft_envelope(client):
    resp = await client.post("/api/v1.1/loyalty/no_such_method", json=DOC_JSON)
    assert resp.status == 404
    assert await resp.json() == {"error": 404, "error_text": "Unknown API method: /api/v1.1/loyalty/no_such_method"}


async def test_operation_not_served_yet_in_altcraft_envelope(client):
    """Every operation of the spec is served now: the reply a missing handler would get is checked directly."""
    gw = client.app[GATEWAY]
    op = gw.specs["altcraft"].operations["register_member"]
    reply = gw.vendors["altcraft"].not_implemented(op)
    assert (reply.status, reply.body) == (501, {"error": 501,
                                                "error_text": "register_member is not served by this gateway yet"})
