"""The bounded per-tenant request journal (gateway.journal): ids, newest first, filters, limit, the size bound,
clear, and the view's formatting (UTC instants with Z, rounded durations, violations as dicts)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.journal import Journal
from gateway.specs import Violation

AT = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)
CALLS = [  # (vendor, operation, status)
    ("gameball", "get_customer_balance", 200),
    ("omneo", "get_profile_balances", 200),
    ("gameball", "redeem", 422),
    ("gameball", "get_customer_balance", 401),
    ("brevo", "get_balance_definition", 200),
]


def journal(size: int = 1000, calls=CALLS) -> Journal:
    j = Journal(size)
    for vendor, operation, status in calls:
        j.record(vendor=vendor, operation=operation, method="GET", path="/p", status=status, duration_ms=1.0,
                 request_violations=[], response_violations=[], entries=[], at=AT)
    return j


def ids(entries) -> list[int]:
    return [e["id"] for e in entries]


LISTS = [
    ({}, [5, 4, 3, 2, 1]),
    ({"vendor": "gameball"}, [4, 3, 1]),
    ({"operation": "get_customer_balance"}, [4, 1]),
    ({"status": 200}, [5, 2, 1]),
    ({"vendor": "gameball", "status": 200}, [1]),
    ({"vendor": "gameball", "operation": "redeem", "status": 422}, [3]),
    ({"vendor": "altcraft"}, []),
    ({"status": 500}, []),
    ({"limit": 2}, [5, 4]),
    ({"vendor": "gameball", "limit": 1}, [4]),
    ({"limit": 0}, [5]),            # limit is checked after the first match: never fewer than one
]


@pytest.mark.parametrize("query, expected", LISTS, ids=["&".join(f"{k}={v}" for k, v in q.items()) or "all"
                                                          for q, _ in LISTS])
def test_list_newest_first_with_filters(query, expected):
    assert ids(journal().list(**query)) == expected


@pytest.mark.parametrize("size, expected", [(1, [5]), (3, [5, 4, 3]), (5, [5, 4, 3, 2, 1]), (10, [5, 4, 3, 2, 1])],
                         ids=["size-1", "size-3", "size-5", "size-10"])
def test_bounded(size, expected):
    j = journal(size)
    assert ids(j.list()) == expected and len(j) == len(expected)


def test_clear_keeps_counting_ids():
    j = journal()
    j.clear()
    assert len(j) == 0 and j.list() == []
    j.record(vendor="omneo", operation="x", method="GET", path="/", status=200, duration_ms=0.0,
             request_violations=[], response_violations=[], entries=[], at=AT)
    assert ids(j.list()) == [6]


VIEWS = [
    ({"at": AT}, {"at": "2026-03-10T12:00:00Z"}),
    ({"at": AT.replace(microsecond=123456)}, {"at": "2026-03-10T12:00:00.123456Z"}),
    ({"at": AT.astimezone(timezone(timedelta(hours=2)))}, {"at": "2026-03-10T14:00:00+02:00"}),
    ({"duration_ms": 1.23456}, {"duration_ms": 1.235}),
    ({"duration_ms": 0.0004}, {"duration_ms": 0.0}),
    ({"request_violations": [Violation("/query/expand", "'x' does not match", "pattern", "query", "x")]},
     {"request_violations": [{"pointer": "/query/expand", "message": "'x' does not match", "keyword": "pattern"}]}),
    ({"response_violations": [Violation("/code", "bad", "type", "response")]},
     {"response_violations": [{"pointer": "/code", "message": "bad", "keyword": "type"}]}),
    ({"refusal": {"reason": "insufficient_points"}}, {"refusal": {"reason": "insufficient_points"}}),
    ({"fault": {"id": 1, "kind": "drop", "case": None}}, {"fault": {"id": 1, "kind": "drop", "case": None}}),
]


@pytest.mark.parametrize("fields, expected", VIEWS, ids=[f"view-{next(iter(f))}-{i}" for i, (f, _) in enumerate(VIEWS)])
def test_view(fields, expected):
    j = Journal()
    base = {"vendor": "gameball", "operation": "op", "method": "GET", "path": "/p", "status": 200, "duration_ms": 1.0,
            "request_violations": [], "response_violations": [], "entries": ["e1"], "at": AT}
    j.record(**{**base, **fields})
    view = j.list()[0]
    want = {**base, "at": "2026-03-10T12:00:00Z", "id": 1, **expected}
    assert view == want
