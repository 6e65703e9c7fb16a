"""The bounded request journal of one tenant: what was called, how it ended, and why."""
from __future__ import annotations

import itertools
from collections import deque
from typing import Any


class Journal:
    def __init__(self, size: int = 1000):
        self._items: deque[dict] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def record(self, *, request_violations, response_violations, at, **fields: Any) -> None:
        self._items.append({
            "id": next(self._ids), "at": at.isoformat().replace("+00:00", "Z"), **fields,
            "duration_ms": round(fields.get("duration_ms", 0.0), 3),
            "request_violations": [v.as_dict() for v in request_violations],
            "response_violations": [v.as_dict() for v in response_violations],
        })

    def list(self, *, vendor: str | None = None, operation: str | None = None, status: int | None = None,
             limit: int = 100) -> list[dict]:
        out = [e for e in reversed(self._items)
               if (vendor is None or e["vendor"] == vendor) and (operation is None or e["operation"] == operation)
               and (status is None or e["status"] == status)]
        return out[:limit]

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
