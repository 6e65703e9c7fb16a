"""Brevo balance definitions: list / create / update / delete and the program's publish, over HTTP. A definition is a
points currency of the engine: usable at once in Brevo and in the dialects that name currencies by number (Altcraft's
points_currency_iid); a change goes to the draft and reaches the ledger when the program is published; a definition
in use is never deleted."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpers import utc_seconds as z
from helpers import ALICE, ALTCRAFT_TOKEN, BREVO, BREVO_BDID, BREVO_PID, NOW, OMNEO

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
DEFS = f"{BASE}/balance-definitions"
PUBLISH = f"/v3/loyalty/config/programs/{BREVO_PID}/publish"
UNKNOWN = "00000000-0000-4000-8000-000000000000"




pytestmark = pytest.mark.usefixtures("ledger_invariants")


async def call(client, method, path, body=None, status=200):
    resp = await client.request(method, path, json=body, headers=BREVO) if body is not None \
        else await client.request(method, path, headers=BREVO)
    out = await resp.json() if resp.status != 204 else None
    assert resp.status == status, out
    return out


async def create(client, **body):
    return await call(client, "POST", DEFS, {"name": "Wallet", "unit": "POINTS", **body})


async def value(client, bdid, cid=17):
    body = await call(client, "GET", f"{BASE}/subscriptions/{cid}/balances?includeInternal=true")
    return next(b["value"] for b in body["balance"] if b["balanceDefinitionId"] == bdid)


async def tx(client, bdid, amount, **extra):
    return await call(client, "POST", f"{BASE}/transactions", {
        "amount": amount, "balanceDefinitionId": bdid, "contactId": 17, "autoComplete": True, **extra})


# --- create, get, list ---------------------------------------------------------------------------------

async def test_create_then_get_in_both_versions(client):
    body = await create(client, description="Cashback wallet", imageRef="https://example.com/w.png",
                        meta={"team": "crm"}, minAmount=0, maxAmount=5000, maxCreditAmountLimit=1000,
                        balanceOptionAmountOvertakingStrategy="partial", balanceOptionCreditRounding="lower",
                        balanceAvailabilityDurationValue=12, balanceAvailabilityDurationUnit="month",
                        balanceAvailabilityDurationModifier="endOfPeriod")
    assert body == {"id": body["id"], "name": "Wallet", "description": "Cashback wallet",
                    "imageRef": "https://example.com/w.png", "meta": {"team": "crm"}, "unit": "POINTS",
                    "minAmount": 0, "maxAmount": 5000, "maxCreditAmountLimit": 1000,
                    "balanceOptionAmountOvertakingStrategy": "partial", "balanceOptionCreditRounding": "lower",
                    "balanceAvailabilityDurationValue": 12, "balanceAvailabilityDurationUnit": "month",
                    "balanceAvailabilityDurationModifier": "endOfPeriod", "createdAt": z(NOW), "updatedAt": z(NOW),
                    "deletedAt": None}
    for version in ("draft", "active"):
        assert await call(client, "GET", f"{DEFS}/{body['id']}?version={version}") == body


async def test_a_new_definition_is_a_currency_of_the_ledger_at_once(client, tenant):
    bdid = (await create(client, balanceAvailabilityDurationValue=1, balanceAvailabilityDurationUnit="month",
                         balanceAvailabilityDurationModifier="endOfPeriod", balanceOptionCreditRounding="lower"))["id"]
    assert await value(client, bdid) == 0
    done = await tx(client, bdid, 12.7)           # rounded down to whole points (a POINTS definition that rounds)
    assert (done["status"], done["amount"], done["balance"]) == ("completed", 12, 12)
    # one month after availability (10 March -> 10 April), snapped to the end of April
    assert done["expirationDate"] == "2026-04-30T23:59:59Z"
    assert await value(client, bdid) == 12
    assert await value(client, BREVO_BDID) == 1400                       # the demo definition is untouched
    # Altcraft names currencies by number: the new one is the program's second
    resp = await client.post("/api/v1.1/loyalty/account/balance", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"],
        "points_currency_iid": 2})
    body = await resp.json()
    assert (resp.status, body["error"], body["data"]["active_balance"]) == (200, 0, "12.00"), body
    # Omneo names point definitions by number too: points issued to the second land in the new definition
    resp = await client.post("/api/v3/points", headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "point_definition_id": 2, "value_initial": 8, "issued_at": None})
    assert resp.status == 201, await resp.text()
    assert (await value(client, bdid), await value(client, BREVO_BDID)) == (20, 1400)


async def test_list_sorted_and_paged(client, tenant):
    tenant.clock.advance(timedelta(minutes=1))
    b = (await create(client, name="Beta"))["id"]
    tenant.clock.advance(timedelta(minutes=1))
    a = (await create(client, name="Alpha"))["id"]
    ids = lambda body: [d["id"] for d in body["items"]]       # noqa: E731
    assert ids(await call(client, "GET", DEFS)) == [a, b, BREVO_BDID]          # updated_at, newest first
    assert ids(await call(client, "GET", f"{DEFS}?sortField=name&sort=asc")) == [a, b, BREVO_BDID]
    assert ids(await call(client, "GET", f"{DEFS}?sortField=created_at&sort=asc")) == [BREVO_BDID, b, a]
    assert ids(await call(client, "GET", f"{DEFS}?limit=1&offset=1")) == [b]
    assert ids(await call(client, "GET", f"{DEFS}?offset=3")) == []
    assert (await call(client, "GET", f"{DEFS}?limit=501", status=422)) == {
        "code": "out_of_range", "message": "limit must be less than or equal to 500"}


# --- update: draft, then active on publish ---------------------------------------------------------------

async def test_a_change_is_drafted_and_reaches_the_ledger_when_published(client, tenant):
    created = await create(client, maxCreditAmountLimit=1000)
    bdid = created["id"]
    tenant.clock.advance(timedelta(minutes=1))
    draft = await call(client, "PUT", f"{DEFS}/{bdid}", {"name": "Wallet+", "unit": "POINTS",
                                                        "maxCreditAmountLimit": 10})
    assert (draft["name"], draft["maxCreditAmountLimit"], draft["updatedAt"]) == (
        "Wallet+", 10, z(NOW + timedelta(minutes=1)))
    assert await call(client, "GET", f"{DEFS}/{bdid}") == draft
    assert await call(client, "GET", f"{DEFS}/{bdid}?version=active") == created
    assert [d["name"] for d in (await call(client, "GET", f"{DEFS}?version=active"))["items"]][0] == "Wallet"
    assert (await tx(client, bdid, 50))["status"] == "completed"       # the active limit (1000) applies
    assert await call(client, "POST", PUBLISH, status=204) is None
    assert await call(client, "GET", f"{DEFS}/{bdid}?version=active") == draft
    refused = await tx(client, bdid, 50)
    assert (refused["status"], refused["rejectReason"]) == ("rejected", "credit exceeds the per-operation limit")
    assert await value(client, bdid) == 50


async def test_the_sdks_date_form_of_the_fixed_expiry(client):
    body = await create(client, balanceExpirationDate="2026-12-31")
    assert body["balanceExpirationDate"] == "31/12"


async def test_update_replaces_every_attribute(client):
    bdid = (await create(client, description="d", balanceExpirationDate="31/12", minAmount=5))["id"]
    body = await call(client, "PUT", f"{DEFS}/{bdid}", {"name": "W", "unit": "EUR", "balanceExpirationDate": ""})
    assert {k: body[k] for k in body if k not in ("id", "createdAt", "updatedAt")} == {
        "name": "W", "meta": {}, "unit": "EUR", "balanceOptionAmountOvertakingStrategy": "strict", "deletedAt": None}


async def test_the_demo_definition_can_be_changed_and_published(client):
    body = await call(client, "PUT", f"{DEFS}/{BREVO_BDID}", {"name": "Stars", "unit": "POINTS",
                                                             "balanceExpirationDate": "31/12"})
    assert (body["name"], body["balanceExpirationDate"]) == ("Stars", "31/12")
    await call(client, "POST", PUBLISH, status=204)
    done = await tx(client, BREVO_BDID, 10)
    assert done["expirationDate"] == z(datetime(2026, 12, 31, tzinfo=timezone.utc))
    assert await value(client, BREVO_BDID) == 1410


# --- delete ------------------------------------------------------------------------------------------

async def test_delete_an_unused_definition(client):
    bdid = (await create(client))["id"]
    assert await call(client, "DELETE", f"{DEFS}/{bdid}", status=204) is None
    assert await call(client, "GET", f"{DEFS}/{bdid}", status=404) == {"code": "document_not_found",
                                                                       "message": "not found"}
    assert [d["id"] for d in (await call(client, "GET", DEFS))["items"]] == [BREVO_BDID]
    assert await call(client, "DELETE", f"{DEFS}/{bdid}", status=404) == {
        "code": "document_not_found", "message": "balance definition doesn't exist"}


@pytest.mark.parametrize("use", ["draft", "balance"])
async def test_a_definition_in_use_is_not_deleted(client, use):
    bdid = (await create(client))["id"]
    if use == "draft":
        await call(client, "POST", f"{BASE}/transactions", {"amount": 5, "balanceDefinitionId": bdid, "contactId": 17})
    else:
        await call(client, "POST", f"{BASE}/subscriptions/17/balances", {"balanceDefinitionId": bdid})
    assert await call(client, "DELETE", f"{DEFS}/{bdid}", status=422) == {
        "code": "unprocessable_entity", "message": "balance definition is in use"}
    assert (await call(client, "GET", f"{DEFS}/{bdid}"))["id"] == bdid


async def test_the_programs_last_definition_is_kept(client):
    assert await call(client, "DELETE", f"{DEFS}/{BREVO_BDID}", status=422) == {
        "code": "unprocessable_entity", "message": "the program keeps at least one balance definition"}


# --- refusals --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, code, message", [
    ({"unit": "POINTS"}, "missing_parameter", "name is required"),
    ({"name": "W"}, "missing_parameter", "unit is required"),
    ({"name": "W", "unit": "BTC"}, "invalid_parameter",
     "unit must be one of: POINTS, EUR, USD, MXN, GBP, INR, CAD, SGD, RON, JPY, MYR, CLP, PEN, MAD, AUD, CHF, BRL"),
    ({"name": "W", "unit": "EUR", "balanceExpirationDate": "31/12", "balanceAvailabilityDurationValue": 3},
     "invalid_parameter", "a fixed expiry date and an expiry duration exclude each other"),
    ({"name": "W", "unit": "EUR", "balanceExpirationDate": "31/02"}, "invalid_parameter",
     "the fixed expiry is not a dd/mm date"),
    ({"name": "W", "unit": "EUR", "balanceExpirationDate": "31.12"}, "invalid_parameter",
     "balanceExpirationDate is invalid: '31.12' does not match "
     "'^((0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])|[0-9]{4}-[0-9]{2}-[0-9]{2})?$'"),
    ({"name": "W", "unit": "EUR", "balanceExpirationDate": "2026-02-30"}, "invalid_parameter",
     "the fixed expiry is not a dd/mm date"),
    ({"name": "W", "unit": "EUR", "minAmount": 10, "maxAmount": 5}, "invalid_parameter",
     "the minimum balance is above the maximum"),
    ({"name": "W", "unit": "EUR", "maxDebitAmountLimit": -1}, "invalid_parameter", "the debit limit is out of range"),
    ({"name": "W", "unit": "EUR", "balanceAvailabilityDurationUnit": "week"}, "missing_parameter",
     "balanceAvailabilityDurationValue is required with balanceAvailabilityDurationUnit"),
    ({"name": "W", "unit": "EUR", "balanceAvailabilityDurationValue": 0}, "out_of_range",
     "balanceAvailabilityDurationValue must be greater than or equal to 1"),
])
async def test_refusals_change_nothing(client, tenant, body, code, message):
    before = await call(client, "GET", DEFS)
    assert await call(client, "POST", DEFS, body, status=422) == {"code": code, "message": message}
    assert await call(client, "PUT", f"{DEFS}/{BREVO_BDID}", body, status=422) == {"code": code, "message": message}
    assert await call(client, "GET", DEFS) == before
    assert await call(client, "GET", f"{DEFS}?version=active") == before


async def test_unknown_program_and_definition(client):
    other = f"/v3/loyalty/balance/programs/{UNKNOWN}/balance-definitions"
    assert await call(client, "GET", other, status=404) == {"code": "document_not_found", "message": "not found"}
    assert await call(client, "POST", other, {"name": "W", "unit": "EUR"}, status=404) == {
        "code": "document_not_found", "message": "not found"}
    assert await call(client, "PUT", f"{DEFS}/{UNKNOWN}", {"name": "W", "unit": "EUR"}, status=404) == {
        "code": "document_not_found", "message": "balance definition doesn't exist"}
    assert await call(client, "POST", f"/v3/loyalty/config/programs/{UNKNOWN}/publish", status=404) == {
        "code": "document_not_found", "message": "not found"}


async def test_a_snapshot_keeps_the_definitions_their_drafts_and_limits(client, engine, tenant):
    created = await create(client, balanceAvailabilityDurationValue=2, balanceAvailabilityDurationUnit="week")
    bdid = created["id"]
    await tx(client, bdid, 30)
    limit = await call(client, "POST", f"{DEFS}/{bdid}/limits", {"constraintType": "transaction", "durationUnit": "day",
                                                                  "durationValue": 1, "transactionType": "credit",
                                                                  "value": 5})
    draft = await call(client, "PUT", f"{DEFS}/{bdid}", {"name": "Renamed", "unit": "POINTS"})
    resp = await client.get("/__admin/tenants/demo/snapshot")
    snapshot = await resp.json()
    assert resp.status == 200, snapshot
    resp = await client.put("/__admin/tenants/demo/snapshot", json=snapshot)
    assert resp.status in (200, 204), await resp.text()
    assert await call(client, "GET", f"{DEFS}/{bdid}?version=active") == created
    assert await call(client, "GET", f"{DEFS}/{bdid}") == {**draft, "id": bdid}
    assert (await call(client, "GET", f"{DEFS}/{bdid}/limits/{limit['id']}"))["value"] == 5
    assert await value(client, bdid) == 30


async def test_a_snapshot_keeps_and_a_reset_drops_configuration_written_through_brevo_and_omneo(client):
    """Brevo's definitions and Omneo's tiers are the same kind of state: both survive a snapshot round trip, and a
    reset goes back to the programs as built."""
    bdid = (await create(client))["id"]
    resp = await client.post("/api/v3/tiers/definitions", headers=OMNEO, json={
        "name": "Platinum", "handle": "platinum", "value_min": 1500})
    assert resp.status == 201, await resp.text()

    async def configured():
        defs = [d["id"] for d in (await call(client, "GET", DEFS))["items"]]
        resp = await client.get("/api/v3/tiers/definitions", headers=OMNEO)
        return defs, [d["handle"] for d in (await resp.json())["data"]]

    assert await configured() == ([bdid, BREVO_BDID], ["bronze", "silver", "gold", "platinum"])
    snapshot = await (await client.get("/__admin/tenants/demo/snapshot")).json()
    assert (await client.post("/__admin/tenants/demo/reset")).status == 200
    assert await configured() == ([BREVO_BDID], ["bronze", "silver", "gold"])
    await call(client, "GET", f"{DEFS}/{bdid}", status=404)
    resp = await client.put("/__admin/tenants/demo/snapshot", json=snapshot)
    assert resp.status in (200, 204), await resp.text()
    assert await configured() == ([bdid, BREVO_BDID], ["bronze", "silver", "gold", "platinum"])
    assert await tx(client, bdid, 4) and await value(client, bdid) == 4
