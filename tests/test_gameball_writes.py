"""Gameball writes over HTTP: customers, orders, cashback, manual, activate, holds, redeem, refund.

Demo figures: alice (user-123) has 1400 points available, 400 pending (available at NOW+9d), 1800 in
total, 2400 earned; the next 200 points expire at NOW+45d. bob (user-456) has nothing. A point is worth
0.05 USD; 1 point per USD paid; earned points stay pending 14 days; a hold lasts 10 minutes."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from helpers import ALICE, BOB, GB, NOW
from invariants import check

API = "/api/v4.0/integrations"
ALICE_ID, BOB_ID = ALICE["gameball"], BOB["gameball"]
TIME = "2026-03-10T12:00:00Z"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def vendors():
    return ["gameball"]


def iso(at) -> str:
    """A time as the gateway sends it to Gameball clients: UTC, milliseconds, Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# --- helpers ---------------------------------------------------------------------------------------------

async def balance(client, customer_id=ALICE_ID) -> dict:
    r = await client.get(f"{API}/customers/{customer_id}/balance", headers=GB)
    assert r.status == 200, await r.text()
    return await r.json()


async def figures(client, customer_id=ALICE_ID) -> tuple:
    """(available, pending, total, earned)."""
    b = await balance(client, customer_id)
    return b["availablePointsBalance"], b["pendingPoints"], b["totalPointsBalance"], b["totalEarnedPoints"]


async def state(client, tenant) -> tuple:
    """What a failed request must leave as it was: both balances, the ledger size, the members."""
    return (await balance(client, ALICE_ID), await balance(client, BOB_ID), len(tenant.store.members()),
            sum(len(tenant.store.entries_page(m.id, None)) for m in tenant.store.members()))


async def post(client, path, body, headers=GB):
    r = await client.post(API + path, json=body, headers=headers)
    return r.status, await r.json()


async def post_raw(client, path, text: str):
    r = await client.post(API + path, data=text.encode(), headers={**GB, "Content-Type": "application/json"})
    return r.status, await r.json()


def error(body, code, type_):
    assert set(body) == {"code", "type", "message", "documentationUrl", "requestId"}, body
    assert (body["code"], body["type"]) == (code, type_), body


def entry_seq(tenant, business_id) -> int:
    return tenant.entry_by(("gameball.tx", business_id)).seq


def order(order_id="ORD-1", customer_id=BOB_ID, paid=250.75, **extra) -> dict:
    return {"customerId": customer_id, "orderId": order_id, "orderDate": TIME, "totalPaid": paid, **extra}


def cashback(tx="CB-1", customer_id=ALICE_ID, amount=150.75, **extra) -> dict:
    return {"customerId": customer_id, "transactionId": tx, "transactionTime": TIME, "amount": amount, **extra}


def manual(tx="MAN-1", customer_id=ALICE_ID, **extra) -> dict:
    return {"customerId": customer_id, "transactionId": tx, "username": "admin_user", "reason": "Referral bonus",
            **extra}


def hold(customer_id=ALICE_ID, **selector) -> dict:
    return {"customerId": customer_id, "transactionTime": TIME, **selector}


def redeem(tx="RED-1", customer_id=ALICE_ID, **selector) -> dict:
    return {"customerId": customer_id, "transactionId": tx, "transactionTime": TIME, **selector}


def refund(refund_id="REF-1", reverse="CB-1", customer_id=ALICE_ID, **extra) -> dict:
    return {"customerId": customer_id, "refundTransactionId": refund_id, "reverseTransactionId": reverse,
            "transactionTime": TIME, **extra}


async def place_hold(client, points) -> str:
    status, body = await post(client, "/transactions/hold", hold(pointsToHold=points))
    assert status == 200, body
    return body["holdReference"]


# --- customers -------------------------------------------------------------------------------------------

async def test_upsert_creates_then_updates_with_apikey_only(client, tenant):
    apikey_only = {"apikey": GB["apikey"]}
    payload = {"customerId": "cust_new", "email": "new@example.com",
               "customerAttributes": {"firstName": "Nia", "custom": {"favoriteColor": "blue"}}}
    status, body = await post(client, "/customers", payload, headers=apikey_only)
    member = tenant.member("gameball.customer", "cust_new")
    assert status == 200
    assert body == {"gameballId": member.seq}
    assert member.seq == 3                       # after alice (1) and bob (2)
    assert member.attributes["email"] == "new@example.com" and member.attributes["first_name"] == "Nia"
    assert await figures(client, "cust_new") == (0, 0, 0, 0)
    status, body = await post(client, "/customers", {"customerId": "cust_new", "customerAttributes": {"lastName": "Lee"}},
                              headers=apikey_only)
    assert (status, body) == (200, {"gameballId": 3})
    updated = tenant.member("gameball.customer", "cust_new")
    assert (updated.attributes["first_name"], updated.attributes["last_name"]) == ("Nia", "Lee")
    assert len(tenant.store.members()) == 3
    check(tenant)


async def test_upsert_existing_customer_keeps_its_points(client, tenant):
    status, body = await post(client, "/customers", {"customerId": ALICE_ID}, headers={"apikey": GB["apikey"]})
    assert (status, body) == (200, {"gameballId": tenant.member("gameball.customer", ALICE_ID).seq})
    assert await figures(client) == (1400, 400, 1800, 2400)


# --- orders ----------------------------------------------------------------------------------------------

async def test_order_earns_pending_points_for_the_default_window(client, tenant):
    status, body = await post(client, "/orders", order())
    assert (status, body) == (200, {"customerId": BOB_ID, "redeemedPoints": 0, "rewardedPoints": 250, "lineItems": []})
    assert await figures(client, BOB_ID) == (0, 250, 250, 250)
    tenant.clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert await figures(client, BOB_ID) == (0, 250, 250, 250)
    tenant.clock.advance(timedelta(seconds=1))
    assert await figures(client, BOB_ID) == (250, 0, 250, 250)
    check(tenant)


async def test_order_return_window_from_the_request(client, tenant):
    lines = [{"productId": "PROD98765", "quantity": 2, "price": 100}, {"price": 50}]
    status, body = await post(client, "/orders", order(paid=250, lineItems=lines,
                                                       cashbackConfigurations={"returnWindow": 7}))
    assert status == 200
    assert body["rewardedPoints"] == 250
    assert [(line.get("productId"), line["quantity"], line["score"]) for line in body["lineItems"]] == \
        [("PROD98765", 2, 0), (None, 1, 0)]
    tenant.clock.advance(timedelta(days=6))
    assert await figures(client, BOB_ID) == (0, 250, 250, 250)
    tenant.clock.advance(timedelta(days=1))
    assert await figures(client, BOB_ID) == (250, 0, 250, 250)
    check(tenant)


async def test_order_return_window_zero_is_available_at_once(client, tenant):
    status, _ = await post(client, "/orders", order(paid=40, cashbackConfigurations={"returnWindow": 0}))
    assert status == 200
    assert await figures(client, BOB_ID) == (40, 0, 40, 40)
    check(tenant)


async def test_order_return_window_written_as_a_float_is_whole_days(client, tenant):
    # found by `make fuzz`: `2.0` is an integer to the schema and was a 500 (a Decimal reached timedelta)
    status, _ = await post(client, "/orders", order(paid=40, cashbackConfigurations={"returnWindow": 2.0}))
    assert status == 200
    tenant.clock.advance(timedelta(days=2))
    assert await figures(client, BOB_ID) == (40, 0, 40, 40)
    check(tenant)


async def test_order_for_unknown_customer_creates_it(client, tenant):
    status, body = await post(client, "/orders", order(customer_id="walk-in-1", paid=99.99, email="w@example.com"))
    assert (status, body) == (200, {"customerId": "walk-in-1", "redeemedPoints": 0, "rewardedPoints": 99,
                                    "lineItems": []})
    assert await figures(client, "walk-in-1") == (0, 99, 99, 99)
    assert tenant.member("gameball.customer", "walk-in-1").attributes["email"] == "w@example.com"
    check(tenant)


async def test_order_burns_a_hold_and_earns_together(client, tenant):
    ref = await place_hold(client, 200)
    status, body = await post(client, "/orders", order(customer_id=ALICE_ID, paid=90,
                                                       redemption={"pointsHoldReference": ref}))
    assert (status, body) == (200, {"customerId": ALICE_ID, "redeemedPoints": 200, "rewardedPoints": 90,
                                    "lineItems": []})
    assert await figures(client) == (1200, 490, 1690, 2490)
    r = await client.get(f"{API}/transactions/hold/{ref}", headers=GB)
    assert (await r.json())["state"] == "used"
    check(tenant)


async def test_order_paid_entirely_with_points(client, tenant):
    ref = await place_hold(client, 100)
    status, body = await post(client, "/orders", order(customer_id=ALICE_ID, paid=0,
                                                       redemption={"pointsHoldReference": ref}))
    assert (status, body) == (200, {"customerId": ALICE_ID, "redeemedPoints": 100, "rewardedPoints": 0,
                                    "lineItems": []})
    assert await figures(client) == (1300, 400, 1700, 2400)
    check(tenant)


@pytest.mark.parametrize("customer_id", [ALICE_ID, "walk-in-2"])
async def test_order_with_a_bad_hold_changes_nothing(client, tenant, customer_id):
    used = await place_hold(client, 100)
    assert (await post(client, "/transactions/redeem", redeem(holdReference=used)))[0] == 200
    before = await state(client, tenant)
    for ref in ("a2a199ad-86f3-45c4-8253-7aaee50e4798", used):
        status, body = await post(client, "/orders", order(customer_id=customer_id, paid=90,
                                                           redemption={"pointsHoldReference": ref}))
        assert status == 404
        error(body, 9006, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    assert tenant.store.find_member("gameball.customer", "walk-in-2") is None
    check(tenant)


async def test_order_with_another_customers_hold_is_refused(client, tenant):
    ref = await place_hold(client, 100)
    before = await state(client, tenant)
    status, body = await post(client, "/orders", order(paid=10, redemption={"pointsHoldReference": ref}))
    assert status == 404
    error(body, 9006, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_duplicate_order_id(client, tenant):
    assert (await post(client, "/orders", order()))[0] == 200
    before = await state(client, tenant)
    for payload in (order(), order(paid=10), order(customer_id="walk-in-3")):
        status, body = await post(client, "/orders", payload)
        assert status == 422
        error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    assert tenant.store.find_member("gameball.customer", "walk-in-3") is None
    check(tenant)


async def test_duplicate_order_with_hold_keeps_the_hold(client, tenant):
    assert (await post(client, "/orders", order(customer_id=ALICE_ID, paid=10)))[0] == 200
    ref = await place_hold(client, 100)
    before = await state(client, tenant)
    status, body = await post(client, "/orders", order(customer_id=ALICE_ID, paid=10,
                                                       redemption={"pointsHoldReference": ref}))
    assert status == 422
    error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    assert (await (await client.get(f"{API}/transactions/hold/{ref}", headers=GB)).json())["state"] == "active"


# --- cashback --------------------------------------------------------------------------------------------

async def test_cashback_earns_pending_points(client, tenant):
    status, body = await post(client, "/transactions/cashback", cashback())
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": entry_seq(tenant, "CB-1"),
                                    "rewardAmount": 7.5, "rewardEquivalentPoints": 150})
    assert isinstance(body["gameballTransactionId"], int)
    assert await figures(client) == (1400, 550, 1950, 2550)
    check(tenant)


async def test_cashback_return_window_zero(client, tenant):
    status, body = await post(client, "/transactions/cashback", cashback(amount=20, configurations={"returnWindow": 0}))
    assert (status, body["rewardEquivalentPoints"], body["rewardAmount"]) == (200, 20, 1)
    assert await figures(client) == (1420, 400, 1820, 2420)
    check(tenant)


# --- manual ----------------------------------------------------------------------------------------------

async def test_manual_positive_points_available_at_once_with_own_expiry(client, tenant):
    status, body = await post(client, "/transactions/manual", manual(points=50, expiryAfter=30))
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": entry_seq(tenant, "MAN-1"),
                                    "transactionId": "MAN-1", "points": 50, "amount": 2.5})
    b = await balance(client)
    assert (b["availablePointsBalance"], b["pendingPoints"], b["totalEarnedPoints"]) == (1450, 400, 2450)
    assert (b["nextExpiringPointsAmount"], b["nextExpiringPointsDate"]) == (50, iso(NOW + timedelta(days=30)))
    tenant.clock.advance(timedelta(days=30))
    assert await figures(client) == (1800, 0, 1800, 2450)     # the 400 became available, the 50 expired
    check(tenant)


async def test_manual_positive_amount(client, tenant):
    status, body = await post(client, "/transactions/manual", manual(amount=5.0))
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": entry_seq(tenant, "MAN-1"),
                                    "transactionId": "MAN-1", "points": 100, "amount": 5})
    assert await figures(client) == (1500, 400, 1900, 2500)
    check(tenant)


async def test_manual_negative_points_and_amount(client, tenant):
    status, body = await post(client, "/transactions/manual", manual(points=-100))
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": entry_seq(tenant, "MAN-1"),
                                    "transactionId": "MAN-1", "points": -100, "amount": -5})
    status, body = await post(client, "/transactions/manual", manual(tx="MAN-2", amount=-2.5, expiryAfter=0))
    assert (status, body["points"], body["amount"]) == (200, -50, -2.5)
    assert await figures(client) == (1250, 400, 1650, 2400)
    check(tenant)


@pytest.mark.parametrize("fields,message", [
    ({"points": 10, "amount": 1}, "Only one rewarding method may be specified"),
    ({}, "A rewarding criteria is required"),
    ({"points": 10, "expiryAfter": -1}, "Expiry cannot be negative"),
    ({"points": -10, "expiryAfter": 30}, "Deduction cannot have expiry"),
    ({"amount": -1, "expiryAfter": 5}, "Deduction cannot have expiry"),
])
async def test_manual_documented_refusals(client, tenant, fields, message):
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/manual", manual(**fields))
    assert (status, body) == (400, {"error": 400, "message": message})
    assert await state(client, tenant) == before


async def test_manual_deduction_above_balance(client, tenant):
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/manual", manual(points=-1401))
    assert status == 422
    error(body, 9008, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


# --- activate --------------------------------------------------------------------------------------------

async def test_activate_cashback_and_order(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback(amount=150)))[0] == 200
    r = await client.put(f"{API}/transactions/CB-1/activate", headers=GB)
    assert r.status == 200
    assert await r.json() == {"pointsActivated": 150, "gameballTransactionId": entry_seq(tenant, "CB-1"),
                              "clientTransactionId": "CB-1"}
    assert await figures(client) == (1550, 400, 1950, 2550)
    r = await client.put(f"{API}/transactions/CB-1/activate", headers=GB)     # nothing left pending
    assert (r.status, (await r.json())["pointsActivated"]) == (200, 0)
    assert (await post(client, "/orders", order(paid=30)))[0] == 200
    r = await client.put(f"{API}/transactions/ORD-1/activate", headers=GB)
    assert (r.status, (await r.json())["pointsActivated"]) == (200, 30)
    assert await figures(client, BOB_ID) == (30, 0, 30, 30)
    check(tenant)


async def test_activate_unknown_transaction(client, tenant):
    before = await state(client, tenant)
    r = await client.put(f"{API}/transactions/nope/activate", headers=GB)
    assert r.status == 404
    error(await r.json(), 9002, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_activate_a_redemption_is_refused(client, tenant):
    assert (await post(client, "/transactions/redeem", redeem(points=10)))[0] == 200
    before = await state(client, tenant)
    r = await client.put(f"{API}/transactions/RED-1/activate", headers=GB)
    assert r.status == 422
    error(await r.json(), 9000, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


# --- holds -----------------------------------------------------------------------------------------------

async def test_hold_by_points_and_get_it(client, tenant):
    status, body = await post(client, "/transactions/hold", hold(pointsToHold=100, amountToHold=None, ruleId=None))
    assert status == 200
    ref = body.pop("holdReference")
    assert UUID.match(ref)
    assert body == {"customerId": ALICE_ID, "holdAmount": 5, "holdEquivalentPoints": 100}
    assert await figures(client) == (1300, 400, 1700, 2400)
    r = await client.get(f"{API}/transactions/hold/{ref}", headers=GB)
    assert r.status == 200
    assert await r.json() == {"customerId": ALICE_ID, "holdAmount": 5, "holdEquivalentPoints": 100, "state": "active",
                              "dateToExpire": iso(NOW + timedelta(minutes=10))}
    check(tenant)


async def test_hold_by_amount_rounds_points_down(client, tenant):
    status, body = await post(client, "/transactions/hold", hold(amountToHold=10.03))
    assert (status, body["holdEquivalentPoints"], body["holdAmount"]) == (200, 200, 10)
    assert await figures(client) == (1200, 400, 1600, 2400)
    check(tenant)


async def test_hold_by_rule_is_unknown(client, tenant):
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/hold", hold(ruleId="rule-1"))
    assert status == 404
    error(body, 4004, "GENERAL_ERROR")
    assert await state(client, tenant) == before


async def test_hold_then_redeem_by_reference(client, tenant):
    ref = await place_hold(client, 100)
    status, body = await post(client, "/transactions/redeem", redeem(holdReference=ref))
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": str(entry_seq(tenant, "RED-1")),
                                    "transactionId": "RED-1", "redeemAmount": 5, "redeemEquivalentPoints": 100,
                                    })
    assert await figures(client) == (1300, 400, 1700, 2400)
    r = await client.get(f"{API}/transactions/hold/{ref}", headers=GB)
    assert (await r.json())["state"] == "used"
    check(tenant)


async def test_hold_used_twice(client, tenant):
    ref = await place_hold(client, 100)
    assert (await post(client, "/transactions/redeem", redeem(holdReference=ref)))[0] == 200
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/redeem", redeem(tx="RED-2", holdReference=ref))
    assert status == 404
    error(body, 9006, "TRANSACTIONS_ERROR")
    r = await client.delete(f"{API}/transactions/hold/{ref}", headers=GB)
    assert r.status == 404
    error(await r.json(), 9006, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


async def test_hold_of_another_customer_cannot_be_redeemed(client, tenant):
    ref = await place_hold(client, 100)
    assert (await post(client, "/orders", order(paid=0)))[0] == 200      # bob exists and has nothing
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/redeem", redeem(customer_id=BOB_ID, holdReference=ref))
    assert status == 404
    error(body, 9006, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_expired_hold(client, tenant):
    ref = await place_hold(client, 100)
    tenant.clock.advance(timedelta(minutes=10))
    r = await client.get(f"{API}/transactions/hold/{ref}", headers=GB)
    assert (r.status, (await r.json())["state"]) == (200, "expired")
    assert await figures(client) == (1400, 400, 1800, 2400)
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/redeem", redeem(holdReference=ref))
    assert status == 404
    error(body, 9006, "TRANSACTIONS_ERROR")
    r = await client.delete(f"{API}/transactions/hold/{ref}", headers=GB)
    assert r.status == 404
    error(await r.json(), 9006, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


async def test_release_twice(client, tenant):
    ref = await place_hold(client, 300)
    assert (await figures(client))[0] == 1100
    r = await client.delete(f"{API}/transactions/hold/{ref}", headers=GB)
    assert (r.status, await r.json()) == (200, {"success": True, "message": "Hold released successfully"})
    assert await figures(client) == (1400, 400, 1800, 2400)
    before = await state(client, tenant)
    r = await client.delete(f"{API}/transactions/hold/{ref}", headers=GB)
    assert r.status == 404
    error(await r.json(), 9006, "TRANSACTIONS_ERROR")
    r = await client.get(f"{API}/transactions/hold/{ref}", headers=GB)
    assert (r.status, (await r.json())["state"]) == (200, "expired")      # released reads as expired
    assert await state(client, tenant) == before
    check(tenant)


async def test_unknown_hold_reference(client):
    for method in ("get", "delete"):
        r = await getattr(client, method)(f"{API}/transactions/hold/not-a-hold", headers=GB)
        assert r.status == 404
        error(await r.json(), 9006, "TRANSACTIONS_ERROR")


async def test_hold_more_than_available(client, tenant):
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/hold", hold(pointsToHold=1401))
    assert status == 422
    error(body, 9008, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


# --- redeem ----------------------------------------------------------------------------------------------

async def test_redeem_by_amount(client, tenant):
    status, body = await post(client, "/transactions/redeem", redeem(amount=10.03, reason="Discount on order #12345"))
    assert (status, body) == (200, {"customerId": ALICE_ID, "gameballTransactionId": str(entry_seq(tenant, "RED-1")),
                                    "transactionId": "RED-1", "redeemAmount": 10, "redeemEquivalentPoints": 200,
                                    "reason": "Discount on order #12345"})
    assert await figures(client) == (1200, 400, 1600, 2400)
    check(tenant)


async def test_redeem_by_points(client, tenant):
    status, body = await post(client, "/transactions/redeem", redeem(points=150, amount=None, holdReference=None))
    assert (status, body["redeemEquivalentPoints"], body["redeemAmount"], body.get("reason")) == (200, 150, 7.5, None)
    assert await figures(client) == (1250, 400, 1650, 2400)
    check(tenant)


async def test_redeem_takes_no_pending_points(client, tenant):
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/redeem", redeem(points=1401))
    assert status == 422
    error(body, 9008, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_redeem_after_a_hold_took_the_points(client, tenant):
    await place_hold(client, 1000)
    before = await state(client, tenant)
    for selector in ({"points": 401}, {"amount": 20.05}):
        status, body = await post(client, "/transactions/redeem", redeem(**selector))
        assert status == 422
        error(body, 9008, "TRANSACTIONS_ERROR")
    status, body = await post(client, "/transactions/hold", hold(pointsToHold=401))
    assert status == 422
    error(body, 9008, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    assert (await post(client, "/transactions/redeem", redeem(points=400)))[0] == 200
    assert await figures(client) == (0, 400, 400, 2400)
    check(tenant)


@pytest.mark.parametrize("selectors,status,code", [
    ({}, 400, 3000),                                   # none: a missing argument
    ({"points": 10, "amount": 1}, 422, 3003),          # two: an invalid value
    ({"points": 10, "holdReference": "x"}, 422, 3003),
])
async def test_redeem_needs_exactly_one_selector(client, tenant, selectors, status, code):
    before = await state(client, tenant)
    got, body = await post(client, "/transactions/redeem", redeem(**selectors))
    assert got == status
    error(body, code, "PAYLOAD_ERROR")
    assert await state(client, tenant) == before


# --- duplicate ids and replays ---------------------------------------------------------------------------

async def test_duplicate_transaction_id_same_and_different_body(client, tenant):
    assert (await post(client, "/transactions/redeem", redeem(points=100)))[0] == 200
    before = await state(client, tenant)
    for path, payload in [("/transactions/redeem", redeem(points=100)),       # identical
                          ("/transactions/redeem", redeem(points=5)),         # another body
                          ("/transactions/cashback", cashback(tx="RED-1")),   # the scope is the account
                          ("/transactions/manual", manual(tx="RED-1", points=5)),
                          ("/orders", order(order_id="RED-1"))]:
        status, body = await post(client, path, payload)
        assert status == 422, path
        error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


def replay_on(tenant):
    tenant.settings.setdefault("gameball", {})["replay_identical"] = True


@pytest.mark.parametrize("path,payload,other", [
    ("/transactions/redeem", redeem(points=100, reason="r"), redeem(points=101, reason="r")),
    ("/transactions/cashback", cashback(), cashback(amount=1)),
    ("/transactions/manual", manual(points=-20), manual(points=-21)),
    ("/transactions/manual", manual(amount=3.5, expiryAfter=10), manual(amount=3.5)),
    ("/orders", order(customer_id=ALICE_ID), order(customer_id=ALICE_ID, paid=1)),
])
async def test_replay_identical_answers_the_first_response(client, tenant, path, payload, other):
    replay_on(tenant)
    status, first = await post(client, path, payload)
    assert status == 200
    before = await state(client, tenant)
    assert await post(client, path, payload) == (200, first)
    assert await state(client, tenant) == before
    status, body = await post(client, path, other)
    assert status == 422
    error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


async def test_replay_identical_order_with_hold_and_refund(client, tenant):
    replay_on(tenant)
    ref = await place_hold(client, 100)
    payload = order(customer_id=ALICE_ID, paid=40, redemption={"pointsHoldReference": ref})
    status, first = await post(client, "/orders", payload)
    assert (status, first["redeemedPoints"], first["rewardedPoints"]) == (200, 100, 40)
    assert await post(client, "/orders", payload) == (200, first)
    status, first_refund = await post(client, "/transactions/refund", refund(reverse="ORD-1", refundAmount=10))
    assert status == 200
    before = await state(client, tenant)
    assert await post(client, "/transactions/refund", refund(reverse="ORD-1", refundAmount=10)) == (200, first_refund)
    assert await state(client, tenant) == before
    check(tenant)


async def test_replay_identical_same_body_other_operation_is_a_duplicate(client, tenant):
    replay_on(tenant)
    payload = cashback(tx="TX-1", amount=10)       # a valid redeem body as well
    assert (await post(client, "/transactions/cashback", payload))[0] == 200
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/redeem", payload)
    assert status == 422
    error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_replay_identical_off_by_default(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback()))[0] == 200
    status, body = await post(client, "/transactions/cashback", cashback())
    assert status == 422
    error(body, 9004, "TRANSACTIONS_ERROR")


# --- refund ----------------------------------------------------------------------------------------------

async def test_refund_full_cashback(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback(amount=100)))[0] == 200
    status, body = await post(client, "/transactions/refund", refund())
    assert (status, body) == (200, {"gameballTransactionId": str(entry_seq(tenant, "REF-1")),
                                    "refundTransactionId": "REF-1", "refundAmount": 100,
                                    "refundEquivalentPoints": 100})
    assert await figures(client) == (1400, 400, 1800, 2400)
    check(tenant)


async def test_refund_twice(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback(amount=100)))[0] == 200
    assert (await post(client, "/transactions/refund", refund(refundAmount=None)))[0] == 200
    before = await state(client, tenant)
    for payload in (refund(refund_id="REF-2"), refund(refund_id="REF-3", refundAmount=10)):
        status, body = await post(client, "/transactions/refund", payload)
        assert status == 422
        error(body, 9001, "TRANSACTIONS_ERROR")
    status, body = await post(client, "/transactions/refund", refund())       # the refund id itself is used
    assert status == 422
    error(body, 9004, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


async def test_refund_partial_then_the_rest(client, tenant):
    assert (await post(client, "/orders", order(customer_id=ALICE_ID)))[0] == 200     # 250.75 paid -> 250 points
    assert await figures(client) == (1400, 650, 2050, 2650)
    status, body = await post(client, "/transactions/refund", refund(reverse="ORD-1", refundAmount=12.5))
    assert (status, body["refundAmount"], body["refundEquivalentPoints"]) == (200, 12.5, 12)
    assert await figures(client) == (1400, 638, 2038, 2638)
    status, body = await post(client, "/transactions/refund", refund(refund_id="REF-2", reverse="ORD-1"))
    assert (status, body["refundAmount"], body["refundEquivalentPoints"]) == (200, 238.25, 238)
    assert await figures(client) == (1400, 400, 1800, 2400)
    status, body = await post(client, "/transactions/refund", refund(refund_id="REF-3", reverse="ORD-1"))
    assert status == 422
    error(body, 9001, "TRANSACTIONS_ERROR")
    check(tenant)


async def test_refund_with_the_original_amount_is_full(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback(amount=100)))[0] == 200
    assert (await post(client, "/transactions/refund", refund(refundAmount=40)))[0] == 200
    status, body = await post(client, "/transactions/refund", refund(refund_id="REF-2", refundAmount=100))
    assert (status, body["refundAmount"], body["refundEquivalentPoints"]) == (200, 60, 60)
    assert await figures(client) == (1400, 400, 1800, 2400)
    check(tenant)


async def test_refund_more_than_remains(client, tenant):
    assert (await post(client, "/transactions/cashback", cashback(amount=100)))[0] == 200
    assert (await post(client, "/transactions/refund", refund(refundAmount=40)))[0] == 200
    before = await state(client, tenant)
    status, body = await post(client, "/transactions/refund", refund(refund_id="REF-2", refundAmount=70))
    assert status == 422
    error(body, 3011, "PAYLOAD_ERROR")
    assert await state(client, tenant) == before


async def test_refund_a_redemption_gives_points_back(client, tenant):
    assert (await post(client, "/transactions/redeem", redeem(points=200)))[0] == 200
    status, body = await post(client, "/transactions/refund", refund(reverse="RED-1", refundAmount=5))
    assert (status, body["refundAmount"], body["refundEquivalentPoints"]) == (200, 5, 100)
    assert await figures(client) == (1300, 400, 1700, 2400)
    status, body = await post(client, "/transactions/refund", refund(refund_id="REF-2", reverse="RED-1"))
    assert (status, body["refundAmount"], body["refundEquivalentPoints"]) == (200, 5, 100)
    assert await figures(client) == (1400, 400, 1800, 2400)
    check(tenant)


async def test_refund_unknown_transaction(client, tenant):
    assert (await post(client, "/orders", order(paid=10)))[0] == 200     # bob's order
    before = await state(client, tenant)
    for reverse in ("nope", "ORD-1"):       # unknown, or another customer's
        status, body = await post(client, "/transactions/refund", refund(reverse=reverse))
        assert status == 404
        error(body, 9005, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before


async def test_refund_manual_or_refund_is_not_reversible(client, tenant):
    assert (await post(client, "/transactions/manual", manual(points=50)))[0] == 200
    assert (await post(client, "/transactions/cashback", cashback(amount=10)))[0] == 200
    assert (await post(client, "/transactions/refund", refund(refundAmount=5)))[0] == 200
    before = await state(client, tenant)
    for reverse in ("MAN-1", "REF-1"):
        status, body = await post(client, "/transactions/refund", refund(refund_id="REF-9", reverse=reverse))
        assert status == 422
        error(body, 9000, "TRANSACTIONS_ERROR")
    assert await state(client, tenant) == before
    check(tenant)


# --- failures that change nothing ---------------------------------------------------------------------------

@pytest.mark.parametrize("path,payload", [
    ("/transactions/cashback", cashback(customer_id="nobody")),
    ("/transactions/manual", manual(customer_id="nobody", points=5)),
    ("/transactions/hold", hold(customer_id="nobody", pointsToHold=5)),
    ("/transactions/redeem", redeem(customer_id="nobody", points=5)),
    ("/transactions/refund", refund(customer_id="nobody")),
])
async def test_unknown_customer(client, tenant, path, payload):
    assert (await post(client, "/transactions/cashback", cashback()))[0] == 200     # CB-1 exists
    before = await state(client, tenant)
    status, body = await post(client, path, payload)
    assert status == 404
    error(body, 7000, "CUSTOMER_ERROR")
    assert await state(client, tenant) == before
    assert tenant.store.find_member("gameball.customer", "nobody") is None


def _with(builder, field, raw):
    """A request body as JSON text with one field's raw JSON value."""
    body = builder()
    body[field] = "@@"
    return json.dumps(body).replace('"@@"', raw)


BAD = ["0", "-5", '"abc"', "1e30", "0.001"]
AMOUNT_FIELDS = [
    ("/transactions/redeem", lambda: redeem(), "points"),
    ("/transactions/redeem", lambda: redeem(), "amount"),
    ("/transactions/hold", lambda: hold(), "pointsToHold"),
    ("/transactions/hold", lambda: hold(), "amountToHold"),
    ("/transactions/manual", lambda: manual(), "points"),
    ("/transactions/manual", lambda: manual(), "amount"),
    ("/transactions/cashback", lambda: cashback(tx="CB-2"), "amount"),
    ("/orders", lambda: order(customer_id=ALICE_ID), "totalPaid"),
    ("/transactions/refund", lambda: refund(), "refundAmount"),
]
VALID = {("/orders", "0"),                     # an order may be paid entirely with points
         ("/transactions/manual", "-5")}       # a negative manual value is a deduction


@pytest.mark.parametrize("path,builder,field,raw", [
    (path, builder, field, raw) for path, builder, field in AMOUNT_FIELDS for raw in BAD if (path, raw) not in VALID])
async def test_bad_amounts(client, tenant, path, builder, field, raw):
    assert (await post(client, "/transactions/cashback", cashback(amount=100)))[0] == 200     # CB-1 to refund
    before = await state(client, tenant)
    status, body = await post_raw(client, path, _with(builder, field, raw))
    if path == "/transactions/manual" and raw == "0":      # 0 counts as not sent: neither points nor amount
        assert (status, body) == (400, {"error": 400, "message": "A rewarding criteria is required"})
    else:
        assert status == 422, body
        error(body, 3003, "PAYLOAD_ERROR")
    assert await state(client, tenant) == before


async def test_missing_secret_key(client, tenant):
    before = await state(client, tenant)
    for path, payload in [("/transactions/redeem", redeem(points=5)), ("/orders", order()),
                          ("/transactions/manual", manual(points=5))]:
        status, body = await post(client, path, payload, headers={"apikey": GB["apikey"]})
        assert status == 401
        error(body, 1001, "AUTHENTICATION_ERROR")
    assert await state(client, tenant) == before


async def _figures(client):
    b = await (await client.get(f"/api/v4.0/integrations/customers/{ALICE_ID}/balance", headers=GB)).json()
    return b["availablePointsBalance"], b["pendingPoints"]


async def _order_with_hold(client, order_id, hold_points, paid):
    h = await (await client.post("/api/v4.0/integrations/transactions/hold", headers=GB, json={
        "customerId": ALICE_ID, "transactionTime": "2026-03-10T12:00:00Z", "pointsToHold": hold_points})).json()
    r = await client.post("/api/v4.0/integrations/orders", headers=GB, json={
        "customerId": ALICE_ID, "orderId": order_id, "orderDate": "2026-03-10T12:00:00Z", "totalPaid": paid,
        "redemption": {"pointsHoldReference": h["holdReference"]}})
    assert (await r.json())["redeemedPoints"] == hold_points


async def test_full_refund_of_an_order_gives_back_the_points_it_burned(client, tenant):
    await _order_with_hold(client, "ORD-H1", 100, 50)
    assert await _figures(client) == (1300, 450)
    r = await client.post("/api/v4.0/integrations/transactions/refund", headers=GB, json={
        "customerId": ALICE_ID, "refundTransactionId": "RF-H1", "reverseTransactionId": "ORD-H1",
        "transactionTime": "2026-03-10T12:00:00Z"})
    assert (await r.json())["refundEquivalentPoints"] == 50        # the earned points taken back
    assert await _figures(client) == (1400, 400)                   # and the 100 burned ones given back
    check(tenant)


async def test_partial_refund_of_an_order_gives_back_burned_points_in_proportion(client, tenant):
    await _order_with_hold(client, "ORD-H2", 100, 50)
    r = await client.post("/api/v4.0/integrations/transactions/refund", headers=GB, json={
        "customerId": ALICE_ID, "refundTransactionId": "RF-H2", "reverseTransactionId": "ORD-H2",
        "transactionTime": "2026-03-10T12:00:00Z", "refundAmount": 25})
    assert (await r.json())["refundEquivalentPoints"] == 25
    assert await _figures(client) == (1350, 425)                   # half the burn back, half the earning gone
    check(tenant)


@pytest.mark.parametrize("path,body", [
    ("/transactions/cashback", {"customerId": ALICE_ID, "transactionId": "FUT-1", "amount": 10}),
    ("/transactions/redeem", {"customerId": ALICE_ID, "transactionId": "FUT-2", "points": 10}),
    ("/transactions/hold", {"customerId": ALICE_ID, "pointsToHold": 10}),
])
async def test_transaction_time_in_the_future_is_9007(client, tenant, path, body):
    before = await _figures(client)
    future = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = await client.post(f"/api/v4.0/integrations{path}", headers=GB, json={**body, "transactionTime": future})
    assert (r.status, (await r.json())["code"]) == (422, 9007)
    assert await _figures(client) == before
    skewed = (NOW + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")   # a client clock a little ahead: fine
    r = await client.post(f"/api/v4.0/integrations{path}", headers=GB, json={**body, "transactionTime": skewed})
    assert r.status == 200
    check(tenant)


async def test_order_line_items_report_their_points(client):
    r = await client.post("/api/v4.0/integrations/orders", headers=GB, json={
        "customerId": ALICE_ID, "orderId": "ORD-LINES", "orderDate": "2026-03-10T12:00:00Z", "totalPaid": 111.25,
        "lineItems": [{"productId": "p1", "quantity": 1, "price": 91.25}, {"productId": "p2", "quantity": 2, "price": 10}]})
    body = await r.json()
    assert body["rewardedPoints"] == 111
    assert body["lineItems"] == [
        {"productId": "p1", "quantity": 1, "decimalPoints": 91.25, "points": 91, "score": 0},
        {"productId": "p2", "quantity": 2, "decimalPoints": 20, "points": 20, "score": 0}]


async def test_an_order_that_earns_nothing_is_still_on_record(client, tenant):
    await _order_with_hold(client, "ORD-ZERO", 100, 0.5)            # 0.5 USD earns no whole point
    assert await _figures(client) == (1300, 400)
    r = await client.put("/api/v4.0/integrations/transactions/ORD-ZERO/activate", headers=GB)
    assert r.status == 200 and (await r.json())["pointsActivated"] == 0
    r = await client.post("/api/v4.0/integrations/transactions/refund", headers=GB, json={
        "customerId": ALICE_ID, "refundTransactionId": "RF-ZERO", "reverseTransactionId": "ORD-ZERO",
        "transactionTime": "2026-03-10T12:00:00Z"})
    assert r.status == 200 and (await r.json())["refundEquivalentPoints"] == 0
    assert await _figures(client) == (1400, 400)                   # the burned points came back
    r = await client.post("/api/v4.0/integrations/transactions/refund", headers=GB, json={
        "customerId": ALICE_ID, "refundTransactionId": "RF-ZERO-2", "reverseTransactionId": "ORD-ZERO",
        "transactionTime": "2026-03-10T12:00:00Z"})
    assert (r.status, (await r.json())["code"]) == (422, 9001)      # already fully refunded
    check(tenant)
