"""What every vendor adapter provides, and the values passed between the dispatcher and it.

An adapter maps names and shapes: credentials -> tenant, request -> one engine call,
engine result -> vendor body, engine error -> vendor envelope. It holds no business rule."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Mapping

from aiohttp import web

from ..engine.errors import EngineError
from ..engine.tenant import Tenant
from ..specs import Operation, Violation


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None    # why the call was refused, for the request log (bad_credentials, fault:<case> ...)


class VendorError(Exception):
    """A reply already in the vendor's words (auth failures, wire-level refusals)."""

    def __init__(self, reply: Reply):
        super().__init__(f"{reply.status}")
        self.reply = reply


@dataclass
class Call:
    """One validated request, as a handler sees it."""

    request: web.Request
    op: Operation
    tenant: Tenant
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any
    format: str = "json"

    def now(self):
        return self.tenant.now()

    def setting(self, name: str, default: Any = None) -> Any:
        return self.tenant.setting(self.op.vendor, name, default)


class Vendor:
    """Base adapter. Subclasses set `name`, `responses` (handlers by operationId) and the replies."""

    name: str = ""
    responses: ModuleType | None = None
    xml_root: str | None = None      # set for vendors that speak XML
    auth_reads_body: bool = False    # credentials may sit in the body: decode before authenticating
    path_prefixes: tuple[str, ...] = ()   # set by the registry from the vendor's descriptor

    # --- credentials ----------------------------------------------------------------------------
    def authenticate(self, request: web.Request, op: Operation, engine, body: Any) -> Tenant:
        raise NotImplementedError

    # --- formats --------------------------------------------------------------------------------
    def response_format(self, request: web.Request, body: Any, request_format: str) -> str:
        return "json"

    def prepare_body(self, body: Any) -> Any:
        """The decoded body as the vendor reads it, before validation (Altcraft: `null` means absent)."""
        return body

    # --- errors in the vendor's own words ---------------------------------------------------------
    def malformed(self, op: Operation | None, message: str, fmt: str = "json") -> Reply:
        raise NotImplementedError

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        raise NotImplementedError

    def too_large(self, op: Operation | None, limit: int, fmt: str = "json") -> Reply:
        """A body over the gateway's size cap (`limit` bytes), refused before it is read whole. By default the
        vendor's malformed-body answer, told it is too large; a vendor with its own 413 (or words) says so."""
        return self.malformed(op, "request body too large", fmt)

    def method_not_allowed(self, path: str, method: str, allowed: list[str]) -> Reply:
        """A path this vendor serves, with another method: 405 (the `Allow` header is the gateway's)."""
        return Reply(405, {"message": f"method {method} not allowed", "allowed": allowed})

    def engine_error(self, op: Operation, exc: EngineError) -> Reply:
        raise NotImplementedError

    def not_found_route(self, path: str) -> Reply:
        return Reply(404, {"message": "Not Found"})

    def internal(self, op: Operation | None) -> Reply:
        raise NotImplementedError

    def unavailable(self, op: Operation | None) -> Reply:
        """The store could not keep a write (disk full, I/O error): the vendor's own "try again later" where it
        has one (its `unavailable` fault case, a 503), else its internal-error 5xx. Nothing of the call was kept."""
        return self.fault("unavailable", op) if "unavailable" in self.fault_cases else self.internal(op)

    def fault(self, case: str, op: Operation | None) -> Reply:
        """A vendor error armed by /__admin faults (rate limit, server error ...)."""
        raise NotImplementedError

    fault_cases: Mapping[str, str] = {}

    def fault_status(self, case: str) -> int:
        """The status a fault case stands for (what `"status": N` in an armed fault selects): the HTTP status
        of its reply, unless the vendor says otherwise (Altcraft: the `error` code inside its HTTP 200)."""
        return self.fault(case, None).status

    def finalize(self, reply: Reply, tenant: Tenant | None) -> Reply:
        """Last touch on every reply, with the tenant when known (e.g. Altcraft's error-status switch)."""
        return reply

    def member_view(self, tenant: Tenant, member) -> Any:
        """The member's balance exactly as this vendor's balance read would answer it (admin views)."""
        return None

    def export_document(self, tenant: Tenant, export) -> tuple[str, str] | None:
        """An export this vendor took (engine/exports.py), as its file: (media type, text); None: not this
        vendor's."""
        return None

    def not_implemented(self, op: Operation) -> Reply:
        return Reply(501, {"message": f"{op.operation_id} is not served by this gateway yet"})


def fingerprint(body: Any, ignore: tuple[str, ...] = ()) -> str:
    """A stable digest of a request body (keys sorted, `ignore`d fields left out): the same business
    id sent with a different body is a conflict, with the same body a replay."""
    import hashlib
    import json
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ignore}
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
