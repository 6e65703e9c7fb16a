"""The bounded request journal of one tenant: what was called, how it ended, and why."""
from __future__ import annotations

import itertools
import json
import time
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


class SharedJournal:
    """The journal of one tenant in a shared store file (`sqlite:`), so every worker lists every worker's calls.

    Calls are buffered and written together (at most `FLUSH_S` later, or at `FLUSH_N` entries): a call does not
    pay a transaction for its journal line. This worker's own lines are written before it lists; another worker's
    appear once that worker flushes (within `FLUSH_S`). Each line keeps the instant it was answered (the host's
    clock in ns, the same for every worker): the journal is listed in that order, not in the order workers flushed,
    and a clear through any worker forgets every line answered before it, even one still buffered elsewhere."""

    FLUSH_S = 0.05
    FLUSH_N = 64

    def __init__(self, world, tenant: str, size: int = 1000):
        self.world, self.tenant, self.size = world, tenant, size
        self._pending: list[tuple[int, dict]] = []
        self._timer = None
        world.on_close.append(self.flush)       # a clean stop keeps the lines still buffered

    def record(self, **fields: Any) -> None:
        self._pending.append((time.time_ns(), fields))
        if len(self._pending) >= self.FLUSH_N:
            self.flush()
        elif self._timer is None:
            try:
                import asyncio
                self._timer = asyncio.get_running_loop().call_later(self.FLUSH_S, self.flush)
            except RuntimeError:       # no loop (a script): write at once
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        if not pending or self.world.closed:
            return
        rows = [(self.tenant, ns, e["vendor"], e["operation"], e["status"],
                 json.dumps(Journal._view(e), default=str)) for ns, e in pending]

        def write(db):
            cleared = db.execute("SELECT answered FROM journal_cleared WHERE tenant = ?", (self.tenant,)).fetchone()
            kept = rows if cleared is None else [r for r in rows if r[1] > cleared[0]]
            db.executemany("INSERT INTO journal(tenant, answered, vendor, operation, status, body) "
                           "VALUES (?, ?, ?, ?, ?, ?)", kept)
            db.execute("DELETE FROM journal WHERE tenant = ? AND answered <= (SELECT answered FROM journal "
                       "WHERE tenant = ? ORDER BY answered DESC LIMIT 1 OFFSET ?)", (self.tenant, self.tenant, self.size))
        try:
            self.world.write(write)
        except Exception:   # noqa: BLE001 - a journal that cannot be written must not fail calls already answered
            import logging
            logging.getLogger("loyalty_gateway").exception("cannot write %d journal entries", len(rows))

    def list(self, *, vendor: str | None = None, operation: str | None = None, status: int | None = None,
             limit: int = 100, offset: int = 0) -> list[dict]:
        self.flush()
        where, args = ["tenant = ?"], [self.tenant]
        for column, value in (("vendor", vendor), ("operation", operation), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        rows = self.world.db.execute(f"SELECT id, body FROM journal WHERE {' AND '.join(where)} "
                                     f"ORDER BY answered DESC, id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
        return [{**json.loads(body), "id": rid} for rid, body in rows.fetchall()]

    def clear(self) -> None:
        self._pending = []
        now = time.time_ns()

        def write(db):
            db.execute("DELETE FROM journal WHERE tenant = ? AND answered <= ?", (self.tenant, now))
            db.execute("INSERT INTO journal_cleared VALUES (?, ?) ON CONFLICT(tenant) DO UPDATE SET "
                       "answered = max(answered, excluded.answered)", (self.tenant, now))
        self.world.write(write)

    def __len__(self) -> int:
        self.flush()
        return self.world.db.execute("SELECT count(*) FROM journal WHERE tenant = ?", (self.tenant,)).fetchone()[0]
