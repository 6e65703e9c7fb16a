"""The engine's drafts, orders, balance records and transaction history on their own (no dialect): typed
records in the store, their operations, the history query, and snapshots of them. Invariants after each test."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.engine import errors as E
from gateway.engine.model import BalanceRecord, Draft, Order
from gateway.store.memory import MemoryTenantStore

from helpers import NOW

D = Decimal


def kept(t) -> dict:
    snapshot = t.store.export()
    return {k: snapshot[k] for k in ("records", "entries")}


# --- drafts -------------------------------------------------------------------------------------------

def test_draft_keeps_the_sign_it_was_given_and_its_place_among_entries(t, alice, pts):
    entries = t.store.seq_value("entry")
    debit = t.create_draft(alice, pts, "debit", 20)
    odd = t.create_draft(alice, pts, "credit", 30, negative=True)
    credit = t.create_draft(alice, pts, "credit", 10)
    assert [(d.negative, d.signed_amount) for d in (debit, odd, credit)] == [
        (True, D(-20)), (True, D(-30)), (False, D(10))]
    assert {d.entry_mark for d in (debit, odd, credit)} == {entries}
    assert Draft(id="x", member_id="m", currency_id="c", direction="debit", amount=D(5),
                 created_at=NOW).signed_amount == D(-5)     # a draft without a recorded sign: as its direction says
    assert t.store.drafts(alice.id, pts.id) == [debit, odd, credit]
    assert t.store.drafts(alice.id, "other") == []


def test_completed_credit_keeps_the_expiry_of_its_points(t, alice, pts):
    d = t.create_draft(alice, pts, "credit", 10, auto_complete=True, lot_minutes=30)
    assert d.status == "completed" and d.lot_expires_at == NOW + timedelta(minutes=30)
    assert d.lot_expires_at == t.store.lot(t.entry(d.entry_id).lots[0][0]).expires_at
    assert t.create_draft(alice, pts, "debit", 10, auto_complete=True).lot_expires_at is None


def test_lot_minutes_apply_only_to_a_draft_completed_at_once(t, alice, pts):
    d = t.create_draft(alice, pts, "credit", 10, lot_minutes=30)
    assert d.lot_expires_in_minutes is None
    assert t.complete_draft(d.id).lot_expires_at == NOW + timedelta(days=365)


def test_a_draft_of_another_program_is_not_found(t, alice, pts):
    d = t.create_draft(alice, pts, "credit", 10)
    other = replace(t.only_program(), id="elsewhere")
    for action in (t.complete_draft, t.cancel_draft):
        with pytest.raises(E.TransactionNotFound):
            action(d.id, program=other)
    assert t.draft(d.id).status == "draft"
    assert t.complete_draft(d.id, program=t.only_program()).status == "completed"


# --- orders ------------------------------------------------------------------------------------------

def test_order_is_processed_when_its_draft_completes(t, alice, pts):
    o = t.create_order(alice, pts, "credit", D("120.5"), due_at=NOW + timedelta(days=5),
                       expires_at=NOW + timedelta(days=30), source="user", meta={"orderId": "o-1"})
    assert isinstance(o, Order) and t.order(o.id) == o
    assert (o.amount, o.signed_amount, o.processed_at, o.updated_at, o.source) == (
        D("120.5"), D("120.5"), None, NOW, "user")
    d = t.draft(o.draft_id)
    assert (d.order_id, d.status, d.meta) == (o.id, "draft", {"orderId": "o-1"})
    assert t.balance(alice, pts).available == D(1400)
    t.clock.advance(timedelta(minutes=10))
    t.complete_draft(d.id)
    assert (t.order(o.id).processed_at, t.order(o.id).updated_at) == (NOW + timedelta(minutes=10),) * 2


@pytest.mark.parametrize("finish", ["cancel", "reject"])
def test_order_not_completed_is_never_processed(t, alice, pts, finish):
    o = t.create_order(alice, pts, "debit", 5000 if finish == "reject" else 10, due_at=NOW, negative=True)
    assert o.signed_amount == -o.amount
    d = t.cancel_draft(o.draft_id) if finish == "cancel" else t.complete_draft(o.draft_id)
    assert d.status == ("cancelled" if finish == "cancel" else "rejected")
    assert t.order(o.id).processed_at is None


@pytest.mark.parametrize("expires_at", [NOW, NOW - timedelta(seconds=1)])
def test_order_expiry_must_be_in_the_future(t, alice, pts, expires_at):
    before = kept(t)
    with pytest.raises(E.NotInFuture) as exc:
        t.create_order(alice, pts, "credit", 0, due_at=NOW, expires_at=expires_at)   # checked before the amount
    assert isinstance(exc.value, E.InvalidTime)
    assert (exc.value.code, exc.value.detail["field"]) == ("not_in_future", "expires_at")
    assert kept(t) == before


def test_order_amount_refused_leaves_nothing(t, alice, pts):
    before = kept(t)
    with pytest.raises(E.InvalidAmount):
        t.create_order(alice, pts, "credit", D("0.001"), due_at=NOW)
    assert kept(t) == before


def test_unknown_order(t):
    with pytest.raises(E.NotFound):
        t.order("nope")


# --- balance records ---------------------------------------------------------------------------------

def test_balance_record_expires_as_points_available_now_would(t, alice, bob, pts):
    added = replace(pts, id="added", created_at=NOW - timedelta(hours=1))    # added to the program after both joined
    r = t.open_balance_record(alice, added)
    assert isinstance(r, BalanceRecord)
    assert (r.amount, r.created_at, r.expires_at, r.consumed_at) == (D(0), NOW, NOW + timedelta(days=365), None)
    assert t.store.balance_record(alice.id, added.id) == r
    before = kept(t)
    with pytest.raises(E.DuplicateKey):
        t.open_balance_record(alice, added)
    assert kept(t) == before
    assert t.open_balance_record(bob, added).member_id == bob.id


def test_a_member_has_a_balance_of_what_its_program_had_when_it_joined_or_what_it_used(t, alice, bob, pts):
    before = kept(t)
    for member in (alice, bob):     # the demo currency is as old as the program: both have a balance of it
        with pytest.raises(E.DuplicateKey):
            t.open_balance_record(member, pts)
    added = replace(pts, id="added", created_at=NOW - timedelta(days=2))   # after alice joined, before bob did
    with pytest.raises(E.DuplicateKey):
        t.open_balance_record(bob, added)
    assert kept(t) == before
    t.create_draft(alice, added, "credit", 5)      # alice used it: she has a balance of it
    with pytest.raises(E.DuplicateKey):
        t.open_balance_record(alice, added)


def test_balance_record_of_a_currency_without_expiry(t, alice, pts):
    added = replace(pts, id="added", expiry_days=None, created_at=NOW)
    assert t.open_balance_record(alice, added).expires_at is None

# --- snapshots -----------------------------------------------------------------------------------------

def test_snapshot_round_trips_drafts_orders_and_balance_records(t, alice, bob, pts):
    t.create_draft(alice, pts, "credit", 5)
    t.create_draft(bob, pts, "debit", 5, negative=False)
    o = t.create_order(alice, pts, "credit", 7, due_at=NOW, expires_at=NOW + timedelta(days=1), meta={"a": [1]})
    t.complete_draft(o.draft_id)
    added = replace(pts, id="added", created_at=NOW)
    t.open_balance_record(bob, added)
    data = t.store.export()
    restored = MemoryTenantStore.restore(data)
    assert restored.export() == data
    assert restored.drafts(alice.id, pts.id) == t.store.drafts(alice.id, pts.id)
    assert restored.order(o.id) == t.order(o.id)
    assert restored.balance_record(bob.id, added.id) == t.store.balance_record(bob.id, added.id)


def test_snapshot_keeps_its_format(t, alice, pts):
    """Drafts, orders and balance records are typed rows of `records` (the format specs/admin.yaml fixes, in
    which drafts were already written): restore puts each in its own table, not among generic records."""
    d = t.create_draft(alice, pts, "credit", 5)
    o = t.create_order(alice, pts, "credit", 5, due_at=NOW)
    added = replace(pts, id="added", created_at=NOW)
    r = t.open_balance_record(alice, added)
    data = t.store.export()
    assert set(data) == {"format", "seq", "members", "lots", "holds", "entries", "totals", "tier", "refs", "rewards",
                         "records"}
    assert data["format"] == 2
    assert [(kind, value["$r"]) for kind, _, value in data["records"]
            if kind not in ("limit_use", "record_index")] == [
        ("draft", "Draft"), ("draft", "Draft"), ("order", "Order"), ("balance_record", "BalanceRecord")]
    # the movements balance limits count (alice's fixture history): rows of their own, restored as they were
    assert {rid for kind, rid, _ in data["records"] if kind == "limit_use"} == {"alice/points/credit",
                                                                               "alice/points/debit"}
    restored = MemoryTenantStore.restore(data)
    assert restored.limit_use(alice.id, pts.id, "credit", NOW - timedelta(days=1000)) == \
        t.store.limit_use(alice.id, pts.id, "credit", NOW - timedelta(days=1000)) == (4, D(2400))
    assert restored.drafts(alice.id, pts.id) == [d, t.draft(o.draft_id)] and restored.record("draft", d.id) is None
    assert (restored.order(o.id), restored.balance_record(alice.id, added.id)) == (o, r)


def test_a_failed_operation_leaves_no_draft_or_order_behind(t, alice, pts):
    before = kept(t)
    with pytest.raises(RuntimeError):
        with t.atomic():
            t.create_order(alice, pts, "credit", 5, due_at=NOW)
            t.open_balance_record(alice, replace(pts, id="added", created_at=NOW))
            raise RuntimeError("undo")
    assert kept(t) == before
    assert t.store.drafts(alice.id, pts.id) == [] and t.store.balance_record(alice.id, "added") is None


def test_a_snapshot_of_an_older_format_is_refused_not_misread(t):
    """Format 1 (0.1.0) kept refunds, orders and draft signs where this version no longer reads them."""
    data = t.store.export()
    del data["format"]
    with pytest.raises(ValueError, match="store format 1, written by an older loyalty-gateway"):
        MemoryTenantStore.restore(data)
