"""The SQLite store (`sqlite:PATH`): every tenant's state in one file that survives restarts and is shared by
several workers. See world.py for how a worker's copy and the file stay one world, tenant_store.py for the rows."""
from __future__ import annotations

from urllib.parse import parse_qs

from ...engine.ports import StoreFactory
from .tenant_store import SqliteTenantStore
from .world import SCHEMA_VERSION, StoreFileError, World


def parse(url: str) -> tuple[str, dict[str, str]]:
    """`sqlite:PATH[?sync=normal|full]` -> (path, options); a clear StoreFileError otherwise."""
    rest = url[len("sqlite:"):]
    path, _, query = rest.partition("?")
    if path.startswith("//"):       # sqlite:///abs/path, the SQLAlchemy spelling
        path = path[2:]
    if not path:
        raise StoreFileError("sqlite: needs a file path, e.g. sqlite:world.db")
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(options) - {"sync"})
    if unknown:
        raise StoreFileError(f"{url}: unknown option {unknown[0]!r}; known: sync")
    if options.get("sync", "normal") not in ("normal", "full"):
        raise StoreFileError(f"{url}: sync is normal or full, not {options['sync']!r}")
    return path, options


class SqliteStores(StoreFactory):
    """`sqlite:PATH`: each tenant's state in one SQLite file, kept across restarts and shared by workers."""

    def __init__(self, url: str, workers: int = 1):
        self.url = url
        path, options = parse(url)
        self.path = path
        self.workers = workers
        self.world = World(path, sync=options.get("sync", "normal"))

    def new(self, tenant_id: str) -> SqliteTenantStore:
        return SqliteTenantStore()

    def restore(self, tenant_id: str, data: dict) -> SqliteTenantStore:
        return SqliteTenantStore.restore(data)

    def bind(self, engine) -> None:
        self.world.bind(engine)

    def attach(self, tenant) -> None:
        self.world.attach(tenant)

    def forget(self, tenant_id: str) -> None:
        self.world.forget(tenant_id)

    def sync(self) -> None:
        self.world.sync()

    def held(self) -> list[str]:
        return self.world.held()

    def describe(self) -> dict:
        return {"kind": "sqlite", "path": self.path, "schema": SCHEMA_VERSION, "sync": self.world.sync_mode}

    def close(self) -> None:
        self.world.close()


__all__ = ["SqliteStores", "SqliteTenantStore", "StoreFileError", "World"]
