"""Brevo's official Python SDK (`brevo-python` 5.1.0, the pinned test extra) drives EVERY balance operation of the
reference, and the program's publish, against a real gateway on a port: no SDK error, every response within our spec
(the gateway's violation header is checked on each answer), and the values the SDK hands back checked.

The SDK is the async client (`AsyncBrevo`, httpx) pointed at `http://127.0.0.1:<port>/v3`, the way a user points it
at the stand-in instead of https://api.brevo.com/v3.

Brevo's Node SDK (`@getbrevo/brevo` 6.x) does the same through tests/brevo_sdk_node.cjs when `node` is on the PATH
and the package resolves (`make test` installs it into .venv/node where npm exists, and sets NODE_PATH);
otherwise that test is skipped. Its answers are checked against our spec through the tenant's request journal."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import aiohttp

import pytest

from gateway.app import Config, build_app

from helpers import BREVO, BREVO_BDID, BREVO_PID, NOW

brevo = pytest.importorskip("brevo", reason="brevo-python (test extra) is not installed")
httpx = pytest.importorskip("httpx")

PID = BREVO_PID


pytestmark = pytest.mark.usefixtures("ledger_invariants")


@pytest.fixture
async def sdk(aiohttp_server, engine):
    server = await aiohttp_server(build_app(engine, Config(validate_responses=True)))
    seen: list[tuple[str, int]] = []

    async def checked(response):
        await response.aread()
        assert "X-Gateway-Violations" not in response.headers, (response.request.url, response.text)
        seen.append((f"{response.request.method} {response.request.url.path}", response.status_code))

    http = httpx.AsyncClient(event_hooks={"response": [checked]}, timeout=30)
    client = brevo.AsyncBrevo(base_url=f"http://127.0.0.1:{server.port}/v3", api_key=BREVO["api-key"],
                              httpx_client=http)
    client.seen = seen
    yield client
    await http.aclose()


async def test_every_balance_operation_through_the_sdk(sdk, tenant):
    b = sdk.balance
    # --- definitions: create, get, list, update (draft), publish, delete -----------------------------------
    created = await b.create_balance_definition(
        PID, name="Wallet", unit="POINTS", description="Cashback wallet", max_credit_amount_limit=1000,
        balance_option_credit_rounding="lower", balance_availability_duration_value=1,
        balance_availability_duration_unit="year", balance_availability_duration_modifier="endOfPeriod",
        meta={"isInternal": False})
    wallet = created.id
    assert (created.name, created.unit, created.max_credit_amount_limit, created.balance_availability_duration_unit) \
        == ("Wallet", "POINTS", 1000, "year")
    got = await b.get_balance_definition(PID, wallet, version="active")
    assert (got.id, got.description, got.balance_option_credit_rounding) == (wallet, "Cashback wallet", "lower")
    listed = await b.get_balance_definition_list(PID, sort_field="name", sort="asc", limit=10)
    assert [d.name for d in listed.items] == ["Reward Points", "Wallet"]
    updated = await b.update_balance_definition(PID, wallet, name="Wallet+", unit="POINTS",    # replaces all
                                                max_credit_amount_limit=500, balance_expiration_date="31/12",
                                                balance_option_credit_rounding="lower")
    assert (updated.name, updated.max_credit_amount_limit, updated.balance_expiration_date) == ("Wallet+", 500, "31/12")
    assert (await b.get_balance_definition(PID, wallet, version="active")).name == "Wallet"
    spare = (await b.create_balance_definition(PID, name="Spare", unit="EUR")).id
    await b.delete_balance_definition(PID, spare)
    assert [d.id for d in (await b.get_balance_definition_list(PID)).items if d.id == spare] == []

    # --- limits: create, get, update, delete (drafts; published below) -----------------------------------
    limit = await b.create_balance_limit(PID, wallet, constraint_type="transaction", duration_unit="day",
                                         duration_value=1, transaction_type="credit", value=2, sliding_schedule=False)
    assert (limit.balance_definition_id, limit.constraint_type, limit.value) == (wallet, "transaction", 2)
    assert (await b.get_balance_limit(PID, wallet, limit.id)).duration_unit == "day"
    changed = await b.update_balance_limit(PID, wallet, limit.id, constraint_type="transaction", duration_unit="week",
                                           duration_value=1, transaction_type="credit", value=2, sliding_schedule=True)
    assert (changed.duration_unit, changed.value, changed.sliding_schedule) == ("week", 2, True)
    doomed = await b.create_balance_limit(PID, wallet, constraint_type="amount", duration_unit="month",
                                          duration_value=1, transaction_type="debit", value=10)
    await b.delete_balance_limit(PID, wallet, doomed.id)
    await sdk.program.publish_loyalty_program(PID)
    assert (await b.get_balance_definition(PID, wallet, version="active")).name == "Wallet+"
    assert (await b.get_balance_limit(PID, wallet, limit.id, version="active")).value == 2

    # --- members' balances ---------------------------------------------------------------------------------
    opened = await b.create_subscription_balances(PID, "18", balance_definition_id=wallet)
    assert (opened.contact_id, opened.amount, opened.balance_definition_id) == (18, 0, wallet)
    mine = await b.get_subscription_balances(PID, "17")
    assert {x.balance_definition_id: x.value for x in mine.balance} == {BREVO_BDID: 1400, wallet: 0}

    # --- transactions: begin, complete, cancel, an order ----------------------------------------------------
    credit = await b.begin_transaction(PID, amount=120.9, balance_definition_id=wallet, contact_id=17,
                                       meta={"orderId": "o-1"}, event_time=NOW - timedelta(hours=1))
    assert (credit.status, credit.amount, credit.balance) == ("draft", 120, None)     # rounded down (lower)
    done = await b.complete_transaction(PID, credit.id)
    assert (done.status, done.balance) == ("completed", 120)
    dropped = await b.begin_transaction(PID, amount=5, balance_definition_id=wallet, contact_id=17)
    assert (await b.cancel_transaction(PID, dropped.id)).status == "cancelled"
    debit = await b.begin_transaction(PID, amount=20, transaction_type="debit", balance_definition_id=wallet,
                                      contact_id=17, auto_complete=True)
    assert (debit.status, debit.amount, debit.balance) == ("completed", -20, 100)
    tenant.clock.advance(timedelta(seconds=1))       # lots made at one instant are ordered by id: not this one
    over = await b.begin_transaction(PID, amount=1, balance_definition_id=wallet, contact_id=17, auto_complete=True)
    assert over.status == "completed"
    beyond = await b.begin_transaction(PID, amount=1, balance_definition_id=wallet, contact_id=17, auto_complete=True)
    assert (beyond.status, beyond.reject_reason) == ("rejected", "credit limit of 2 transactions per 1 week reached")
    order = await b.create_balance_order(PID, amount=30, balance_definition_id=BREVO_BDID, contact_id=17,
                                         due_at="2026-03-15T00:00:00Z", source="user", meta={"orderId": "o-2"})
    assert (order.amount, order.processed_at) == (30, None)
    assert (await b.complete_transaction(PID, order.transactionid)).balance == 1430

    # --- lists -----------------------------------------------------------------------------------------------
    active = await b.get_active_balances_api(PID, contact_id=17, balance_definition_id=wallet, sort="asc")
    assert (active.count, [x.amount for x in active.active_balances]) == (2, [100, 1])
    history = await b.get_transaction_history_api(PID, contact_id=17, balance_definition_id=wallet, limit=3)
    assert [(x.amount, x.status) for x in history.transaction_history] == [
        (1, "rejected"), (1, "completed"), (-20, "completed")]
    assert history.count == 5
    ranking = await b.get_contact_balances(PID, balance_definition_id=wallet, sort_field="value")
    assert [(x.contact_id, x.value) for x in ranking.balances] == [(17, 101), (18, 0)]

    operations = {path.split(f"/programs/{PID}")[-1] for path, _ in (
        (p.split(" ", 1)[1], s) for p, s in sdk.seen)}
    assert len(sdk.seen) >= 30 and all(status < 300 for _, status in sdk.seen), sdk.seen
    assert {"/balance-definitions", "/contact-balances", "/active-balance", "/transaction-history", "/create-order",
            "/publish"} <= operations


async def test_sdk_errors_are_brevos_errors(sdk):
    with pytest.raises(brevo.NotFoundError) as missing:
        await sdk.balance.get_balance_definition(PID, "00000000-0000-4000-8000-000000000000")
    assert missing.value.body == {"code": "document_not_found", "message": "not found"}
    with pytest.raises(brevo.UnprocessableEntityError) as refused:
        await sdk.balance.delete_balance_definition(PID, BREVO_BDID)
    assert refused.value.body.message == "the program keeps at least one balance definition"


# --- the Node SDK ------------------------------------------------------------------------------------------------

NODE_SCRIPT = Path(__file__).with_name("brevo_sdk_node.cjs")
NODE_CALLS = {"createBalanceDefinition", "getBalanceDefinition", "getBalanceDefinitionList", "updateBalanceDefinition",
              "deleteBalanceDefinition", "createBalanceLimit", "getBalanceLimit", "updateBalanceLimit",
              "deleteBalanceLimit", "publishLoyaltyProgram", "createSubscriptionBalances", "getSubscriptionBalances",
              "beginTransaction", "completeTransaction", "cancelTransaction", "createBalanceOrder",
              "getActiveBalancesApi", "getTransactionHistoryApi", "getContactBalances"}


def _node_with_sdk() -> str | None:
    node = shutil.which("node")
    if node is None:
        return None
    probe = subprocess.run([node, "-e", "require.resolve('@getbrevo/brevo')"], capture_output=True, timeout=60,
                           cwd=NODE_SCRIPT.parent, env=os.environ)
    return node if probe.returncode == 0 else None


async def test_every_balance_operation_through_the_node_sdk(aiohttp_server, engine):
    node = _node_with_sdk()
    if node is None:
        pytest.skip("node, or the @getbrevo/brevo package (NODE_PATH), is not available")
    server = await aiohttp_server(build_app(engine, Config(validate_responses=True)))
    proc = await asyncio.create_subprocess_exec(
        node, str(NODE_SCRIPT), f"http://127.0.0.1:{server.port}/v3", BREVO["api-key"], PID, BREVO_BDID,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=os.environ)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert set(json.loads(out)["calls"]) == NODE_CALLS
    async with aiohttp.ClientSession() as session:    # what the gateway answered, as its journal saw it
        async with session.get(f"http://127.0.0.1:{server.port}/__admin/tenants/demo/journal?vendor=brevo&limit=1000"
                               ) as r:
            journal = await r.json()
    assert journal["count"] >= 25
    assert [e for e in journal["entries"] if e["response_violations"] or e["status"] >= 300] == [], journal
