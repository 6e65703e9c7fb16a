"""Gameball's error envelope {code, type, message, documentationUrl, requestId} and how engine
errors, validation failures and armed faults map onto its codes and HTTP statuses."""
from __future__ import annotations

import re
import uuid

from ...engine import errors as E
from ...specs import Operation, Violation, pointer_parts
from ..base import Reply, Vendor
from ...codecs import jsonable
from . import auth, render, responses
from .errors import CATEGORY, DOCS, STATUS, engine_reply, envelope

FAULTS = {"rate_limit": 4029, "server_error": 5000, "unavailable": 5003, "unauthorized": 1000,
          "forbidden": 1002, "concurrent_request": 2001}
FAULT_TEXT = {4029: "Too many requests. Rate limit exceeded.", 5000: "An internal server error occurred.",
              5003: "Service unavailable. Please try again later.", 1000: "Unauthorized access.",
              1002: "Forbidden.", 2001: "A concurrent request for this customer is in progress."}


SIMPLE_400 = {"manual_transaction"}


def _schema_at(schema: dict, parts: list[str]) -> dict:
    """The (dereferenced) schema of the body part at `parts` (`["body", "3"]`: a batch's fourth item)."""
    for part in parts:
        if part in (schema.get("properties") or {}):
            schema = schema["properties"][part]
        elif part.isdigit() and isinstance(schema.get("items"), dict):
            schema = schema["items"]
        else:
            return {}
    return schema


def _reason(op: Operation, v: Violation) -> str:
    """What is wrong, in words: the schema's rule, never a repr of what the client sent."""
    if v.keyword in ("oneOf", "anyOf"):
        branches = _schema_at(op.body_schema or {}, pointer_parts(v.pointer)[1:]).get(v.keyword, [])
        names = [n for b in branches for n in b.get("required", [])]
        return f"exactly one of {', '.join(names)} must be given" if names else "no accepted form matches"
    rule = re.search(r"(is not of type .*|is (?:less|greater) than.*|is not one of.*|is too (?:long|short)|"
                     r"is not a multiple of.*|is not a '[^']+')$", v.message)
    if v.keyword == "pattern":
        return "not in the expected format"
    if v.keyword == "required":
        return "a required field is missing"
    if v.keyword == "not":
        return "this value is not allowed"
    if v.keyword in ("minProperties", "minItems"):
        return "must not be empty"
    if rule:
        return "value " + rule.group(1).replace("Decimal('", "").replace("')", "")
    return f"fails its {v.keyword or 'schema'} rule"


class GameballVendor(Vendor):
    name = "gameball"
    responses = responses
    fault_cases = {k: f"HTTP {STATUS[v]}, code {v}" for k, v in FAULTS.items()}

    def error(self, code: int, message: str) -> Reply:
        return envelope(code, message)

    def authenticate(self, request, op, engine, body):
        return auth.authenticate(self, request, op, engine)

    def malformed(self, op, message, fmt="json"):
        return self._bad_request(op, 3016, "Invalid payload. The request body is not valid JSON.")

    def too_large(self, op, limit, fmt="json"):
        return self._bad_request(op, 3016, f"Invalid payload. The request body is larger than {limit} bytes.")

    def method_not_allowed(self, path, method, allowed):
        # no documented code: a GENERAL_ERROR beside 4004 (not found), in the standard envelope [gateway choice]
        return Reply(405, {"code": 4005, "type": CATEGORY[4], "message": f"Method {method} is not allowed.",
                           "documentationUrl": DOCS, "requestId": uuid.uuid4().hex[:12]})

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        v = violations[0]
        name = v.field or v.pointer.rsplit("/", 1)[-1] or "body"
        parts = pointer_parts(v.pointer)[1:]
        argument = len(parts) == 1 or (len(parts) == 3 and parts[0] == "body" and parts[1].isdigit())  # a batch item's
        if v.keyword == "required" and v.location == "body" and argument:
            return self._bad_request(op, 3000, f"Missing arguments: {name} is required.")
        if v.keyword == "type" and v.value is None and v.message.startswith("None is not"):
            return self.error(3001, f"Null value passed for a required argument: {name}.")
        return self.error(3003, f"Invalid value for {name}: {_reason(op, v)}.")

    def _bad_request(self, op: Operation | None, code: int, message: str) -> Reply:
        """A 400: the manual transaction documents every 400 as `{error, message}` (the reference's `Error`)."""
        if op is not None and op.operation_id in SIMPLE_400:
            return Reply(400, render.simple_error(message))
        return self.error(code, message)

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        return engine_reply(op.operation_id, exc)

    def member_view(self, tenant, member):
        program = tenant.program(member.program_id)
        return jsonable(render.balance(tenant.balance(member, program.default_currency), program.money_currency))

    def not_found_route(self, path):
        return self.error(4004, f"Resource not found: {path}")

    def internal(self, op):
        return self.error(5000, FAULT_TEXT[5000])

    def fault(self, case, op):
        code = FAULTS[case]
        return self.error(code, FAULT_TEXT[code])

    def not_implemented(self, op):
        return Reply(501, {"code": 5000, "type": "SERVER_ERROR",
                           "message": f"{op.operation_id} is not served by this gateway yet",
                           "documentationUrl": DOCS, "requestId": uuid.uuid4().hex[:12]})
