"""Implementations of the engine's store contract (`gateway.engine.ports`), chosen by a URL-like setting.

Stores depend on the engine's records and ports, never the reverse."""
from __future__ import annotations

from ..engine.ports import StoreFactory

SCHEMES = ("memory",)


def open_stores(url: str = "memory") -> StoreFactory:
    """The store factory a setting names: `memory` (the default)."""
    if url == "memory":
        from .memory import MemoryStores
        return MemoryStores()
    raise ValueError(f"unknown store {url!r}; one of: {', '.join(SCHEMES)}")


__all__ = ["SCHEMES", "StoreFactory", "open_stores"]
