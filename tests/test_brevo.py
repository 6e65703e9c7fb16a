"""Brevo dialect (/v3/loyalty/balance/...): balance definition, subscription balances, active
balances; auth, validation, not-found and fault replies in Brevo's {code, message} envelope.
Every response is checked against specs/brevo.yaml by the `client` fixture."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.app import GATEWAY
from gateway.engine import errors as E
from gateway.engine.model import CurrencyRules
from gateway.specs import get as get_spec
from gateway.vendors.brevo import VENDOR

from helpers import utc_seconds as z
from helpers import ALICE, BOB, BREVO, BREVO_BDID, BREVO_PID, NOW, OTHER_BDID, OTHER_PID
from invariants import check

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
DEFINITION = f"{BASE}/balance-definitions/{BREVO_BDID}"
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"




def active(cid=ALICE["brevo"], bdid=BREVO_BDID, **extra) -> str:
    query = {"contactId": cid, "balanceDefinitionId": bdid, **extra}
    return f"{BASE}/active-balance?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


@pytest.fixture
def vendors():
    return ["brevo"]


def set_currency(tenant, **changes):
    """Give the demo point currency other attributes (as another fixtures document would)."""
    program = tenant.program("main")
    tenant.programs["main"] = replace(program, currencies=(replace(program.default_currency, **changes),))


async def get_json(client, path, status=200, headers=BREVO):
    resp = await client.get(path, headers=headers)
    body = await resp.json()
    assert resp.status == status, body
    return body


# --- get_balance_definition ---------------------------------------------------------------------

DEMO_DEFINITION = {
    "id": BREVO_BDID,
    "name": "Reward Points",
    "description": "1 point per USD spent, worth 0.05 USD",
    "meta": {},
    "unit": "POINTS",
    "balanceOptionAmountOvertakingStrategy": "strict",
    "balanceAvailabilityDurationValue": 365,
    "balanceAvailabilityDurationUnit": "day",
    "balanceAvailabilityDurationModifier": "noModification",
    "createdAt": "2024-01-15T09:30:00Z",
    "updatedAt": "2024-01-15T09:30:00Z",
    "deletedAt": None,
}


async def test_definition_of_the_demo_program(client):
    assert await get_json(client, DEFINITION) == DEMO_DEFINITION


@pytest.mark.parametrize("version", ["draft", "active"])
async def test_definition_draft_and_active_are_the_same(client, version):
    # no publish step in the gateway: both versions serve the definition as it is
    assert await get_json(client, f"{DEFINITION}?version={version}") == DEMO_DEFINITION


async def test_definition_ids_are_matched_in_any_case(client):
    body = await get_json(client, f"/v3/loyalty/balance/programs/{BREVO_PID.upper()}"
                                  f"/balance-definitions/{BREVO_BDID.upper()}")
    assert body["id"] == BREVO_BDID


async def test_definition_with_limits_rounding_and_a_fixed_expiry_date(client, tenant):
    set_currency(tenant, expiry_days=None, fixed_expiry="31/12",
                 rules=CurrencyRules(min_balance=Decimal(0), max_balance=Decimal(100000),
                                     max_credit=Decimal(5000), max_debit=Decimal("2500.5"), overtaking="partial",
                                     credit_rounding="lower", debit_rounding="upper"),
                 info={"unit": "EUR", "image_ref": "https://example.com/pts.png", "meta": {"isInternal": True}})
    body = await get_json(client, DEFINITION)
    assert body == {
        "id": BREVO_BDID, "name": "Reward Points", "imageRef": "https://example.com/pts.png",
        "meta": {"isInternal": True}, "unit": "EUR",
        "minAmount": 0, "maxAmount": 100000, "maxCreditAmountLimit": 5000, "maxDebitAmountLimit": 2500.5,
        "balanceOptionAmountOvertakingStrategy": "partial",
        "balanceOptionCreditRounding": "lower", "balanceOptionDebitRounding": "upper",
        "balanceExpirationDate": "31/12",
        # no creation time in the currency's info: the definition is dated by the clock
        "createdAt": z(NOW), "updatedAt": z(NOW), "deletedAt": None,
    }


async def test_definition_without_expiry_omits_every_expiry_field(client, tenant):
    set_currency(tenant, expiry_days=None, fixed_expiry=None)
    body = await get_json(client, DEFINITION)
    assert not {k for k in body if k.startswith("balanceAvailability") or k == "balanceExpirationDate"}
    assert body["unit"] == "POINTS"


async def test_definition_unit_defaults_to_points(client, tenant, points):
    set_currency(tenant, info={k: v for k, v in points.info.items() if k != "unit"})
    assert (await get_json(client, DEFINITION))["unit"] == "POINTS"


async def test_definition_unknown_program(client):
    body = await get_json(client, f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}/balance-definitions/{BREVO_BDID}",
                          404)
    assert body == {"code": "document_not_found", "message": "not found"}


async def test_definition_unknown_definition(client):
    body = await get_json(client, f"{BASE}/balance-definitions/{UNKNOWN_UUID}", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


async def test_definition_of_another_program_is_not_found(client, other_program):
    body = await get_json(client, f"{BASE}/balance-definitions/{OTHER_BDID}", 404)
    assert body == {"code": "document_not_found", "message": "not found"}
    other = await get_json(client, f"/v3/loyalty/balance/programs/{OTHER_PID}/balance-definitions/{OTHER_BDID}")
    assert other["id"] == OTHER_BDID


@pytest.mark.parametrize("path, message", [
    (f"/v3/loyalty/balance/programs/not-a-uuid/balance-definitions/{BREVO_BDID}", "pid must be a valid uuid"),
    (f"{BASE}/balance-definitions/7d8e9f0a-1b2c", "bdid must be a valid uuid"),
])
async def test_definition_malformed_uuid(client, path, message):
    assert await get_json(client, path, 422) == {"code": "invalid_parameter", "message": message}


async def test_definition_unknown_version(client):
    body = await get_json(client, f"{DEFINITION}?version=bogus", 422)
    assert body == {"code": "invalid_parameter", "message": "version must be one of: draft, active"}


# --- get_subscription_balances ------------------------------------------------------------------

async def test_subscription_balances_of_alice(client):
    body = await get_json(client, f"{BASE}/subscriptions/{ALICE['brevo']}/balances")
    assert body == {"loyaltyProgramId": BREVO_PID, "contactId": 17,
                    "balance": [{"balanceDefinitionId": BREVO_BDID, "value": 1400}]}


async def test_subscription_balances_of_bob(client):
    body = await get_json(client, f"{BASE}/subscriptions/{BOB['brevo']}/balances")
    assert body == {"loyaltyProgramId": BREVO_PID, "contactId": 18,
                    "balance": [{"balanceDefinitionId": BREVO_BDID, "value": 0}]}


async def test_subscription_balances_follow_the_ledger(client, tenant, alice, points):
    tenant.debit(alice, points, Decimal("250.5"))
    body = await get_json(client, f"{BASE}/subscriptions/17/balances")
    assert body["balance"] == [{"balanceDefinitionId": BREVO_BDID, "value": 1149.5}]


async def test_subscription_balances_hide_internal_definitions_by_default(client, tenant, points):
    set_currency(tenant, info={**points.info, "meta": {"isInternal": True}})
    assert (await get_json(client, f"{BASE}/subscriptions/17/balances"))["balance"] == []
    assert (await get_json(client, f"{BASE}/subscriptions/17/balances?includeInternal=false"))["balance"] == []
    shown = await get_json(client, f"{BASE}/subscriptions/17/balances?includeInternal=true")
    assert shown["balance"] == [{"balanceDefinitionId": BREVO_BDID, "value": 1400}]


async def test_subscription_balances_unknown_program(client):
    body = await get_json(client, f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}/subscriptions/17/balances", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


async def test_subscription_balances_unknown_contact(client):
    body = await get_json(client, f"{BASE}/subscriptions/999/balances", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


async def test_subscription_balances_contact_of_another_program(client, other_program):
    body = await get_json(client, f"{BASE}/subscriptions/19/balances", 404)
    assert body == {"code": "document_not_found", "message": "not found"}
    alice_there = await get_json(client, f"/v3/loyalty/balance/programs/{OTHER_PID}/subscriptions/17/balances", 404)
    assert alice_there == {"code": "document_not_found", "message": "not found"}
    own = await get_json(client, f"/v3/loyalty/balance/programs/{OTHER_PID}/subscriptions/19/balances")
    assert own == {"loyaltyProgramId": OTHER_PID, "contactId": 19,
                   "balance": [{"balanceDefinitionId": OTHER_BDID, "value": 0}]}


async def test_subscription_balances_unsubscribed_contact(client, tenant, alice):
    tenant.update_member(alice, active=False)
    body = await get_json(client, f"{BASE}/subscriptions/17/balances", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


@pytest.mark.parametrize("cid, code, message", [
    ("abc", "invalid_parameter", "cid must be an integer"),
    ("1.5", "invalid_parameter", "cid must be an integer"),
    ("0", "out_of_range", "cid must be greater than or equal to 1"),
])
async def test_subscription_balances_invalid_contact_id(client, cid, code, message):
    assert await get_json(client, f"{BASE}/subscriptions/{cid}/balances", 422) == {"code": code, "message": message}


async def test_subscription_balances_malformed_program_id(client):
    body = await get_json(client, "/v3/loyalty/balance/programs/123/subscriptions/17/balances", 422)
    assert body == {"code": "invalid_parameter", "message": "pid must be a valid uuid"}


async def test_subscription_balances_invalid_include_internal(client):
    body = await get_json(client, f"{BASE}/subscriptions/17/balances?includeInternal=maybe", 422)
    assert body == {"code": "invalid_parameter", "message": "includeInternal must be a boolean"}


# --- get_active_balance -------------------------------------------------------------------------

async def test_active_balances_of_alice(client, tenant, alice, points):
    lots = {l.amount: l for l in tenant.lots(alice, points)}
    body = await get_json(client, active())
    assert body == {
        "count": 2, "loyaltyProgramId": BREVO_PID, "contactId": 17, "balanceDefinitionId": BREVO_BDID,
        "activeBalances": [   # newest first by default
            {"id": lots[Decimal(1200)].id, "amount": 1200, "createdAt": z(NOW - timedelta(days=114)),
             "expiresAt": z(NOW + timedelta(days=265))},
            {"id": lots[Decimal(300)].id, "amount": 200, "createdAt": z(NOW - timedelta(days=334)),
             "expiresAt": z(NOW + timedelta(days=45))},
        ]}
    # the lots add up to the aggregate balance
    total = await get_json(client, f"{BASE}/subscriptions/17/balances")
    assert sum(b["amount"] for b in body["activeBalances"]) == total["balance"][0]["value"] == 1400


async def test_active_balances_sorted_ascending(client):
    body = await get_json(client, active(sort="asc", sortField="createdAt"))
    assert [b["amount"] for b in body["activeBalances"]] == [200, 1200]
    assert body["activeBalances"][0]["expiresAt"] == z(NOW + timedelta(days=45))


async def test_active_balances_explicit_desc(client):
    body = await get_json(client, active(sort="desc"))
    assert [b["amount"] for b in body["activeBalances"]] == [1200, 200]


@pytest.mark.parametrize("limit, offset, amounts", [
    (1, None, [1200]),
    (1, 1, [200]),
    (2, 1, [200]),
    (500, 0, [1200, 200]),
    (None, 2, []),
    (None, 10, []),
])
async def test_active_balances_paging(client, limit, offset, amounts):
    body = await get_json(client, active(limit=limit, offset=offset))
    assert body["count"] == 2    # total matching, not the page size
    assert [b["amount"] for b in body["activeBalances"]] == amounts


async def test_active_balances_of_bob(client):
    body = await get_json(client, active(cid=BOB["brevo"]))
    assert body == {"count": 0, "loyaltyProgramId": BREVO_PID, "contactId": 18, "balanceDefinitionId": BREVO_BDID,
                    "activeBalances": []}


async def test_active_balances_drop_spent_lots(client, tenant, alice, points):
    tenant.debit(alice, points, Decimal(250))     # soonest-expiring first: the 200 lot, then 50 of 1200
    body = await get_json(client, active())
    assert body["count"] == 1
    assert [(b["amount"], b["expiresAt"]) for b in body["activeBalances"]] == [
        (1150, z(NOW + timedelta(days=265)))]


async def test_active_balances_legacy_parameter_names(client):
    camel = await get_json(client, active(sortField="createdAt", sort="asc"))
    legacy = await get_json(client, f"{BASE}/active-balance?contact_id=17&balance_definition_id={BREVO_BDID}"
                                    "&sort_field=created_at&sort=asc")
    assert legacy == camel
    assert [b["amount"] for b in legacy["activeBalances"]] == [200, 1200]


async def test_active_balances_both_spellings_agreeing(client):
    body = await get_json(client, active(contact_id=17, balance_definition_id=BREVO_BDID.upper(),
                                         sort_field="created_at", sortField="createdAt"))
    assert body["count"] == 2


@pytest.mark.parametrize("extra, message", [
    ({"contact_id": 18}, "contactId and contact_id are given with different values"),
    ({"balance_definition_id": UNKNOWN_UUID},
     "balanceDefinitionId and balance_definition_id are given with different values"),
])
async def test_active_balances_conflicting_spellings(client, extra, message):
    body = await get_json(client, active(**extra), 422)
    assert body == {"code": "duplicate_parameter", "message": message}


@pytest.mark.parametrize("path, message", [
    (f"{BASE}/active-balance?balanceDefinitionId={BREVO_BDID}", "contactId is required"),
    (f"{BASE}/active-balance?contactId=17", "balanceDefinitionId is required"),
    (f"{BASE}/active-balance", "contactId is required"),
])
async def test_active_balances_missing_parameters(client, path, message):
    assert await get_json(client, path, 422) == {"code": "missing_parameter", "message": message}


@pytest.mark.parametrize("extra, code, message", [
    ({"limit": 0}, "out_of_range", "limit must be greater than or equal to 1"),
    ({"limit": 501}, "out_of_range", "limit must be less than or equal to 500"),
    ({"offset": -1}, "out_of_range", "offset must be greater than or equal to 0"),
    ({"limit": "ten"}, "invalid_parameter", "limit must be an integer"),
    ({"sort": "up"}, "invalid_parameter", "sort must be one of: asc, desc"),
    ({"sortField": "amount"}, "invalid_parameter", "sortField must be one of: createdAt"),
    ({"contactId": "abc"}, "invalid_parameter", "contactId must be an integer"),
    ({"balanceDefinitionId": "7d8e9f0a"}, "invalid_parameter", "balanceDefinitionId must be a valid uuid"),
])
async def test_active_balances_invalid_parameters(client, extra, code, message):
    assert await get_json(client, active(**extra), 422) == {"code": code, "message": message}


async def test_active_balances_unknown_program(client):
    body = await get_json(client, f"/v3/loyalty/balance/programs/{UNKNOWN_UUID}/active-balance"
                                  f"?contactId=17&balanceDefinitionId={BREVO_BDID}", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


async def test_active_balances_unknown_definition(client):
    body = await get_json(client, active(bdid=UNKNOWN_UUID), 404)
    assert body == {"code": "document_not_found", "message": "balance definition doesn't exist"}


async def test_active_balances_unknown_contact(client):
    body = await get_json(client, active(cid=999), 404)
    assert body == {"code": "document_not_found", "message": "subscription not found"}


async def test_active_balances_contact_of_another_program(client, other_program):
    body = await get_json(client, active(cid=19), 404)
    assert body == {"code": "document_not_found", "message": "subscription not found"}


async def test_active_balances_of_an_internal_definition(client, tenant, points):
    set_currency(tenant, info={**points.info, "meta": {"isInternal": True}})
    hidden = await get_json(client, active())
    assert (hidden["count"], hidden["activeBalances"]) == (0, [])
    shown = await get_json(client, active(includeInternal="true"))
    assert shown["count"] == 2


# --- authentication -----------------------------------------------------------------------------

READS = [DEFINITION, f"{BASE}/subscriptions/17/balances", active()]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("headers", [{}, {"api-key": ""}])
async def test_missing_api_key(client, path, headers):
    body = await get_json(client, path, 401, headers=headers)
    assert body == {"message": "authentication not found in headers", "code": "unauthorized"}


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("key", ["wrong-key", "demo-gameball-apikey", "DEMO-BREVO-KEY"])
async def test_wrong_api_key(client, path, key):
    body = await get_json(client, path, 401, headers={"api-key": key})
    assert body == {"message": "Key not found", "code": "unauthorized"}


async def test_key_in_another_header_is_missing(client):
    headers = {"Authorization": "Bearer demo-brevo-key", "x-api-key": "demo-brevo-key"}
    body = await get_json(client, DEFINITION, 401, headers=headers)
    assert body == {"message": "authentication not found in headers", "code": "unauthorized"}


async def test_api_key_header_name_in_any_case(client):
    body = await get_json(client, f"{BASE}/subscriptions/17/balances", headers={"API-KEY": "demo-brevo-key"})
    assert body["balance"][0]["value"] == 1400


async def test_auth_comes_before_validation(client):
    body = await get_json(client, f"{BASE}/subscriptions/abc/balances", 401, headers={"api-key": "nope"})
    assert body["code"] == "unauthorized"


# --- wire-level replies -------------------------------------------------------------------------

async def test_malformed_json_body(client, tenant, alice, points):
    before = tenant.balance(alice, points)
    resp = await client.post(f"{BASE}/subscriptions/17/balances", data=b'{"balanceDefinitionId": ',
                             headers={**BREVO, "Content-Type": "application/json"})
    assert resp.status == 400
    assert await resp.json() == {"code": "bad_request", "message": "Malformed JSON body"}
    assert tenant.balance(alice, points) == before


async def test_unknown_path_under_v3(client):
    body = await get_json(client, f"{BASE}/no-such-thing", 404)
    assert body == {"code": "document_not_found", "message": "not found"}


@pytest.mark.parametrize("case, status, code, message", [
    ("rate_limit", 429, "too_many_requests", "Too many requests"),
    ("server_error", 500, "internal_error", "Internal error occurred"),
    ("forbidden", 403, "permission_denied", "Cannot Authenticate Request"),
])
async def test_armed_faults(client, case, status, code, message):
    client.app[GATEWAY].faults.arm(tenant="demo", vendor="brevo", kind="error", case=case, times=1,
                                   operation="get_subscription_balances")
    resp = await client.get(f"{BASE}/subscriptions/17/balances", headers=BREVO)
    assert resp.status == status
    assert await resp.json() == {"code": code, "message": message}
    if status == 429:
        assert {k: resp.headers[k] for k in ("x-sib-ratelimit-limit", "x-sib-ratelimit-remaining",
                                             "x-sib-ratelimit-reset")} == {
            "x-sib-ratelimit-limit": "10", "x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "1"}
    # fired once: the next call is served
    assert (await get_json(client, f"{BASE}/subscriptions/17/balances"))["balance"][0]["value"] == 1400


async def test_a_bug_answers_in_brevo_envelope(client, tenant, monkeypatch):
    def boom(*args, **kw):
        raise RuntimeError("bug")
    monkeypatch.setattr(tenant, "currency_by", boom)
    body = await get_json(client, DEFINITION, 500)
    assert body == {"code": "internal_error", "message": "Internal error occurred"}


async def test_failed_requests_change_nothing(client, tenant, alice, points):
    before = (tenant.balance(alice, points), len(tenant.entries(alice)))
    for path, headers in [(DEFINITION, {}), (active(cid=999), BREVO), (active(limit=0), BREVO),
                          (f"{BASE}/subscriptions/abc/balances", BREVO), (active(contact_id=18), BREVO)]:
        resp = await client.get(path, headers=headers)
        assert resp.status >= 400
    assert (tenant.balance(alice, points), len(tenant.entries(alice))) == before
    check(tenant)


# --- the adapter's mapping of engine refusals (not reachable through the read operations yet) ----

@pytest.mark.parametrize("exc, status, code", [
    (E.InsufficientPoints("insufficient points"), 422, "unprocessable_entity"),
    (E.LimitExceeded("credit exceeds the per-operation limit"), 422, "unprocessable_entity"),
    (E.InvalidState("transaction is committed, not temporary"), 422, "unprocessable_entity"),
    (E.DuplicateKey("used before"), 422, "duplicate_request"),
    (E.InvalidTime("in the past"), 422, "out_of_range"),
    (E.TransactionNotFound("transaction not found"), 404, "document_not_found"),
])
def test_engine_refusals_map_to_brevo_codes(exc, status, code):
    op = get_spec("brevo").operations["get_active_balance"]
    reply = VENDOR.engine_error(op, exc)
    assert (reply.status, reply.body["code"]) == (status, code)
    assert reply.body["message"] == (exc.message if status == 422 else "transaction not found")


def test_not_implemented_is_in_brevo_envelope():
    op = replace(get_spec("brevo").operations["get_active_balance"], operation_id="some_later_operation")
    reply = VENDOR.not_implemented(op)
    assert reply.status == 501
    assert reply.body == {"code": "method_not_allowed",
                          "message": "some_later_operation is not served by this gateway yet"}
