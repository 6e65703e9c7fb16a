"""The engine's payment rules on their own (issue 8): grants, purchases (burn + earn as one operation,
linked by typed fields), refunds (refundability, refunded money, the remainder), redemption reversal
reasons, the reward predicates, and that the typed Payment record survives a snapshot."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.engine import errors as E
from gateway.engine.model import Reward
from gateway.engine.payments import MANUAL, payment
from gateway.store import serial
from gateway.store.memory import MemoryTenantStore

from helpers import NOW

D = Decimal
CUSTOMER = "gameball.customer"


# --- grants ------------------------------------------------------------------------------------------------

def test_a_grant_is_available_from_now_without_a_return_window(t, alice, pts):
    e = t.grant(alice, pts, 50, earned_at=NOW - timedelta(days=30))
    lot = t.store.lot(e.lots[0][0])
    assert (lot.earned_at, lot.available_at) == (NOW - timedelta(days=30), NOW)
    assert t.balance(alice, pts).available == D(1450)


def test_a_grant_available_later_is_pending_until_then(t, alice, pts):
    e = t.grant(alice, pts, 50, available_at=NOW + timedelta(days=2))
    assert t.store.lot(e.lots[0][0]).available_at == NOW + timedelta(days=2)
    assert (t.balance(alice, pts).available, t.balance(alice, pts).pending) == (D(1400), D(450))


def test_a_temporary_grant_is_pending_until_committed(t, alice, pts):
    e = t.grant(alice, pts, 70, temporary=True, timeout_sec=60)
    assert (e.status, e.deadline) == ("temporary", NOW + timedelta(seconds=60))
    assert t.balance(alice, pts).pending == D(470)
    t.commit(e.id)
    assert t.balance(alice, pts).available == D(1470)


# --- purchases ----------------------------------------------------------------------------------------------

def test_a_purchase_burns_the_hold_and_earns_linked(t, alice, pts):
    h = t.hold(alice, pts, 200)
    p = t.purchase(t.only_program(), (CUSTOMER, "user-123"), "90", hold_id=h.id, pending_days=0,
                   key=("test.tx", "O1"), fingerprint="f")
    assert (p.earned.amount, p.earned.money, p.burned.amount) == (D(90), D(90), D(200))
    assert payment(t.store, p.earned.id).paid_with == (p.burned.id,) and p.burned.hold_id == h.id
    assert t.get_hold(h.id).state == "used"
    assert t.lookup(("test.tx", "O1"), "f") == p.earned.id
    assert t.purchase_of(p.earned.id) == p
    assert t.balance(alice, pts).available == D(1400 - 200 + 90)


def test_a_purchase_by_a_new_member_joins_it(t):
    p = t.purchase(t.only_program(), (CUSTOMER, "walk-in"), "12.99", attributes={"email": "w@example.com"})
    member = t.member(CUSTOMER, "walk-in")
    assert p.earned.member_id == member.id and member.attributes["email"] == "w@example.com"
    assert (p.earned.amount, p.burned) == (D(12), None)


def test_a_purchase_that_fails_leaves_nothing(t, alice, pts):
    h = t.hold(alice, pts, 100)
    before = t.store.export()
    with pytest.raises(E.HoldNotFound):       # someone else's hold: no member joins, nothing is burned
        t.purchase(t.only_program(), (CUSTOMER, "walk-in"), "10", hold_id=h.id)
    with pytest.raises(E.InvalidAmount):      # a bad amount after the burn undoes the burn
        t.purchase(t.only_program(), (CUSTOMER, "user-123"), "-1", hold_id=h.id)
    assert t.store.export() == before
    assert t.store.find_member(CUSTOMER, "walk-in") is None


def test_a_purchase_paid_with_points_only_is_on_record(t, alice, pts):
    h = t.hold(alice, pts, 100)
    p = t.purchase(t.only_program(), (CUSTOMER, "user-123"), 0, hold_id=h.id)
    assert (p.earned.kind, p.earned.amount, p.earned.money) == ("credit", D(0), D(0))
    assert t.purchase_of(p.earned.id).burned == p.burned



@pytest.mark.parametrize("money", [None, "5", "0"], ids=["no amount", "an amount", "zero"])
def test_a_purchase_paid_with_points_only_refunds_all_its_points_once(t, alice, pts, money):
    """No money was paid: any refund gives the burned points back whole (it used to be refused, or to give back
    nothing and be repeatable forever)."""
    h = t.hold(alice, pts, 100)
    p = t.purchase(t.only_program(), (CUSTOMER, "user-123"), 0, hold_id=h.id)
    assert t.balance(alice, pts).available == D(1300)
    t.refund(p.earned.id, money)
    assert t.balance(alice, pts).available == D(1400)
    with pytest.raises(E.AlreadyCancelled):
        t.refund(p.earned.id, money)
    assert t.balance(alice, pts).available == D(1400)


# --- refunds --------------------------------------------------------------------------------------------------

def test_refund_tracks_refunded_money_and_gives_back_the_burn_in_proportion(t, alice, pts):
    h = t.hold(alice, pts, 200)
    p = t.purchase(t.only_program(), (CUSTOMER, "user-123"), "100", hold_id=h.id, pending_days=0)
    r = t.refund(p.earned.id, "25")
    assert (r.amount, r.money) == (D(25), D(25))
    earned, burned = t.entry(p.earned.id), t.entry(p.burned.id)
    assert (payment(t.store, earned.id).refunded_money, earned.reversed_amount, burned.reversed_amount) == \
        (D(25), D(25), D(50))
    r2 = t.refund(p.earned.id)                 # no amount: all the money not refunded yet
    assert (r2.amount, r2.money) == (D(75), D(75))
    assert (t.entry(p.earned.id).status, t.entry(p.burned.id).status) == ("cancelled", "cancelled")
    assert t.balance(alice, pts).available == D(1400)
    with pytest.raises(E.AlreadyCancelled):
        t.refund(p.earned.id)


def test_refund_of_the_original_amount_is_the_rest(t, alice, pts):
    e = t.earn(alice, pts, 100, pending_days=0)
    t.refund(e.id, 40)
    r = t.refund(e.id, 100)                    # the original amount: everything left, not "more than remains"
    assert (r.amount, r.money, payment(t.store, e.id).refunded_money) == (D(60), D(60), D(100))


def test_refund_of_a_transaction_of_another_member_is_not_found(t, alice, pts):
    e = t.earn(alice, pts, 10, pending_days=0)
    with pytest.raises(E.TransactionNotFound):
        t.refund(e.id, member=t.member(CUSTOMER, "user-456"))


@pytest.mark.parametrize("make", ["manual credit", "manual debit", "a refund"])
def test_not_refundable(t, alice, pts, make):
    if make == "manual credit":
        e = t.grant(alice, pts, 50, origin=MANUAL)
    elif make == "manual debit":
        e = t.debit(alice, pts, 50, origin=MANUAL)
    else:
        e = t.refund(t.earn(alice, pts, 10, pending_days=0).id, 5)
    before = t.store.export()
    with pytest.raises(E.NotRefundable) as info:
        t.refund(e.id)
    assert info.value.code == "not_refundable" and isinstance(info.value, E.InvalidState)
    assert t.store.export() == before


# --- redemption reversals: the reason is in the error ----------------------------------------------------------

def test_reversal_refusals_carry_their_reason(t, alice, pts):
    red = t.redeem_value(alice, "20", ["points"])
    rev = t.reverse_redemption(red.id)
    with pytest.raises(E.AlreadyReversed) as info:
        t.reverse_redemption(red.id)
    assert info.value.code == "already_reversed"
    with pytest.raises(E.NotReversible) as info:
        t.reverse_redemption(rev.id)
    assert info.value.code == "not_reversible"

    late = t.redeem_value(alice, "20", ["points"])
    t.clock.set(NOW + timedelta(minutes=11))
    with pytest.raises(E.ReversalWindowClosed) as info:
        t.reverse_redemption(late.id)
    assert (info.value.code, info.value.detail["minutes"]) == ("reversal_window_closed", 10)


def test_reversal_of_points_cancelled_meanwhile_says_so_inside_the_window(t, alice, pts):
    red = t.redeem_value(alice, "20", ["points"])
    t.cancel(red.items[0][1])
    before = t.store.export()
    with pytest.raises(E.EntryCancelled) as info:
        t.reverse_redemption(red.id)
    assert (info.value.code, info.value.detail["transaction"]) == ("entry_cancelled", red.items[0][1])
    assert t.store.export() == before


# --- rewards: the predicates every dialect reads -----------------------------------------------------------------

@pytest.mark.parametrize("remaining,issued,expires,open_,expired,active", [
    ("5", -1, 1, True, False, True),
    ("0", -1, 1, False, False, False),         # used up: not open, not active
    ("5", -2, -1, True, True, False),          # expired: still open (Omneo's is_active), not spendable
    ("5", 1, 2, False, False, False),          # not issued yet
    ("5", -1, None, True, False, True),        # never expires
])
def test_reward_predicates(remaining, issued, expires, open_, expired, active):
    r = Reward(id=1, member_id="m", definition_id=1, value_initial=D(5), value_remaining=D(remaining),
               issued_at=NOW + timedelta(days=issued),
               expires_at=None if expires is None else NOW + timedelta(days=expires))
    assert (r.is_open(NOW), r.is_expired(NOW), r.is_active(NOW)) == (open_, expired, active)


# --- snapshots ---------------------------------------------------------------------------------------------------

def test_the_payment_record_survives_a_snapshot(t, alice, pts):
    h = t.hold(alice, pts, 100)
    p = t.purchase(t.only_program(), (CUSTOMER, "user-123"), "50", hold_id=h.id, pending_days=0)
    t.refund(p.earned.id, "10")
    record = payment(t.store, p.earned.id)
    assert (record.refunded_money, record.paid_with) == (D(10), (p.burned.id,))
    assert serial.load(serial.dump(record)) == record
    restored = MemoryTenantStore.restore(t.store.export())
    assert payment(restored, p.earned.id) == record
    assert restored.export() == t.store.export()
