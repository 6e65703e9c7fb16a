"""`apikey` on every call, `secretkey` where the operation's security lists it (or everywhere in
High Security Mode). Raw header values, names in any casing."""
from __future__ import annotations

from aiohttp import web

from ...engine.tenant import Tenant
from ...specs import Operation
from ..base import VendorError
from .descriptor import DESCRIPTOR

APIKEY = DESCRIPTOR.credential_key("apikey")
SECURE_PREFIX = "/api/v4.1/"


def needs_secret(op: Operation) -> bool:
    return any("secretKey" in req for req in op.security)


def authenticate(vendor, request: web.Request, op: Operation, engine) -> Tenant:
    apikey = request.headers.get("apikey")
    if not apikey:
        raise VendorError(vendor.error(1000, "Unauthorized access. API key is missing."))
    tenant = engine.by_credential(APIKEY, apikey)
    if tenant is None:
        raise VendorError(vendor.error(1000, "Unauthorized access. Please authenticate to proceed."))
    secure = request.path.startswith(SECURE_PREFIX)     # v4.1 "Secure Integration Mode": secretkey always
    if secure or needs_secret(op) or tenant.setting(DESCRIPTOR.name, "high_security", False):
        secret = request.headers.get("secretkey") or request.headers.get("transactionkey")
        if not secret:
            raise VendorError(vendor.error(1001, "Secret key is required for this operation."))
        if secret != tenant.credentials.get(DESCRIPTOR.name, {}).get("secretkey"):
            raise VendorError(vendor.error(1001, "Secret key is invalid."))
    return tenant
