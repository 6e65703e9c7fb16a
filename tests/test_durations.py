"""ISO 8601 durations for the clock (gateway.durations): parse -> (sign, months, exact part), and apply, where
years and months are calendar steps (31 Jan + P1M = 28 Feb) and the rest exact."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway import durations
from gateway.durations import DurationError

PARSED = [
    ("P14D", (1, 0, timedelta(days=14))),
    ("PT10M", (1, 0, timedelta(minutes=10))),
    ("P1M", (1, 1, timedelta(0))),
    ("PT36H", (1, 0, timedelta(hours=36))),
    ("P2W", (1, 0, timedelta(days=14))),
    ("P1Y", (1, 12, timedelta(0))),
    ("P1Y2M3DT4H5M6.5S", (1, 14, timedelta(days=3, hours=4, minutes=5, seconds=6.5))),
    ("P1M1W", (1, 1, timedelta(days=7))),
    ("PT1.5S", (1, 0, timedelta(seconds=1, microseconds=500000))),
    ("PT0.000001S", (1, 0, timedelta(microseconds=1))),
    ("-P1D", (-1, 0, timedelta(days=1))),
    ("-P1M", (-1, 1, timedelta(0))),
    ("+P1D", (1, 0, timedelta(days=1))),
    ("p1d", (1, 0, timedelta(days=1))),
    (" P1D ", (1, 0, timedelta(days=1))),
    ("P0D", (1, 0, timedelta(0))),
]


@pytest.mark.parametrize("text, expected", PARSED, ids=[t.strip() or "blank" for t, _ in PARSED])
def test_parse(text, expected):
    assert durations.parse(text) == expected


INVALID = ["P", "PT", "P1DT", "P1.5D", "1D", "P-1D", "", "PT1H1D", "P1S", "P1D2", "--P1D", "P 1D", None, 5, 1.5]


@pytest.mark.parametrize("text", INVALID, ids=[repr(t) for t in INVALID])
def test_invalid(text):
    with pytest.raises(DurationError) as exc:
        durations.parse(text)
    assert str(exc.value) == f"not an ISO 8601 duration: {text!r} (examples: P14D, PT10M, P1M, PT36H)"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


APPLIED = [
    (utc(2026, 1, 31, 12), "P1M", utc(2026, 2, 28, 12)),          # month end clamps
    (utc(2024, 1, 31), "P1M", utc(2024, 2, 29)),                  # leap year
    (utc(2026, 1, 31, 12), "P13M", utc(2027, 2, 28, 12)),
    (utc(2026, 1, 31, 12), "-P1M", utc(2025, 12, 31, 12)),
    (utc(2026, 1, 31, 12), "-P2M", utc(2025, 11, 30, 12)),
    (utc(2026, 3, 31), "-P1M", utc(2026, 2, 28)),
    (utc(2024, 2, 29), "P1Y", utc(2025, 2, 28)),
    (utc(2024, 2, 29), "-P1Y", utc(2023, 2, 28)),
    (utc(2026, 3, 10), "-P1M1D", utc(2026, 2, 9)),                # months first, then the exact part
    (utc(2026, 1, 30), "P1M1D", utc(2026, 3, 1)),                 # 30 Jan + 1M = 28 Feb, + 1D = 1 Mar
    (utc(2026, 3, 10, 12), "PT36H", utc(2026, 3, 12, 0)),
    (utc(2026, 3, 10, 12), "PT0.25S", utc(2026, 3, 10, 12, 0, 0, 250000)),
    (utc(2026, 3, 10, 12), "-PT10M", utc(2026, 3, 10, 11, 50)),
    (utc(2026, 12, 15), "P1M", utc(2027, 1, 15)),
    (utc(2026, 3, 10), "P0D", utc(2026, 3, 10)),
]


@pytest.mark.parametrize("at, text, expected", APPLIED, ids=[f"{a:%Y-%m-%d}{t}" for a, t, _ in APPLIED])
def test_apply(at, text, expected):
    assert durations.apply(at, text) == expected


def test_apply_refuses_what_parse_refuses():
    with pytest.raises(DurationError):
        durations.apply(utc(2026, 3, 10), "P1.5D")
