"""Gameball redemption rules (hold by ruleId), one-time passwords, and the configuration reads that drive the
maths (redemption factor = the point value every dialect uses; the earn rate; the tiers).

Demo: alice (user-123) has 1400 points available; a point is worth 0.05 USD; rule 1 takes 100 points (5 USD
off), rule 2 takes 500 (free shipping)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from helpers import ALICE, GB, OMNEO
from invariants import check

API = "/api/v4.0/integrations"
ALICE_ID = ALICE["gameball"]
TIME = "2026-03-10T11:00:00Z"
APIKEY = {"apikey": GB["apikey"]}


@pytest.fixture
def vendors():
    return None


async def call(client, method, path, body=None, headers=GB):
    r = await client.request(method, API + path, json=body, headers=headers)
    return r.status, await r.json()


async def available(client):
    _, body = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    return body["availablePointsBalance"]


def hold(**selector):
    return {"customerId": ALICE_ID, "transactionTime": TIME, **selector}


def redeem(tx="R-1", **selector):
    return {"customerId": ALICE_ID, "transactionId": tx, "transactionTime": TIME, **selector}


# --- rules ------------------------------------------------------------------------------------------------------

async def test_hold_by_rule_then_redeem_it(client, tenant):
    status, body = await call(client, "POST", "/transactions/hold", hold(ruleId="2", pointsToHold=None))
    assert status == 200
    assert (body["holdEquivalentPoints"], body["holdAmount"]) == (500, 25)
    assert await available(client) == 900
    status, spent = await call(client, "POST", "/transactions/redeem", redeem(holdReference=body["holdReference"]))
    assert (status, spent["redeemEquivalentPoints"]) == (200, 500)
    assert await available(client) == 900
    check(tenant)


@pytest.mark.parametrize("rule,status,code", [("99", 404, 4004), ("", 422, 3003)])
async def test_unknown_rule(client, rule, status, code):
    got, body = await call(client, "POST", "/transactions/hold", hold(ruleId=rule))
    assert (got, body["code"]) == (status, code)
    assert await available(client) == 1400


async def test_inactive_rule_and_rule_without_points(client, tenant):
    program = tenant.programs["main"]
    one, two = program.redemption_rules
    tenant.programs["main"] = replace(program, redemption_rules=(replace(one, active=False),
                                                                 replace(two, points=None)))
    status, body = await call(client, "POST", "/transactions/hold", hold(ruleId="1"))
    assert (status, body["code"]) == (422, 3009)
    status, body = await call(client, "POST", "/transactions/hold", hold(ruleId="2"))
    assert (status, body["code"]) == (422, 3003)
    assert await available(client) == 1400


async def test_rule_above_the_balance_is_9008(client):
    await call(client, "POST", "/transactions/hold", hold(pointsToHold=1000))
    status, body = await call(client, "POST", "/transactions/hold", hold(ruleId="2"))
    assert (status, body["code"]) == (422, 9008)


# --- OTP ---------------------------------------------------------------------------------------------------------

async def test_otp_off_by_default(client):
    status, body = await call(client, "POST", "/transactions/otp", {"customerId": ALICE_ID, "points": 100})
    assert (status, body["code"], body["type"]) == (422, 6000, "CONFIGURATIONS_ERROR")
    assert (await call(client, "POST", "/transactions/redeem", redeem(points=10)))[0] == 200    # no code needed


async def test_otp_guards_redeem_and_hold(client, tenant):
    tenant.settings.setdefault("gameball", {})["otp"] = "482913"
    status, body = await call(client, "POST", "/transactions/redeem", redeem(points=10))
    assert (status, body["code"]) == (400, 3000) and "otp" in body["message"]
    status, body = await call(client, "POST", "/transactions/otp", {"customerId": ALICE_ID, "points": 10})
    assert (status, body) == (200, {"success": True, "message": "OTP sent to the customer"})
    assert "482913" not in str(body)
    status, body = await call(client, "POST", "/transactions/redeem", redeem(points=10, otp="000000"))
    assert (status, body["code"]) == (422, 3003) and "otp" in body["message"]
    assert await available(client) == 1400
    assert (await call(client, "POST", "/transactions/redeem", redeem(points=10, otp="482913")))[0] == 200
    assert (await call(client, "POST", "/transactions/hold", hold(pointsToHold=10, otp="482913")))[0] == 200
    assert (await call(client, "POST", "/transactions/hold", hold(pointsToHold=10, ignoreOTP=True)))[0] == 200
    assert await available(client) == 1370
    check(tenant)


async def test_an_otp_expires_and_belongs_to_its_customer(client, tenant):
    from datetime import timedelta
    tenant.settings.setdefault("gameball", {})["otp"] = "111222"
    assert (await call(client, "POST", "/transactions/otp", {"customerId": "user-456"}))[0] == 200
    status, body = await call(client, "POST", "/transactions/redeem", redeem(points=10, otp="111222"))
    assert (status, body["code"]) == (422, 3003)           # the code was sent to bob, not alice
    assert (await call(client, "POST", "/transactions/otp", {"customerId": ALICE_ID}))[0] == 200
    tenant.clock.advance(timedelta(minutes=6))
    status, body = await call(client, "POST", "/transactions/redeem", redeem(points=10, otp="111222"))
    assert (status, body["code"]) == (422, 3003)
    status, body = await call(client, "POST", "/transactions/otp", {"customerId": "nobody"})
    assert (status, body["code"]) == (404, 7000)


# --- configuration ---------------------------------------------------------------------------------------------

async def test_redemption_configuration_is_the_programs(client):
    status, body = await call(client, "GET", "/configurations/redemption", headers=APIKEY)
    assert (status, body) == (200, {"redemptionFactor": 0.05, "redemptionRules": [
        {"id": 1, "pointsToRedeem": 100, "valueOfPoint": 0.05, "ruleType": "fixed_rate_settings",
         "coupon": {"couponType": "fixed_discount", "discountValue": 5}, "creationDate": "2024-01-15T09:30:00.000Z",
         "isActive": True},
        {"id": 2, "pointsToRedeem": 500, "ruleType": "free_shipping_settings", "coupon": {"couponType": "free_shipping"},
         "creationDate": "2024-01-15T09:30:00.000Z", "isActive": True}]})


async def test_the_redemption_factor_is_the_point_value_of_every_dialect(client, http, tenant):
    program = tenant.programs["main"]
    tenant.programs["main"] = replace(program, currencies=(replace(program.default_currency, value=Decimal("0.1")),))
    _, config = await call(client, "GET", "/configurations/redemption", headers=APIKEY)
    _, balance = await call(client, "GET", f"/customers/{ALICE_ID}/balance")
    omneo = (await (await http.get(f"/api/v3/profiles/{ALICE['omneo']}/balances", headers=OMNEO)).json())["data"]
    assert config["redemptionFactor"] == 0.1
    assert balance["availablePointsValue"] == omneo["point_balance_dollars"] == 140     # 1400 x 0.1


async def test_cashback_configuration_and_what_an_order_earns(client, tenant):
    status, body = await call(client, "GET", "/configurations/cashback?customerId=user-123", headers=APIKEY)
    assert (status, body) == (200, {"defaultCashbackRule": {"amountRewardThreshold": 1, "rewardWalletFactor": 1,
                                                            "rewardRankFactor": 0, "rewardFactor": 5},
                                    "tierCashbackRules": []})
    tenant.programs["main"] = replace(tenant.programs["main"], earn_per_money=Decimal(2))
    _, body = await call(client, "GET", "/configurations/cashback", headers=APIKEY)
    _, quote = await call(client, "POST", "/orders/cashback", {"totalPaid": 10, "totalDiscount": 0,
                                                               "totalShipping": 0}, headers=APIKEY)
    assert body["defaultCashbackRule"]["rewardWalletFactor"] == 2 and quote["totalPoints"] == 20


async def test_tiers_configuration(client):
    status, body = await call(client, "GET", "/configurations/tiers", headers=APIKEY)
    assert (status, body) == (200, [
        {"order": 1, "name": "Bronze", "minProgress": 0, "icon": "", "benefits": []},
        {"order": 2, "name": "Silver", "minProgress": 1000, "icon": "", "benefits": []},
        {"order": 3, "name": "Gold", "minProgress": 5000, "icon": "", "benefits": []}])
