"""The store's entry indexes behind Altcraft's account/transactions and transactions_export: per member and
currency in the order written (`entries_page`, `entries_count`), per currency by date (`entries_between`). They agree
with the whole history, undo with a failed operation, and survive a snapshot."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from gateway.engine.errors import InsufficientPoints
from gateway.store.memory import MemoryTenantStore
from helpers import NOW


def test_pages_are_the_history_in_write_order(t, alice, points):
    store = t.store
    whole = store.entries_page(alice.id, points.id)
    assert store.entries_count(alice.id, points.id) == len(whole) == 6
    assert store.entries_page(alice.id, points.id, after_seq=None, limit=100) == whole
    assert store.entries_page(alice.id, points.id, after_seq=None, limit=2) == whole[:2]
    assert store.entries_page(alice.id, points.id, after_seq=whole[1].seq, limit=3) == whole[2:5]
    assert store.entries_page(alice.id, points.id, after_seq=whole[-1].seq, limit=3) == []
    assert store.entries_page(alice.id, "other", after_seq=None, limit=10) == [] and store.entries_count(alice.id, "other") == 0


def test_a_failed_operation_leaves_the_indexes_as_they_were(t, alice, points):
    store = t.store
    count = store.entries_count(alice.id, points.id)
    dated = list(store.entries_between(points.id, NOW - timedelta(days=1000), NOW + timedelta(days=1)))
    with pytest.raises(InsufficientPoints):
        with t.atomic():
            t.credit(alice, points, Decimal(5), available_at=t.now())
            t.debit(alice, points, Decimal(100000))
    assert store.entries_count(alice.id, points.id) == count
    assert list(store.entries_between(points.id, NOW - timedelta(days=1000), NOW + timedelta(days=1))) == dated


def test_dated_reads_are_inclusive_and_in_time_order(t, alice, bob, points):
    t.credit(bob, points, Decimal(3), available_at=t.now())
    store = t.store
    rows = list(store.entries_between(points.id, NOW - timedelta(days=20), NOW))
    assert [(e.member_id, e.at - NOW, e.amount) for e in rows] == [
        ("alice", timedelta(days=-20), Decimal(100)), ("alice", timedelta(days=-5), Decimal(400)),
        ("bob", timedelta(0), Decimal(3))]
    assert list(store.entries_between(points.id, NOW - timedelta(days=19), NOW - timedelta(seconds=1))) == [rows[1]]
    everything = sorted((e for m in ("alice", "bob") for e in store.entries_page(m, points.id)), key=lambda e: (e.at, e.seq))
    assert list(store.entries_between(points.id, NOW - timedelta(days=9999), NOW + timedelta(days=9999))) == everything


def test_indexes_survive_a_snapshot(t, alice, points):
    restored = MemoryTenantStore.restore(t.store.export())
    assert restored.entries_page(alice.id, points.id, after_seq=None, limit=100) == t.store.entries_page(alice.id, points.id, after_seq=None, limit=100)
    span = (NOW - timedelta(days=999), NOW)
    assert list(restored.entries_between(points.id, *span)) == list(t.store.entries_between(points.id, *span))


def test_one_index_answers_every_filter_direction_and_window(t, alice, bob, points):
    """entries_page is the one way to page entries: by member (or all), currency (or all), point records only,
    between two seqs, newest first, from an offset; entries_count agrees with it."""
    t.earn(bob, points, 0)                      # a zero credit: no lot, so no point record
    t.credit(bob, points, Decimal(7), available_at=t.now())
    store = t.store
    everyone = store.entries_page()
    assert [e.seq for e in everyone] == sorted(e.seq for e in everyone) and len(everyone) == store.entries_count()
    for member_id, currency_id, lot_credits in (("alice", None, False), ("bob", None, False), (None, None, False),
                                                ("alice", points.id, False), ("bob", points.id, False),
                                                ("alice", None, True), ("bob", None, True), (None, None, True)):
        want = [e for e in everyone if (member_id is None or e.member_id == member_id)
                and (currency_id is None or e.currency_id == currency_id)
                and (not lot_credits or (e.kind == "credit" and e.lots))]
        f = dict(lot_credits=lot_credits)
        assert store.entries_page(member_id, currency_id, **f) == want
        assert store.entries_count(member_id, currency_id, **f) == len(want)
        assert store.entries_page(member_id, currency_id, newest_first=True, **f) == want[::-1]
        assert store.entries_page(member_id, currency_id, offset=1, limit=2, **f) == want[1:3]
        assert store.entries_page(member_id, currency_id, newest_first=True, offset=1, limit=2, **f) \
            == want[::-1][1:3]
        if len(want) > 2:
            lo, hi = want[0].seq, want[-1].seq
            assert store.entries_page(member_id, currency_id, after_seq=lo, before_seq=hi, **f) == want[1:-1]
            assert store.entries_page(member_id, currency_id, after_seq=lo, before_seq=hi, newest_first=True,
                                      limit=1, **f) == [want[-2]]
    bob_records = store.entries_page("bob", lot_credits=True)
    assert [(e.kind, e.amount) for e in bob_records] == [("credit", Decimal(7))]


def test_counts_of_applied_entries_follow_a_rollback_and_its_undo(t, bob, points):
    store = t.store
    t.credit(bob, points, Decimal(10), available_at=t.now())
    e = t.temporary(bob, points, "debit", Decimal(4))
    assert (store.entries_count("bob"), store.entries_count("bob", applied=True)) == (2, 2)
    t.rollback(e.id)
    assert store.entries_page("bob")[-1].status == "rolled_back"
    assert (store.entries_count("bob"), store.entries_count("bob", applied=True)) == (2, 1)
    assert store.entries_count(None, applied=True) == store.entries_count() - 1
    restored = MemoryTenantStore.restore(store.export())
    assert restored.entries_count("bob", applied=True) == 1 and restored.entries_page() == store.entries_page()
    assert restored.entries_page("bob", lot_credits=True) == store.entries_page("bob", lot_credits=True)


def test_a_failed_operation_leaves_every_list_as_it_was(t, alice, points):
    store = t.store
    before = {k: store.entries_page(*k) for k in (("alice", points.id), ("alice", None), (None, None))}
    records = store.entries_page(lot_credits=True)
    with pytest.raises(InsufficientPoints):
        with t.atomic():
            t.credit(alice, points, Decimal(5), available_at=t.now())
            t.debit(alice, points, Decimal(100000))
    assert {k: store.entries_page(*k) for k in before} == before
    assert store.entries_page(lot_credits=True) == records and store.entries_count(lot_credits=True) == len(records)


def test_a_filter_no_index_serves_is_refused(t, alice, points):
    """Only the filters the engine pages by are indexed (each is a list to keep on every write, and an index in a
    durable store): any other would scan, so the store refuses it instead of silently reading the history."""
    for member_id, lot_credits in ((None, False), (alice.id, True), (None, True)):
        with pytest.raises(ValueError):
            t.store.entries_page(member_id, points.id, lot_credits=lot_credits, limit=1)
        with pytest.raises(ValueError):
            t.store.entries_count(member_id, points.id, lot_credits=lot_credits)
