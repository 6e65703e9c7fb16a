"""Altcraft account reads, in JSON and XML: account/transactions (the member's ledger, paged by `from_id`),
account/expiring_points, account/tiers.

Demo: alice's history, oldest first: +500 (-420d, expired at -41d), +300 (-334d), +1200 (-114d), the 500's
expiration, -100 (-20d, taken from the 300), +400 (-5d, pending). The clock is frozen at NOW."""
from __future__ import annotations

from datetime import timedelta

import pytest
import xmltodict

import invariants
from helpers import utc_seconds as z
from helpers import ALTCRAFT_TOKEN, NOW, member_pages_only

BASE = "/api/v1.1/loyalty"
TRANSACTIONS = f"{BASE}/account/transactions"
ACCRUE = f"{BASE}/accrue_points"
REDEEM = f"{BASE}/redeeme_points"
CANCEL = f"{BASE}/cancel_transaction"
COMMIT = f"{BASE}/commit_transaction"
ALICE = {"matching": "email", "email": "user@example.com"}
BOB = {"matching": "email", "email": "new.member@example.com"}
OK = {"error": 0, "error_text": "Successful operation"}


@pytest.fixture
def vendors():
    return ["altcraft"]


def req(who=ALICE, **fields) -> dict:
    out = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "points_currency_eid": "stars", **who, **fields}
    return {k: v for k, v in out.items() if v is not None}




def day(n: int) -> str:
    return z(NOW + timedelta(days=n))


def xml_of(fields: dict) -> bytes:
    return ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>").encode()


async def post(client, path, payload):
    resp = await client.post(path, json=payload)
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    return resp.status, await resp.json()


async def post_xml(client, path, payload):
    resp = await client.post(path, data=xml_of(payload), headers={"Content-Type": "application/xml"})
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    return resp.status, xmltodict.parse(await resp.text())["xml"]


def record(**fields) -> dict:
    base = {"transaction_eid": None, "status": "committed", "promo_iid": None, "promo_eid": None,
            "description": None, "activation_date": None, "expiration_date": None, "source_iid": None}
    return {**base, **fields}


def without_ids(rows):
    return [{k: v for k, v in r.items() if k != "transaction_id"} for r in rows]


ALICE_HISTORY = [
    record(created_at=day(-420), transaction_type="accrual", amount="500.00", balance_before="0.00",
           balance_after="500.00", activation_date=day(-406), expiration_date=day(-41), source_type="order"),
    record(created_at=day(-334), transaction_type="accrual", amount="300.00", balance_before="500.00",
           balance_after="800.00", activation_date=day(-320), expiration_date=day(45), source_type="order"),
    record(created_at=day(-114), transaction_type="accrual", amount="1200.00", balance_before="800.00",
           balance_after="2000.00", activation_date=day(-100), expiration_date=day(265), source_type="order"),
    record(created_at=day(-41), transaction_type="expiration", amount="500.00", balance_before=None,
           balance_after=None, source_type="expiry"),
    record(created_at=day(-20), transaction_type="redemption", amount="100.00", balance_before="1500.00",
           balance_after="1400.00", source_type="redeem"),
    record(created_at=day(-5), transaction_type="accrual", amount="400.00", balance_before="1400.00",
           balance_after="1800.00", activation_date=day(9), expiration_date=day(374), source_type="order"),
]


# --- account/transactions -----------------------------------------------------------------------------------

async def test_transactions_list_the_members_ledger_oldest_first(client):
    status, body = await post(client, TRANSACTIONS, req())
    assert status == 200
    assert {k: body[k] for k in ("error", "error_text", "next_from_id", "total_count")} == {
        **OK, "next_from_id": None, "total_count": 6}
    assert without_ids(body["data"]) == ALICE_HISTORY
    assert len({r["transaction_id"] for r in body["data"]}) == 6


async def test_transactions_pages_follow_from_id(client):
    _, whole = await post(client, TRANSACTIONS, req(limit=100))
    seen, cursor, pages = [], None, 0
    while True:
        _, body = await post(client, TRANSACTIONS, req(limit=4, from_id=cursor))
        pages += 1
        assert body["total_count"] == 6 and len(body["data"]) <= 4
        seen += body["data"]
        cursor = body["next_from_id"]
        if cursor is None:
            break
        assert cursor == body["data"][-1]["transaction_id"]
    assert (pages, seen) == (2, whole["data"])
    _, body = await post(client, TRANSACTIONS, req(from_id=whole["data"][1]["transaction_id"], limit=1))
    assert (body["data"], body["next_from_id"]) == ([whole["data"][2]], whole["data"][2]["transaction_id"])
    _, body = await post(client, TRANSACTIONS, req(from_id=whole["data"][-1]["transaction_id"]))
    assert (body["data"], body["next_from_id"], body["total_count"]) == ([], None, 6)


async def test_transactions_in_xml_are_repeated_data_elements(client):
    _, whole = await post(client, TRANSACTIONS, req(limit=2))
    status, body = await post_xml(client, TRANSACTIONS, req(limit=2, points_currency_eid=None, points_currency_iid=1))
    assert status == 200
    assert (body["error"], body["next_from_id"], body["total_count"]) == ("0", whole["next_from_id"], "6")
    assert [r["transaction_id"] for r in body["data"]] == [r["transaction_id"] for r in whole["data"]]
    assert body["data"][0]["amount"] == "500.00" and body["data"][0]["expiration_date"] == day(-41)


async def test_transactions_show_what_altcraft_wrote(client, tenant):
    _, acc = await post(client, ACCRUE, req(amount="25.50", transaction_eid="t-1", promotion_id="PROMO123"))
    _, tmp = await post(client, REDEEM, req(amount="10", is_temp=True, transaction_eid="t-2"))
    _, red = await post(client, REDEEM, req(amount="5"))
    assert (await post(client, CANCEL, {"token": ALTCRAFT_TOKEN, "transaction_id": red["data"]["transaction_id"]}))[1]["error"] == 0
    _, body = await post(client, TRANSACTIONS, req(from_id=None, limit=100))
    assert body["total_count"] == 10
    assert without_ids(body["data"][6:]) == [
        record(created_at=z(NOW), transaction_type="accrual", amount="25.50", balance_before="1800.00",
               balance_after="1825.50", transaction_eid="t-1", promo_eid="PROMO123", promo_iid=8, activation_date=z(NOW),
               expiration_date=day(365), source_type="accrue"),
        record(created_at=z(NOW), transaction_type="redemption", status="temporary", amount="10.00",
               balance_before="1825.50", balance_after="1815.50", transaction_eid="t-2", source_type="redeem"),
        record(created_at=z(NOW), transaction_type="redemption", status="cancelled", amount="5.00",
               balance_before="1815.50", balance_after="1810.50", source_type="redeem"),
        record(created_at=z(NOW), transaction_type="cancellation", amount="5.00", balance_before="1810.50",
               balance_after="1815.50", source_type="cancel"),
    ]
    assert [r["transaction_id"] for r in body["data"][6:9]] == [
        acc["data"]["transaction_id"], tmp["data"]["transaction_id"], red["data"]["transaction_id"]]
    await post(client, COMMIT, {"token": ALTCRAFT_TOKEN, "transaction_eid": "t-2"})
    _, body = await post(client, TRANSACTIONS, req(from_id=acc["data"]["transaction_id"], limit=1))
    assert (body["data"][0]["status"], body["data"][0]["balance_after"]) == ("committed", "1815.50")
    invariants.check(tenant)


async def test_a_temporary_transaction_undone_moved_nothing(client):
    _, tmp = await post(client, REDEEM, req(BOB, amount="1", is_temp=True))           # bob has nothing: refused
    assert tmp["error"] == 400
    await post(client, ACCRUE, req(BOB, amount="30"))
    _, tmp = await post(client, REDEEM, req(BOB, amount="10", is_temp=True))
    await post(client, f"{BASE}/rollback_transaction", {"token": ALTCRAFT_TOKEN, "transaction_id": tmp["data"]["transaction_id"]})
    _, acc = await post(client, ACCRUE, req(BOB, amount="5", is_temp=True, temp_timeout_sec=60))
    _, body = await post(client, TRANSACTIONS, req(BOB))
    assert [(r["transaction_type"], r["status"], r["amount"], r["balance_before"], r["balance_after"])
            for r in body["data"]] == [("accrual", "committed", "30.00", "0.00", "30.00"),
                                       ("redemption", "rolled_back", "10.00", "30.00", "30.00"),
                                       ("accrual", "temporary", "5.00", "30.00", "35.00")]


async def test_transactions_of_a_fresh_member(client):
    assert await post(client, TRANSACTIONS, req(BOB)) == (200, {**OK, "data": [], "next_from_id": None,
                                                                "total_count": 0})


@pytest.mark.parametrize("fields, expected", [
    ({"from_id": "nope"}, {"error": 404, "error_text": "Transaction not found"}),
    ({"limit": 0}, {"error": 400, "error_text": "Incorrect request: limit: 0 is less than the minimum of 1"}),
    ({"limit": 101}, {"error": 400, "error_text": "Incorrect request: limit: 101 is greater than the maximum of 100"}),
    ({"points_currency_eid": None}, {"error": 400, "error_text": "Incorrect request: points_currency_iid or "
                                                                "points_currency_eid is required"}),
    ({"points_currency_eid": "nope"}, {"error": 404, "error_text": "Points currency not found"}),
    ({"email": "nobody@example.com"}, {"error": 404, "error_text": "Profile not found"}),
])
async def test_transactions_refusals(client, fields, expected):
    assert await post(client, TRANSACTIONS, req(**fields)) == (200, expected)


async def test_transactions_from_id_of_another_member_is_not_found(client):
    _, acc = await post(client, ACCRUE, req(BOB, amount="3"))
    assert await post(client, TRANSACTIONS, req(from_id=acc["data"]["transaction_id"])) == (
        200, {"error": 404, "error_text": "Transaction not found"})


async def test_a_page_never_reads_the_members_whole_history(client, tenant, monkeypatch):
    """The read goes through the per-member index: the store's whole-history read is never called."""
    def whole_history(*a, **kw):
        raise AssertionError("account/transactions read the member's whole history")
    monkeypatch.setattr(tenant.store, "entries_page", member_pages_only(tenant.store.entries_page))
    _, body = await post(client, TRANSACTIONS, req(limit=2))
    assert len(body["data"]) == 2 and body["total_count"] == 6


# --- account/expiring_points ----------------------------------------------------------------------------------

EXPIRING = f"{BASE}/account/expiring_points"


def period(start: int, end: int, **fields) -> dict:
    return req(**{"date_from": day(start), "date_to": day(end), **fields})


@pytest.mark.parametrize("start, end, points", [
    (0, 44, "0.00"),           # the 300 lot (200 left) expires at +45d
    (0, 45, "200.00"),         # inclusive end
    (45, 45, "200.00"),        # inclusive start
    (46, 265, "1200.00"),
    (0, 374, "1800.00"),       # the pending 400 will expire too
    (375, 999, "0.00"),
    (-420, -1, "0.00"),        # the expired 500 is gone
])
async def test_expiring_points_in_a_period(client, start, end, points):
    assert await post(client, EXPIRING, period(start, end)) == (200, {**OK, "data": {"expiring_points": points}})


async def test_expiring_points_in_xml(client):
    status, body = await post_xml(client, EXPIRING, period(0, 45, points_currency_eid=None, points_currency_iid=1))
    assert (status, dict(body)) == (200, {"error": "0", "error_text": "Successful operation",
                                          "data": {"expiring_points": "200.00"}})


async def test_expiring_points_follow_writes(client, tenant):
    await post(client, REDEEM, req(amount="50"))                                    # from the 300 lot: 150 left
    await post(client, ACCRUE, req(amount="7.25", expiration_date=day(30)))
    _, tmp = await post(client, ACCRUE, req(amount="99", is_temp=True, expiration_date=day(30)))   # not counted
    assert await post(client, EXPIRING, period(0, 45)) == (200, {**OK, "data": {"expiring_points": "157.25"}})
    await post(client, COMMIT, {"token": ALTCRAFT_TOKEN, "transaction_id": tmp["data"]["transaction_id"]})
    assert await post(client, EXPIRING, period(0, 45)) == (200, {**OK, "data": {"expiring_points": "256.25"}})
    assert await post(client, EXPIRING, period(0, 45, **BOB)) == (200, {**OK, "data": {"expiring_points": "0.00"}})
    invariants.check(tenant)


async def test_expiring_points_after_time_passes(client, tenant):
    tenant.clock.advance(timedelta(days=46))
    assert await post(client, EXPIRING, period(0, 45)) == (200, {**OK, "data": {"expiring_points": "0.00"}})


@pytest.mark.parametrize("fields, expected", [
    (period(10, 5), {"error": 400, "error_text": "Incorrect date: the period ends before it starts"}),
    (req(date_to=day(5)), {"error": 400, "error_text": "Incorrect request: date_from is required"}),
    (period(0, 5, date_to="2026-03-10"),
     {"error": 400, "error_text": 'Incorrect request: date_to: "2026-03-10" is not a valid date-time'}),
    (period(0, 5, points_currency_eid=None),
     {"error": 400, "error_text": "Incorrect request: points_currency_iid or points_currency_eid is required"}),
])
async def test_expiring_points_refusals(client, fields, expected):
    assert await post(client, EXPIRING, fields) == (200, expected)


# --- account/tiers -----------------------------------------------------------------------------------------------

TIERS = f"{BASE}/account/tiers"


def tiers_req(who=ALICE, **fields) -> dict:
    out = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "tiers_group_id": 10, **who, **fields}
    return {k: v for k, v in out.items() if v is not None}


def tier(eid, tid, order, reached_at) -> dict:
    return {"tiers_group_type": "cumulative", "tier_eid": eid, "tier_id": tid, "tier_order": order,
            "reached_at": reached_at}


async def test_tiers_reached_documented_request(client):
    """The documented request (with identifiers `matching` does not select): alice's 1500 points in the window put
    her on silver when the 1200 came in."""
    payload = tiers_req(phone="+1234567890", profile_id="profile123")
    assert await post(client, TIERS, payload) == (200, {**OK, "data": [tier("silver", 2, 1, day(-114))]})


async def test_tiers_in_xml(client):
    status, body = await post_xml(client, TIERS, tiers_req())
    assert status == 200 and body["error"] == "0"
    assert body["data"] == {k: str(v) for k, v in tier("silver", 2, 1, day(-114)).items()}


async def test_tiers_follow_accruals_and_are_kept_until_the_anniversary(client, tenant):
    await post(client, ACCRUE, req(amount="3500"))
    _, body = await post(client, TIERS, tiers_req())
    assert body["data"] == [tier("gold", 3, 2, day(0))]
    tenant.clock.advance(timedelta(days=252))        # the 1200 and the 300 have left the window: gold is kept
    _, body = await post(client, TIERS, tiers_req())
    assert body["data"] == [tier("gold", 3, 2, day(0))]


async def test_a_fresh_member_has_the_lowest_tier(client):
    assert await post(client, TIERS, tiers_req(BOB)) == (200, {**OK, "data": [tier("bronze", 1, 0, day(-1))]})


async def test_a_program_without_tiers_answers_an_empty_list(client, tenant):
    from dataclasses import replace
    tenant.programs["main"] = replace(tenant.programs["main"], tiers=())
    assert await post(client, TIERS, tiers_req()) == (200, {**OK, "data": []})


@pytest.mark.parametrize("fields, expected", [
    ({"tiers_group_id": 11}, {"error": 404, "error_text": "Tier group not found"}),
    ({"tiers_group_id": None}, {"error": 400, "error_text": "Incorrect request: tiers_group_id is required"}),
    ({"loyalty_program_id": 999}, {"error": 404, "error_text": "Loyalty program not found"}),
    ({"email": "nobody@example.com"}, {"error": 404, "error_text": "Profile not found"}),
])
async def test_tiers_refusals(client, fields, expected):
    assert await post(client, TIERS, tiers_req(**fields)) == (200, expected)


# --- trigger_promotions -------------------------------------------------------------------------------------------

PROMOTIONS = f"{BASE}/trigger_promotions"
PROGRAM = {"token": ALTCRAFT_TOKEN, "loyalty_program_id": 123}


def rule(static, low, high) -> dict:
    return {"points_currency_iid": 1, "points_currency_eid": "starts", "static_amount": static, "min_amount": low,
            "max_amount": high}


DOCUMENTED = {"id": 5, "name": "Trigger promotion: Bonus for purchase", "description": "Bonus accrual for each purchase",
              "external_id": "trigger_promo_2023_q3", "start_date": "2023-09-01T00:00:00Z",
              "end_date": "2023-09-30T23:59:59Z", "is_active": True,
              "redeem_rules": [rule("100.16", "50", "500")], "accrual_rules": [rule("100", "50", "500")]}
WEEKEND = {"id": 8, "name": "Double points weekend", "description": None, "external_id": "PROMO123",
           "start_date": day(-7), "end_date": day(30), "is_active": True, "redeem_rules": [],
           "accrual_rules": [rule(None, "1", "1000")]}
PAUSED = {"id": 12, "name": "Spring sale (paused)", "description": None, "external_id": "spring_sale",
          "start_date": None, "end_date": None, "is_active": False, "redeem_rules": [], "accrual_rules": []}


@pytest.mark.parametrize("fields, data, next_from_id, total", [
    ({}, [DOCUMENTED, WEEKEND, PAUSED], None, 3),
    ({"limit": 1}, [DOCUMENTED], 5, 3),
    ({"limit": 1, "from_id": 5}, [WEEKEND], 8, 3),
    ({"from_id": 8}, [PAUSED], None, 3),
    ({"from_id": 12}, [], None, 3),
    ({"from_id": 0, "is_active": True}, [DOCUMENTED, WEEKEND], None, 2),
    ({"is_active": False}, [PAUSED], None, 1),
    ({"is_active": True, "limit": 1}, [DOCUMENTED], 5, 2),
])
async def test_trigger_promotions_pages(client, fields, data, next_from_id, total):
    assert await post(client, PROMOTIONS, {**PROGRAM, **fields}) == (
        200, {**OK, "data": data, "next_from_id": next_from_id, "total_count": total})


async def test_trigger_promotions_documented_xml(client):
    status, body = await post_xml(client, PROMOTIONS, {**PROGRAM, "limit": 1, "is_active": "true"})
    assert status == 200
    assert (body["error"], body["next_from_id"], body["total_count"]) == ("0", "5", "2")
    assert body["data"]["id"] == "5" and body["data"]["external_id"] == "trigger_promo_2023_q3"
    assert body["data"]["accrual_rules"] == {k: v for k, v in rule("100", "50", "500").items()} | {
        "points_currency_iid": "1"}


async def test_trigger_promotions_walk_every_page(client):
    seen, cursor = [], None
    while True:
        _, body = await post(client, PROMOTIONS, {**PROGRAM, "limit": 2, **({"from_id": cursor} if cursor else {})})
        seen += [p["id"] for p in body["data"]]
        cursor = body["next_from_id"]
        if cursor is None:
            break
    assert seen == [5, 8, 12]


async def test_a_triggered_promotion_is_recorded_on_the_transaction(client):
    """Named by external_id or id; rules are not applied; an unknown promotion_id is kept as sent."""
    await post(client, ACCRUE, req(amount="2000", promotion_id="trigger_promo_2023_q3"))   # above max_amount
    await post(client, ACCRUE, req(amount="3", promotion_id="12"))
    await post(client, REDEEM, req(amount="4", promotion_id="nope"))
    _, body = await post(client, TRANSACTIONS, req(limit=100))
    assert [(r["amount"], r["promo_iid"], r["promo_eid"]) for r in body["data"][6:]] == [
        ("2000.00", 5, "trigger_promo_2023_q3"), ("3.00", 12, "12"), ("4.00", None, "nope")]


@pytest.mark.parametrize("fields, expected", [
    ({"limit": 0}, {"error": 400, "error_text": "Incorrect request: limit: 0 is less than the minimum of 1"}),
    ({"from_id": "x"}, {"error": 400, "error_text": 'Incorrect request: from_id: must be of type integer, not "x"'}),
    ({"is_active": "maybe"}, {"error": 400,
                              "error_text": 'Incorrect request: is_active: must be of type boolean, not "maybe"'}),
    ({"loyalty_program_id": 999}, {"error": 404, "error_text": "Loyalty program not found"}),
])
async def test_trigger_promotions_refusals(client, fields, expected):
    assert await post(client, PROMOTIONS, {**PROGRAM, **fields}) == (200, expected)


@pytest.mark.parametrize("path, fields, element", [
    (TIERS, tiers_req(), "data"),
    (TRANSACTIONS, req(limit=1), "next_from_id"),
    (EXPIRING, period(0, 45), "data"),
    (PROMOTIONS, {**PROGRAM, "limit": 1}, "total_count"),
])
async def test_new_methods_read_text_xml_and_answer_json_on_request(client, path, fields, element):
    resp = await client.post(path, data=xml_of(fields), headers={"Content-Type": "text/xml"})
    assert resp.headers["Content-Type"] == "application/xml; charset=utf-8"
    body = xmltodict.parse(await resp.text())["xml"]
    assert body["error"] == "0" and element in body
    resp = await client.post(path + "?format=json", data=xml_of(fields), headers={"Content-Type": "text/xml"})
    assert (await resp.json())["error"] == 0
