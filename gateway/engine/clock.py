"""The engine's only source of time: wall time plus an offset, or frozen at an instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

UTC = timezone.utc


def wall_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    __slots__ = ("_offset", "_frozen_at", "_wall", "on_change")

    def __init__(self, now: datetime | None = None, frozen: bool = False,
                 wall: Callable[[], datetime] = wall_now):
        self._wall = wall
        self.on_change: Callable[[], None] | None = None    # the tenant keeps the clock in its store
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if now is not None:
            self.set(now, frozen=frozen)
        elif frozen:
            self._frozen_at = wall()

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._wall() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def set(self, at: datetime, frozen: bool | None = None) -> None:
        at = at.astimezone(UTC)
        keep_frozen = self.frozen if frozen is None else frozen
        if keep_frozen:
            self._frozen_at = at
        else:
            self._frozen_at = None
            self._offset = at - self._wall()
        if self.on_change is not None:
            self.on_change()

    def state(self) -> tuple[datetime | None, timedelta]:
        """(frozen instant or None, offset from wall time): what a store keeps of the clock."""
        return self._frozen_at, self._offset

    def load(self, state: tuple[datetime | None, timedelta]) -> None:
        self._frozen_at, self._offset = state

    def freeze(self, frozen: bool = True) -> None:
        self.set(self.now(), frozen=frozen)

    def advance(self, by: timedelta) -> None:
        self.set(self.now() + by)
