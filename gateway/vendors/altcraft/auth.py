"""The API token: `Authorization: Bearer <token>`, else the body field `token`, else the (legacy)
query `token`. No token: error 401 "API token required"; unknown token: error 403."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ...engine.tenant import Tenant
from ..base import VendorError
from .descriptor import DESCRIPTOR

CREDENTIAL = DESCRIPTOR.credential_key("token")
TOKEN_REQUIRED = "API token required"
INVALID_TOKEN = "Access denied: invalid API token"


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization") or ""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _body_token(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    token = body.get("token")
    if token is None or isinstance(token, (dict, list, bool)):
        return None
    token = str(token).strip()
    return token or None


def token(request: web.Request, body: Any) -> str | None:
    return _bearer(request) or _body_token(body) or (request.query.get("token") or "").strip() or None


def authenticate(vendor, request: web.Request, engine, body: Any) -> Tenant:
    found = token(request, body)
    if found is None:
        raise VendorError(vendor.error(401, TOKEN_REQUIRED))
    tenant = engine.by_credential(CREDENTIAL, found)
    if tenant is None:
        raise VendorError(vendor.error(403, INVALID_TOKEN))
    return tenant
