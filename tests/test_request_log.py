"""The request log (gateway/requestlog.py) as the pipeline writes it: one line per call -- served, refused for
its credentials or its body, faulted, dropped, on /__admin, or on a path no spec declares -- with the tenant,
vendor, operationId, status and the reason; and the journal marking the faults that fired."""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from helpers import ALICE, ALTCRAFT_TOKEN, BREVO_BDID, BREVO_PID, GB
from gateway.app import GATEWAY, Config, build_app
from gateway.requestlog import RequestLog

GB_BALANCE = f"/api/v4.0/integrations/customers/{ALICE['gameball']}/balance"
ALTCRAFT_BALANCE = "/api/v1.1/loyalty/account/balance"
ALTCRAFT_BODY = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": ALICE["email"]}
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
DURATION = r"\d+\.\d{3}ms"


class Logged:
    """A gateway whose request log writes to memory; `lines()` returns what was written since the last call."""

    def __init__(self, client, stream: io.StringIO):
        self.client, self.stream = client, stream

    def lines(self) -> list[str]:
        text = self.stream.getvalue()
        self.stream.seek(0)
        self.stream.truncate()
        assert text == "" or text.endswith("\n")
        return text.splitlines()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines()]

    @property
    def gw(self):
        return self.client.app[GATEWAY]


async def _logged(aiohttp_client, engine, fmt="text", **config) -> Logged:
    stream = io.StringIO()
    app = build_app(engine, Config(validate_responses=True, request_log=RequestLog(stream, fmt), **config))
    return Logged(await aiohttp_client(app), stream)


@pytest.fixture
async def log(aiohttp_client, engine) -> Logged:
    return await _logged(aiohttp_client, engine)


@pytest.fixture
async def jlog(aiohttp_client, engine) -> Logged:
    return await _logged(aiohttp_client, engine, "json")


def line(*fields: str, reason: str | None = None, violations: int | None = None) -> re.Pattern:
    """The expected text line: TIME, the fields given (regex-escaped), DURATION, then reason / violations."""
    tail = (f" reason={re.escape(reason)}" if reason else "") + (f" violations={violations}" if violations else "")
    return re.compile(f"^{TIME} " + " ".join(re.escape(str(f)) for f in fields) + f" {DURATION}{tail}$")


def one(log: Logged) -> str:
    lines = log.lines()
    assert len(lines) == 1, lines
    return lines[0]


# --- served calls --------------------------------------------------------------------------------------------------

async def test_a_served_call_is_one_line(log):
    r = await log.client.get(GB_BALANCE, headers=GB)
    assert r.status == 200
    assert line("demo", "gameball", "get_customer_balance", "GET", GB_BALANCE, 200).match(one(log))


async def test_the_time_is_utc_with_milliseconds(log):
    before = datetime.now(timezone.utc)
    await log.client.get(GB_BALANCE, headers=GB)
    stamp = datetime.strptime(one(log).split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert before - timedelta(milliseconds=1) <= stamp <= datetime.now(timezone.utc)


async def test_the_query_string_stays_out_of_the_log(log):
    r = await log.client.post(f"{ALTCRAFT_BALANCE}?token={ALTCRAFT_TOKEN}",
                              json={k: v for k, v in ALTCRAFT_BODY.items() if k != "token"})
    assert r.status == 200 and (await r.json())["error"] == 0
    text = one(log)
    assert line("demo", "altcraft", "get_account_balance", "POST", ALTCRAFT_BALANCE, 200).match(text)
    assert ALTCRAFT_TOKEN not in text


async def test_an_encoded_newline_in_the_path_stays_on_one_line(log):
    r = await log.client.get("/nothing/here%0Aand-more")
    assert r.status == 404 and (await r.json())["message"] == "no route for GET /nothing/here\nand-more"
    assert line("-", "-", "-", "GET", "/nothing/here%0Aand-more", 404, reason="no_route").match(one(log))


# --- refusals ------------------------------------------------------------------------------------------------------

BAD_CREDENTIALS = {
    "gameball": ("GET", GB_BALANCE, {"apikey": "wrong"}, None, "get_customer_balance", 401),
    "omneo": ("GET", f"/api/v3/profiles/{ALICE['omneo']}/balances", {"Authorization": "Bearer wrong"}, None,
              "get_profile_balances", 401),
    "brevo": ("GET", f"/v3/loyalty/balance/programs/{BREVO_PID}/balance-definitions/{BREVO_BDID}",
              {"api-key": "wrong"}, None, "get_balance_definition", 401),
    # Altcraft answers its errors in an HTTP 200 (error 403 in the body)
    "altcraft": ("POST", ALTCRAFT_BALANCE, {}, {**ALTCRAFT_BODY, "token": "wrong"}, "get_account_balance", 200),
}


@pytest.mark.parametrize("vendor", sorted(BAD_CREDENTIALS))
async def test_bad_credentials_are_logged_without_a_tenant(log, vendor):
    method, path, headers, body, op, status = BAD_CREDENTIALS[vendor]
    r = await log.client.request(method, path, headers=headers, json=body)
    assert r.status == status
    assert line("-", vendor, op, method, path, status, reason="bad_credentials").match(one(log))
    assert log.gw.journal("demo").list() == []     # no tenant: nothing journaled, the log is the only trace


async def test_a_missing_secret_key_is_bad_credentials(log):
    r = await log.client.get(GB_BALANCE, headers={"apikey": GB["apikey"]})
    assert r.status == 401 and (await r.json())["code"] == 1001
    assert line("-", "gameball", "get_customer_balance", "GET", GB_BALANCE, 401,
                reason="bad_credentials").match(one(log))


async def test_a_malformed_body(log):
    r = await log.client.post("/api/v4.0/integrations/transactions/redeem", data=b'{"points": 5,',
                              headers={**GB, "Content-Type": "application/json"})
    assert r.status == 400
    assert line("demo", "gameball", "redeem_points", "POST", "/api/v4.0/integrations/transactions/redeem", 400,
                reason="malformed_body").match(one(log))
    # Altcraft reads its token from the body: an unreadable body has no tenant
    r = await log.client.post(ALTCRAFT_BALANCE, data=b'{"token": "abc', headers={"Content-Type": "application/json"})
    assert r.status == 200 and (await r.json())["error"] == 400
    assert line("-", "altcraft", "get_account_balance", "POST", ALTCRAFT_BALANCE, 200,
                reason="malformed_body").match(one(log))


async def test_an_invalid_request_with_its_violation_count(log):
    r = await log.client.post(ALTCRAFT_BALANCE, json={**ALTCRAFT_BODY, "loyalty_program_id": "x", "matching": "y"})
    assert r.status == 200 and (await r.json())["error"] == 400
    assert line("demo", "altcraft", "get_account_balance", "POST", ALTCRAFT_BALANCE, 200,
                reason="invalid_request", violations=2).match(one(log))


async def test_the_reason_survives_altcrafts_error_status_switch(log, tenant):
    tenant.settings["altcraft"] = {"error_http_status": True}
    r = await log.client.post(ALTCRAFT_BALANCE, json={**ALTCRAFT_BODY, "loyalty_program_id": "x"})
    assert r.status == 400
    assert line("demo", "altcraft", "get_account_balance", "POST", ALTCRAFT_BALANCE, 400,
                reason="invalid_request", violations=1).match(one(log))


async def test_warn_mode_counts_violations_without_a_reason(aiohttp_client, engine):
    log = await _logged(aiohttp_client, engine, validation="warn")
    r = await log.client.get(f"{GB_BALANCE}?expand=wallet", headers=GB)
    assert r.status == 200 and r.headers["X-Gateway-Violations"] == "1"
    assert line("demo", "gameball", "get_customer_balance", "GET", GB_BALANCE, 200, violations=1).match(one(log))


async def test_an_engine_refusal_gives_its_code(log):
    r = await log.client.post("/api/v4.0/integrations/transactions/redeem", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionId": "too-much", "transactionTime": "2026-03-10T12:00:00Z",
        "points": 99999})
    assert r.status == 422
    assert line("demo", "gameball", "redeem_points", "POST", "/api/v4.0/integrations/transactions/redeem", 422,
                reason="insufficient_points").match(one(log))


# --- faults: the log's reason and the journal's mark ---------------------------------------------------------------

async def test_latency_fault_is_journaled_and_served(log):
    fault = log.gw.faults.arm(tenant="demo", vendor="gameball", kind="latency", latency_ms=(20, 20), times=1)
    r = await log.client.get(GB_BALANCE, headers=GB)
    assert r.status == 200
    entry = log.gw.journal("demo").list(limit=1)[0]
    assert entry["fault"] == {"id": fault.id, "kind": "latency", "case": None}
    assert entry["duration_ms"] >= 20
    text = one(log)
    assert line("demo", "gameball", "get_customer_balance", "GET", GB_BALANCE, 200).match(text)
    assert float(text.split()[-1][:-2]) >= 20
    await log.client.get(GB_BALANCE, headers=GB)           # fired once: the next call is unmarked
    assert "fault" not in log.gw.journal("demo").list(limit=1)[0]


async def test_error_fault_is_journaled_with_its_case(log):
    fault = log.gw.faults.arm(tenant="demo", vendor="gameball", kind="error", case="rate_limit", times=1)
    r = await log.client.get(GB_BALANCE, headers=GB)
    assert r.status == 429 and (await r.json())["code"] == 4029
    entry = log.gw.journal("demo").list(limit=1)[0]
    assert (entry["status"], entry["fault"]) == (429, {"id": fault.id, "kind": "error", "case": "rate_limit"})
    assert "refusal" not in entry
    assert line("demo", "gameball", "get_customer_balance", "GET", GB_BALANCE, 429,
                reason="fault:rate_limit").match(one(log))


async def test_drop_fault_is_journaled_and_logged_as_status_0(log):
    fault = log.gw.faults.arm(tenant="demo", vendor="gameball", kind="drop", times=1)
    with pytest.raises(aiohttp.ClientError):
        await log.client.get(GB_BALANCE, headers=GB)
    entry = log.gw.journal("demo").list(limit=1)[0]
    assert (entry["status"], entry["fault"]) == (0, {"id": fault.id, "kind": "drop", "case": None})
    assert line("demo", "gameball", "get_customer_balance", "GET", GB_BALANCE, 0, reason="dropped").match(one(log))


async def test_an_unfaulted_call_has_no_fault_mark(log):
    await log.client.get(GB_BALANCE, headers=GB)
    assert "fault" not in log.gw.journal("demo").list(limit=1)[0]


# --- /__admin and unknown paths --------------------------------------------------------------------------------------

async def test_admin_calls_are_logged_with_their_operation(log):
    r = await log.client.get("/__admin/health")
    assert r.status == 200
    assert line("-", "admin", "get_health", "GET", "/__admin/health", 200).match(one(log))
    r = await log.client.get("/__admin/tenants/demo/journal")
    assert r.status == 200
    assert line("demo", "admin", "get_journal", "GET", "/__admin/tenants/demo/journal", 200).match(one(log))
    r = await log.client.delete("/__admin/tenants/demo/journal")
    assert r.status == 204
    assert line("demo", "admin", "clear_journal", "DELETE", "/__admin/tenants/demo/journal", 204).match(one(log))


async def test_admin_errors_give_the_admin_error_code(log):
    r = await log.client.get("/__admin/tenants/nope/journal")
    assert r.status == 404 and (await r.json())["error"] == "tenant_not_found"
    assert line("nope", "admin", "get_journal", "GET", "/__admin/tenants/nope/journal", 404,
                reason="tenant_not_found").match(one(log))


async def test_an_unknown_admin_path_is_one_admin_line(log):
    r = await log.client.get("/__admin/nothing")
    assert r.status == 404
    [text] = log.lines()
    assert re.match(f"^{TIME} - admin - GET /__admin/nothing 404 {DURATION}", text), text


@pytest.mark.parametrize("method,path,vendor,status,reason", [
    ("GET", "/nothing/here", "-", 404, "no_route"),
    ("GET", "/api/v4.0/integrations/nothing", "gameball", 404, "no_route"),
    ("DELETE", GB_BALANCE, "gameball", 405, "method_not_allowed"),
])
async def test_unknown_routes(log, method, path, vendor, status, reason):
    r = await log.client.request(method, path, headers=GB)
    assert r.status == status
    assert line("-", vendor, "-", method, path, status, reason=reason).match(one(log))


# --- json -------------------------------------------------------------------------------------------------------------

async def test_json_lines(jlog):
    await jlog.client.get(GB_BALANCE, headers=GB)
    await jlog.client.get(GB_BALANCE, headers={"apikey": "wrong"})
    await jlog.client.get("/__admin/health")
    await jlog.client.get("/nothing/here")
    records = jlog.records()
    for rec in records:
        assert list(rec) == ["time", "tenant", "vendor", "operation", "method", "path", "status", "duration_ms",
                             "reason", "violations"]
        assert re.fullmatch(TIME, rec.pop("time")) and isinstance(rec.pop("duration_ms"), float)
    assert records == [
        {"tenant": "demo", "vendor": "gameball", "operation": "get_customer_balance", "method": "GET",
         "path": GB_BALANCE, "status": 200, "reason": None, "violations": 0},
        {"tenant": None, "vendor": "gameball", "operation": "get_customer_balance", "method": "GET",
         "path": GB_BALANCE, "status": 401, "reason": "bad_credentials", "violations": 0},
        {"tenant": None, "vendor": "admin", "operation": "get_health", "method": "GET", "path": "/__admin/health",
         "status": 200, "reason": None, "violations": 0},
        {"tenant": None, "vendor": None, "operation": None, "method": "GET", "path": "/nothing/here", "status": 404,
         "reason": "no_route", "violations": 0},
    ]


async def test_json_counts_violations(aiohttp_client, engine):
    log = await _logged(aiohttp_client, engine, "json", validation="warn")
    await log.client.get(f"{GB_BALANCE}?expand=wallet", headers=GB)
    [rec] = log.records()
    assert (rec["status"], rec["reason"], rec["violations"]) == (200, None, 1)


# --- off ---------------------------------------------------------------------------------------------------------------

async def test_there_is_never_a_middleware(aiohttp_client, engine):
    """Vendor calls and admin calls log themselves: no call pays for a middleware, log or not."""
    assert Config().request_log is None
    assert len(build_app(engine, Config()).middlewares) == 0
    assert len(build_app(engine, Config(request_log=RequestLog(io.StringIO()))).middlewares) == 0


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="log format must be one of text, json, got 'xml'"):
        RequestLog(io.StringIO(), "xml")


def test_one_write_per_line():
    class Counting(io.StringIO):
        writes = 0

        def write(self, s):
            Counting.writes += 1
            return super().write(s)
    stream = Counting()
    RequestLog(stream, "text").write(tenant=None, vendor="gameball", operation="x", method="GET", path="/p",
                                     status=401, duration_ms=1.23456, reason="bad_credentials", violations=2)
    RequestLog(stream, "json").write(tenant="t", vendor="admin", operation=None, method="GET", path="/p",
                                     status=200, duration_ms=0.5)
    assert Counting.writes == 2
    text, js = stream.getvalue().splitlines()
    assert re.fullmatch(f"{TIME} - gameball x GET /p 401 1.235ms reason=bad_credentials violations=2", text)
    assert {k: v for k, v in json.loads(js).items() if k != "time"} == {
        "tenant": "t", "vendor": "admin", "operation": None, "method": "GET", "path": "/p", "status": 200,
        "duration_ms": 0.5, "reason": None, "violations": 0}
