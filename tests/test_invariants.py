"""The invariant check itself: it catches drift between the entries, the running sums and the lots, and
writes nothing."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from helpers import demo_tenant
from invariants import check, from_entries


def test_the_demo_world_holds_and_the_check_writes_nothing():
    tenant = demo_tenant()
    tenant.clock.set(tenant.now() + timedelta(days=400), frozen=True)    # lots expire, unsettled
    before = tenant.store.export()
    check(tenant)
    assert tenant.store.export() == before


def test_running_sums_that_drift_from_the_entries_are_caught():
    tenant = demo_tenant()
    totals = tenant.store.totals("alice", "points")
    tenant.store.put_totals("alice", "points", replace(totals, earned=totals.earned + 1, spent=totals.spent + 1))
    with pytest.raises(AssertionError, match="running sums drifted from the entries"):
        check(tenant)


def test_a_lot_that_drifts_from_the_entries_is_caught():
    tenant = demo_tenant()
    lot = tenant.store.open_lots("alice", "points")[0]
    tenant.store.put_lot(replace(lot, remaining=lot.remaining + 5))
    with pytest.raises(AssertionError):
        check(tenant)


def test_figures_from_the_demo_history():
    """500 + 300 + 1200 + 400 earned, 100 spent, the 500-point lot expired (-420d lot, settled in the replay)."""
    assert from_entries(demo_tenant().store, "alice", "points") == {
        "earned": 2400, "spent": 100, "expired": 500, "cancelled": 0}
