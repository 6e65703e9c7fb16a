"""One member read through all four dialects: the figures agree (issue 2), and they keep agreeing
as time moves (pending points become available, lots expire, rewards lapse)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from conftest import ALICE, ALTCRAFT_TOKEN, BOB, BREVO, BREVO_BDID, BREVO_PID, GB, NOW, OMNEO


async def read_all(client, who) -> dict:
    gb = await (await client.get(f"/api/v4.0/integrations/customers/{who['gameball']}/balance", headers=GB)).json()
    alt_json = await (await client.post("/api/v1.1/loyalty/account/balance", json={
        "token": ALTCRAFT_TOKEN, "loyalty_program_id": 123, "matching": "email", "email": who["email"]})).json()
    alt_xml = await (await client.post(
        "/api/v1.1/loyalty/account/balance?format=json",
        data=f"<xml><token>{ALTCRAFT_TOKEN}</token><loyalty_program_id>123</loyalty_program_id>"
             f"<points_currency_iid>1</points_currency_iid><matching>email</matching><email>{who['email']}</email></xml>",
        headers={"Content-Type": "application/xml"})).json()
    omneo = (await (await client.get(f"/api/v3/profiles/{who['omneo']}/balances", headers=OMNEO)).json())["data"]
    brevo = await (await client.get(
        f"/v3/loyalty/balance/programs/{BREVO_PID}/subscriptions/{who['brevo']}/balances", headers=BREVO)).json()
    return {"gameball": gb, "altcraft": alt_json["data"], "altcraft_xml": alt_xml["data"], "omneo": omneo,
            "brevo": {b["balanceDefinitionId"]: b["value"] for b in brevo["balance"]}}


def assert_agree(r: dict) -> None:
    gb, alt, om, br = r["gameball"], r["altcraft"], r["omneo"], r["brevo"]
    assert Decimal(str(gb["availablePointsBalance"])) == Decimal(alt["active_balance"]) \
        == Decimal(str(om["point_balance"])) == Decimal(str(br[BREVO_BDID]))
    assert Decimal(str(gb["totalPointsBalance"])) == Decimal(alt["total_balance"])
    assert Decimal(str(gb["availablePointsValue"])) == Decimal(str(om["point_balance_dollars"]))
    assert r["altcraft_xml"] == alt


@pytest.mark.parametrize("who", [ALICE, BOB], ids=["alice", "bob"])
async def test_four_dialects_agree(client, who):
    assert_agree(await read_all(client, who))


async def test_alice_figures_in_every_dialect(client):
    r = await read_all(client, ALICE)
    assert r["altcraft"] == {"total_balance": "1800.00", "active_balance": "1400.00"}
    assert (r["gameball"]["availablePointsBalance"], r["omneo"]["point_balance"], r["brevo"][BREVO_BDID]) \
        == (1400, 1400, 1400)
    assert (r["gameball"]["availablePointsValue"], r["omneo"]["point_balance_dollars"]) == (70, 70)


@pytest.mark.parametrize("days,available,total", [
    (9, 1800, 1800),      # the return window ends: pending points available everywhere
    (45, 1600, 1600),     # the 200-point lot expires
    (265, 400, 400),      # the 1200-point lot expires too
    (400, 0, 0),          # everything has expired
])
async def test_they_keep_agreeing_as_time_moves(client, tenant, days, available, total):
    tenant.clock.set(NOW + timedelta(days=days))
    r = await read_all(client, ALICE)
    assert_agree(r)
    assert (r["gameball"]["availablePointsBalance"], r["gameball"]["totalPointsBalance"]) == (available, total)
