"""Omneo v3 writes over HTTP: issuing points and rewards, redeeming (and the /redemptions alias), reversing.
Every response is checked against specs/omneo.yaml by the `client` fixture; state is read back through
GET .../balances and the engine, and the ledger invariants are checked after each write.

Demo figures: alice has 1400 available points (0.05 USD each: 70 USD) in two point records -- #2 (300 issued,
200 left, expires 2026-04-24) and #3 (1200, expires 2026-11-30) -- 400 pending (#6, available 2026-03-19)
and one active 10 USD reward (#2, birthday-reward, expires 2026-03-30); bob has nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from helpers import ALICE, BOB, NOW, OMNEO
from gateway.app import GATEWAY
import invariants

BAL = "/api/v3/profiles/{}/balances"
POINTS = "/api/v3/points"
REWARDS = "/api/v3/rewards"
REDEEM = "/api/v3/profiles/{}/redeem"
REDEEM_ALIAS = "/api/v3/profiles/{}/redemptions"
REVERSAL = "/api/v3/redemptions/{}/reversal"
UNKNOWN = "92441ab4-331a-41dc-b598-9fa22311b399"
CONFIG_STAMP = "2024-01-15 09:30:00"     # the demo point currency's info.created_at/updated_at
T0 = "2026-03-10 12:00:00"               # NOW as Omneo prints it


@pytest.fixture
def vendors():
    return ["omneo"]


# --- expected bodies -----------------------------------------------------------------------------------

POINT_DEFINITION = {
    "id": 1, "name": "Reward Points", "handle": "points", "description": "1 point per USD spent, worth 0.05 USD",
    "notes": None, "is_reassignable": False, "tags": [], "currency": "USD", "region_id": None, "region": None,
    "issue_period": 365, "issue_period_type": "days", "issue_absolute_expiry": None,
    "created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP}


def dollars(points) -> float:
    """Points x 0.05 USD, rounded half-up to cents (Omneo's money figures)."""
    return float((Decimal(str(points)) * Decimal("0.05")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def point(id, profile, initial, remaining, issued, accrued, expires, created, updated=None, *, description=None,
          meta=None):
    return {"id": id, "profile_id": profile, "linked_profile_id": None, "value_initial": initial,
            "value_remaining": remaining,
            "value_initial_currency": dollars(initial), "value_remaining_currency": dollars(remaining),
            "issued_at": issued, "accrued_at": accrued, "expires_at": expires, "status": None,
            "description": description, "meta": meta, "definition": POINT_DEFINITION, "rate": None,
            "source_type": None, "source": None, "created_at": created, "updated_at": updated or created}


def reward_definition(id, name, handle, value):
    d = {"id": id, "name": name, "handle": handle, "type": "other", "period": 30, "period_type": "days",
         "absolute_expiry": None, "value": value, "max_value": None, "currency": None, "is_extendable": False,
         "is_assignable": True, "is_reassignable": False, "is_published": True}
    d.update(dict.fromkeys(("description", "short_description", "long_description", "terms_conditions", "icon",
                            "image_url", "internal_notes", "earn_instructions")))
    d.update({"tags": [], "region_id": None, "region": None})
    d.update(dict.fromkeys(("issue_target_id", "expiry_target_id", "extend_target_id", "extend_days",
                            "notify_issue_offset", "notify_expiry_offset", "notify_schedule_offset",
                            "notify_issue_offset_days", "notify_issue_offset_hour", "notify_remind_offset_days",
                            "notify_remind_offset_hour", "notify_extend_offset_days",
                            "notify_extend_offset_hour")))
    d.update({"created_at": CONFIG_STAMP, "updated_at": CONFIG_STAMP})
    return d


BIRTHDAY = reward_definition(6, "Birthday Reward", "birthday-reward", 10)
WELCOME = reward_definition(7, "Welcome Reward", "welcome-reward", 5)


def reward(id, profile, tz, initial, remaining, issued, expires, issued_local, expires_local, definition, created,
           updated=None, *, active=True, expired=False, meta=None):
    return {"id": id, "profile_id": profile, "timezone": tz, "value_initial": initial, "value_remaining": remaining,
            "issued_at": issued, "expires_at": expires, "issued_local_at": issued_local,
            "expires_local_at": expires_local, "is_expired": expired, "is_active": active,
            "notify_issue_at": None, "notify_expiry_at": None, "extended_at": None, "has_notified_issue": False,
            "has_notified_expiry": False, "has_notified_extend": False, "source_id": None, "source_type": None,
            "meta": meta, "definition": definition, "created_at": created, "updated_at": updated or created}


def alice_reward(remaining, updated=None):
    """alice's active 10 USD birthday reward (#2, issued -10d, expires +20d, UTC)."""
    return reward(2, ALICE["omneo"], "UTC", 10, remaining, "2026-02-28 12:00:00", "2026-03-30 12:00:00",
                  "2026-02-28 12:00:00", "2026-03-30 12:00:00", BIRTHDAY, "2026-02-28 12:00:00", updated,
                  active=remaining > 0)


def alice_point2(remaining, updated):
    return point(2, ALICE["omneo"], 300, remaining, "2025-04-24 12:00:00", "2025-04-10 12:00:00",
                 "2026-04-24 12:00:00", "2025-04-10 12:00:00", updated)


def alice_point3(remaining, updated):
    return point(3, ALICE["omneo"], 1200, remaining, "2025-11-30 12:00:00", "2025-11-16 12:00:00",
                 "2026-11-30 12:00:00", "2025-11-16 12:00:00", updated)


def balances(rewards, points, dollars):
    return {"reward_balance": rewards, "credit_balance": 0, "point_balance": points, "point_balance_dollars": dollars,
            "benefit_balance": 0, "combined_balance_dollars": rewards + dollars,
            "localised": {"reward_balance": rewards, "point_balance_dollars": dollars,
                          "combined_balance_dollars": rewards + dollars},
            "currency": None}


def item(id, kind, value, attributes, at=T0):
    return {"id": id, "type": kind, "value": value, "count": 1, "type_attributes": attributes,
            "created_at": at, "updated_at": at}


def redemption(id, kind, total, items, bal, *, meta=None, location_id=None, external=None, receipt=None,
               currency=None, at=T0, localised=None):
    return {"data": {"id": id, "profile_id": ALICE["omneo"], "profile": ALICE_PROFILE, "type": kind, "total": total,
                     "total_localised": total if localised is None else localised,
                     "location_id": location_id, "location": None, "currency": currency, "balances": bal,
                     "items": items, "meta": meta, "transaction_id": None, "transaction": None,
                     "transaction_external_id": external, "transaction_receipt_ref": receipt, "redeem_at": at,
                     "created_at": at, "updated_at": at}}


ALICE_PROFILE = {"first_name": "Alice", "last_name": "Example", "full_name": "Alice Example",
                 "email": "user@example.com", "statuses": []}


ALICE_START = balances(10, 1400, 70)
BOB_START = balances(0, 0, 0)


# --- state helpers -----------------------------------------------------------------------------------------

async def read_balances(client, profile):
    r = await client.get(BAL.format(profile), headers=OMNEO)
    assert r.status == 200
    return (await r.json())["data"]


def snapshot(tenant):
    out = []
    for m in (tenant.member_by_id("alice"), tenant.member_by_id("bob")):
        program = tenant.program(m.program_id)
        out.append((tenant.balance(m, program.default_currency), len(tenant.entries(m)),
                    tenant.store.rewards(m.id)))
    return out, tenant.store.seq_value("redemption")


def error(errors: dict) -> dict:
    messages = [m for ms in errors.values() for m in ms]
    more = len(messages) - 1
    message = messages[0] + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
    return {"message": message, "errors": errors}


async def refused(client, tenant, method, path, status, body, **kw):
    """The request is refused with exactly `body`, and nothing changed."""
    before = snapshot(tenant)
    r = await client.request(method, path, headers=kw.pop("headers", OMNEO), **kw)
    assert r.status == status, await r.text()
    assert r.content_type == "application/json"
    assert await r.json() == body
    assert snapshot(tenant) == before
    invariants.check(tenant)


# === POST /api/v3/points ======================================================================================

async def test_issue_points_now(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 100, "issued_at": None,
        "description": "Welcome bonus", "meta": {"campaign": "spring"}})
    assert r.status == 201
    # entry #7 (the demo ledger has 6); expiry from the definition: 365 days after issue
    assert await r.json() == {"data": point(7, BOB["omneo"], 100, 100, T0, T0, "2027-03-10 12:00:00", T0,
                                            description="Welcome bonus", meta={"campaign": "spring"})}
    assert await read_balances(client, BOB["omneo"]) == balances(0, 100, 5)
    invariants.check(tenant)


async def test_issue_points_sdk_payload_with_dates(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": ALICE["omneo"], "point_definition_id": 1, "value_initial": 0.1,
        "issued_at": "2026-03-01 08:30:00", "accrued_at": "2026-02-20T10:00:00Z",
        "expires_at": "2026-12-31T23:59:59+10:00", "meta": {"test": True}})
    assert r.status == 201
    # issued_at echoed as sent (Omneo format, UTC); the offset date comes back in UTC; 0.1 x 0.05 = 0.005 -> 0.01
    assert await r.json() == {"data": point(7, ALICE["omneo"], 0.1, 0.1, "2026-03-01 08:30:00", "2026-02-20 10:00:00",
                                            "2026-12-31 13:59:59", T0, meta={"test": True})}
    assert (await read_balances(client, ALICE["omneo"]))["point_balance"] == 1400.1
    invariants.check(tenant)


async def test_points_issued_in_the_future_count_once_issued(client, tenant):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 250,
        "issued_at": "2026-03-12 12:00:00"})
    assert r.status == 201
    body = (await r.json())["data"]
    assert (body["issued_at"], body["accrued_at"], body["expires_at"]) == \
        ("2026-03-12 12:00:00", "2026-03-12 12:00:00", "2027-03-12 12:00:00")
    assert await read_balances(client, BOB["omneo"]) == BOB_START
    bob = tenant.member_by_id("bob")
    assert tenant.balance(bob, tenant.program(bob.program_id).default_currency).pending == 250
    tenant.clock.set(NOW + timedelta(days=2) - timedelta(seconds=1))
    assert (await read_balances(client, BOB["omneo"]))["point_balance"] == 0
    tenant.clock.set(NOW + timedelta(days=2))
    assert await read_balances(client, BOB["omneo"]) == balances(0, 250, 12.5)
    invariants.check(tenant)


@pytest.mark.parametrize("remaining", [100, 100.0, None])
async def test_value_remaining_equal_to_initial_is_accepted(client, tenant, remaining):
    r = await client.post(POINTS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 100, "value_remaining": remaining,
        "issued_at": None})
    assert r.status == 201
    assert (await r.json())["data"]["value_remaining"] == 100
    assert (await read_balances(client, BOB["omneo"]))["point_balance"] == 100


@pytest.mark.parametrize("remaining", [150, 100.01])
async def test_value_remaining_above_initial_is_refused(client, tenant, remaining):
    await refused(client, tenant, "POST", POINTS, 422, error(
        {"value_remaining": ["The value remaining must be less than or equal to 100."]}),
        json={"profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 100,
              "value_remaining": remaining, "issued_at": None})


async def test_points_for_unknown_profile_and_definition(client, tenant):
    await refused(client, tenant, "POST", POINTS, 422, error({
        "profile_id": ["The selected profile id is invalid."],
        "point_definition_id": ["The selected point definition id is invalid."]}),
        json={"profile_id": UNKNOWN, "point_definition_id": 99, "value_initial": 10, "issued_at": None})


async def test_points_for_unknown_profile_is_422_not_404(client, tenant):
    await refused(client, tenant, "POST", POINTS, 422, error({"profile_id": ["The selected profile id is invalid."]}),
                  json={"profile_id": UNKNOWN, "point_definition_id": 1, "value_initial": 10, "issued_at": None})


@pytest.mark.parametrize("value, message", [
    (0, "The value initial must be greater than 0."),
    (-1, "The value initial must be greater than 0."),
    ("abc", "The value initial must be a number."),
    (Decimal("1e30"), "The value initial is too large."),
    (Decimal("0.001"), "The value initial has more than 2 decimal places."),
])
async def test_points_amount_refusals(client, tenant, value, message):
    body = '{"profile_id": "%s", "point_definition_id": 1, "value_initial": %s, "issued_at": null}' % (
        BOB["omneo"], f'"{value}"' if isinstance(value, str) else value)
    await refused(client, tenant, "POST", POINTS, 422, error({"value_initial": [message]}), data=body,
                  headers={**OMNEO, "Content-Type": "application/json"})


async def test_points_missing_fields(client, tenant):
    await refused(client, tenant, "POST", POINTS, 422, error({
        "profile_id": ["The profile id field is required."],
        "point_definition_id": ["The point definition id field is required."],
        "value_initial": ["The value initial field is required."],
        "issued_at": ["The issued at field is required."]}), json={})


async def test_points_wrong_types(client, tenant):
    await refused(client, tenant, "POST", POINTS, 422, error({
        "profile_id": ["The profile id must be a valid UUID."],
        "point_definition_id": ["The point definition id must be an integer."],
        "issued_at": ["The issued at is not a valid date."],
        "meta": ["The meta must be an array."]}),
        json={"profile_id": "user-123", "point_definition_id": "one", "value_initial": 5, "issued_at": "yesterday",
              "meta": "x"})


@pytest.mark.parametrize("field", ["issued_at", "accrued_at", "expires_at"])
async def test_points_impossible_date(client, tenant, field):
    body = {"profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 5, "issued_at": None,
            field: "2026-13-45 00:00:00"}
    await refused(client, tenant, "POST", POINTS, 422,
                  error({field: [f"The {field.replace('_', ' ')} is not a valid date."]}), json=body)


@pytest.mark.parametrize("raw", [b"{nope", b"", b"[1, 2"])
async def test_points_malformed_json_reads_as_empty_body(client, tenant, raw):
    await refused(client, tenant, "POST", POINTS, 422, error({
        "profile_id": ["The profile id field is required."],
        "point_definition_id": ["The point definition id field is required."],
        "value_initial": ["The value initial field is required."],
        "issued_at": ["The issued at field is required."]}),
        data=raw, headers={**OMNEO, "Content-Type": "application/json"})


# === POST /api/v3/rewards =====================================================================================

async def test_issue_reward_with_definition_defaults(client, tenant):
    r = await client.post(REWARDS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_id": 6, "timezone": "Australia/Melbourne"})
    assert r.status == 201
    # value 10 and period 30 days from the definition; Melbourne is UTC+11 in March, UTC+10 in April
    assert await r.json() == {"data": reward(
        3, BOB["omneo"], "Australia/Melbourne", 10, 10, T0, "2026-04-09 12:00:00", "2026-03-10 23:00:00",
        "2026-04-09 22:00:00", BIRTHDAY, T0)}
    assert await read_balances(client, BOB["omneo"]) == balances(10, 0, 0)
    invariants.check(tenant)


async def test_issue_reward_guide_payload_by_handle(client, tenant):
    r = await client.post(REWARDS, headers=OMNEO, json={
        "reward_definition_handle": "welcome-reward", "profile_id": ALICE["omneo"], "value_initial": 7.5,
        "value_remaining": 7.5, "issued_at": "2026-03-10 00:00:00", "expires_at": "2026-04-15 23:59:59",
        "timezone": "Australia/Melbourne", "external_id": "IMPORT-1", "meta": {"source": "import"}})
    assert r.status == 201
    # local times without offset are read in the reward's timezone and answered in UTC
    assert await r.json() == {"data": reward(
        3, ALICE["omneo"], "Australia/Melbourne", 7.5, 7.5, "2026-03-09 13:00:00", "2026-04-15 13:59:59",
        "2026-03-10 00:00:00", "2026-04-15 23:59:59", WELCOME, T0, meta={"source": "import"})}
    assert await read_balances(client, ALICE["omneo"]) == balances(17.5, 1400, 70)
    invariants.check(tenant)


async def test_reward_definition_id_wins_over_handle(client, tenant):
    r = await client.post(REWARDS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_id": 7, "reward_definition_handle": "birthday-reward",
        "timezone": "UTC"})
    assert r.status == 201
    data = (await r.json())["data"]
    assert data["definition"] == WELCOME and data["value_initial"] == 5
    assert data["expires_at"] == "2026-04-09 12:00:00" and data["expires_local_at"] == "2026-04-09 12:00:00"


async def test_reward_issued_in_the_future_is_not_active_yet(client, tenant):
    r = await client.post(REWARDS, headers=OMNEO, json={
        "profile_id": BOB["omneo"], "reward_definition_id": 6, "timezone": "UTC", "issued_at": "2026-03-11T00:00:00Z"})
    assert r.status == 201
    data = (await r.json())["data"]
    assert (data["is_active"], data["is_expired"], data["expires_at"]) == (False, False, "2026-04-10 00:00:00")
    assert await read_balances(client, BOB["omneo"]) == BOB_START
    tenant.clock.set(NOW + timedelta(hours=12))
    assert (await read_balances(client, BOB["omneo"]))["reward_balance"] == 10


async def test_reward_refusals_are_listed_per_field(client, tenant):
    await refused(client, tenant, "POST", REWARDS, 422, error({
        "profile_id": ["The selected profile id is invalid."],
        "reward_definition_id": ["The selected reward definition id is invalid."],
        "timezone": ["The timezone must be a valid timezone."]}),
        json={"profile_id": UNKNOWN, "reward_definition_id": 99, "timezone": "Mars/Olympus_Mons"})


async def test_reward_unknown_handle(client, tenant):
    await refused(client, tenant, "POST", REWARDS, 422, error({
        "reward_definition_handle": ["The selected reward definition handle is invalid."]}),
        json={"profile_id": BOB["omneo"], "reward_definition_handle": "nope", "timezone": "UTC"})


@pytest.mark.parametrize("body", [
    {"value_initial": 10, "value_remaining": 4},
    {"value_remaining": 4},          # against the definition's value (10)
])
async def test_reward_value_remaining_must_match(client, tenant, body):
    await refused(client, tenant, "POST", REWARDS, 422, error({
        "value_remaining": ["The value remaining and value initial must match."]}),
        json={"profile_id": BOB["omneo"], "reward_definition_id": 6, "timezone": "UTC", **body})


@pytest.mark.parametrize("value, message", [
    (0, "The value initial must be greater than 0."),
    (-1, "The value initial must be greater than 0."),
    ('"abc"', "The value initial must be a number."),
    ("1e30", "The value initial is too large."),
    ("0.001", "The value initial has more than 2 decimal places."),
])
async def test_reward_value_refusals(client, tenant, value, message):
    raw = '{"profile_id": "%s", "reward_definition_id": 6, "timezone": "UTC", "value_initial": %s}' % (
        BOB["omneo"], value)
    await refused(client, tenant, "POST", REWARDS, 422, error({"value_initial": [message]}), data=raw,
                  headers={**OMNEO, "Content-Type": "application/json"})


async def test_reward_missing_fields(client, tenant):
    await refused(client, tenant, "POST", REWARDS, 422, error({
        "profile_id": ["The profile id field is required."],
        "reward_definition_id": ["The reward definition id field is required when reward definition handle is "
                                 "not present."],
        "timezone": ["The timezone field is required."]}), json={})


# === POST /api/v3/profiles/{profile}/redeem ====================================================================

FULL_REDEMPTION = redemption(1, "redeem", 80, [
    item(1, "reward", 10, alice_reward(0, T0)),
    item(2, "point", 200, alice_point2(0, T0)),        # soonest-expiring point record first
    item(3, "point", 1200, alice_point3(0, T0)),
], balances(0, 0, 0))


async def test_redeem_exactly_covered_by_rewards_then_points(client, tenant):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO,
                          json={"amount": 80, "strategies": ["rewards", "points"], "strict": True})
    assert r.status == 201
    assert await r.json() == FULL_REDEMPTION
    assert await read_balances(client, ALICE["omneo"]) == balances(0, 0, 0)
    alice = tenant.member_by_id("alice")
    b = tenant.balance(alice, tenant.program(alice.program_id).default_currency)
    assert (b.available, b.pending) == (0, 400)      # pending points are not redeemable
    invariants.check(tenant)


@pytest.mark.parametrize("body", [{"amount": 100}, {"amount": 100, "strict": False},
                                  {"amount": 100, "strategies": ["rewards", "points"]}])
async def test_redeem_partial_when_not_strict(client, tenant, body):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO, json=body)
    assert r.status == 201
    assert await r.json() == FULL_REDEMPTION          # 80 of the 100 asked: all there was
    assert await read_balances(client, ALICE["omneo"]) == balances(0, 0, 0)
    invariants.check(tenant)


async def test_redeem_points_first_takes_whole_cents_of_points(client, tenant):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO,
                          json={"amount": 12.34, "strategies": ["points", "rewards"]})
    assert r.status == 201
    # 12.34 USD / 0.05 = 246.8 points: 200 from record #2, 46.8 from record #3; the reward is untouched
    assert await r.json() == redemption(1, "redeem", 12.34, [
        item(1, "point", 200, alice_point2(0, T0)),
        item(2, "point", 46.8, alice_point3(1153.2, T0)),
    ], balances(10, 1153.2, 57.66))
    assert await read_balances(client, ALICE["omneo"]) == balances(10, 1153.2, 57.66)
    invariants.check(tenant)


async def test_redeem_part_of_a_reward_with_references(client, tenant):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO, json={
        "amount": 4, "strategies": ["rewards"], "currency": "USD", "location_id": 12,
        "transaction_external_id": "ORDER-1001", "transaction_receipt_ref": "R-1001", "meta": {"channel": "pos"}})
    assert r.status == 201
    usd = {"id": 1, "from": "USD", "to": "USD", "rate": 1, "is_system": True, "created_at": CONFIG_STAMP,
           "updated_at": CONFIG_STAMP}
    bal = balances(6, 1400, 70)
    bal["currency"] = usd
    assert await r.json() == redemption(1, "redeem", 4, [item(1, "reward", 4, alice_reward(6, T0))], bal,
                                        meta={"channel": "pos"}, location_id=12, external="ORDER-1001",
                                        receipt="R-1001", currency=usd)
    assert await read_balances(client, ALICE["omneo"]) == balances(6, 1400, 70)


async def test_redemptions_alias_path(client, tenant):
    r = await client.post(REDEEM_ALIAS.format(ALICE["omneo"]), headers=OMNEO,
                          json={"amount": 80, "strategies": ["rewards", "points"]})
    assert r.status == 201
    assert await r.json() == FULL_REDEMPTION
    assert await read_balances(client, ALICE["omneo"]) == balances(0, 0, 0)


async def test_redeem_strict_refuses_an_uncovered_amount(client, tenant):
    await refused(client, tenant, "POST", REDEEM.format(ALICE["omneo"]), 422, error(
        {"amount": ["The amount exceeds the available balance."]}),
        json={"amount": 80.01, "strategies": ["rewards", "points"], "strict": True})
    assert await read_balances(client, ALICE["omneo"]) == ALICE_START


@pytest.mark.parametrize("path", [REDEEM, REDEEM_ALIAS])
@pytest.mark.parametrize("strict", [True, False])
async def test_redeem_with_nothing_available(client, tenant, path, strict):
    await refused(client, tenant, "POST", path.format(BOB["omneo"]), 422, error(
        {"amount": ["The amount exceeds the available balance."]}), json={"amount": 5, "strict": strict})


@pytest.mark.parametrize("strategies", [["credits"], ["benefits", "credits"]])
async def test_redeem_from_credits_or_benefits_alice_does_not_hold_finds_nothing(client, tenant, strategies):
    await refused(client, tenant, "POST", REDEEM.format(ALICE["omneo"]), 422, error(
        {"amount": ["The amount exceeds the available balance."]}), json={"amount": 5, "strategies": strategies})


@pytest.mark.parametrize("path", [REDEEM, REDEEM_ALIAS])
async def test_redeem_unknown_profile(client, tenant, path):
    await refused(client, tenant, "POST", path.format(UNKNOWN), 404,
                  {"message": f"No query results for model [App\\Models\\Profile] {UNKNOWN}"}, json={"amount": 5})


async def test_redeem_malformed_profile_id(client, tenant):
    await refused(client, tenant, "POST", REDEEM.format("user-123"), 404,
                  {"message": "No query results for model [App\\Models\\Profile] user-123"}, json={"amount": 5})


@pytest.mark.parametrize("value, message", [
    ("0", "The amount must be greater than 0."),
    ("-1", "The amount must be greater than 0."),
    ('"abc"', "The amount must be a number."),
    ("null", "The amount field is required."),
    ("1e30", "The amount is too large."),
    ("0.001", "The amount has more than 2 decimal places."),
])
async def test_redeem_amount_refusals(client, tenant, value, message):
    await refused(client, tenant, "POST", REDEEM.format(ALICE["omneo"]), 422, error({"amount": [message]}),
                  data='{"amount": %s}' % value, headers={**OMNEO, "Content-Type": "application/json"})


@pytest.mark.parametrize("body, errors", [
    ({}, {"amount": ["The amount field is required."]}),
    ({"amount": 5, "strategies": ["cash"]}, {"strategies.0": ["The selected strategies.0 is invalid."]}),
    ({"amount": 5, "strategies": ["points", "points"]}, {"strategies": ["The strategies field has a duplicate value."]}),
    ({"amount": 5, "strategies": []}, {"strategies": ["The strategies must have at least 1 items."]}),
    ({"amount": 5, "strict": "yes"}, {"strict": ["The strict field must be true or false."]}),
    ({"strict": "yes"}, {"amount": ["The amount field is required."],
                         "strict": ["The strict field must be true or false."]}),
    ({"amount": 5, "currency": "XYZ"}, {"currency": ["The selected currency is invalid."]}),
    ({"amount": 5, "currency": "usd"}, {"currency": ["The selected currency is invalid."]}),
    ({"amount": 5, "benefits": [{"id": 1}]}, {"benefits.0.id": ["The selected benefits.0.id is invalid."]}),
    ({"amount": 5, "benefits": [{"id": 1}, {"id": 2, "quantity": 2}]},
     {"benefits.0.id": ["The selected benefits.0.id is invalid."],
      "benefits.1.id": ["The selected benefits.1.id is invalid."]}),
    ({"amount": 5, "benefits": [{"handle": "coffee"}]}, {"benefits.0.id": ["The benefits.0.id field is required."]}),
    ({"amount": 5, "strategy": "cash"}, {"strategy": ["The strategy is invalid."]}),
    ({"amount": 5, "strategy": ["rewards", "cash"]}, {"strategy": ["The strategy is invalid."]}),
    ({"amount": 0.001, "currency": "EUR"}, {"amount": ["The amount has more than 2 decimal places."]}),
])
async def test_redeem_validation(client, tenant, body, errors):
    await refused(client, tenant, "POST", REDEEM.format(ALICE["omneo"]), 422, error(errors), json=body)


@pytest.mark.parametrize("raw", [b"{\"amount\": 5", b"amount=5", b""])
async def test_redeem_malformed_json_reads_as_empty_body(client, tenant, raw):
    await refused(client, tenant, "POST", REDEEM.format(ALICE["omneo"]), 422,
                  error({"amount": ["The amount field is required."]}),
                  data=raw, headers={**OMNEO, "Content-Type": "application/json"})


# === POST /api/v3/redemptions/{redemption}/reversal ==============================================================

async def redeem_all(client):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO, json={"amount": 80})
    assert r.status == 201
    return (await r.json())["data"]["id"]


async def test_reversal_restores_everything(client, tenant):
    alice = tenant.member_by_id("alice")
    currency = tenant.program(alice.program_id).default_currency
    before = tenant.balance(alice, currency)
    rid = await redeem_all(client)
    r = await client.post(REVERSAL.format(rid), headers=OMNEO)
    assert r.status == 201
    assert await r.json() == redemption(2, "reversal", 80, [
        item(4, "reward", 10, alice_reward(10, T0)),
        item(5, "point", 200, alice_point2(200, T0)),
        item(6, "point", 1200, alice_point3(1200, T0)),
    ], ALICE_START)
    assert await read_balances(client, ALICE["omneo"]) == ALICE_START
    after = tenant.balance(alice, currency)
    assert (after.available, after.pending, after.next_expiring_amount, after.next_expiring_at) == \
        (before.available, before.pending, before.next_expiring_amount, before.next_expiring_at)
    invariants.check(tenant)


async def test_reversal_keeps_meta_and_transaction_references(client, tenant):
    r = await client.post(REDEEM.format(ALICE["omneo"]), headers=OMNEO, json={
        "amount": 4, "strategies": ["rewards"], "transaction_external_id": "ORDER-9", "location_id": 3})
    rid = (await r.json())["data"]["id"]
    r = await client.post(REVERSAL.format(rid), headers=OMNEO, json={"meta": {"reason": "void"}})
    assert r.status == 201
    data = (await r.json())["data"]
    assert (data["type"], data["total"], data["meta"], data["transaction_external_id"], data["location_id"]) == \
        ("reversal", 4, {"reason": "void"}, "ORDER-9", 3)
    assert data["items"] == [item(2, "reward", 4, alice_reward(10, T0))]
    assert await read_balances(client, ALICE["omneo"]) == ALICE_START


async def test_reversal_twice(client, tenant):
    rid = await redeem_all(client)
    assert (await client.post(REVERSAL.format(rid), headers=OMNEO)).status == 201
    await refused(client, tenant, "POST", REVERSAL.format(rid), 422,
                  error({"redemption": ["The redemption has already been reversed."]}))
    assert await read_balances(client, ALICE["omneo"]) == ALICE_START


async def test_a_reversal_cannot_be_reversed(client, tenant):
    rid = await redeem_all(client)
    rev = (await (await client.post(REVERSAL.format(rid), headers=OMNEO)).json())["data"]["id"]
    await refused(client, tenant, "POST", REVERSAL.format(rev), 422,
                  error({"redemption": ["Only redemptions of type redeem can be reversed."]}))


async def test_reversal_window_is_ten_minutes(client, tenant):
    rid = await redeem_all(client)
    tenant.clock.set(NOW + timedelta(minutes=11))
    await refused(client, tenant, "POST", REVERSAL.format(rid), 422,
                  error({"redemption": ["The redemption can only be reversed within 10 minutes."]}))
    assert await read_balances(client, ALICE["omneo"]) == balances(0, 0, 0)


async def test_reversal_at_the_edge_of_the_window(client, tenant):
    rid = await redeem_all(client)
    tenant.clock.set(NOW + timedelta(minutes=10))
    r = await client.post(REVERSAL.format(rid), headers=OMNEO)
    assert r.status == 201
    data = (await r.json())["data"]
    assert data["created_at"] == "2026-03-10 12:10:00" and data["balances"] == ALICE_START
    assert data["items"][0]["type_attributes"]["updated_at"] == "2026-03-10 12:10:00"


@pytest.mark.parametrize("rid", ["999", "abc", "0", "-1", "1.5"])
async def test_reversal_of_unknown_redemption(client, tenant, rid):
    await refused(client, tenant, "POST", REVERSAL.format(rid), 404,
                  {"message": f"No query results for model [App\\Models\\Redemption] {rid}"})


# === every write: credentials first ================================================================================

WRITES = [(POINTS, {"profile_id": BOB["omneo"], "point_definition_id": 1, "value_initial": 5, "issued_at": None}),
          (REWARDS, {"profile_id": BOB["omneo"], "reward_definition_id": 6, "timezone": "UTC"}),
          (REDEEM.format(ALICE["omneo"]), {"amount": 5}),
          (REDEEM_ALIAS.format(ALICE["omneo"]), {"amount": 5}),
          (REVERSAL.format(1), None)]


@pytest.mark.parametrize("path, body", WRITES)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"},
                                     {"Authorization": "Basic demo-omneo-token"}])
async def test_wrong_token(client, tenant, path, body, headers):
    if path.endswith("/reversal"):
        await redeem_all(client)
    await refused(client, tenant, "POST", path, 401, {"message": "Unauthenticated."}, headers=headers, json=body)


@pytest.mark.parametrize("case, status, body", [
    ("rate_limit", 429, {"message": "Too Many Attempts."}),
    ("server_error", 500, {"message": "Server Error."}),
    ("unavailable", 503, {"message": "Service Unavailable"}),
])
@pytest.mark.parametrize("path, body_in, operation", [
    (POINTS, WRITES[0][1], "create_point"), (REWARDS, WRITES[1][1], "create_reward"),
    (REDEEM.format(ALICE["omneo"]), {"amount": 5}, "redeem")])
async def test_faults_change_nothing(client, tenant, case, status, body, path, body_in, operation):
    client.app[GATEWAY].faults.arm(tenant="demo", vendor="omneo", operation=operation, kind="error",
                                   case=case, times=1)
    await refused(client, tenant, "POST", path, status, body, json=body_in)
    assert (await client.post(path, headers=OMNEO, json=body_in)).status == 201


# === admin view ======================================================================================================

async def test_admin_member_view_is_the_balances_answer(client, tenant):
    r = await client.get("/__admin/tenants/demo/members/alice")
    assert r.status == 200
    assert (await r.json())["views"]["omneo"] == await read_balances(client, ALICE["omneo"]) == ALICE_START
    await client.post(POINTS, headers=OMNEO, json={"profile_id": ALICE["omneo"], "point_definition_id": 1,
                                                   "value_initial": 20, "issued_at": None})
    r = await client.get("/__admin/tenants/demo/members/alice")
    assert (await r.json())["views"]["omneo"] == balances(10, 1420, 71)
    assert tenant.member_by_id("alice") is not None


# === operations not served ===========================================================================================

def test_not_implemented_reply_is_laravel_shaped():
    # every Omneo operation of the spec is served now; an operation added to the spec before its handler
    # answers 501 in Laravel's shape
    from gateway import specs
    from gateway.vendors.omneo import VENDOR
    reply = VENDOR.not_implemented(specs.get("omneo").operations["create_point"])
    assert (reply.status, reply.body) == (501, {"message": "create_point is not served by this gateway yet."})
