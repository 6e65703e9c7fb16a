"""Altcraft answers every error in the request's format (unknown methods too), reads `null` as an absent field,
and mirrors error codes into the HTTP status (`error_http_status`) whenever a credential names the tenant, even
when the body cannot be read."""
from __future__ import annotations

import pytest
import xmltodict

from helpers import ALTCRAFT_TOKEN

BALANCE = "/api/v1.1/loyalty/account/balance"
ACCRUE = "/api/v1.1/loyalty/accrue_points"
ALICE = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": "user@example.com"}
ALICE_OK = {"error": 0, "error_text": "Successful operation",
            "data": {"total_balance": "1800.00", "active_balance": "1400.00"}}
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def vendors():
    return ["altcraft"]


def xml_of(fields: dict) -> bytes:
    return ("<xml>" + "".join(f"<{k}>{'' if v is None else v}</{k}>" for k, v in fields.items()) + "</xml>").encode()


async def xml_reply(resp) -> dict:
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    doc = xmltodict.parse(await resp.text())
    assert list(doc) == ["xml"]
    return dict(doc["xml"])


# --- unknown methods -------------------------------------------------------------------------------------------

async def test_unknown_method_answers_xml_to_an_xml_request(client):
    resp = await client.post("/api/v1.1/loyalty/no_such_method", data=xml_of(ALICE), headers=XML)
    assert resp.status == 404
    assert await xml_reply(resp) == {"error": "404",
                                     "error_text": "Unknown API method: /api/v1.1/loyalty/no_such_method"}


async def test_unknown_method_answers_text_xml_and_format_param(client):
    resp = await client.post("/api/v1.1/loyalty/nope", data=xml_of(ALICE), headers={"Content-Type": "text/xml"})
    assert (await xml_reply(resp))["error"] == "404"
    resp = await client.post("/api/v1.1/loyalty/nope?format=xml", json=ALICE)
    assert (await xml_reply(resp))["error"] == "404"
    resp = await client.post("/api/v1.1/loyalty/nope?format=json", data=xml_of(ALICE), headers=XML)
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert (await resp.json())["error"] == 404


async def test_unknown_method_honours_the_body_format_field(client):
    resp = await client.post("/api/v1.1/loyalty/nope", json={**ALICE, "format": "xml"})
    assert (resp.status, (await xml_reply(resp))["error"]) == (404, "404")
    resp = await client.post("/api/v1.1/loyalty/nope", data=xml_of({**ALICE, "format": "json"}), headers=XML)
    assert (resp.status, (await resp.json())["error"]) == (404, 404)
    resp = await client.post("/api/v1.1/loyalty/nope", data=b"<xml><a>", headers=XML)     # unreadable: its type
    assert (resp.status, (await xml_reply(resp))["error"]) == (404, "404")


async def test_unknown_method_answers_json_to_a_json_request(client):
    resp = await client.post("/api/v1.1/loyalty/nope", json=ALICE)
    assert (resp.status, await resp.json()) == (404, {"error": 404, "error_text": "Unknown API method: "
                                                                                 "/api/v1.1/loyalty/nope"})


# --- null means absent -----------------------------------------------------------------------------------------

async def test_null_optional_fields_are_absent(client, tenant):
    payload = {**ALICE, "points_currency_iid": None, "points_currency_eid": None, "format": None}
    resp = await client.post(BALANCE, json=payload)
    assert (resp.status, await resp.json()) == (200, ALICE_OK)


async def test_null_optional_fields_on_a_write(client, tenant):
    payload = {**ALICE, "amount": "10", "is_temp": None, "temp_timeout_sec": None, "transaction_eid": None,
               "activation_date": None, "expiration_date": None, "created_at": None, "external_data": None,
               "promotion_id": None}
    resp = await client.post(ACCRUE, json=payload)
    data = (await resp.json())["data"]
    assert (data["amount"], data["is_temp"], data["status"], data["transaction_eid"], data["balance"]) == (
        "10.00", False, "committed", None, "1410.00")


async def test_null_inside_external_data_is_absent(client, tenant):
    resp = await client.post(ACCRUE, json={**ALICE, "amount": "2", "transaction_eid": "n-1",
                                           "external_data": {"order_id": "7", "coupon": None}})
    assert (await resp.json())["error"] == 0
    entry = tenant.entry_by(("altcraft.eid:main", "n-1"))
    assert entry.refs["external_data"] == {"order_id": "7"}


async def test_null_required_field_is_missing_and_the_message_has_no_python(client):
    resp = await client.post(BALANCE, json={**ALICE, "email": None})
    assert await resp.json() == {"error": 400, "error_text": "Incorrect request: email is required"}
    resp = await client.post(ACCRUE, json={**ALICE, "amount": None})
    assert await resp.json() == {"error": 400, "error_text": "Incorrect request: amount is required"}


async def test_empty_xml_element_is_absent(client):
    resp = await client.post(BALANCE, data=xml_of({**ALICE, "points_currency_eid": None}), headers=XML)
    assert await xml_reply(resp) == {"error": "0", "error_text": "Successful operation",
                                     "data": {"total_balance": "1800.00", "active_balance": "1400.00"}}


@pytest.mark.parametrize("payload, text", [
    ({**ALICE, "amount": True}, "Incorrect request: amount: must be of type string or number, not true"),
    ({**ALICE, "amount": "5", "external_data": {"order": [1, None]}},
     "Incorrect request: external_data.order: must be of type string or number, not [1, null]"),
    ({**ALICE, "amount": "5", "is_temp": "yes"}, 'Incorrect request: is_temp: must be of type boolean, not "yes"'),
])
async def test_messages_carry_json_values_never_python_reprs(client, payload, text):
    resp = await client.post(ACCRUE, json=payload)
    body = await resp.json()
    assert body == {"error": 400, "error_text": text}
    assert not any(word in body["error_text"] for word in ("None", "True", "False", "Decimal(", "'"))


# --- error_http_status before the tenant is known --------------------------------------------------------------

@pytest.fixture
def http_status(tenant):
    tenant.settings.setdefault("altcraft", {})["error_http_status"] = True
    return tenant


@pytest.mark.parametrize("auth", [{"headers": {"Authorization": f"Bearer {ALTCRAFT_TOKEN}"}},
                                  {"params": {"token": ALTCRAFT_TOKEN}}])
async def test_malformed_body_follows_the_setting_when_a_credential_names_the_tenant(client, http_status, auth):
    headers = {"Content-Type": "application/json", **auth.get("headers", {})}
    resp = await client.post(BALANCE, data=b"{", headers=headers, params=auth.get("params"))
    body = await resp.json()
    assert (resp.status, body["error"]) == (400, 400)
    assert body["error_text"].startswith("Incorrect request: malformed JSON")
    headers = {**XML, **auth.get("headers", {})}
    resp = await client.post(BALANCE, data=b"<xml><a>", headers=headers, params=auth.get("params"))
    assert (resp.status, (await xml_reply(resp))["error"]) == (400, "400")


async def test_malformed_body_is_journaled_for_the_tenant_it_names(client, http_status):
    await client.post(BALANCE, data=b"{", headers={"Content-Type": "application/json",
                                                   "Authorization": f"Bearer {ALTCRAFT_TOKEN}"})
    resp = await client.get("/__admin/tenants/demo/journal", params={"operation": "get_account_balance"})
    entries = (await resp.json())["entries"]
    assert [(e["operation"], e["status"]) for e in entries] == [("get_account_balance", 400)]


async def test_no_tenant_named_stays_http_200(client, http_status):
    resp = await client.post(BALANCE, data=b"{", headers={"Content-Type": "application/json"})
    assert (resp.status, (await resp.json())["error"]) == (200, 400)
    resp = await client.post(BALANCE, data=b"{", headers={"Content-Type": "application/json",
                                                          "Authorization": "Bearer nope"})
    assert (resp.status, (await resp.json())["error"]) == (200, 400)


async def test_setting_off_keeps_http_200_for_a_malformed_body(client, tenant):
    resp = await client.post(BALANCE, data=b"{", headers={"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {ALTCRAFT_TOKEN}"})
    assert (resp.status, (await resp.json())["error"]) == (200, 400)
