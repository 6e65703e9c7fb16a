"""Ledger invariants, checked after operations in the engine, dialect and property tests.

The balance is recomputed from the immutable entries, independently of the running sums (`Totals`) and the
open-lot sum the engine keeps, and compared with both. Nothing is written: the check settles nothing (an expiry
not yet settled is in the lots and not in the entries, on both sides alike)."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from gateway.engine import ledger

ZERO = Decimal(0)


def from_entries(store, member_id: str, currency_id: str) -> dict[str, Decimal]:
    """earned, spent, expired, cancelled as the entries tell them."""
    entries = list(store.entries_page(member_id, currency_id))
    by_id = {e.id: e for e in entries}
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in entries:
        # applied: committed, or cancelled by a reversal (a `cancel` entry). A temporary entry only reserves, and a
        # rolled-back one never applied, whatever its status says ("cancelled" is also what Altcraft's cancel of a
        # temporary transaction leaves, with nothing reversed).
        applied = e.status == "committed" or (e.status == "cancelled" and e.reversed_amount > 0)
        if e.kind == "credit" and applied:
            sums["earned"] += e.amount
        elif e.kind == "debit" and applied:
            sums["spent"] += e.amount
        elif e.kind == "expire":
            sums["expired"] += e.amount
        elif e.kind == "cancel":
            reversed_ = by_id.get(e.reverses)
            assert reversed_ is not None, f"cancel {e.id} reverses an unknown entry {e.reverses}"
            if reversed_.kind == "credit":
                sums["cancelled"] += e.amount
            else:
                sums["spent"] -= e.amount
    return {k: sums[k] for k in ("earned", "spent", "expired", "cancelled")}


def check(tenant) -> None:
    """earned - spent - expired - cancelled (from the entries) = points in lots = the running sums; nothing
    negative; holds never exceed what is spendable."""
    now = tenant.now()
    store = tenant.store
    for member in store.members():
        program = tenant.program(member.program_id)
        for currency in program.currencies:
            sums = from_entries(store, member.id, currency.id)
            lots = [l for l in store.open_lots(member.id, currency.id) if not l.provisional]
            in_lots = sum((l.remaining for l in lots), ZERO)
            balance = sums["earned"] - sums["spent"] - sums["expired"] - sums["cancelled"]
            assert balance == in_lots, (member.id, currency.id, sums, in_lots)
            totals = store.totals(member.id, currency.id)
            assert {k: getattr(totals, k) for k in sums} == sums, ("the running sums drifted from the entries",
                                                                    member.id, totals, sums)
            assert store.open_sum(member.id, currency.id) == in_lots, "the running sum drifted from the lots"
            by_expiry = list(store.lots_by_expiry(member.id, currency.id))
            assert {l.id for l in by_expiry} == {l.id for l in store.open_lots(member.id, currency.id)}
            assert [l.expires_at is None for l in by_expiry] == sorted(l.expires_at is None for l in by_expiry)
            assert all(l.remaining >= 0 for l in store.open_lots(member.id, currency.id)), member.id
            assert all(v >= 0 for v in sums.values()), sums
            b = ledger.balance(store, member.id, currency, now)
            assert b.available >= 0, (member.id, b)
            assert b.pending >= 0, (member.id, b)
            assert b.held <= b.available + b.held, (member.id, b)
        for r in store.rewards(member.id):
            assert 0 <= r.value_remaining <= r.value_initial, r
