"""Ledger invariants, checked after operations in the engine, dialect and property tests."""
from __future__ import annotations

from decimal import Decimal

from gateway.engine import ledger


def check(tenant) -> None:
    """earned - spent - expired - cancelled = points in lots; nothing negative; holds never exceed
    what is spendable."""
    now = tenant.now()
    store = tenant.store
    for member in store.members():
        program = tenant.program(member.program_id)
        for currency in program.currencies:
            with store.atomic():
                ledger.settle(store, member.id, currency, now)
            totals = store.totals(member.id, currency.id)
            lots = [l for l in store.open_lots(member.id, currency.id) if not l.provisional]
            in_lots = sum((l.remaining for l in lots), Decimal(0))
            assert totals.balance == in_lots, (member.id, currency.id, totals, in_lots)
            assert store.open_sum(member.id, currency.id) == in_lots, "the running sum drifted from the lots"
            by_expiry = list(store.lots_by_expiry(member.id, currency.id))
            assert {l.id for l in by_expiry} == {l.id for l in store.open_lots(member.id, currency.id)}
            assert [l.expires_at is None for l in by_expiry] == sorted(l.expires_at is None for l in by_expiry)
            assert all(l.remaining >= 0 for l in store.open_lots(member.id, currency.id)), member.id
            assert all(v >= 0 for v in (totals.earned, totals.spent, totals.expired, totals.cancelled)), totals
            b = ledger.balance(store, member.id, currency, now)
            assert b.available >= 0, (member.id, b)
            assert b.pending >= 0, (member.id, b)
            assert b.held <= b.available + b.held, (member.id, b)
        for r in store.rewards(member.id):
            assert 0 <= r.value_remaining <= r.value_initial, r
