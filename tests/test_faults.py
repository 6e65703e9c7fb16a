"""Armed faults (gateway.faults): matching by tenant, vendor and operation; `times`; a probability drawn from the
fault's own random generator (seeded here); the first armed match fires; disarm; what each kind does; a vendor's
fault cases by name or status."""
from __future__ import annotations

import random

import pytest

from gateway import faults
from gateway.faults import FaultCaseError, Faults
from gateway.specs import get as get_spec
from gateway.vendors import registry


def armed(*specs: dict) -> Faults:
    f = Faults()
    for kw in specs:
        f.arm(**{"tenant": "demo", "vendor": "gameball", "kind": "drop", **kw})
    return f


def fired(f: Faults, calls) -> list[int | None]:
    out = []
    for tenant, vendor, operation in calls:
        hit = f.take(tenant, vendor, operation)
        out.append(hit.id if hit is not None else None)
    return out


BAL, REDEEM = ("demo", "gameball", "balance"), ("demo", "gameball", "redeem")
TAKES = [
    # (armed faults, calls, ids fired per call)
    ([{}], [BAL, REDEEM, BAL], [1, 1, 1]),                                        # until disarmed
    ([{"times": 1}], [BAL, BAL], [1, None]),
    ([{"times": 2}], [BAL, REDEEM, BAL], [1, 1, None]),
    ([{"operation": "redeem"}], [BAL, REDEEM], [None, 1]),
    ([{"tenant": "other"}], [BAL], [None]),
    ([{"vendor": "omneo"}], [BAL, ("demo", "omneo", "balance")], [None, 1]),
    ([{"times": 1}, {}], [BAL, BAL, BAL], [1, 2, 2]),                            # the first armed match fires
    ([{"operation": "redeem"}, {}], [BAL, REDEEM], [2, 1]),
    ([{"operation": "redeem", "times": 1}, {"times": 1}], [REDEEM, REDEEM, REDEEM], [1, 2, None]),
    ([{"probability": 0.0}], [BAL, BAL], [None, None]),
    ([{"probability": 1.0}], [BAL, BAL], [1, 1]),
    # seed 7 draws 0.324 0.151 0.651 0.072 0.536 0.366: below 0.5 fires
    ([{"probability": 0.5, "rng": random.Random(7)}], [BAL] * 6, [1, 1, None, 1, None, 1]),
    # a draw that misses does not use up `times`
    ([{"probability": 0.5, "times": 2, "rng": random.Random(7)}], [BAL] * 4, [1, 1, None, None]),
    ([{"probability": 0.2, "rng": random.Random(7)}, {}], [BAL] * 4, [2, 1, 2, 1]),  # a miss falls through
]


@pytest.mark.parametrize("specs, calls, expected", TAKES, ids=[f"take-{i}" for i in range(len(TAKES))])
def test_take(specs, calls, expected):
    assert fired(armed(*specs), calls) == expected


def test_fired_and_times_are_counted():
    f = armed({"times": 3})
    fault = f.take(*BAL)
    assert (fault.fired, fault.times) == (1, 2)
    f.take(*BAL), f.take(*BAL)
    assert (fault.fired, fault.times) == (3, 0) and f.list("demo") == []


DISARMS = [
    # (fault id to disarm, removed, ids left for demo)
    (None, 3, []),
    (2, 1, [1, 3]),
    (99, 0, [1, 2, 3]),
]


@pytest.mark.parametrize("fault_id, removed, left", DISARMS, ids=["all", "one", "unknown"])
def test_disarm(fault_id, removed, left):
    f = armed({}, {"operation": "redeem"}, {"vendor": "omneo"}, {"tenant": "other"})
    assert f.disarm("demo", fault_id) == removed
    assert [x.id for x in f.list("demo")] == left
    assert [x.id for x in f.list("other")] == [4]          # another tenant's faults are never touched


def test_disarm_of_another_tenants_fault_removes_nothing():
    f = armed({"tenant": "other"})
    assert f.disarm("demo", 1) == 0 and [x.id for x in f.list("other")] == [1]


def test_ids_count_across_tenants():
    f = armed({}, {"tenant": "other"}, {})
    assert [x.id for x in f.list("demo")] == [1, 3]


GAMEBALL = registry.get("gameball")
OP = get_spec("gameball").operations["get_customer_balance"]


@pytest.mark.parametrize("kind, kw, expected", [
    ("latency", {"latency_ms": (0, 0)}, True),
    ("latency", {"latency_ms": (1, 3), "rng": random.Random(1)}, True),
    ("drop", {}, None),
], ids=["latency-fixed", "latency-range", "drop"])
async def test_apply(kind, kw, expected):
    f = armed({"kind": kind, **kw}).take(*BAL)
    assert await f.apply(GAMEBALL, OP) is expected


@pytest.mark.parametrize("case, status", [("rate_limit", 429), ("server_error", 500), ("unavailable", 503)],
                         ids=["rate_limit", "server_error", "unavailable"])
async def test_apply_error_answers_the_vendor_case(case, status):
    f = armed({"kind": "error", "case": case, "status": status}).take(*BAL)
    reply = await f.apply(GAMEBALL, OP)
    expected = GAMEBALL.fault(case, OP).body
    assert reply.status == status
    assert {k: v for k, v in reply.body.items() if k != "requestId"} == \
        {k: v for k, v in expected.items() if k != "requestId"}      # a fresh request id each time


ERROR_CASES = [
    # (vendor, case, status, expected (case, status) or (pointer, message))
    ("gameball", "rate_limit", None, ("rate_limit", 429)),
    ("gameball", None, 503, ("unavailable", 503)),
    ("gameball", "forbidden", 403, ("forbidden", 403)),
    ("altcraft", None, 402, ("tariff_limit", 402)),
    ("gameball", "nope", None, ("/case", "gameball has no fault case 'nope'; its cases: rate_limit (429), "
                                "server_error (500), unavailable (503), unauthorized (401), forbidden (403), "
                                "concurrent_request (422)")),
    ("gameball", "rate_limit", 500, ("/status", "gameball case rate_limit answers 429, not 500")),
    ("brevo", None, 418, ("/status", "brevo has no fault case answering 418; its cases: rate_limit (429), "
                          "server_error (500), forbidden (403), unauthorized (401)")),
    ("omneo", None, None, ("/case", "kind error needs a case or a status; omneo cases: rate_limit (429), "
                           "server_error (500), unavailable (503), unauthorized (401), forbidden (403)")),
]


@pytest.mark.parametrize("vendor, case, status, expected", ERROR_CASES, ids=[f"{v}-{c}-{s}" for v, c, s, _ in ERROR_CASES])
def test_error_case(vendor, case, status, expected):
    v = registry.get(vendor)
    if expected[0].startswith("/"):
        with pytest.raises(FaultCaseError) as exc:
            faults.error_case(v, case, status)
        assert (exc.value.pointer, exc.value.message) == expected
    else:
        assert faults.error_case(v, case, status) == expected


def test_as_dict():
    f = armed({"kind": "latency", "latency_ms": (5, 10), "operation": "redeem", "times": 2}).take(*REDEEM)
    assert f.as_dict() == {"id": 1, "vendor": "gameball", "operation": "redeem", "kind": "latency",
                           "latency_ms": [5, 10], "case": None, "status": None, "times": 1, "probability": None,
                           "fired": 1}
