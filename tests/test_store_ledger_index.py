"""The store's entry indexes behind Altcraft's account/transactions and transactions_export: per member and
currency in the order written (`ledger_page`, `ledger_count`), per currency by date (`ledger_between`). They agree
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
    whole = store.entries(alice.id, points.id)
    assert store.ledger_count(alice.id, points.id) == len(whole) == 6
    assert store.ledger_page(alice.id, points.id, None, 100) == whole
    assert store.ledger_page(alice.id, points.id, None, 2) == whole[:2]
    assert store.ledger_page(alice.id, points.id, whole[1].seq, 3) == whole[2:5]
    assert store.ledger_page(alice.id, points.id, whole[-1].seq, 3) == []
    assert store.ledger_page(alice.id, "other", None, 10) == [] and store.ledger_count(alice.id, "other") == 0


def test_a_failed_operation_leaves_the_indexes_as_they_were(t, alice, points):
    store = t.store
    count = store.ledger_count(alice.id, points.id)
    dated = list(store.ledger_between(points.id, NOW - timedelta(days=1000), NOW + timedelta(days=1)))
    with pytest.raises(InsufficientPoints):
        with t.atomic():
            t.credit(alice, points, Decimal(5), available_at=t.now())
            t.debit(alice, points, Decimal(100000))
    assert store.ledger_count(alice.id, points.id) == count
    assert list(store.ledger_between(points.id, NOW - timedelta(days=1000), NOW + timedelta(days=1))) == dated


def test_dated_reads_are_inclusive_and_in_time_order(t, alice, bob, points):
    t.credit(bob, points, Decimal(3), available_at=t.now())
    store = t.store
    rows = list(store.ledger_between(points.id, NOW - timedelta(days=20), NOW))
    assert [(e.member_id, e.at - NOW, e.amount) for e in rows] == [
        ("alice", timedelta(days=-20), Decimal(100)), ("alice", timedelta(days=-5), Decimal(400)),
        ("bob", timedelta(0), Decimal(3))]
    assert list(store.ledger_between(points.id, NOW - timedelta(days=19), NOW - timedelta(seconds=1))) == [rows[1]]
    everything = sorted((e for m in ("alice", "bob") for e in store.entries(m, points.id)), key=lambda e: (e.at, e.seq))
    assert list(store.ledger_between(points.id, NOW - timedelta(days=9999), NOW + timedelta(days=9999))) == everything


def test_indexes_survive_a_snapshot(t, alice, points):
    restored = MemoryTenantStore.restore(t.store.export())
    assert restored.ledger_page(alice.id, points.id, None, 100) == t.store.ledger_page(alice.id, points.id, None, 100)
    span = (NOW - timedelta(days=999), NOW)
    assert list(restored.ledger_between(points.id, *span)) == list(t.store.ledger_between(points.id, *span))
