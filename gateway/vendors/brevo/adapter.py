"""Brevo's error envelope {code, message} (`errorModel`) and how engine errors, validation
failures and armed faults map onto its codes and HTTP statuses (spec info.description):
404 document_not_found, 422 for validation and business refusals, 400 only for a body that is
not JSON, 401/403/429/500 as Brevo declares them."""
from __future__ import annotations

from ...codecs import jsonable
from ...engine import errors as E
from ...specs import Operation, Violation, pointer_parts
from ...specs import get as get_spec
from ..base import Reply, Vendor
from . import auth, render, responses

# 404 texts follow the texts Brevo's spec gives per endpoint.
NOT_FOUND = [
    (E.ProgramNotFound, "not found"),
    (E.CurrencyNotFound, "balance definition doesn't exist"),
    (E.MemberNotFound, "subscription not found"),
    (E.MemberInactive, "subscription not found"),     # not (or no longer) subscribed: not a member
    (E.TransactionNotFound, "transaction not found"),
    (E.LimitNotFound, "balance limit not found"),
    (E.NotFound, "not found"),
]
NOT_FOUND_BY_OPERATION = {
    "get_balance_definition": {E.CurrencyNotFound: "not found"},
    "get_subscription_balances": {E.MemberNotFound: "not found", E.MemberInactive: "not found"},
    # "404 'transaction not found' for an unknown transaction or program"
    "complete_transaction": {E.ProgramNotFound: "transaction not found"},
    "cancel_transaction": {E.ProgramNotFound: "transaction not found"},
}

# A write for a contact that is not (or no longer) a member of the program is a 422 [D], not a 404.
NOT_SUBSCRIBED = "contact is not subscribed to the loyalty program"
NOT_SUBSCRIBED_OPERATIONS = {"create_transaction", "create_order"}

# refusals whose Brevo text is fixed whatever the engine's detail
REFUSED_BY_OPERATION = {
    "complete_transaction": {E.InvalidState: "transaction is not in draft status"},
    "cancel_transaction": {E.InvalidState: "transaction is not in draft status"},
}

# engine refusals whose Brevo text differs from the engine's (the code stays the one REFUSED gives)
TEXT_BY_OPERATION = {
    "create_subscription_balance": {E.DuplicateKey: "the contact already has a balance of this balance definition"},
    "delete_balance_definition": {E.LastCurrency: "the program keeps at least one balance definition",
                                  E.CurrencyInUse: "balance definition is in use"},
}

# the engine's names of the fields it refuses -> Brevo's
FIELDS = {"expires_at": "expiresAt"}

# engine refusals (not "not found") -> 422 code
REFUSED = [
    (E.DuplicateKey, "duplicate_request"),
    (E.InvalidTime, "out_of_range"),
    (E.InvalidRequest, "invalid_parameter"),
    (E.EngineError, "unprocessable_entity"),   # insufficient points, limits, state, amounts ...
]

RANGE = {
    "minimum": "must be greater than or equal to {minimum}",
    "exclusiveMinimum": "must be greater than {exclusiveMinimum}",
    "maximum": "must be less than or equal to {maximum}",
    "exclusiveMaximum": "must be less than {exclusiveMaximum}",
    "minLength": "must be at least {minLength} characters long",
    "maxLength": "must be at most {maxLength} characters long",
    "minItems": "must have at least {minItems} items",
    "maxItems": "must have at most {maxItems} items",
}
TYPE_WORD = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "a boolean",
             "object": "an object", "array": "an array"}
FORMAT_WORD = {"uuid": "a valid uuid", "date-time": "a valid RFC 3339 date-time", "email": "a valid email",
               "uri": "a valid uri"}

RATE_LIMIT_HEADERS = {"x-sib-ratelimit-limit": "10", "x-sib-ratelimit-remaining": "0",
                      "x-sib-ratelimit-reset": "1"}
FAULTS = {
    "rate_limit": (429, "too_many_requests", "Too many requests"),
    "server_error": (500, "internal_error", "Internal error occurred"),
    "forbidden": (403, "permission_denied", "Cannot Authenticate Request"),
    "unauthorized": (401, "unauthorized", "Key not found"),
}


def _schema_at(op: Operation, v: Violation) -> dict:
    """The schema of the value a violation points at (to quote its bounds, enum or type)."""
    parts = [p for p in pointer_parts(v.pointer) if p]
    if v.location in ("path", "query", "header") and len(parts) >= 2:
        schema = next((p.schema for p in op.params if p.location == v.location and p.name == parts[1]), None)
        rest = parts[2:]
    else:
        schema, rest = op.body_schema, parts[1:]
    for part in rest:
        if not isinstance(schema, dict):
            return {}
        if part.isdigit() and "items" in schema:
            schema = schema["items"]
        else:
            schema = (schema.get("properties") or {}).get(part)
    return schema if isinstance(schema, dict) else {}


def _type_word(schema: dict) -> str:
    types = schema.get("type")
    types = [types] if isinstance(types, str) else [t for t in (types or []) if t != "null"]
    return TYPE_WORD.get(types[0], f"a {types[0]}") if types else "valid"


class BrevoVendor(Vendor):
    name = "brevo"
    responses = responses
    fault_cases = {k: f"HTTP {s}, code {c}" for k, (s, c, _) in FAULTS.items()}

    def authenticate(self, request, op, engine, body):
        return auth.authenticate(request, engine)

    def malformed(self, op, message, fmt="json"):
        return render.error(400, "bad_request", "Malformed JSON body")

    def too_large(self, op, limit, fmt="json"):
        return render.error(400, "bad_request", f"Request body larger than {limit} bytes")

    def method_not_allowed(self, path, method, allowed):
        return render.error(405, "method_not_allowed", f"{method} is not allowed on this path")

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        v = violations[0]
        name = v.field or "body"
        schema = _schema_at(op, v)
        if v.keyword == "required":
            return render.error(422, "missing_parameter", f"{name} is required")
        if v.keyword in RANGE and v.keyword in schema:
            return render.error(422, "out_of_range", f"{name} " + RANGE[v.keyword].format(**schema))
        if v.keyword == "type":
            return render.error(422, "invalid_parameter", f"{name} must be {_type_word(schema)}")
        if v.keyword == "format":
            fmt = schema.get("format", "")
            return render.error(422, "invalid_parameter", f"{name} must be {FORMAT_WORD.get(fmt, 'a valid ' + fmt)}")
        if v.keyword == "enum" and schema.get("enum"):
            allowed = ", ".join(str(x) for x in schema["enum"] if x is not None)
            return render.error(422, "invalid_parameter", f"{name} must be one of: {allowed}")
        return render.error(422, "invalid_parameter", f"{name} is invalid: {v.message}")

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        if op.operation_id in NOT_SUBSCRIBED_OPERATIONS and isinstance(exc, (E.MemberNotFound, E.MemberInactive)):
            return render.error(422, "unprocessable_entity", NOT_SUBSCRIBED)
        for cls, text in REFUSED_BY_OPERATION.get(op.operation_id, {}).items():
            if isinstance(exc, cls):
                return render.error(422, "unprocessable_entity", text)
        if isinstance(exc, (E.NotFound, E.MemberInactive)):
            override = NOT_FOUND_BY_OPERATION.get(op.operation_id, {})
            for cls, text in NOT_FOUND:
                if isinstance(exc, cls):
                    return render.error(404, "document_not_found", override.get(cls, text))
        if isinstance(exc, E.NotInFuture):
            field = exc.detail.get("field")
            return render.error(422, "out_of_range", f"{FIELDS.get(field, field)} must be in the future")
        texts = TEXT_BY_OPERATION.get(op.operation_id, {})
        for cls, code in REFUSED:
            if isinstance(exc, cls):
                return render.error(422, code, next((t for c, t in texts.items() if isinstance(exc, c)), exc.message))
        return render.error(422, "unprocessable_entity", exc.message)

    def member_view(self, tenant, member):
        """Exactly the body get_subscription_balances answers for the member (its error body when it
        would answer one), with JSON numbers as on the wire; None when the member cannot be addressed
        in Brevo (no contact id, or a program without a Brevo id)."""
        program = tenant.program(member.program_id)
        cid = responses.contact_id(member)
        if cid is None or program.external.get(responses.PROGRAM) is None:
            return None
        try:
            body = responses.subscription_balances(tenant, program, cid)
        except E.EngineError as exc:
            body = self.engine_error(get_spec("brevo").operations["get_subscription_balances"], exc).body
        return jsonable(body)

    def not_found_route(self, path):
        return render.error(404, "document_not_found", "not found")

    def internal(self, op):
        return render.error(500, "internal_error", "Internal error occurred")

    def fault(self, case, op):
        status, code, message = FAULTS[case]
        return render.error(status, code, message, RATE_LIMIT_HEADERS if status == 429 else None)

    def not_implemented(self, op):
        # 501 is the gateway's own answer (Brevo has no such case); method_not_allowed is the
        # nearest code of Brevo's list: the server does not support this operation.
        return render.error(501, "method_not_allowed", f"{op.operation_id} is not served by this gateway yet")
