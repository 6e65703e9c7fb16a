"""`Authorization: Bearer <token>` on every call; the token resolves the tenant. Anything else is
Laravel's 401 `{"message": "Unauthenticated."}`, always as JSON."""
from __future__ import annotations

from aiohttp import web

from ...engine.tenant import Tenant
from ..base import VendorError
from . import render
from .descriptor import DESCRIPTOR

CREDENTIAL = DESCRIPTOR.credential_key("token")


def bearer(request: web.Request) -> str | None:
    value = (request.headers.get("Authorization") or "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(request: web.Request, engine) -> Tenant:
    tenant = engine.by_credential(CREDENTIAL, bearer(request))
    if tenant is None:
        raise VendorError(render.error(401, "Unauthenticated."))
    return tenant
