"""Omneo store credit and benefits: balances, the credit and benefit redeem endpoints, the main redeem's `benefits`
field and `benefits`/`credits` strategies (the business guide's order by default), the benefit return, reversal
and return of what they took, redemption filters and counts. Every response is checked against specs/omneo.yaml;
state is read back through the engine and the other dialects, the ledger invariants are checked after writes.

A test-local world: the demo world (alice: a 10 USD reward, 1400 available points at 0.05 USD) plus, issued through
fixture events, alice's credits #1 (8 USD, expired yesterday), #2 (30 USD, no code, expires in 60 days), #3 (50 USD,
security code 4821, "Gift card", never expires) and benefits #1 (free-coffee, 3 left, 4.50 USD each, expires in 30
days) and #2 (birthday-gift, 1, no cash value)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from gateway import fixtures
from gateway.engine import Engine
from gateway.store.memory import MemoryTenantStore
from helpers import ALICE, BOB, NOW, OMNEO, assert_agree, read_all
import invariants

BAL = "/api/v3/profiles/{}/balances"
REDEEM = "/api/v3/profiles/{}/redeem"
CREDIT = "/api/v3/profiles/{}/credits/{}/redeem"
BENEFIT = "/api/v3/profiles/{}/benefits/{}/redeem"
BENEFIT_RETURN = "/api/v3/redemptions/{}/benefit/return"
RETURN = "/api/v3/redemptions/{}/return"
REVERSAL = "/api/v3/redemptions/{}/reversal"
LIST = "/api/v3/profiles/{}/redemptions"
T0 = "2026-03-10 12:00:00"

EVENTS = [
    {"at": "-60d", "store_credit": 8, "expires_at": "-1d"},
    {"at": "-30d", "store_credit": 30, "expires_at": "+60d"},
    {"at": "-20d", "store_credit": 50, "security_code": "4821", "name": "Gift card", "external_id": "GC-1"},
    {"at": "-7d", "benefit": "free-coffee", "name": "Free coffee", "quantity": 3, "value": "4.50",
     "expires_at": "+30d"},
    {"at": "-6d", "benefit": "birthday-gift", "name": "Birthday gift"},
]


@pytest.fixture
def engine():
    doc = fixtures.demo_document()
    doc["clock"] = {"now": NOW.isoformat(), "frozen": True}
    next(m for m in doc["members"] if m["id"] == "alice")["history"] += EVENTS
    e = Engine()
    e.add(fixtures.build(doc))
    return e


def credit(id, remaining, *, initial, issued, expires=None, code=False, name=None, external_id=None,
           updated=None, active=True, expired=False):
    return {"id": id, "profile_id": ALICE["omneo"], "name": name, "value_initial": initial,
            "value_remaining": remaining, "has_security_code": code, "issued_at": issued, "expires_at": expires,
            "is_active": active, "is_expired": expired, "external_id": external_id, "meta": None,
            "created_at": issued, "updated_at": updated or issued}


def coffee(remaining, updated=T0):
    return {"id": 1, "profile_id": ALICE["omneo"], "handle": "free-coffee", "name": "Free coffee", "value": 4.5,
            "quantity_initial": 3, "quantity_remaining": remaining, "issued_at": "2026-03-03 12:00:00",
            "expires_at": "2026-04-09 12:00:00", "is_active": remaining > 0, "is_expired": False, "meta": None,
            "created_at": "2026-03-03 12:00:00", "updated_at": updated}


CREDIT_2 = dict(initial=30, issued="2026-02-08 12:00:00", expires="2026-05-09 12:00:00")
CREDIT_3 = dict(initial=50, issued="2026-02-18 12:00:00", code=True, name="Gift card", external_id="GC-1")


async def ok(resp, status=200):
    body = await resp.json()
    assert resp.status == status, body
    return body


async def post(client, path, body=None, status=201):
    return (await ok(await client.post(path, headers=OMNEO, json=body or {}), status))["data"]


def state(tenant):
    """Everything a refused call must leave as it was."""
    store = tenant.store
    alice = tenant.member_by_id("alice")
    return (tenant.balance(alice, tenant.program("main").default_currency), store.rewards("alice"),
            [store.store_credit(i) for i in (1, 2, 3)], [store.benefit(i) for i in (1, 2)],
            store.open_store_credits("alice"), store.open_benefits("alice"), store.seq_value("redemption"))


async def refused(client, tenant, path, status, body, json=None):
    before = state(tenant)
    r = await client.post(path, headers=OMNEO, json=json if json is not None else {})
    assert (r.status, await r.json()) == (status, body)
    assert state(tenant) == before
    invariants.check(tenant)


def laravel(field, message):
    return {"message": message, "errors": {field: [message]}}


def items(red):
    return [(i["type"], i["type_attributes"]["id"], i["value"], i["count"]) for i in red["items"]]


# === balances ==========================================================================================================

async def test_balances_show_active_credit_and_redeemable_benefits(client, tenant):
    """Credits: 30 + 50 (the expired 8 not); benefits: 3 coffees + 1 gift. Credit is not in the combined balance."""
    bal = (await ok(await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO)))["data"]
    assert (bal["credit_balance"], bal["benefit_balance"], bal["reward_balance"], bal["point_balance_dollars"],
            bal["combined_balance_dollars"]) == (80, 4, 10, 70, 80)
    assert bal["localised"] == {"reward_balance": 10, "point_balance_dollars": 70, "combined_balance_dollars": 80}
    profile = (await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}", headers=OMNEO)))["data"]
    assert (profile["credit_balance"], profile["benefit_balance"], profile["combined_balance_dollars"]) == (80, 4, 80)
    bob = (await ok(await client.get(BAL.format(BOB["omneo"]), headers=OMNEO)))["data"]
    assert (bob["credit_balance"], bob["benefit_balance"]) == (0, 0)


# === credit redeem =====================================================================================================

async def test_credit_redeem_spends_the_card_and_no_points(client, tenant):
    before = await read_all(client, ALICE)
    red = await post(client, CREDIT.format(ALICE["omneo"], 3), {
        "amount": 12.5, "security_code": "4821", "location_id": 4, "meta": {"till": 2},
        "transaction_external_id": "POS-1"})
    balances = red.pop("balances")
    assert red == {
        "id": 1, "profile_id": ALICE["omneo"],
        "profile": {"first_name": "Alice", "last_name": "Example", "full_name": "Alice Example",
                    "email": "user@example.com", "statuses": []},
        "type": "redeem", "total": 12.5, "total_localised": 12.5, "location_id": 4, "location": None,
        "currency": None,
        "items": [{"id": 1, "type": "credit", "value": 12.5, "count": 1,
                   "type_attributes": credit(3, 37.5, updated=T0, **CREDIT_3),
                   "created_at": T0, "updated_at": T0}],
        "meta": {"till": 2}, "transaction_id": None, "transaction": None, "transaction_external_id": "POS-1",
        "transaction_receipt_ref": None, "redeem_at": T0, "created_at": T0, "updated_at": T0}
    assert (balances["credit_balance"], balances["point_balance"], balances["reward_balance"]) == (67.5, 1400, 10)
    assert tenant.store.store_credit(3).value_remaining == Decimal("37.50")
    after = await read_all(client, ALICE)
    assert_agree(after)
    # no dialect's points moved
    assert after["gameball"] == before["gameball"] and after["altcraft"] == before["altcraft"]
    assert after["brevo"] == before["brevo"]
    invariants.check(tenant)
    # the whole of what is left, then nothing
    red = await post(client, CREDIT.format(ALICE["omneo"], 2), {"amount": 30})
    assert items(red) == [("credit", 2, 30, 1)]
    assert red["items"][0]["type_attributes"] == credit(2, 0, updated=T0, active=False, **CREDIT_2)
    assert red["balances"]["credit_balance"] == 37.5


async def test_credit_redeem_refusals_change_nothing(client, tenant):
    path = CREDIT.format(ALICE["omneo"], 3)
    await refused(client, tenant, path, 422, laravel("security_code", "The security code is invalid."),
                  {"amount": 5})
    await refused(client, tenant, path, 422, laravel("security_code", "The security code is invalid."),
                  {"amount": 5, "security_code": "0000"})
    await refused(client, tenant, path, 422, laravel("amount", "The amount exceeds the available balance."),
                  {"amount": 50.01, "security_code": "4821"})
    await refused(client, tenant, path, 422, laravel("amount", "The amount field is required."),
                  {"security_code": "4821"})
    await refused(client, tenant, CREDIT.format(ALICE["omneo"], 1), 422,
                  laravel("credit", "The credit has expired or has nothing left."), {"amount": 1})
    for who, cid in ((ALICE, 9), (BOB, 2)):
        await refused(client, tenant, CREDIT.format(who["omneo"], cid), 404,
                      {"message": f"No query results for model [App\\Models\\Credit] {cid}"}, {"amount": 1})


# === benefit redeem ====================================================================================================

async def test_benefit_redeem_uses_some_of_it(client, tenant):
    red = await post(client, BENEFIT.format(ALICE["omneo"], 1), {"count": 2})
    assert (red["type"], red["total"], items(red)) == ("redeem", 9, [("benefit", 1, 9, 2)])
    assert red["items"][0]["type_attributes"] == coffee(1)
    assert (red["balances"]["benefit_balance"], red["balances"]["point_balance"]) == (2, 1400)
    red = await post(client, BENEFIT.format(ALICE["omneo"], 2))             # count defaults to 1
    assert (red["total"], items(red)) == (0, [("benefit", 2, 0, 1)])
    assert red["balances"]["benefit_balance"] == 1
    invariants.check(tenant)


async def test_benefit_redeem_refusals_change_nothing(client, tenant):
    await refused(client, tenant, BENEFIT.format(ALICE["omneo"], 1), 422,
                  laravel("count", "The count must not be greater than 3."), {"count": 4})
    await refused(client, tenant, BENEFIT.format(ALICE["omneo"], 1), 422,
                  laravel("count", "The count must be at least 1."), {"count": 0})
    await refused(client, tenant, BENEFIT.format(BOB["omneo"], 1), 404,
                  {"message": "No query results for model [App\\Models\\Benefit] 1"}, {"count": 1})


# === the main redeem ===================================================================================================

async def test_default_order_is_benefits_rewards_credits_then_points(client, tenant):
    """100 USD: 3 coffees (13.50), the reward (10), the unsecured credit (30; the gift card needs its code), then
    46.50 of points = 930 points, from the soonest-expiring record (200) first."""
    before = await read_all(client, ALICE)
    red = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 100})
    assert red["total"] == 100
    assert items(red) == [("benefit", 1, 13.5, 3), ("reward", 2, 10, 1), ("credit", 2, 30, 1),
                          ("point", 2, 200, 1), ("point", 3, 730, 1)]
    b = red["balances"]
    assert (b["benefit_balance"], b["reward_balance"], b["credit_balance"], b["point_balance"]) == (1, 0, 50, 470)
    after = await read_all(client, ALICE)
    assert_agree(after)
    assert after["gameball"]["availablePointsBalance"] == before["gameball"]["availablePointsBalance"] - 930
    invariants.check(tenant)


async def test_named_benefits_first_then_the_strategies(client, tenant):
    red = await post(client, REDEEM.format(ALICE["omneo"]), {
        "amount": 20, "benefits": [{"id": 2}, {"id": 1, "quantity": 2}], "strategies": ["credits", "points"]})
    # the gift (0) and 2 coffees (9) named; the 11 left from the credit
    assert (red["total"], items(red)) == (20, [("benefit", 2, 0, 1), ("benefit", 1, 9, 2), ("credit", 2, 11, 1)])
    assert red["balances"]["benefit_balance"] == 1
    # benefits worth more than the amount: all of them, and the total says so
    red = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 1, "benefits": [{"id": 1}]})
    assert (red["total"], items(red)) == (4.5, [("benefit", 1, 4.5, 1)])
    invariants.check(tenant)


async def test_redeem_refusals_about_benefits_change_nothing(client, tenant):
    path = REDEEM.format(ALICE["omneo"])
    await refused(client, tenant, path, 422, laravel("benefits.0.id", "The selected benefits.0.id is invalid."),
                  {"amount": 5, "benefits": [{"id": 9}]})
    await refused(client, tenant, path, 422,
                  laravel("benefits.1.quantity", "The benefits.1.quantity must not be greater than 3."),
                  {"amount": 5, "benefits": [{"id": 1, "quantity": 2}, {"id": 1, "quantity": 2}]})
    # 13: two coffees (9) fit, a third would overshoot; strict refuses the 4 left over, and the two are not taken
    await refused(client, tenant, path, 422, laravel("amount", "The amount exceeds the available balance."),
                  {"amount": 13, "strategies": ["benefits"], "strict": True})
    # 4: no coffee fits at all
    await refused(client, tenant, path, 422, laravel("amount", "The amount exceeds the available balance."),
                  {"amount": 4, "strategies": ["benefits"]})


# === giving back =======================================================================================================

async def test_benefit_return_gives_back_the_benefits_taken(client, tenant):
    red = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 19, "strategies": ["benefits", "rewards"]})
    assert items(red) == [("benefit", 1, 13.5, 3), ("reward", 2, 5.5, 1)]
    ret = await post(client, BENEFIT_RETURN.format(red["id"]), {"meta": {"why": "closed"}})
    assert (ret["type"], ret["total"], ret["meta"], items(ret)) == ("return", 13.5, {"why": "closed"},
                                                                    [("benefit", 1, 13.5, 3)])
    assert ret["items"][0]["type_attributes"] == coffee(3)
    assert (ret["balances"]["benefit_balance"], ret["balances"]["reward_balance"]) == (4, 4.5)
    await refused(client, tenant, BENEFIT_RETURN.format(red["id"]), 422,
                  laravel("redemption", "Every benefit of the redemption has been returned."))
    await refused(client, tenant, BENEFIT_RETURN.format(ret["id"]), 422,
                  laravel("redemption", "Only redemptions of type redeem can be returned."))
    other = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 1, "strategies": ["rewards"]})
    await refused(client, tenant, BENEFIT_RETURN.format(other["id"]), 422,
                  laravel("redemption", "The redemption has no benefits to return."))
    # a money return leaves benefits alone: only the reward's 5.50 is left to give back
    back = await post(client, RETURN.format(red["id"]))
    assert (back["total"], items(back)) == (5.5, [("reward", 2, 5.5, 1)])
    invariants.check(tenant)


async def test_reversal_gives_back_benefits_credits_rewards_and_points(client, tenant):
    before = state(tenant)
    red = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 60})
    assert items(red) == [("benefit", 1, 13.5, 3), ("reward", 2, 10, 1), ("credit", 2, 30, 1), ("point", 2, 130, 1)]
    back = await post(client, RETURN.format(red["id"]), {"amount": 10})     # the last drawn first: the points...
    assert items(back) == [("point", 2, 130, 1), ("credit", 2, 3.5, 1)]   # (6.50) then 3.50 of the credit
    rev = await post(client, REVERSAL.format(red["id"]))
    assert (rev["type"], rev["total"]) == ("reversal", 50)
    assert items(rev) == [("benefit", 1, 13.5, 3), ("reward", 2, 10, 1), ("credit", 2, 26.5, 1)]
    after = state(tenant)
    assert after[0].available == before[0].available
    assert [c.value_remaining for c in after[2]] == [c.value_remaining for c in before[2]]
    assert [b.quantity_remaining for b in after[3]] == [b.quantity_remaining for b in before[3]]
    assert after[1][1].value_remaining == before[1][1].value_remaining
    invariants.check(tenant)


# === reads =============================================================================================================

async def test_filters_and_counts_by_credit_and_benefit(client, tenant):
    await post(client, BENEFIT.format(ALICE["omneo"], 1))                                   # 1
    await post(client, CREDIT.format(ALICE["omneo"], 3), {"amount": 5, "security_code": "4821"})   # 2
    await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 1, "strategies": ["points"]})     # 3
    await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 45, "strategies": ["credits", "points"]})  # 4
    for query, ids in (("has_benefit=1", [1]), ("has_credit=1", [4, 2]), ("has_credit=1&has_point=1", [4]),
                       ("has_credit=0&has_benefit=0", [3]), ("has_reward=1", []), ("has_point=0", [2, 1])):
        body = await ok(await client.get(LIST.format(ALICE["omneo"]) + "?" + query, headers=OMNEO))
        assert ([r["id"] for r in body["data"]], body["meta"]["total"]) == (ids, len(ids)), query
    count = "/api/v3/profiles/{}/redemptions/{}/{}/count"
    for kind, rid, n in (("benefit", 1, 1), ("benefit", 2, 0), ("credit", 3, 1), ("credit", 2, 1)):
        assert await ok(await client.get(count.format(ALICE["omneo"], kind, rid), headers=OMNEO)) == \
            {"data": {"count": n}}
    for who, kind, rid, model in ((BOB, "benefit", 1, "Benefit"), (ALICE, "credit", 9, "Credit")):
        r = await client.get(count.format(who["omneo"], kind, rid), headers=OMNEO)
        assert (r.status, (await r.json())["message"]) == (404, f"No query results for model [App\\Models\\{model}] {rid}")
    one = await ok(await client.get("/api/v3/redemptions/1", headers=OMNEO))
    assert items(one["data"]) == [("benefit", 1, 4.5, 1)]
    assert one["data"]["items"][0]["type_attributes"] == coffee(2)


# === the store ========================================================================================================

def test_credits_and_benefits_survive_a_snapshot(tenant):
    alice = tenant.member_by_id("alice")
    tenant.redeem_benefit(alice, 1, 2)
    restored = MemoryTenantStore.restore(tenant.store.export())
    assert [restored.store_credit(i) for i in (1, 2, 3)] == [tenant.store.store_credit(i) for i in (1, 2, 3)]
    assert [restored.benefit(i) for i in (1, 2)] == [tenant.store.benefit(i) for i in (1, 2)]
    assert restored.open_store_credits("alice") == tenant.store.open_store_credits("alice")
    assert [b.id for b in restored.open_benefits("alice")] == [1, 2]
    assert restored.seq_value("benefit") == 2


def test_a_used_up_credit_leaves_the_live_set(tenant):
    alice = tenant.member_by_id("alice")
    assert [c.id for c in tenant.store.open_store_credits("alice")] == [1, 2, 3]    # expired #1 still holds value
    tenant.redeem_store_credit(alice, 2, 30)
    assert [c.id for c in tenant.store.open_store_credits("alice")] == [1, 3]


async def test_an_expired_benefit_is_not_redeemable(client, tenant):
    tenant.clock.advance(timedelta(days=31))              # the coffees expire after 30 days
    bal = (await ok(await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO)))["data"]
    assert bal["benefit_balance"] == 1                    # the gift only
    await refused(client, tenant, BENEFIT.format(ALICE["omneo"], 1), 422, laravel(
        "count", "The count is invalid: the benefit has expired or none is left."), {"count": 1})
    await refused(client, tenant, REDEEM.format(ALICE["omneo"]), 422, laravel(
        "benefits.0.quantity", "The benefits.0.quantity is invalid: the benefit has expired or none is left."),
        {"amount": 5, "benefits": [{"id": 1}]})


async def test_a_return_to_the_credits_named(client, tenant):
    red = await post(client, REDEEM.format(ALICE["omneo"]), {"amount": 40, "strategies": ["credits", "rewards"]})
    assert items(red) == [("credit", 2, 30, 1), ("reward", 2, 10, 1)]
    back = await post(client, RETURN.format(red["id"]), {"strategies": ["credits"]})
    assert (back["total"], items(back)) == (30, [("credit", 2, 30, 1)])
    assert back["items"][0]["type_attributes"] == credit(2, 30, updated=T0, **CREDIT_2)
    assert (back["balances"]["credit_balance"], back["balances"]["reward_balance"]) == (80, 0)
