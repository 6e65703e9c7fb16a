"""Altcraft's error envelope {error, error_text}, the response format choice, and how engine errors,
validation failures and armed faults map onto its codes.

HTTP status: by default every answer is HTTP 200 and the outcome is in `error` (the vendor: "HTTP 200
only means transport success"). With the tenant setting altcraft.error_http_status = true the HTTP
status equals `error` (4xx/5xx). Where the tenant is not known yet (malformed body, missing or unknown
token) the answer stays HTTP 200."""
from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from ...engine import errors as E
from ...engine.tenant import Tenant
from ...specs import Operation, Violation
from ..base import Reply, Vendor
from . import auth, render, responses

FORMATS = ("json", "xml")
INCORRECT = "Incorrect request"

# engine error -> (code, text); the first match wins (subclasses before their bases)
ENGINE = [
    (E.ProgramNotFound, 404, "Loyalty program not found"),
    (E.CurrencyNotFound, 404, "Points currency not found"),
    (E.MemberNotFound, 404, "Profile not found"),
    (E.MemberInactive, 404, "Profile is not a member of the loyalty program"),
    (E.TransactionNotFound, 404, "Transaction not found"),
    (E.HoldNotFound, 404, "Transaction not found"),
    (E.NotFound, 404, "Not found"),
    (E.DuplicateKey, 409, "transaction_eid was already used with a different request"),
    (E.InsufficientPoints, 400, "Insufficient points"),
    (E.InvalidAmount, 400, "Incorrect amount"),
    (E.LimitExceeded, 400, "Points currency limit exceeded"),
    (E.InvalidState, 400, "Transaction state does not allow this operation"),
    (E.InvalidTime, 400, "Incorrect date"),
    (E.InvalidRequest, 400, INCORRECT),
    (E.EngineError, 400, INCORRECT),
]

FAULTS = {"tariff_limit": (402, "Tariff limit reached"),
          "server_error": (500, "Internal error"),
          "forbidden": (403, "Access denied"),
          "unauthorized": (401, auth.TOKEN_REQUIRED)}

# The tenant of the request being served, for the error_http_status setting. The dispatcher does not
# hand the tenant to invalid()/engine_error()/fault()/internal(), so authenticate() records it here
# (aiohttp serves each request in its own task, so the value never outlives its request).
_TENANT: ContextVar[Tenant | None] = ContextVar("altcraft_tenant", default=None)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _accept_format(accept: str) -> str | None:
    """The json/xml media range of an Accept header with the highest q (first one on a tie)."""
    best, best_q = None, 0.0
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        media = media.lower()
        fmt = "xml" if media.endswith("/xml") or media.endswith("+xml") else \
              "json" if media.endswith("/json") or media.endswith("+json") else None
        if fmt is None:
            continue
        q = 1.0
        for p in params:
            k, _, v = p.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = fmt, q
    return best


def _format_value(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() in FORMATS:
        return value.strip().lower()
    return None


class AltcraftVendor(Vendor):
    name = "altcraft"
    responses = responses
    xml_root = "xml"
    path_prefixes = ("/api/v1.1/",)
    fault_cases = {k: f"error {code} ({text})" for k, (code, text) in FAULTS.items()}

    # --- envelope ---------------------------------------------------------------------------------
    def error(self, code: int, text: str, tenant: Tenant | None = None) -> Reply:
        mirror = tenant is not None and _truthy(tenant.setting(self.name, "error_http_status", False))
        return Reply(code if mirror and 400 <= code <= 599 else 200, render.error(code, text))

    def _error(self, code: int, text: str) -> Reply:
        """An error of the request being served, once its tenant is known."""
        return self.error(code, text, _TENANT.get())

    # --- credentials and formats --------------------------------------------------------------------
    def authenticate(self, request, op, engine, body):
        _TENANT.set(None)
        tenant = auth.authenticate(self, request, engine, body)
        _TENANT.set(tenant)
        return tenant

    def response_format(self, request, body, request_format):
        _TENANT.set(None)
        return (_format_value(request.query.get("format"))
                or (_format_value(body.get("format")) if isinstance(body, dict) else None)
                or _accept_format(request.headers.get("Accept") or "")
                or (request_format if request_format in FORMATS else "json"))

    # --- errors -------------------------------------------------------------------------------------
    def malformed(self, op, message, fmt="json"):
        return self.error(400, f"{INCORRECT}: {message}")

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        v = violations[0]
        name = v.field
        if v.keyword == "required" and name:
            text = f"{INCORRECT}: {name} is required"
        elif name:
            text = f"{INCORRECT}: {name}: {v.message}"
        else:
            text = f"{INCORRECT}: {v.message}"
        return self._error(400, text if len(text) <= 300 else text[:297] + "...")

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        for cls, code, text in ENGINE:
            if isinstance(exc, cls):
                detail = exc.message if cls in (E.InvalidRequest, E.EngineError) else None
                return self._error(code, f"{text}: {detail}" if detail else text)
        return self._error(400, INCORRECT)

    def fault(self, case, op):
        code, text = FAULTS.get(case, FAULTS["server_error"])
        return self._error(code, text)

    def internal(self, op):
        return self._error(500, "Internal error")

    def not_found_route(self, path):
        return Reply(404, render.error(404, f"Unknown API method: {path}"))

    def not_implemented(self, op):
        return Reply(501, render.error(501, f"{op.operation_id} is not served by this gateway yet"))
