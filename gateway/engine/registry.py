"""All tenants of one gateway, and which credentials open which tenant."""
from __future__ import annotations

from typing import Iterable

from .errors import TenantConflict, TenantNotFound
from .ports import StoreFactory
from .tenant import Tenant


class Engine:
    """All tenants of one gateway (a registry: each tenant is its own world), and where their stores come from."""

    def __init__(self, stores: StoreFactory | None = None) -> None:
        self.stores = stores            # None: the fixtures loader's default (memory)
        self._tenants: dict[str, Tenant] = {}
        self._by_credential: dict[tuple[str, str], str] = {}
        if stores is not None:
            stores.bind(self)            # the tenants a durable store already holds

    @staticmethod
    def _keys(tenant: Tenant) -> list[tuple[str, str]]:
        """(`<vendor>.<name>`, secret) for each of the tenant's credentials: how `by_credential` finds it."""
        return [(f"{namespace}.{name}", str(secret)) for namespace, creds in tenant.credentials.items()
                for name, secret in creds.items()]

    def conflicts(self, tenant: Tenant, *, replace: bool = False) -> list[tuple[str, str]]:
        """What of `tenant` another registered tenant already has, as (`tenant` or `<vendor>.<name>`, that
        tenant's id): its id (unless `replace`), each credential (with `replace`, the same id's are its own)."""
        out = [("tenant", tenant.id)] if tenant.id in self._tenants and not replace else []
        for kind, secret in self._keys(tenant):
            owner = self._by_credential.get((kind, secret))
            if owner is not None and not (replace and owner == tenant.id):
                out.append((kind, owner))
        return out

    def add(self, tenant: Tenant, *, replace: bool = False) -> Tenant:
        """Register a tenant. Its id must be new (unless `replace`, which swaps the tenant of that id for
        this one: reset, restore) and none of its credentials may open another tenant: two tenants sharing a
        credential would make every call with it ambiguous."""
        self.sync()
        found = self.conflicts(tenant, replace=replace)
        if found and found[0][0] == "tenant":
            raise TenantConflict(f"tenant {tenant.id!r} already exists", tenant=tenant.id)
        if found:
            taken = sorted(kind for kind, _ in found)
            raise TenantConflict(f"credentials already used by another tenant: {', '.join(taken)}",
                                 tenant=tenant.id, credentials=", ".join(taken))
        if self.stores is not None:
            self.stores.attach(tenant)        # a durable store keeps the tenant whole before it is served
        return self.register(tenant)

    def register(self, tenant: Tenant) -> Tenant:
        """Serve `tenant` (replacing the one of its id): no checks, nothing stored (`add` has done both, or the
        store itself is loading what it holds)."""
        if tenant.id in self._tenants:
            self.unregister(tenant.id)
        self._tenants[tenant.id] = tenant
        for key in self._keys(tenant):
            self._by_credential[key] = tenant.id
        return tenant

    def remove(self, tenant_id: str) -> None:
        if tenant_id not in self._tenants:
            raise TenantNotFound("tenant not found", tenant=tenant_id)
        if self.stores is not None:
            self.stores.forget(tenant_id)
        self.unregister(tenant_id)

    def unregister(self, tenant_id: str) -> None:
        self._tenants.pop(tenant_id, None)
        for key in [k for k, v in self._by_credential.items() if v == tenant_id]:
            del self._by_credential[key]

    def sync(self) -> None:
        """Catch up with what other workers wrote to a shared store (a no-op for memory)."""
        if self.stores is not None:
            self.stores.sync()

    def get(self, tenant_id: str) -> Tenant:
        t = self._tenants.get(tenant_id)
        if t is None:
            raise TenantNotFound("tenant not found", tenant=tenant_id)
        return t

    def by_credential(self, kind: str, secret: str | None) -> Tenant | None:
        """`kind` is '<namespace>.<name>' as given in the tenant's credentials."""
        if not secret:
            return None
        tid = self._by_credential.get((kind, secret))
        return self._tenants.get(tid) if tid else None

    def __iter__(self) -> Iterable[Tenant]:
        return iter(list(self._tenants.values()))

    def __len__(self) -> int:
        return len(self._tenants)
