"""The balance engine on its own: lots, pending window, expiry, holds, two-phase entries,
reversals, idempotency, drafts, redemptions, tiers, the clock. Invariants after each test."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.engine import errors as E
from gateway.engine.amounts import check_points, round_amount
from gateway.engine.clock import Clock

from helpers import NOW

D = Decimal


def test_demo_figures(t, alice, pts):
    b = t.balance(alice, pts)
    assert (b.available, b.pending, b.total, b.held) == (D(1400), D(400), D(1800), D(0))
    assert b.lifetime_earned == D(2400)
    assert b.next_expiring_amount == D(200) and b.next_expiring_at == NOW + timedelta(days=45)
    assert b.value(b.available) == D("70.00")
    assert t.reward_balance(alice) == D(10)
    totals = t.store.totals(alice.id, pts.id)
    assert (totals.earned, totals.spent, totals.expired, totals.cancelled) == (D(2400), D(100), D(500), D(0))


def test_pending_window_then_available(t, alice, pts):
    t.clock.advance(timedelta(days=9))
    b = t.balance(alice, pts)
    assert (b.available, b.pending) == (D(1800), D(0))


def test_lot_expires_at_its_instant(t, alice, pts):
    t.clock.set(NOW + timedelta(days=45) - timedelta(seconds=1))
    assert t.balance(alice, pts).available == D(1800)      # the 400 pending became available on day 9
    t.clock.set(NOW + timedelta(days=45))
    b = t.balance(alice, pts)
    assert b.available == D(1600)
    assert b.next_expiring_at == NOW + timedelta(days=265)
    assert t.store.totals(alice.id, pts.id).expired == D(700)
    assert [e.kind for e in t.entries(alice, pts)][-1] == "expire"


def test_debit_consumes_soonest_expiring_first(t, alice, pts):
    e = t.debit(alice, pts, 250)
    lots = {l.expires_at: l.remaining for l in t.lots(alice, pts)}
    assert lots == {NOW + timedelta(days=265): D(1150)}   # the 200-point lot went first, then 50 from the next
    assert [amt for _, amt in e.lots] == [D(200), D(50)]


def test_debit_refuses_pending_points_and_changes_nothing(t, alice, pts):
    with pytest.raises(E.InsufficientPoints):
        t.debit(alice, pts, 1401)
    assert t.balance(alice, pts).available == D(1400)
    assert [e.kind for e in t.entries(alice, pts)] == ["credit", "credit", "credit", "expire", "debit", "credit"]


@pytest.mark.parametrize("amount", [0, -5, "abc", "NaN", "Infinity", "1e30", "0.001", True, None])
def test_bad_amounts_refused(t, alice, pts, amount):
    with pytest.raises(E.InvalidAmount):
        t.credit(alice, pts, amount)
    with pytest.raises(E.InvalidAmount):
        t.debit(alice, pts, amount)
    assert t.balance(alice, pts).available == D(1400)


def test_rounding_modes():
    assert round_amount(D("10.5"), "lower", 0) == D(10)
    assert round_amount(D("10.1"), "upper", 0) == D(11)
    assert round_amount(D("10.5"), "natural", 0) == D(11)
    assert round_amount(D("10.49"), "natural", 0) == D(10)
    assert round_amount(D("10.49"), None, 0) == D("10.49")


def test_precision_kept_or_refused(t, pts):
    assert check_points(pts, "100.50") == D("100.50")
    assert check_points(pts, "100.500") == D("100.50")
    with pytest.raises(E.InvalidAmount):
        check_points(pts, "100.505")


def test_hold_reduces_available_until_released_or_expired(t, alice, pts):
    h = t.hold(alice, pts, 300)
    assert t.balance(alice, pts).available == D(1100)
    with pytest.raises(E.InsufficientPoints):   # a concurrent hold took them first
        t.hold(alice, pts, 1200)
    t.release_hold(h.id)
    assert t.balance(alice, pts).available == D(1400)
    with pytest.raises(E.HoldNotFound):
        t.release_hold(h.id)
    h2 = t.hold(alice, pts, 100, minutes=10)
    t.clock.advance(timedelta(minutes=10))
    assert t.get_hold(h2.id).state == "expired"
    assert t.balance(alice, pts).available == D(1400)
    with pytest.raises(E.HoldNotFound):
        t.redeem_hold(h2.id)


def test_hold_is_used_once(t, alice, pts):
    h = t.hold(alice, pts, 100)
    e = t.redeem_hold(h.id)
    assert e.amount == D(100) and t.get_hold(h.id).state == "used" and t.get_hold(h.id).used_by == e.id
    assert t.balance(alice, pts).available == D(1300)
    with pytest.raises(E.HoldNotFound):
        t.redeem_hold(h.id)
    assert t.balance(alice, pts).available == D(1300)


def test_temporary_debit_reserves_then_times_out(t, alice, pts):
    e = t.temporary(alice, pts, "debit", 400, timeout_sec=60)
    assert t.balance(alice, pts).available == D(1000)
    t.clock.advance(timedelta(seconds=60))
    assert t.balance(alice, pts).available == D(1400)
    assert t.entry(e.id).status == "rolled_back"
    with pytest.raises(E.InvalidState):
        t.commit(e.id)


def test_temporary_credit_pending_until_commit(t, alice, pts):
    e = t.temporary(alice, pts, "credit", 70, available_at=NOW)
    b = t.balance(alice, pts)
    assert (b.available, b.pending) == (D(1400), D(470))
    t.commit(e.id)
    b = t.balance(alice, pts)
    assert (b.available, b.pending, b.lifetime_earned) == (D(1470), D(400), D(2470))
    with pytest.raises(E.InvalidState):
        t.commit(e.id)
    with pytest.raises(E.InvalidState):
        t.rollback(e.id)


def test_commit_after_rollback_and_double_cancel(t, alice, pts):
    e = t.temporary(alice, pts, "debit", 10)
    t.rollback(e.id)
    with pytest.raises(E.InvalidState):
        t.commit(e.id)
    c = t.debit(alice, pts, 10)
    t.cancel(c.id)
    with pytest.raises(E.AlreadyCancelled):
        t.cancel(c.id)
    assert t.balance(alice, pts).available == D(1400)


def test_cancel_debit_restores_lots_with_their_expiry(t, alice, pts):
    e = t.debit(alice, pts, 250)
    t.cancel(e.id)
    lots = {l.expires_at: l.remaining for l in t.lots(alice, pts)}
    assert lots == {NOW + timedelta(days=45): D(200), NOW + timedelta(days=265): D(1200)}


def test_cancel_credit_takes_back_what_remains(t, alice, pts):
    e = t.credit(alice, pts, 100, pending_days=0)
    t.debit(alice, pts, 1450)        # spends everything, including 50 of the new lot (expires last)
    with pytest.raises(E.InsufficientPoints):
        t.cancel(e.id)               # only 50 of it remain: the balance never goes negative
    assert t.balance(alice, pts).available == D(50)


def test_refund_proportional_and_full(t, alice, pts):
    e = t.earn(alice, pts, "250.75", pending_days=0)
    assert e.amount == D(250)
    r = t.refund(e.id, "100")
    assert r.amount == D(99)         # 250 x 100 / 250.75, whole points rounded down
    r2 = t.refund(e.id, "150.75")    # the rest: everything left of the credit
    assert r2.amount == D(151)
    with pytest.raises(E.AlreadyCancelled):
        t.refund(e.id, "1")
    assert t.balance(alice, pts).available == D(1400)


def test_refund_more_than_remains_refused(t, alice, pts):
    e = t.earn(alice, pts, 100, pending_days=0)
    with pytest.raises(E.LimitExceeded):
        t.refund(e.id, "100.01")
    assert t.balance(alice, pts).available == D(1500)


def test_business_key_replay_and_conflict(t, alice, pts):
    key = ("test.tx", "T1")
    e = t.credit(alice, pts, 10, key=key, fingerprint="a")
    assert t.lookup(key, "a") == e.id
    with pytest.raises(E.DuplicateKey):
        t.lookup(key, "b")
    with pytest.raises(E.DuplicateKey):
        t.credit(alice, pts, 10, key=key, fingerprint="a")
    assert t.balance(alice, pts).total == D(1810)


def test_failed_operation_leaves_no_trace(t, alice, pts):
    before = (t.store.totals(alice.id, pts.id), len(t.entries(alice)))
    h = t.hold(alice, pts, 1400)
    with pytest.raises(E.InsufficientPoints):
        t.debit(alice, pts, 1)
    t.release_hold(h.id)
    assert t.store.totals(alice.id, pts.id) == before[0]
    assert len(t.entries(alice)) == before[1]


def test_draft_changes_nothing_until_completed(t, alice, pts):
    d = t.create_draft(alice, pts, "credit", 50)
    assert d.status == "draft" and t.balance(alice, pts).available == D(1400)
    d = t.complete_draft(d.id)
    assert d.status == "completed" and d.balance_after == D(1450)
    with pytest.raises(E.InvalidState):
        t.cancel_draft(d.id)
    big = t.create_draft(alice, pts, "debit", 5000, auto_complete=True)
    assert big.status == "rejected" and big.reject_reason
    ttl = t.create_draft(alice, pts, "credit", 5, ttl_sec=10)
    t.clock.advance(timedelta(seconds=10))
    assert t.draft(ttl.id).status == "expired"
    with pytest.raises(E.InvalidState):
        t.complete_draft(ttl.id)


def test_redeem_value_rewards_then_points_and_reverse(t, alice, pts):
    r = t.redeem_value(alice, "25", ["rewards", "points"])
    assert r.total == D(25)
    assert [(i[0], i[2], i[3]) for i in r.items] == [("reward", D(10), D(10)), ("point", D(15), D(300))]
    assert t.reward_balance(alice) == 0 and t.balance(alice, pts).available == D(1100)
    t.reverse_redemption(r.id)
    assert t.reward_balance(alice) == D(10) and t.balance(alice, pts).available == D(1400)
    with pytest.raises(E.InvalidState):
        t.reverse_redemption(r.id)


def test_redeem_value_strict_and_partial(t, bob, alice):
    with pytest.raises(E.InsufficientPoints):
        t.redeem_value(bob, "5", ["points"])
    with pytest.raises(E.InsufficientPoints):
        t.redeem_value(alice, "1000", ["rewards", "points"], strict=True)
    r = t.redeem_value(alice, "1000", ["rewards", "points"])
    assert r.total == D(80)


def test_reversal_window(t, alice):
    r = t.redeem_value(alice, "5", ["rewards"])
    t.clock.advance(timedelta(minutes=11))
    with pytest.raises(E.InvalidState):
        t.reverse_redemption(r.id)


def test_tiers(t, alice, bob):
    p = t.tier_progress(alice)
    assert (p.current.handle, p.next.handle, p.prev.handle) == ("silver", "gold", "bronze")
    assert (p.points_window, p.next_remain) == (D(1900), D(3100))
    # attained at -114d, when the 365-day window then (500@-420d, 300@-334d, 1200@-114d = 2000) first reached 1000:
    # credit 2000 - 1000; 400 earned since; nothing left to maintain it (1000 - 400 - 1000 < 0)
    assert p.achieved_at == NOW - timedelta(days=114)
    assert (p.current_credit, p.current_progress, p.current_remain) == (D(1000), D(400), D(0))
    assert p.next_progress_change_at == NOW - timedelta(days=334) + timedelta(days=365)
    q = t.tier_progress(bob)
    assert (q.current.handle, q.is_floor, q.prev, q.next_remain) == ("bronze", True, None, D(1000))


def test_tier_is_kept_on_the_anniversary_then_dropped_a_year_later(t, alice):
    """Points leaving the window do not move a member down: the anniversary does. Silver's anniversary is +251d
    (achieved -114d): 400 points since plus the credit of 1000 maintain it; a year later, with nothing earned in
    that cycle and nothing in the window, alice drops to the floor."""
    t.clock.advance(timedelta(days=250))     # the -334d credit has left the 365-day window
    p = t.tier_progress(alice)
    assert (p.current.handle, p.points_window, p.maintained_at) == ("silver", D(1600), None)
    t.clock.advance(timedelta(days=2))       # past the anniversary: maintained, though only 400 are in the window
    p = t.tier_progress(alice)
    assert p.points_window == D(400)
    anniversary = (NOW - timedelta(days=114) + timedelta(days=365)).replace(hour=23, minute=59, second=59)
    assert (p.current.handle, p.maintained_at, p.current_credit) == ("silver", anniversary, D(0))
    assert p.anniversary_at == anniversary + timedelta(days=365)
    assert (p.current_progress, p.since_achieved) == (D(0), D(400))    # the new cycle vs since achieved
    t.clock.advance(timedelta(days=365))     # the next anniversary: 0 points in the cycle
    p = t.tier_progress(alice)
    assert (p.current.handle, p.achieved_at) == ("bronze", anniversary + timedelta(days=365))


def test_clock_cannot_go_back_past_history(t, alice, pts):
    t.debit(alice, pts, 1)
    with pytest.raises(E.InvalidTime):
        t.set_clock(NOW - timedelta(days=1))
    t.set_clock(NOW + timedelta(days=1))
    assert t.now() == NOW + timedelta(days=1)


def test_clock_frozen_and_running():
    c = Clock(NOW, frozen=True)
    assert c.now() == NOW and c.frozen
    c.advance(timedelta(hours=1))
    assert c.now() == NOW + timedelta(hours=1)
    c.freeze(False)
    assert not c.frozen and c.now() >= NOW + timedelta(hours=1)


def test_member_lookup_and_inactive(t, alice):
    t.set_active(alice, False)
    with pytest.raises(E.MemberInactive):
        t.member("gameball.customer", "user-123")
    assert t.member("gameball.customer", "user-123", active=False).id == alice.id
    with pytest.raises(E.MemberNotFound):
        t.member("gameball.customer", "nobody")


def test_credit_that_would_expire_before_it_is_available_is_refused(t, alice, pts):
    with pytest.raises(E.InvalidTime):
        t.credit(alice, pts, 10, available_at=NOW + timedelta(days=2), expires_at=NOW + timedelta(days=1))
    with pytest.raises(E.InvalidTime):
        t.credit(alice, pts, 10, expires_at=NOW - timedelta(days=1))
    assert t.balance(alice, pts).total == D(1800)


def test_reward_value_from_definition_and_checked(t, bob):
    r = t.issue_reward(bob, 6)                       # birthday-reward: 10, 30 days
    assert (r.value_initial, r.expires_at) == (D(10), NOW + timedelta(days=30))
    with pytest.raises(E.InvalidAmount):
        t.issue_reward(bob, 6, "0.001")
    with pytest.raises(E.DefinitionNotFound):
        t.issue_reward(bob, 99, 5)
    assert t.reward_balance(bob) == D(10)
