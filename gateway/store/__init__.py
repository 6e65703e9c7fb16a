"""Implementations of the engine's store contract (`gateway.engine.ports`), chosen by a URL-like setting.

Stores depend on the engine's records and ports, never the reverse."""
from __future__ import annotations

from ..engine.ports import StoreFactory

SCHEMES = ("memory", "sqlite:PATH")


class StoreError(ValueError):
    """A store setting that names no store, or a store file that cannot serve: one clear line."""


def open_stores(url: str = "memory", *, workers: int = 1) -> StoreFactory:
    """The store factory a setting names: `memory` (the default) or `sqlite:PATH[?sync=full]`."""
    if url == "memory":
        from .memory import MemoryStores
        return MemoryStores()
    if url.startswith("sqlite:"):
        from .sqlite import SqliteStores, StoreFileError
        try:
            return SqliteStores(url, workers=workers)
        except StoreFileError as exc:
            raise StoreError(str(exc)) from None
    raise StoreError(f"unknown store {url!r}; one of: {', '.join(SCHEMES)}")


__all__ = ["SCHEMES", "StoreError", "StoreFactory", "open_stores"]
