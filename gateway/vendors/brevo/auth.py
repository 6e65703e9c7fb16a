"""Header `api-key` on every call (raw value, header name in any casing). The texts are Brevo's:
the missing-header body was observed in production (brevo-python issue 13); the unknown-key text
is a gateway choice (spec info.description)."""
from __future__ import annotations

from aiohttp import web

from ...engine.tenant import Tenant
from ..base import VendorError
from . import render
from .descriptor import DESCRIPTOR

MISSING = "authentication not found in headers"
UNKNOWN = "Key not found"
CREDENTIAL = DESCRIPTOR.credential_key("api_key")


def authenticate(request: web.Request, engine) -> Tenant:
    key = request.headers.get("api-key")
    if not key:
        raise VendorError(render.error(401, "unauthorized", MISSING))
    tenant = engine.by_credential(CREDENTIAL, key)
    if tenant is None:
        raise VendorError(render.error(401, "unauthorized", UNKNOWN))
    return tenant
