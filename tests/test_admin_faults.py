"""Arming faults through /__admin: a closed FaultRequest, an error fault by its case or by the status one of the
vendor's cases answers, what depends on the vendor checked in code. (The journal marks: tests/test_admin.py.)"""
from __future__ import annotations

import pytest

from helpers import ALICE, ALTCRAFT_BALANCE, DEMO, admin, arm, faults, gb_balance
from gateway import faults as faults_module
from gateway.app import Config, build_app
from gateway.vendors.base import Reply, Vendor

FIELDS = "['case', 'kind', 'latency_ms', 'operation', 'probability', 'seed', 'status', 'times', 'vendor']"

# every vendor case and the status it answers (Altcraft: the error code of its HTTP 200 envelope)
CASES = {
    "omneo": {"rate_limit": 429, "server_error": 500, "unavailable": 503, "unauthorized": 401, "forbidden": 403},
    "altcraft": {"tariff_limit": 402, "server_error": 500, "forbidden": 403, "unauthorized": 401},
    "gameball": {"rate_limit": 429, "server_error": 500, "unavailable": 503, "unauthorized": 401, "forbidden": 403,
                 "concurrent_request": 422},
    "brevo": {"rate_limit": 429, "server_error": 500, "forbidden": 403, "unauthorized": 401},
}
BY_STATUS = [(vendor, status, case) for vendor, cases in CASES.items() for case, status in cases.items()]
GAMEBALL_CASES = ("rate_limit (429), server_error (500), unavailable (503), unauthorized (401), forbidden (403), "
                  "concurrent_request (422)")


async def refused(http, fault: dict) -> dict:
    body = await admin(http, "POST", f"{DEMO}/faults", 422, json=fault)
    assert await faults(http) == []
    return body


# --- the closed schema ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault,errors", [
    ({"vendor": "gameball", "kind": "drop", "bogus": 1},
     [{"pointer": "/bogus", "message": f"unknown field 'bogus'; expected one of {FIELDS}"}]),
    ({"vendor": "gameball", "kind": "latency", "latency_ms": 5, "latencyMs": 5, "delay": 1},
     [{"pointer": "/latencyMs", "message": f"unknown field 'latencyMs'; expected one of {FIELDS}"},
      {"pointer": "/delay", "message": f"unknown field 'delay'; expected one of {FIELDS}"}]),
    ({"vendor": "gameball", "kind": "drop", "a/b": 1, "times": 0},
     [{"pointer": "/a~1b", "message": f"unknown field 'a/b'; expected one of {FIELDS}"},
      {"pointer": "/times", "message": "0 is less than the minimum of 1"}]),
])
async def test_unknown_fields_are_named_at_their_own_pointer(http, fault, errors):
    body = await refused(http, fault)
    assert body == {"error": "invalid_fault", "message": "the body does not match arm_fault's schema",
                    "errors": errors}


@pytest.mark.parametrize("fault,pointer,message", [
    ({"vendor": "gameball", "kind": "error", "status": 200}, "/status", "200 is less than the minimum of 400"),
    ({"vendor": "gameball", "kind": "error", "status": "429"}, "/status", "'429' is not of type 'integer'"),
    ({"vendor": "gameball", "kind": "error"}, "/case", "'case' is a required property"),
    ({"vendor": "gameball", "kind": "latency"}, "/latency_ms", "'latency_ms' is a required property"),
    ({"vendor": ["gameball"], "kind": "drop"}, "/vendor",
     "['gameball'] is not one of ['omneo', 'altcraft', 'gameball', 'brevo']"),
])
async def test_schema_violations(http, fault, pointer, message):
    body = await refused(http, fault)
    assert body["errors"] == [{"pointer": pointer, "message": message}]


# --- an error fault by case or status -------------------------------------------------------------------------------

@pytest.mark.parametrize("vendor,status,case", BY_STATUS, ids=[f"{v}-{s}" for v, s, _ in BY_STATUS])
async def test_status_picks_the_vendors_case(http, vendor, status, case):
    fault = await arm(http, vendor=vendor, kind="error", status=status)
    assert fault == {"id": fault["id"], "vendor": vendor, "operation": None, "kind": "error", "latency_ms": None,
                     "case": case, "status": status, "times": None, "probability": None, "fired": 0}
    assert await faults(http) == [fault]


@pytest.mark.parametrize("vendor,status,case", BY_STATUS, ids=[f"{v}-{s}" for v, s, _ in BY_STATUS])
async def test_case_shows_its_status(http, vendor, status, case):
    fault = await arm(http, vendor=vendor, kind="error", case=case, status=status)
    assert (fault["case"], fault["status"]) == (case, status)
    assert (await arm(http, vendor=vendor, kind="error", case=case))["status"] == status


def test_every_vendor_case_is_listed():
    from gateway.vendors import registry
    assert {n: faults_module.case_statuses(registry.get(n)) for n in registry.names()} == CASES


def test_the_spec_lists_every_vendor_case_with_its_status():
    from gateway.vendors import registry
    from helpers import ADMIN
    text = " ".join(ADMIN.operations["arm_fault"].spec["description"].split())
    for name in registry.names():
        assert f"{name} {faults_module.describe_cases(registry.get(name))}" in text


async def test_a_fault_armed_by_status_answers_in_the_vendors_envelope(client, http):
    await arm(http, vendor="gameball", kind="error", status=503, times=1)
    status, body = await gb_balance(client)
    assert (status, body["code"], body["type"]) == (503, 5003, "SERVER_ERROR")
    await arm(http, vendor="altcraft", kind="error", status=402, times=1)
    r = await client.post(ALTCRAFT_BALANCE, json={"token": "abc123def456", "loyalty_program_id": 123,
                                                  "points_currency_eid": "starts", "matching": "email",
                                                  "email": ALICE["email"]})
    assert (r.status, await r.json()) == (200, {"error": 402, "error_text": "Tariff limit reached"})


async def test_a_status_no_case_answers_lists_the_cases(http):
    body = await refused(http, {"vendor": "gameball", "kind": "error", "status": 418})
    assert body == {"error": "invalid_fault", "message": "the fault cannot be armed", "errors": [
        {"pointer": "/status", "message": f"gameball has no fault case answering 418; its cases: {GAMEBALL_CASES}"}]}
    body = await refused(http, {"vendor": "altcraft", "kind": "error", "status": 429})
    assert body["errors"] == [{"pointer": "/status", "message": "altcraft has no fault case answering 429; its "
                               "cases: tariff_limit (402), server_error (500), forbidden (403), unauthorized (401)"}]


@pytest.mark.parametrize("fault,pointer,message", [
    ({"case": "rate_limit", "status": 500}, "/status", "gameball case rate_limit answers 429, not 500"),
    ({"case": "teapot", "status": 418}, "/case", f"gameball has no fault case 'teapot'; its cases: {GAMEBALL_CASES}"),
    ({"case": "tariff_limit"}, "/case", f"gameball has no fault case 'tariff_limit'; its cases: {GAMEBALL_CASES}"),
])
async def test_case_and_status_must_agree(http, fault, pointer, message):
    body = await refused(http, {"vendor": "gameball", "kind": "error", **fault})
    assert body["errors"] == [{"pointer": pointer, "message": message}]


@pytest.mark.parametrize("fault,errors", [
    ({"kind": "drop", "case": "rate_limit"}, [("/case", "applies to kind error only, not drop")]),
    ({"kind": "drop", "latency_ms": 5}, [("/latency_ms", "applies to kind latency only, not drop")]),
    ({"kind": "latency", "latency_ms": 5, "status": 500}, [("/status", "applies to kind error only, not latency")]),
    ({"kind": "error", "case": "rate_limit", "latency_ms": [1, 2]},
     [("/latency_ms", "applies to kind latency only, not error")]),
    ({"kind": "latency", "latency_ms": [9, 3], "case": "x"},
     [("/case", "applies to kind error only, not latency"), ("/latency_ms", "[min, max] with min <= max")]),
])
async def test_fields_of_another_kind_are_refused(http, fault, errors):
    body = await refused(http, {"vendor": "gameball", **fault})
    assert [(e["pointer"], e["message"]) for e in body["errors"]] == errors


async def test_a_vendor_this_gateway_does_not_serve(aiohttp_client, engine):
    http = await aiohttp_client(build_app(engine, Config(validate_responses=True), vendors=["gameball"]))
    body = await admin(http, "POST", f"{DEMO}/faults", 422, json={"vendor": "omneo", "kind": "drop"})
    assert body["errors"] == [{"pointer": "/vendor", "message": "not served by this gateway; one of ['gameball']"}]
    body = await admin(http, "POST", f"{DEMO}/faults", 422,
                       json={"vendor": "gameball", "operation": "get_profile_balances", "kind": "drop"})
    assert [e["pointer"] for e in body["errors"]] == ["/operation"]
    assert body["errors"][0]["message"].startswith("gameball has no operation 'get_profile_balances'; one of [")


# --- the case table, on a vendor of our own ----------------------------------------------------------------------------

class _Vendor(Vendor):
    name = "test-only-vendor"
    fault_cases = {"slow_down": "429 a", "too_many": "429 b", "boom": "500"}
    calls = 0

    def fault(self, case, op):
        type(self).calls += 1
        return Reply({"slow_down": 429, "too_many": 429, "boom": 500}[case], {"message": case})


def test_a_status_several_cases_answer_picks_the_first_and_statuses_are_computed_once():
    vendor = _Vendor()
    assert faults_module.error_case(vendor, None, 429) == ("slow_down", 429)
    assert faults_module.error_case(vendor, "too_many", 429) == ("too_many", 429)
    assert faults_module.error_case(vendor, None, 500) == ("boom", 500)
    assert _Vendor.calls == 3          # one reply per case, whatever was asked since
    with pytest.raises(faults_module.FaultCaseError) as exc:
        faults_module.error_case(vendor, None, 503)
    assert (exc.value.pointer, exc.value.message) == (
        "/status", "test-only-vendor has no fault case answering 503; its cases: slow_down (429), too_many (429), "
                   "boom (500)")
