"""Altcraft's error envelope {error, error_text}, the response format choice, and how engine errors,
validation failures and armed faults map onto its codes.

HTTP status: by default every answer is HTTP 200 and the outcome is in `error` (the vendor: "HTTP 200
only means transport success"). With the tenant setting altcraft.error_http_status = true the HTTP
status equals `error` (4xx/5xx): finalize() applies it to every reply of a request whose tenant is
known. Where the tenant is not known yet (malformed body, missing or unknown token) the answer stays
HTTP 200."""
from __future__ import annotations

from typing import Any

from ...engine import errors as E
from ...engine.tenant import Tenant
from ...specs import Operation, Violation
from ..base import Reply, Vendor
from . import auth, render, responses

FORMATS = ("json", "xml")
INCORRECT = "Incorrect request"
NOT_TEMPORARY = "Transaction is not temporary"
TRANSACTION_OPS = ("commit_transaction", "rollback_transaction", "cancel_transaction")

# engine error -> (code, text, with the engine's detail); the first match wins (subclasses first)
ENGINE = [
    (E.ProgramNotFound, 404, "Loyalty program not found", False),
    (E.CurrencyNotFound, 404, "Points currency not found", False),
    (E.MemberNotFound, 404, "Profile not found", False),
    (E.MemberInactive, 404, "Profile is not a member of the loyalty program", False),
    (E.TransactionNotFound, 404, "Transaction not found", False),
    (E.HoldNotFound, 404, "Transaction not found", False),
    (E.NotFound, 404, "Not found", False),
    (E.DuplicateKey, 409, "transaction_eid was already used with a different request", False),
    (E.InsufficientPoints, 400, "Insufficient points", False),
    (E.InvalidAmount, 400, "Incorrect amount", True),
    (E.LimitExceeded, 400, "Points currency limit exceeded", True),
    (E.AlreadyCancelled, 400, "Transaction is already cancelled or rolled back", False),
    (E.InvalidState, 400, "Transaction state does not allow this operation", False),
    (E.InvalidTime, 400, "Incorrect date", True),
    (E.InvalidRequest, 400, INCORRECT, True),
    (E.EngineError, 400, INCORRECT, True),
]

# (operation, matched engine error class of ENGINE) -> text, where an operation words a refusal more precisely
BY_OPERATION = {
    ("commit_transaction", E.InvalidState): NOT_TEMPORARY,
    ("rollback_transaction", E.InvalidState): NOT_TEMPORARY,
    ("cancel_transaction", E.InsufficientPoints): "Insufficient points: the accrued points were already spent",
}

FAULTS = {"tariff_limit": (402, "Tariff limit reached"),
          "server_error": (500, "Internal error"),
          "forbidden": (403, "Access denied"),
          "unauthorized": (401, auth.TOKEN_REQUIRED)}


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
    auth_reads_body = True       # the token may be a body field
    fault_cases = {k: f"error {code} ({text})" for k, (code, text) in FAULTS.items()}

    # --- envelope ---------------------------------------------------------------------------------
    def error(self, code: int, text: str) -> Reply:
        """An error envelope, HTTP 200 (finalize() mirrors the code into the status when the tenant asks)."""
        return Reply(200, render.error(code, text if len(text) <= 300 else text[:297] + "..."))

    def finalize(self, reply: Reply, tenant: Tenant | None) -> Reply:
        if tenant is None or not _truthy(tenant.setting(self.name, "error_http_status", False)):
            return reply
        code = reply.body.get("error") if isinstance(reply.body, dict) else None
        if reply.status == 200 and isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
            return Reply(code, reply.body, reply.headers)
        return reply

    def member_view(self, tenant: Tenant, member) -> Any:
        """`data` of get_account_balance for the member in the program's default points currency
        (a removed member gets the same refusal as on the wire)."""
        if not member.active:
            raise E.MemberInactive("member is not registered in the program", member=member.id)
        program = tenant.program(member.program_id)
        return render.balance(tenant.balance(member, program.default_currency))

    # --- credentials and formats --------------------------------------------------------------------
    def authenticate(self, request, op, engine, body):
        return auth.authenticate(self, request, engine, body)

    def response_format(self, request, body, request_format):
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
        if v.keyword == "required" and name == "transaction_id" and op.operation_id in TRANSACTION_OPS:
            text = f"{INCORRECT}: transaction_id or transaction_eid is required"
        elif v.keyword == "required" and name:
            text = f"{INCORRECT}: {name} is required"
        elif name:
            text = f"{INCORRECT}: {name}: {v.message}"
        else:
            text = f"{INCORRECT}: {v.message}"
        return self.error(400, text)

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        for cls, code, text, detail in ENGINE:
            if isinstance(exc, cls):
                special = BY_OPERATION.get((op.handler if op is not None else None, cls))
                if special is not None and "held" in exc.detail:
                    special = "Insufficient points: the accrued points are held"
                if special is not None:
                    return self.error(code, special)
                return self.error(code, f"{text}: {exc.message}" if detail and exc.message else text)
        return self.error(400, INCORRECT)

    def fault(self, case, op):
        code, text = FAULTS.get(case, FAULTS["server_error"])
        return self.error(code, text)

    def fault_status(self, case):
        """The error code (the HTTP status only with `error_http_status`): `"status": 402` is the tariff limit."""
        return FAULTS[case][0]

    def internal(self, op):
        return self.error(500, "Internal error")

    def not_found_route(self, path):
        return Reply(404, render.error(404, f"Unknown API method: {path}"))

    def method_not_allowed(self, path, method, allowed):
        return Reply(405, render.error(405, f"Method {method} is not allowed: {path} takes {', '.join(allowed)}"))

    def not_implemented(self, op):
        return Reply(501, render.error(501, f"{op.operation_id} is not served by this gateway yet"))
