"""Faults armed through /__admin: latency, a vendor error, or a dropped connection, for the next
N calls, with a probability, or until disarmed; per tenant, vendor and (optionally) operation."""
from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from .vendors.base import Reply

KINDS = ("latency", "error", "drop")


@dataclass
class Fault:
    id: int
    tenant: str
    vendor: str
    kind: str
    operation: str | None = None
    latency_ms: tuple[int, int] = (0, 0)
    case: str | None = None
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
                "case": self.case, "times": self.times, "probability": self.probability, "fired": self.fired}


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
            f.fired += 1
            if f.times is not None:
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
            return f
        return None
