"""Brevo GET /contact-balances: every subscribed contact's balance of one definition, sorted by updatedAt or value and
paged, kept up to date by writes of any dialect and by time alone (points becoming available, a hold lapsing)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import utc_seconds as z
from helpers import ALICE, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW

BASE = f"/v3/loyalty/balance/programs/{BREVO_PID}"
UNKNOWN = "00000000-0000-4000-8000-000000000000"




pytestmark = pytest.mark.usefixtures("ledger_invariants")


async def balances(client, bdid=BREVO_BDID, status=200, **query):
    q = "&".join(f"{k}={v}" for k, v in {"balanceDefinitionId": bdid, **query}.items())
    resp = await client.get(f"{BASE}/contact-balances?{q}", headers=BREVO)
    body = await resp.json()
    assert resp.status == status, body
    return body


def rows(body):
    return [(b["contactId"], b["value"], b["updatedAt"]) for b in body["balances"]]


async def test_the_demo_contacts(client):
    body = await balances(client)
    assert body == {"loyaltyProgramId": BREVO_PID, "balanceDefinitionId": BREVO_BDID, "count": 2, "balances": [
        {"contactId": 18, "loyaltySubscriptionId": None, "updatedAt": z(NOW), "value": 0},
        # alice's balance last changed with her debit 20 days ago (the 400 she earned since are still pending)
        {"contactId": 17, "loyaltySubscriptionId": "cust_abc123", "updatedAt": z(NOW - timedelta(days=20)),
         "value": 1400}]}


@pytest.mark.parametrize("query, expected", [
    ({"sort": "asc"}, [17, 18]),
    ({"sortField": "value"}, [17, 18]),
    ({"sortField": "value", "sort": "asc"}, [18, 17]),
    ({"limit": 1}, [18]),
    ({"limit": 1, "offset": 1}, [17]),
    ({"offset": 2}, []),
])
async def test_sorted_and_paged(client, query, expected):
    body = await balances(client, **query)
    assert ([b["contactId"] for b in body["balances"]], body["count"]) == (expected, 2)


async def test_writes_of_any_dialect_move_a_contact(client, tenant):
    tenant.clock.advance(timedelta(minutes=5))
    resp = await client.post("/api/v4.0/integrations/transactions/manual", headers=GB, json={
        "customerId": BOB["gameball"], "transactionId": "m-1", "username": "ops", "reason": "bonus", "points": 2000})
    assert resp.status == 200, await resp.text()
    assert rows(await balances(client, sortField="value")) == [
        (18, 2000, z(NOW + timedelta(minutes=5))), (17, 1400, z(NOW - timedelta(days=20)))]
    resp = await client.post("/api/v4.0/integrations/transactions/hold", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionTime": z(NOW), "pointsToHold": 300})
    assert resp.status == 200
    assert rows(await balances(client, sortField="value", sort="asc"))[0] == (17, 1100, z(NOW + timedelta(minutes=5)))


async def test_time_alone_moves_a_contact(client, tenant):
    resp = await client.post("/api/v4.0/integrations/transactions/hold", headers=GB, json={
        "customerId": ALICE["gameball"], "transactionTime": z(NOW), "pointsToHold": 300})
    assert resp.status == 200
    tenant.clock.advance(timedelta(days=10))
    # the hold lapsed after 10 minutes (1400 again), then the pending 400 became available after 9 days
    assert rows(await balances(client)) == [(17, 1800, z(NOW + timedelta(days=9))), (18, 0, z(NOW))]


async def test_a_new_definition_lists_every_contact_at_zero(client):
    resp = await client.post(f"{BASE}/balance-definitions", json={"name": "Wallet", "unit": "EUR"}, headers=BREVO)
    bdid = (await resp.json())["id"]
    assert sorted(rows(await balances(client, bdid))) == [(17, 0, z(NOW)), (18, 0, z(NOW))]


async def test_a_contact_no_longer_subscribed_is_not_listed(client, tenant, bob):
    tenant.set_active(bob, False)
    body = await balances(client)
    assert ([b["contactId"] for b in body["balances"]], body["count"]) == ([17], 1)


async def test_internal_definition_needs_include_internal(client, tenant, points):
    from dataclasses import replace
    program = tenant.program("main")
    tenant.programs["main"] = replace(program, currencies=(replace(points, info={**points.info,
                                                                                 "meta": {"isInternal": True}}),))
    assert (await balances(client))["balances"] == []
    assert (await balances(client, includeInternal="true"))["count"] == 2


@pytest.mark.parametrize("bdid, query, status, expected", [
    (UNKNOWN, {}, 404, {"code": "document_not_found", "message": "balance definition doesn't exist"}),
    ("x", {}, 422, {"code": "invalid_parameter", "message": "balanceDefinitionId must be a valid uuid"}),
    (BREVO_BDID, {"sortField": "createdAt"}, 422,
     {"code": "invalid_parameter", "message": "sortField must be one of: updatedAt, value"}),
    (BREVO_BDID, {"limit": 0}, 422, {"code": "out_of_range", "message": "limit must be greater than or equal to 1"}),
])
async def test_refusals(client, bdid, query, status, expected):
    assert await balances(client, bdid, status, **query) == expected


async def test_the_definition_is_required(client):
    resp = await client.get(f"{BASE}/contact-balances", headers=BREVO)
    assert (resp.status, await resp.json()) == (422, {"code": "missing_parameter",
                                                      "message": "balanceDefinitionId is required"})


async def test_another_programs_members_are_not_listed(client, tenant, points):
    """Currency ids are unique within a program only: a second program's `points` keeps its balances apart."""
    from dataclasses import replace
    main = tenant.program("main")
    twin = replace(main, id="twin", external={"brevo.program_id": "22222222-3333-4444-8555-666666666666"},
                   currencies=(replace(points, external={"brevo.balance_definition_id": UNKNOWN}),))
    tenant.programs["twin"] = twin
    member = tenant.add_member(twin, {"brevo.contact": "77"})
    tenant.credit(member, twin.default_currency, 70, available_at=tenant.now())
    assert sorted(rows(await balances(client))) == [(17, 1400, z(NOW - timedelta(days=20))), (18, 0, z(NOW))]
    resp = await client.get(f"/v3/loyalty/balance/programs/22222222-3333-4444-8555-666666666666/contact-balances"
                            f"?balanceDefinitionId={UNKNOWN}", headers=BREVO)
    assert rows(await resp.json()) == [(77, 70, z(NOW))]
