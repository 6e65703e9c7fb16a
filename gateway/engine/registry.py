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

    def add(self, tenant: Tenant, *, replace: bool = False) -> Tenant:
        """Register a tenant. Its id must be new (unless `replace`, which swaps the tenant of that id for
        this one: reset, restore) and none of its credentials may open another tenant: two tenants sharing a
        credential would make every call with it ambiguous."""
        if tenant.id in self._tenants and not replace:
            raise TenantConflict(f"tenant {tenant.id!r} already exists", tenant=tenant.id)
        taken = sorted(f"{namespace}.{name}" for namespace, creds in tenant.credentials.items()
                       for name, secret in creds.items()
                       if self._by_credential.get((f"{namespace}.{name}", str(secret)), tenant.id) != tenant.id)
        if taken:
            raise TenantConflict(f"credentials already used by another tenant: {', '.join(taken)}",
                                 tenant=tenant.id, credentials=", ".join(taken))
        if tenant.id in self._tenants:
            self.remove(tenant.id)
        self._tenants[tenant.id] = tenant
        for namespace, creds in tenant.credentials.items():
            for name, secret in creds.items():
                self._by_credential[(f"{namespace}.{name}", str(secret))] = tenant.id
        return tenant

    def remove(self, tenant_id: str) -> None:
        tenant = self._tenants.pop(tenant_id, None)
        if tenant is None:
            raise TenantNotFound("tenant not found", tenant=tenant_id)
        for key in [k for k, v in self._by_credential.items() if v == tenant_id]:
            del self._by_credential[key]

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
