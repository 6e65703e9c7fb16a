"""Snapshot values (gateway/store/serial.py): tagged so a restore is exact, and a client's own mapping never
read back as a tag, whatever its keys."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from gateway.engine.model import Reward
from gateway.store import serial

AT = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
REWARD = Reward(id=1, member_id="m", definition_id=6, value_initial=Decimal("10.00"), value_remaining=Decimal("2.50"),
                issued_at=AT, expires_at=None, meta={"$t": "order-7", "$d": "1", "nested": [{"$r": "Lot"}]})

CASES = [
    ("decimal", Decimal("1.50"), {"$d": "1.50"}),
    ("datetime", AT, {"$t": "2026-03-10T12:00:00+00:00"}),
    ("plain mapping", {"a": 1}, {"a": 1}),
    ("a client's $t key", {"$t": "order-7"}, {"$m": {"$t": "order-7"}}),
    ("a client's $d key", {"$d": "1"}, {"$m": {"$d": "1"}}),
    ("a client's $r key", {"$r": "Lot", "x": 1}, {"$m": {"$r": "Lot", "x": 1}}),
    ("a client's $m key", {"$m": {}}, {"$m": {"$m": {}}}),
    ("nested", [{"k": {"$t": "x"}}], [{"k": {"$m": {"$t": "x"}}}]),
]


@pytest.mark.parametrize("value,dumped", [(v, d) for _, v, d in CASES], ids=[c[0] for c in CASES])
def test_dump_and_load(value, dumped):
    assert serial.dump(value) == dumped
    assert serial.load(serial.dump(value)) == value


def test_a_record_with_dollar_keys_in_its_meta_round_trips():
    assert serial.load(serial.dump(REWARD)) == REWARD
