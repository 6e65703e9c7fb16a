"""Omneo redemptions beyond redeem/reversal: redeeming in another currency and with the legacy `strategy`,
returns (part and all), benefit and credit redeem, and the reads (profile list with filters, get, linked, counts,
the tenant's redemptions and items). Every response is checked against specs/omneo.yaml; state is read back
through GET .../balances, and the ledger invariants are checked after writes.

Demo figures: alice has a 10 USD reward (#2) and 1400 available points (0.05 USD each) in point records #2 (200 left,
expiring first) and #3 (1200); AUD is 1.5 per USD, EUR 0.92; bob has nothing."""
from __future__ import annotations

import pytest

from helpers import ALICE, BOB, OMNEO
import invariants

BAL = "/api/v3/profiles/{}/balances"
REDEEM = "/api/v3/profiles/{}/redeem"
RETURN = "/api/v3/redemptions/{}/return"
REVERSAL = "/api/v3/redemptions/{}/reversal"
LIST = "/api/v3/profiles/{}/redemptions"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
T0 = "2026-03-10 12:00:00"
AUD = {"id": 2, "from": "USD", "to": "AUD", "rate": 1.5, "is_system": False,
       "created_at": "2024-01-15 09:30:00", "updated_at": "2024-01-15 09:30:00"}


@pytest.fixture
def vendors():
    return ["omneo"]


async def ok(resp, status=200):
    body = await resp.json()
    assert resp.status == status, body
    return body


async def balances(client, who=ALICE):
    return (await ok(await client.get(BAL.format(who["omneo"]), headers=OMNEO)))["data"]


async def redeem(client, body, who=ALICE):
    return (await ok(await client.post(REDEEM.format(who["omneo"]), headers=OMNEO, json=body), 201))["data"]


def kinds(red):
    return [(i["type"], i["type_attributes"]["id"], i["value"]) for i in red["items"]]


def laravel_error(field, message):
    return {"message": message, "errors": {field: [message]}}


def state(tenant):
    alice = tenant.member_by_id("alice")
    return (tenant.balance(alice, tenant.program("main").default_currency), tenant.store.rewards("alice"),
            tenant.store.seq_value("redemption"))


async def refused(client, tenant, method, path, status, body, **kw):
    before = state(tenant)
    r = await client.request(method, path, headers=OMNEO, **kw)
    assert (r.status, await r.json()) == (status, body)
    assert state(tenant) == before
    invariants.check(tenant)


# === redeem: currency, legacy strategy =============================================================================

async def test_redeem_in_aud_is_converted_at_the_rate(client, tenant):
    red = await redeem(client, {"amount": 30, "currency": "AUD"})      # 30 AUD = 20 USD
    assert (red["total"], red["total_localised"], red["currency"]) == (20, 30, AUD)
    assert kinds(red) == [("reward", 2, 10), ("point", 2, 200)]       # 10 USD reward, then 200 points = 10 USD
    assert red["balances"]["localised"] == {"reward_balance": 0, "point_balance_dollars": 90,
                                            "combined_balance_dollars": 90}
    assert (red["balances"]["reward_balance"], red["balances"]["point_balance"]) == (0, 1200)
    assert (await balances(client))["point_balance"] == 1200
    invariants.check(tenant)


async def test_redeem_in_eur_rounds_to_cents_half_up(client, tenant):
    red = await redeem(client, {"amount": 5, "currency": "EUR", "strategies": ["points"]})   # 5 / 0.92 = 5.4348
    assert (red["total"], red["total_localised"]) == (5.43, 5)
    assert kinds(red) == [("point", 2, 108.6)]                               # 5.43 / 0.05 = 108.6 points
    assert (await balances(client))["point_balance"] == 1291.4


async def test_partial_redeem_in_aud_reports_what_the_part_is_worth(client, tenant):
    red = await redeem(client, {"amount": 300, "currency": "AUD"})     # 200 USD asked, 80 USD there
    assert (red["total"], red["total_localised"]) == (80, 120)


@pytest.mark.parametrize("strategy, total, expected", [
    ("points_rewards", 75, [("point", 2, 200), ("point", 3, 1200), ("reward", 2, 5)]),
    ("rewards_points", 75, [("reward", 2, 10), ("point", 2, 200), ("point", 3, 1100)]),
    ("points", 70, [("point", 2, 200), ("point", 3, 1200)]),
    ("rewards", 10, [("reward", 2, 10)]),
    (["points", "rewards"], 75, [("point", 2, 200), ("point", 3, 1200), ("reward", 2, 5)]),
])
async def test_legacy_strategy(client, tenant, strategy, total, expected):
    """75 USD asked, not strict: the v1 strategy names the balances and their order."""
    red = await redeem(client, {"amount": 75, "strategy": strategy})
    assert (red["total"], kinds(red)) == (total, expected)
    invariants.check(tenant)


async def test_strategies_win_over_the_legacy_strategy(client, tenant):
    red = await redeem(client, {"amount": 5, "strategy": "points", "strategies": ["rewards"]})
    assert kinds(red) == [("reward", 2, 5)]


async def test_redeem_answer_carries_the_documented_redemption_fields(client, tenant):
    red = await redeem(client, {"amount": 5, "transaction_external_id": "ORDER-1", "location_id": 12})
    assert {k: red[k] for k in ("type", "transaction_id", "transaction", "redeem_at", "profile", "location_id",
                                "transaction_external_id")} == {
        "type": "redeem", "transaction_id": None, "transaction": None, "redeem_at": T0, "location_id": 12,
        "transaction_external_id": "ORDER-1",
        "profile": {"first_name": "Alice", "last_name": "Example", "full_name": "Alice Example",
                    "email": "user@example.com", "statuses": []}}


# === returns ==========================================================================================================

async def test_returns_give_back_the_last_drawn_first_then_the_rest(client, tenant):
    red = await redeem(client, {"amount": 80})          # the 10 USD reward, then 1400 points (70 USD)
    assert kinds(red) == [("reward", 2, 10), ("point", 2, 200), ("point", 3, 1200)]
    ret = (await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO, json={"amount": 20}), 201))["data"]
    # 20 of the 70 USD of points: 400 points, back to the record they were taken from last
    assert (ret["type"], ret["total"], kinds(ret)) == ("return", 20, [("point", 3, 400)])
    assert ret["items"][0]["type_attributes"]["value_remaining"] == 400
    assert (ret["balances"]["point_balance"], ret["balances"]["reward_balance"]) == (400, 0)
    rest = (await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO), 201))["data"]
    # no amount: all that is left, every point still out and the reward
    assert (rest["total"], kinds(rest)) == (60, [("point", 3, 800), ("point", 2, 200), ("reward", 2, 10)])
    assert (await balances(client))["combined_balance_dollars"] == 80
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("redemption", "Nothing of the redemption is left to return."), json={"amount": 1})
    invariants.check(tenant)


async def test_a_return_in_aud(client, tenant):
    red = await redeem(client, {"amount": 10, "strategies": ["points"]})          # 200 points
    ret = (await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO,
                                      json={"amount": 7.5, "currency": "AUD"}), 201))["data"]   # 5 USD
    assert (ret["total"], ret["total_localised"], ret["currency"], kinds(ret)) == (5, 7.5, AUD, [("point", 2, 100)])
    assert (await balances(client))["point_balance"] == 1300


async def test_a_reversal_after_a_return_gives_back_what_is_left(client, tenant):
    red = await redeem(client, {"amount": 80})
    await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO, json={"amount": 20}), 201)
    rev = (await ok(await client.post(REVERSAL.format(red["id"]), headers=OMNEO), 201))["data"]
    # the reward, and the 1000 points still out (400 came back with the return)
    assert (rev["type"], rev["total"], kinds(rev)) == ("reversal", 60,
                                                      [("reward", 2, 10), ("point", 3, 800), ("point", 2, 200)])
    assert (await balances(client))["combined_balance_dollars"] == 80
    invariants.check(tenant)


async def test_return_refusals(client, tenant):
    red = await redeem(client, {"amount": 80})
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("amount", "The amount must not be greater than 80, what is left to return."),
                  json={"amount": 80.01})
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("amount", "The amount must be greater than 0."), json={"amount": 0})
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("currency", "The selected currency is invalid."), json={"amount": 1, "currency": "GBP"})
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("benefits.0.id", "The selected benefits.0.id is invalid."),
                  json={"benefits": [{"id": 3}]})
    rev = (await ok(await client.post(REVERSAL.format(red["id"]), headers=OMNEO), 201))["data"]
    await refused(client, tenant, "POST", RETURN.format(rev["id"]), 422,
                  laravel_error("redemption", "Only redemptions of type redeem can be returned."))
    await refused(client, tenant, "POST", RETURN.format(999), 404,
                  {"message": "No query results for model [App\\Models\\Redemption] 999"})


async def test_benefit_return_benefit_and_credit_redeem(client, tenant):
    red = await redeem(client, {"amount": 5})
    await refused(client, tenant, "POST", f"/api/v3/redemptions/{red['id']}/benefit/return", 422,
                  laravel_error("redemption", "The redemption has no benefits to return."))
    await refused(client, tenant, "POST", "/api/v3/redemptions/999/benefit/return", 404,
                  {"message": "No query results for model [App\\Models\\Redemption] 999"})
    await refused(client, tenant, "POST", f"/api/v3/profiles/{ALICE['omneo']}/benefits/4/redeem", 404,
                  {"message": "No query results for model [App\\Models\\Benefit] 4"}, json={"count": 1})
    await refused(client, tenant, "POST", f"/api/v3/profiles/{ALICE['omneo']}/credits/5/redeem", 404,
                  {"message": "No query results for model [App\\Models\\Credit] 5"}, json={"amount": 5})
    await refused(client, tenant, "POST", f"/api/v3/profiles/{UNKNOWN}/credits/5/redeem", 404,
                  {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}, json={"amount": 5})


# === reads ============================================================================================================

async def _three(client):
    """A redeem of the reward only, a redeem of points only, and a return of the second: ids 1, 2, 3."""
    first = await redeem(client, {"amount": 4, "strategies": ["rewards"]})
    second = await redeem(client, {"amount": 5, "strategies": ["points"], "meta": {"n": 2}})
    ret = (await ok(await client.post(RETURN.format(second["id"]), headers=OMNEO, json={"amount": 1}), 201))["data"]
    return first, second, ret


def _read(red):
    """A redemption as reads give it: the write's answer without balances."""
    return {k: v for k, v in red.items() if k != "balances"}


async def test_profile_redemptions_newest_first_with_laravel_pagination(client, tenant):
    first, second, ret = await _three(client)
    body = await ok(await client.get(LIST.format(ALICE["omneo"]) + "?page[size]=2", headers=OMNEO))
    assert [r["id"] for r in body["data"]] == [3, 2]
    assert body["data"][0]["type"] == "return"
    assert body["meta"]["total"] == 3 and body["meta"]["last_page"] == 2
    page2 = await ok(await client.get(LIST.format(ALICE["omneo"]) + "?page[size]=2&page[number]=2", headers=OMNEO))
    assert page2["data"] == [_read(first)]
    assert (await ok(await client.get(LIST.format(BOB["omneo"]), headers=OMNEO)))["data"] == []


@pytest.mark.parametrize("query, ids", [
    ("has_reward=1", [1]),
    ("has_point=1", [3, 2]),
    ("has_point=true&has_reward=0", [3, 2]),
    ("has_reward=0", [3, 2]),
    ("has_point=0", [1]),
    ("has_benefit=1", []),
    ("has_credit=0", [3, 2, 1]),
    ("has_reward=1&has_point=1", []),
])
async def test_profile_redemption_filters(client, tenant, query, ids):
    await _three(client)
    body = await ok(await client.get(LIST.format(ALICE["omneo"]) + "?" + query, headers=OMNEO))
    assert ([r["id"] for r in body["data"]], body["meta"]["total"]) == (ids, len(ids))


async def test_profile_redemption_by_id(client, tenant):
    first, second, _ = await _three(client)
    body = await ok(await client.get(LIST.format(ALICE["omneo"]) + f"/{second['id']}", headers=OMNEO))
    # the point record as it is now: the return gave 20 of the 100 points back
    expected = _read(second)
    expected["items"][0]["type_attributes"]["value_remaining"] = 120
    expected["items"][0]["type_attributes"]["value_remaining_currency"] = 6
    assert body == {"data": expected}
    for path in (LIST.format(BOB["omneo"]) + "/1", LIST.format(ALICE["omneo"]) + "/99"):
        r = await client.get(path, headers=OMNEO)
        assert r.status == 404
        assert (await r.json())["message"].startswith("No query results for model [App\\Models\\Redemption]")


async def test_linked_redemptions_of_the_linked_profiles_paged(client, tenant):
    """Profiles naming alice in `linked_profile_id` are hers (as linked points): their redemptions, profile by
    profile in the order they joined, each newest first; alice's own and bob's are not among them."""
    await _three(client)                                                  # alice's own: not linked to herself
    body = await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}/linked/redemptions", headers=OMNEO))
    assert body["data"] == [] and body["meta"]["total"] == 0
    program, currency = tenant.program("main"), tenant.program("main").default_currency
    kids = [tenant.add_member(program, {"omneo.profile": f"00000000-0000-4000-8000-00000000000{i}"},
                              attributes={"linked_profile_id": ALICE["omneo"]}) for i in range(2)]
    for kid in kids:
        tenant.grant(kid, currency, 100)
    made = {}
    for kid, amounts in zip(kids, (["1", "2"], ["3"])):
        for amount in amounts:
            made[amount] = tenant.redeem_value(kid, amount, ["points"]).id
    tenant.grant(tenant.member_by_id("bob"), currency, 99)
    tenant.redeem_value(tenant.member_by_id("bob"), "1", ["points"])       # not linked
    path = f"/api/v3/profiles/{ALICE['omneo']}/linked/redemptions"
    body = await ok(await client.get(path, headers=OMNEO))
    assert [(r["id"], r["profile_id"], r["total"]) for r in body["data"]] == [
        (made["2"], "00000000-0000-4000-8000-000000000000", 2), (made["1"], "00000000-0000-4000-8000-000000000000", 1),
        (made["3"], "00000000-0000-4000-8000-000000000001", 3)]
    assert body["meta"]["total"] == 3
    page2 = await ok(await client.get(path + "?page[size]=2&page[number]=2", headers=OMNEO))
    assert [r["id"] for r in page2["data"]] == [made["3"]]
    assert (page2["meta"]["total"], page2["meta"]["last_page"]) == (3, 2)
    # the same record as a read of it elsewhere
    assert page2["data"][0] == (await ok(await client.get(f"/api/v3/redemptions/{made['3']}", headers=OMNEO)))["data"]
    r = await client.get(f"/api/v3/profiles/{UNKNOWN}/linked/redemptions", headers=OMNEO)
    assert r.status == 404


async def test_redemption_counts_per_record(client, tenant):
    await _three(client)
    await redeem(client, {"amount": 1, "strategies": ["rewards"]})
    count = "/api/v3/profiles/{}/redemptions/{}/{}/count"
    assert await ok(await client.get(count.format(ALICE["omneo"], "reward", 2), headers=OMNEO)) == \
        {"data": {"count": 2}}
    assert await ok(await client.get(count.format(ALICE["omneo"], "point", 2), headers=OMNEO)) == \
        {"data": {"count": 1}}
    assert await ok(await client.get(count.format(ALICE["omneo"], "point", 3), headers=OMNEO)) == \
        {"data": {"count": 0}}
    for path, model in ((count.format(BOB["omneo"], "reward", 2), "Reward] 2"),
                        (count.format(ALICE["omneo"], "reward", 77), "Reward] 77"),
                        (count.format(ALICE["omneo"], "benefit", 1), "Benefit] 1")):
        r = await client.get(path, headers=OMNEO)
        assert (r.status, (await r.json())["message"]) == (404, f"No query results for model [App\\Models\\{model}")


async def test_tenant_redemptions_and_items(client, tenant):
    first, second, ret = await _three(client)
    body = await ok(await client.get("/api/v3/redemptions?page[size]=1", headers=OMNEO))
    assert [r["id"] for r in body["data"]] == [3] and body["meta"]["total"] == 3
    assert await ok(await client.get(f"/api/v3/redemptions/{first['id']}", headers=OMNEO)) == {"data": _read(first)}
    r = await client.get("/api/v3/redemptions/42", headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": "No query results for model [App\\Models\\Redemption] 42"})
    items = await ok(await client.get("/api/v3/redemptions/items", headers=OMNEO))
    # one item per record touched: the reward (1), the points of #2 (2), the 20 points given back (3)
    assert [(i["id"], i["redemption_id"], i["type"], i["value"]) for i in items["data"]] == \
        [(3, 3, "point", 20), (2, 2, "point", 100), (1, 1, "reward", 4)]
    one = await ok(await client.get("/api/v3/redemptions/items/1", headers=OMNEO))
    assert one == {"data": {**first["items"][0], "redemption_id": 1}}
    r = await client.get("/api/v3/redemptions/items/9", headers=OMNEO)
    assert (r.status, await r.json()) == (404, {"message": "No query results for model [App\\Models\\RedemptionItem] 9"})


async def test_a_page_reads_one_page_not_the_history(client, tenant, monkeypatch):
    """300 redemptions on alice: a page of 15 reads 15 redemption records, wherever it is."""
    alice = tenant.member_by_id("alice")
    for _ in range(300):
        tenant.redeem_value(alice, "0.05", ["points"])
    reads = []
    record = tenant.store.record
    monkeypatch.setattr(tenant.store, "record", lambda kind, rid: reads.append(kind) or record(kind, rid))
    for number in (1, 10, 20):
        reads.clear()
        body = await ok(await client.get(LIST.format(ALICE["omneo"]) + f"?page[number]={number}", headers=OMNEO))
        assert len(body["data"]) == 15 and body["meta"]["total"] == 300
        assert reads.count("redemption") == 15
    reads.clear()
    body = await ok(await client.get(LIST.format(ALICE["omneo"]) + "?has_point=1&page[number]=3", headers=OMNEO))
    assert [r["id"] for r in body["data"]] == list(range(270, 255, -1))
    assert reads.count("redemption") == 15


async def test_a_redemption_names_the_transaction_it_was_for(client, tenant):
    await ok(await client.post("/api/v3/transactions", headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "external_id": "POS-7", "receipt_ref": "R-7", "total": 42.5,
        "transacted_at": "2026-03-10 11:00:00"}), 201)
    red = await redeem(client, {"amount": 5, "transaction_external_id": "POS-7"})
    by_ref = await redeem(client, {"amount": 1, "transaction_receipt_ref": "R-7"})
    other = await redeem(client, {"amount": 1, "transaction_external_id": "POS-8"})
    expected = {"external_id": "POS-7", "receipt_ref": "R-7", "transacted_at": "2026-03-10 11:00:00", "total": 42.5,
                "location": None}
    assert (red["transaction_id"], red["transaction"]) == (1, expected)
    assert (by_ref["transaction_id"], by_ref["transaction"]) == (1, expected)
    assert (other["transaction_id"], other["transaction"], other["transaction_external_id"]) == (None, None, "POS-8")


async def test_a_return_to_the_balances_named(client, tenant):
    red = await redeem(client, {"amount": 80})          # 10 USD reward, 70 USD of points
    ret = (await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO,
                                      json={"amount": 4, "strategies": ["rewards"]}), 201))["data"]
    assert (ret["total"], kinds(ret)) == (4, [("reward", 2, 4)])
    ret = (await ok(await client.post(RETURN.format(red["id"]), headers=OMNEO, json={"strategy": "rewards"}), 201))
    assert (ret["data"]["total"], kinds(ret["data"])) == (6, [("reward", 2, 6)])
    await refused(client, tenant, "POST", RETURN.format(red["id"]), 422,
                  laravel_error("redemption", "Nothing of the redemption is left to return."),
                  json={"amount": 1, "strategies": ["rewards"]})
    assert (await balances(client))["reward_balance"] == 10


async def test_a_linked_page_reads_one_page(client, tenant, monkeypatch):
    """Two linked profiles with 150 redemptions each: a page of 15 reads 15 redemption records, wherever it is."""
    program, currency = tenant.program("main"), tenant.program("main").default_currency
    for i in range(2):
        kid = tenant.add_member(program, {"omneo.profile": f"00000000-0000-4000-8000-00000000000{i}"},
                                attributes={"linked_profile_id": ALICE["omneo"]})
        tenant.grant(kid, currency, 1000)
        for _ in range(150):
            tenant.redeem_value(kid, "0.05", ["points"])
    reads = []
    record = tenant.store.record
    monkeypatch.setattr(tenant.store, "record", lambda kind, rid: reads.append(kind) or record(kind, rid))
    for number, first in ((1, 150), (10, 15), (11, 300), (20, 165)):
        reads.clear()
        body = await ok(await client.get(f"/api/v3/profiles/{ALICE['omneo']}/linked/redemptions?page[number]={number}",
                                         headers=OMNEO))
        assert (body["data"][0]["id"], len(body["data"]), body["meta"]["total"]) == (first, 15, 300)
        assert reads.count("redemption") == 15
