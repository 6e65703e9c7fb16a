"""The bounded request journal of one tenant: what was called, how it ended, and why."""
from __future__ import annotations

import itertools
from collections import deque
from typing import Any


class Journal:
    def __init__(self, size: int = 1000):
        self._items: deque[dict] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def record(self, **fields: Any) -> None:
        """Kept raw (formatting happens on read, off the request path)."""
        fields["id"] = next(self._ids)
        self._items.append(fields)

    @staticmethod
    def _view(e: dict) -> dict:
        return {**e, "at": e["at"].isoformat().replace("+00:00", "Z"), "duration_ms": round(e["duration_ms"], 3),
                "request_violations": [v.as_dict() for v in e["request_violations"]],
                "response_violations": [v.as_dict() for v in e["response_violations"]]}

    def list(self, *, vendor: str | None = None, operation: str | None = None, status: int | None = None,
             limit: int = 100, offset: int = 0) -> list[dict]:
        """Newest first: the `limit` matching entries after the first `offset` ones; only those are formatted."""
        out = []
        for e in reversed(self._items):
            if (vendor is None or e["vendor"] == vendor) and (operation is None or e["operation"] == operation) \
                    and (status is None or e["status"] == status):
                if offset:
                    offset -= 1
                    continue
                out.append(self._view(e))
                if len(out) >= limit:
                    break
        return out

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
