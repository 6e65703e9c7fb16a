"""Faults armed through /__admin: latency, a vendor error, or a dropped connection, for the next
N calls, with a probability, or until disarmed; per tenant, vendor and (optionally) operation.

A vendor error is one of the vendor's own `fault_cases`, named by its case or by the HTTP status it
answers (`error_case`)."""
from __future__ import annotations

import asyncio
import itertools
import json
import random
from dataclasses import dataclass, field
from typing import Any

from .vendors.base import Reply

KINDS = ("latency", "error", "drop")


class FaultCaseError(ValueError):
    """A case or status that names no fault case of the vendor; `pointer` is the request field to blame."""

    def __init__(self, pointer: str, message: str):
        super().__init__(message)
        self.pointer, self.message = pointer, message


_statuses: dict[str, dict[str, int]] = {}


def case_statuses(vendor) -> dict[str, int]:
    """Each fault case of the vendor -> the status it stands for (`Vendor.fault_status`), in `fault_cases`
    order; computed once per vendor."""
    found = _statuses.get(vendor.name)
    if found is None:
        found = _statuses[vendor.name] = {case: vendor.fault_status(case) for case in vendor.fault_cases}
    return found


def describe_cases(vendor) -> str:
    """`rate_limit (429), server_error (500), ...` in the vendor's own order."""
    return ", ".join(f"{case} ({status})" for case, status in case_statuses(vendor).items())


def error_case(vendor, case: str | None, status: int | None) -> tuple[str, int]:
    """The (case, status) an error fault answers, from its case, its status, or both (which must agree).
    Several cases answering one status: the first in the vendor's `fault_cases` order."""
    statuses = case_statuses(vendor)
    if case is not None:
        if case not in statuses:
            raise FaultCaseError("/case", f"{vendor.name} has no fault case {case!r}; its cases: "
                                          f"{describe_cases(vendor)}")
        if status is not None and statuses[case] != status:
            raise FaultCaseError("/status", f"{vendor.name} case {case} answers {statuses[case]}, not {status}")
        return case, statuses[case]
    if status is None:
        raise FaultCaseError("/case", f"kind error needs a case or a status; {vendor.name} cases: "
                                      f"{describe_cases(vendor)}")
    for name, answers in statuses.items():
        if answers == status:
            return name, status
    raise FaultCaseError("/status", f"{vendor.name} has no fault case answering {status}; its cases: "
                                    f"{describe_cases(vendor)}")


@dataclass
class Fault:
    id: int
    tenant: str
    vendor: str
    kind: str
    operation: str | None = None
    latency_ms: tuple[int, int] = (0, 0)
    case: str | None = None
    status: int | None = None         # the status `case` answers (kind error)
    times: int | None = None          # remaining uses; None = until disarmed
    probability: float | None = None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, tenant: str, vendor: str, operation: str) -> bool:
        return (self.tenant == tenant and self.vendor == vendor
                and (self.operation is None or self.operation == operation))

    async def apply(self, vendor, op) -> Reply | None | bool:
        """True: go on serving; a Reply: answer it; None: drop the connection."""
        if self.kind == "latency":
            lo, hi = self.latency_ms
            await asyncio.sleep((lo if lo == hi else self.rng.randint(lo, hi)) / 1000)
            return True
        if self.kind == "drop":
            return None
        return vendor.fault(self.case, op)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "vendor": self.vendor, "operation": self.operation, "kind": self.kind,
                "latency_ms": list(self.latency_ms) if self.kind == "latency" else None,
                "case": self.case, "status": self.status, "times": self.times, "probability": self.probability,
                "fired": self.fired}


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def arm(self, **kw) -> Fault:
        f = Fault(id=next(self._ids), **kw)
        self._faults.append(f)
        return f

    def list(self, tenant: str) -> list[Fault]:
        return [f for f in self._faults if f.tenant == tenant]

    def disarm(self, tenant: str, fault_id: int | None = None) -> int:
        before = len(self._faults)
        self._faults = [f for f in self._faults
                        if not (f.tenant == tenant and (fault_id is None or f.id == fault_id))]
        return before - len(self._faults)

    def take(self, tenant: str, vendor: str, operation: str) -> Fault | None:
        if not self._faults:
            return None
        for f in self._faults:
            if not f.matches(tenant, vendor, operation):
                continue
            if f.probability is not None and f.rng.random() >= f.probability:
                continue
            if self._fire(f):
                return f
        return None

    def _fire(self, f: Fault) -> bool:
        """Count one firing of `f` (False: it could not fire after all)."""
        f.fired += 1
        if f.times is not None:
            f.times -= 1
            if f.times <= 0:
                self._faults.remove(f)
        return True


_SAVED = ("tenant", "vendor", "kind", "operation", "latency_ms", "case", "status", "times", "probability", "fired")


class SharedFaults(Faults):
    """The faults of a shared store file (`sqlite:`): armed in the file, so they fire whichever worker answers.

    Each worker reads the armed faults when the file says they changed (its world's `faults` version); a fault
    with a number of uses is consumed in a transaction, so `times: 1` fires once across all workers."""

    def __init__(self, world) -> None:
        super().__init__()
        self.world = world
        world.faults = self
        self.reload(world.db)
        world.faults_version = world.db.execute("SELECT value FROM meta WHERE key = 'faults'").fetchone()[0]

    def reload(self, db) -> None:
        faults = []
        for fid, body in db.execute("SELECT id, body FROM fault ORDER BY id"):
            doc = json.loads(body)
            doc["latency_ms"] = tuple(doc["latency_ms"])
            faults.append(Fault(id=fid, **doc))
        self._faults = faults

    def _changed(self, db) -> None:
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'faults'")

    def _refresh(self) -> None:
        self.reload(self.world.db)
        self.world.faults_version = self.world.db.execute("SELECT value FROM meta WHERE key = 'faults'").fetchone()[0]

    def arm(self, **kw) -> Fault:
        probe = Fault(id=0, **kw)
        body = json.dumps({k: getattr(probe, k) for k in _SAVED})

        def write(db):
            fid = db.execute("INSERT INTO fault(tenant, body) VALUES (?, ?)", (probe.tenant, body)).lastrowid
            self._changed(db)
            return fid
        fid = self.world.write(write)
        self._refresh()
        return next(f for f in self._faults if f.id == fid)

    def list(self, tenant: str) -> list[Fault]:
        self.world.sync()
        return super().list(tenant)

    def disarm(self, tenant: str, fault_id: int | None = None) -> int:
        def write(db):
            if fault_id is None:
                n = db.execute("DELETE FROM fault WHERE tenant = ?", (tenant,)).rowcount
            else:
                n = db.execute("DELETE FROM fault WHERE tenant = ? AND id = ?", (tenant, fault_id)).rowcount
            self._changed(db)
            return n
        n = self.world.write(write)
        self._refresh()
        return n

    def _fire(self, f: Fault) -> bool:
        """Count one firing in the file; False when another worker used the fault's last time first."""
        def write(db):
            row = db.execute("SELECT body FROM fault WHERE id = ?", (f.id,)).fetchone()
            if row is None:
                return None
            doc = json.loads(row[0])
            doc["fired"] += 1
            if doc["times"] is not None:
                doc["times"] -= 1
                if doc["times"] <= 0:
                    db.execute("DELETE FROM fault WHERE id = ?", (f.id,))
                    self._changed(db)
                    return doc
            db.execute("UPDATE fault SET body = ? WHERE id = ?", (json.dumps(doc), f.id))
            self._changed(db)
            return doc
        doc = self.world.write(write)
        self._refresh()
        if doc is None:
            return False
        f.fired, f.times = doc["fired"], doc["times"]
        return True
