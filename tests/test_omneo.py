"""Omneo v3 dialect: profile balances and profile tier, their Laravel-shaped errors, and faults.
Every response is checked against specs/omneo.yaml by the `client` fixture."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from helpers import ALICE, BOB, NOW, OMNEO, demo_tenant
from gateway.app import GATEWAY, Config, build_app
from gateway.engine import Engine

BAL = "/api/v3/profiles/{}/balances"
TIERS = "/api/v3/profiles/{}/tiers"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
CONFIG_STAMP = "2024-01-15 09:30:00"   # the demo point currency's info.created_at/updated_at


@pytest.fixture
def vendors():
    return ["omneo"]


def tier_def(id, name, handle, value, *, floor=False, assignable=True, short=None, long=None):
    return {"id": id, "name": name, "handle": handle, "is_floor": floor, "value_min": value,
            "value_maintain": value, "is_assignable": assignable, "internal_notes": None, "description": None,
            "short_description": short, "long_description": long, "terms_conditions": None, "icon": None,
            "image_url": None, "earn_instructions": None, "disable_credit": False, "tags": [], "meta": None,
            "region_id": None, "region": None, "created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP}


BRONZE = tier_def(1, "Bronze", "bronze", 0, floor=True, assignable=False, short="Bronze", long="<p>Bronze Tier</p>")
SILVER = tier_def(2, "Silver", "silver", 1000, short="★", long="<p>Silver Tier</p>")
GOLD = tier_def(3, "Gold", "gold", 5000, short="★★", long="<p>Gold Tier</p>")


def snapshot(tenant):
    out = []
    for m in (tenant.member_by_id("alice"), tenant.member_by_id("bob")):
        program = tenant.program(m.program_id)
        out.append((tenant.balance(m, program.default_currency), len(tenant.entries(m)),
                    tenant.store.rewards(m.id), tenant.member_by_id(m.id)))
    return out


# --- balances --------------------------------------------------------------------------------------

async def test_alice_balances(client):
    r = await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == 200
    assert r.content_type == "application/json"
    assert await r.json() == {"data": {
        "reward_balance": 10, "credit_balance": 0, "point_balance": 1400, "point_balance_dollars": 70,
        "benefit_balance": 0, "combined_balance_dollars": 80,
        "localised": {"reward_balance": 10, "point_balance_dollars": 70, "combined_balance_dollars": 80},
        "currency": None}}


async def test_alice_balances_in_aud(client):
    r = await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO, params={"currency": "AUD"})
    assert r.status == 200
    assert await r.json() == {"data": {
        "reward_balance": 10, "credit_balance": 0, "point_balance": 1400, "point_balance_dollars": 70,
        "benefit_balance": 0, "combined_balance_dollars": 80,
        "localised": {"reward_balance": 15, "point_balance_dollars": 105, "combined_balance_dollars": 120},
        "currency": {"id": 2, "from": "USD", "to": "AUD", "rate": 1.5, "is_system": False,
                     "created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP}}}


async def test_alice_balances_in_eur(client):
    r = await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO, params={"currency": "EUR"})
    assert r.status == 200
    data = (await r.json())["data"]
    assert data["combined_balance_dollars"] == 80 and data["point_balance_dollars"] == 70
    assert data["localised"] == {"reward_balance": 9.2, "point_balance_dollars": 64.4, "combined_balance_dollars": 73.6}
    assert data["currency"] == {"id": 3, "from": "USD", "to": "EUR", "rate": 0.92, "is_system": False,
                                "created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP}


async def test_alice_balances_in_the_system_currency(client):
    r = await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO, params={"currency": "USD"})
    assert r.status == 200
    data = (await r.json())["data"]
    assert data["localised"] == {"reward_balance": 10, "point_balance_dollars": 70, "combined_balance_dollars": 80}
    assert data["currency"] == {"id": 1, "from": "USD", "to": "USD", "rate": 1, "is_system": True,
                                "created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP}


async def test_bob_has_zero_balances(client):
    r = await client.get(BAL.format(BOB["omneo"]), headers=OMNEO)
    assert r.status == 200
    assert await r.json() == {"data": {
        "reward_balance": 0, "credit_balance": 0, "point_balance": 0, "point_balance_dollars": 0,
        "benefit_balance": 0, "combined_balance_dollars": 0,
        "localised": {"reward_balance": 0, "point_balance_dollars": 0, "combined_balance_dollars": 0},
        "currency": None}}


async def test_token_scheme_is_case_insensitive(client):
    r = await client.get(BAL.format(BOB["omneo"]), headers={"Authorization": "bearer demo-omneo-token"})
    assert r.status == 200


async def test_reward_counts_until_its_expiry(client, tenant):
    # the 10 USD reward expires at NOW+20d; the 400 pending points became available at NOW+9d
    tenant.clock.set(NOW + timedelta(days=20) - timedelta(seconds=1))
    data = (await (await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO)).json())["data"]
    assert (data["reward_balance"], data["point_balance"], data["point_balance_dollars"],
            data["combined_balance_dollars"]) == (10, 1800, 90, 100)
    tenant.clock.set(NOW + timedelta(days=20))
    r = await client.get(BAL.format(ALICE["omneo"]), headers=OMNEO, params={"currency": "AUD"})
    assert r.status == 200
    data = (await r.json())["data"]
    assert (data["reward_balance"], data["point_balance"], data["point_balance_dollars"],
            data["combined_balance_dollars"]) == (0, 1800, 90, 90)
    assert data["localised"] == {"reward_balance": 0, "point_balance_dollars": 135, "combined_balance_dollars": 135}


async def test_points_money_rounds_half_up_to_cents(client, tenant):
    bob = tenant.member("omneo.profile", BOB["omneo"])
    program = tenant.program(bob.program_id)
    tenant.credit(bob, program.default_currency, Decimal("0.1"), available_at=NOW)   # worth 0.005 USD
    r = await client.get(BAL.format(BOB["omneo"]), headers=OMNEO, params={"currency": "EUR"})
    data = (await r.json())["data"]
    assert data["point_balance"] == 0.1
    assert data["point_balance_dollars"] == 0.01 and data["combined_balance_dollars"] == 0.01
    assert data["localised"]["point_balance_dollars"] == 0.01   # 0.01 x 0.92 = 0.0092 -> 0.01


# --- tiers ---------------------------------------------------------------------------------------

async def test_alice_tier_progress(client):
    r = await client.get(TIERS.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == 200
    # engine (gateway/engine/tiers.py): 1900 tier points in the window (300@-334d, 1200@-114d, 400@-5d);
    # Silver attained at -114d, when the window then held 2000 (500@-420d too): credit 1000, 400 earned since,
    # nothing left to maintain it
    assert await r.json() == {"data": {
        "id": 1, "profile_id": ALICE["omneo"],
        "current_tier": SILVER, "next_tier": GOLD, "prev_tier": BRONZE,
        "is_floor": False,
        "current_credit": 1000, "current_progress": 400, "current_remain": 0,
        "next_progress": 1900, "next_remain": 3100,
        "total_points_12m": 1900, "total_points_achievement": 400,
        "next_progress_change_at": "2026-04-10 12:00:00",   # the -334d credit leaves the 365-day window
        "anniversary_at": "2026-11-16 23:59:59",
        "maintained_at": None, "assigned_at": None,
        "achieved_at": "2025-11-16 12:00:00",
        "created_at": "2024-10-26 12:00:00", "updated_at": "2024-10-26 12:00:00"}}


async def test_bob_sits_on_the_floor_tier(client):
    r = await client.get(TIERS.format(BOB["omneo"]), headers=OMNEO)
    assert r.status == 200
    assert await r.json() == {"data": {
        "id": 2, "profile_id": BOB["omneo"],
        "current_tier": BRONZE, "next_tier": SILVER, "prev_tier": None,
        "is_floor": True,
        "current_credit": 0, "current_progress": 0, "current_remain": 0,
        "next_progress": 0, "next_remain": 1000,
        "total_points_12m": 0, "total_points_achievement": None,
        "next_progress_change_at": None,
        "anniversary_at": "2027-03-09 23:59:59",
        "maintained_at": None, "assigned_at": None,
        "achieved_at": "2026-03-09 12:00:00",
        "created_at": "2026-03-09 12:00:00", "updated_at": "2026-03-09 12:00:00"}}


async def test_tier_figures_are_whole_points(client, tenant):
    bob = tenant.member("omneo.profile", BOB["omneo"])
    program = tenant.program(bob.program_id)
    tenant.credit(bob, program.default_currency, Decimal("10.75"))
    data = (await (await client.get(TIERS.format(BOB["omneo"]), headers=OMNEO)).json())["data"]
    assert (data["next_progress"], data["next_remain"], data["total_points_12m"], data["current_progress"]) \
        == (10, 989, 10, 10)
    assert data["next_progress_change_at"] == "2027-03-10 12:00:00"


async def test_top_tier_has_no_next(client, tenant):
    alice = tenant.member("omneo.profile", ALICE["omneo"])
    tenant.credit(alice, tenant.program(alice.program_id).default_currency, Decimal("3100"))
    data = (await (await client.get(TIERS.format(ALICE["omneo"]), headers=OMNEO)).json())["data"]
    assert data["current_tier"] == GOLD and data["prev_tier"] == SILVER and data["next_tier"] is None
    assert data["next_remain"] is None and data["next_progress"] == 5000 and data["is_floor"] is False
    assert data["achieved_at"] == "2026-03-10 12:00:00" and data["current_credit"] == 0


async def test_program_without_tiers_has_no_profile_tier(aiohttp_client):
    doc_tenant = demo_tenant()
    program = doc_tenant.programs["main"]
    doc_tenant.programs["main"] = replace(program, tiers=())
    engine = Engine()
    engine.add(doc_tenant)
    client = await aiohttp_client(build_app(engine, Config(validate_responses=True), vendors=["omneo"]))
    r = await client.get(TIERS.format(ALICE["omneo"]), headers=OMNEO)
    assert "X-Gateway-Violations" not in r.headers
    assert r.status == 404
    assert await r.json() == {"message": f"No query results for model [App\\Models\\ProfileTier] {ALICE['omneo']}"}


# --- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [BAL, TIERS])
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "demo-omneo-token"},
    {"Authorization": "Basic demo-omneo-token"}, {"Authorization": "Bearer "},
    {"Authorization": "Bearer demo-gameball-apikey"}, {"apikey": "demo-omneo-token"},
])
async def test_unauthenticated(client, tenant, path, headers):
    before = snapshot(tenant)
    r = await client.get(path.format(ALICE["omneo"]), headers=headers)
    assert r.status == 401
    assert r.content_type == "application/json"
    assert await r.json() == {"message": "Unauthenticated."}
    assert snapshot(tenant) == before


@pytest.mark.parametrize("path", [BAL, TIERS])
async def test_unknown_profile(client, tenant, path):
    before = snapshot(tenant)
    r = await client.get(path.format(UNKNOWN), headers=OMNEO)
    assert r.status == 404
    assert await r.json() == {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}
    assert snapshot(tenant) == before


@pytest.mark.parametrize("path", [BAL, TIERS])
@pytest.mark.parametrize("profile", ["not-a-uuid", "user-123", "17", ALICE["omneo"][:-1]])
async def test_malformed_profile_id(client, tenant, path, profile):
    before = snapshot(tenant)
    r = await client.get(path.format(profile), headers=OMNEO)
    assert r.status == 404
    assert await r.json() == {"message": f"No query results for model [App\\Models\\Profile] {profile}"}
    assert snapshot(tenant) == before


async def test_malformed_profile_wins_over_bad_currency(client):
    r = await client.get(BAL.format("nope"), headers=OMNEO, params={"currency": "XYZ"})
    assert r.status == 404


async def test_auth_runs_before_profile_lookup(client):
    r = await client.get(BAL.format(UNKNOWN), headers={"Authorization": "Bearer nope"})
    assert r.status == 401


@pytest.mark.parametrize("currency", ["XYZ", "usd", "Aud", "AUDX", "", "12"])
async def test_invalid_currency(client, tenant, currency):
    before = snapshot(tenant)
    r = await client.get(BAL.format(ALICE["omneo"]) + f"?currency={currency}", headers=OMNEO)
    assert r.status == 422
    assert await r.json() == {"message": "The selected currency is invalid.",
                              "errors": {"currency": ["The selected currency is invalid."]}}
    assert snapshot(tenant) == before


async def test_unknown_currency_for_unknown_profile_is_404(client):
    # the profile is bound before the query is looked at
    r = await client.get(BAL.format(UNKNOWN), headers=OMNEO, params={"currency": "XYZ"})
    assert r.status == 404


async def test_unknown_route_under_the_prefix(client):
    r = await client.get("/api/v3/profiles/x/nothing-here", headers=OMNEO)
    assert r.status == 404
    assert await r.json() == {"message": "The route api/v3/profiles/x/nothing-here could not be found."}


@pytest.mark.parametrize("case, status, body, retry_after", [
    ("rate_limit", 429, {"message": "Too Many Attempts."}, "60"),
    ("server_error", 500, {"message": "Server Error."}, None),
    ("unavailable", 503, {"message": "Service Unavailable"}, None),
])
@pytest.mark.parametrize("path, operation", [(BAL, "get_profile_balances"), (TIERS, "get_profile_tiers")])
async def test_faults(client, tenant, case, status, body, retry_after, path, operation):
    client.app[GATEWAY].faults.arm(tenant="demo", vendor="omneo", operation=operation, kind="error",
                                   case=case, times=1)
    before = snapshot(tenant)
    r = await client.get(path.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == status
    assert await r.json() == body
    assert r.headers.get("Retry-After") == retry_after
    assert snapshot(tenant) == before
    r = await client.get(path.format(ALICE["omneo"]), headers=OMNEO)
    assert r.status == 200
