"""Gameball's error envelope {code, type, message, documentationUrl, requestId} and how engine
errors, validation failures and armed faults map onto its codes and HTTP statuses."""
from __future__ import annotations

import uuid

from ...engine import errors as E
from ...specs import Operation, Violation
from ..base import Reply, Vendor
from ...codecs import jsonable
from . import auth, render, responses

DOCS = "https://docs.gameball.co/api-reference/overview/status-error-codes"
CATEGORY = {1: "AUTHENTICATION_ERROR", 2: "REQUEST_ERROR", 3: "PAYLOAD_ERROR", 4: "GENERAL_ERROR",
            5: "SERVER_ERROR", 6: "CONFIGURATIONS_ERROR", 7: "CUSTOMER_ERROR", 8: "SUBSCRIPTION_ERROR",
            9: "TRANSACTIONS_ERROR"}
STATUS = {1000: 401, 1001: 401, 1002: 403, 2000: 412, 2001: 422, 3000: 400, 3001: 422, 3003: 422,
          3009: 422, 3011: 422, 3016: 400, 4004: 404, 4029: 429, 5000: 500, 5003: 503, 6000: 422,
          6001: 422, 7000: 404, 7001: 422, 9000: 422, 9001: 422, 9002: 404, 9003: 422, 9004: 422,
          9005: 404, 9006: 404, 9007: 422, 9008: 422}

# engine error -> (code, default message)
ENGINE = [
    (E.MemberNotFound, 7000, "Customer not found."),
    (E.MemberInactive, 3009, "Customer is inactive."),
    (E.HoldNotFound, 9006, "Hold reference not found."),
    (E.TransactionNotFound, 9002, "Transaction not found."),
    (E.DefinitionNotFound, 4004, "Redemption rule not found."),
    (E.NotFound, 4004, "Resource not found."),
    (E.InsufficientPoints, 9008, "Insufficient balance points."),
    (E.DuplicateKey, 9004, "Transaction ID already exists."),
    (E.AlreadyCancelled, 9001, "Transaction already cancelled."),
    (E.NotRefundable, 9000, "Transaction type cannot be reversed."),
    (E.InvalidTime, 9007, "Transaction time is not valid."),
    (E.LimitExceeded, 3011, "Operation exceeds allowed limits."),
    (E.InvalidAmount, 3003, "Invalid value."),
    (E.InvalidState, 9000, "Transaction type cannot be reversed."),
    (E.EngineError, 3003, "Invalid value."),
]

# operation -> mappings that come before ENGINE for that operation
OPERATION = {
    "refund": [(E.TransactionNotFound, 9005, "Reversed transaction not found.")],
    "activate_transaction": [(E.InvalidState, 9000, "Only a reward transaction can be activated.")],
}

FAULTS = {"rate_limit": 4029, "server_error": 5000, "unavailable": 5003, "unauthorized": 1000,
          "forbidden": 1002, "concurrent_request": 2001}
FAULT_TEXT = {4029: "Too many requests. Rate limit exceeded.", 5000: "An internal server error occurred.",
              5003: "Service unavailable. Please try again later.", 1000: "Unauthorized access.",
              1002: "Forbidden.", 2001: "A concurrent request for this customer is in progress."}


class GameballVendor(Vendor):
    name = "gameball"
    responses = responses
    fault_cases = {k: f"HTTP {STATUS[v]}, code {v}" for k, v in FAULTS.items()}

    def error(self, code: int, message: str) -> Reply:
        return Reply(STATUS.get(code, 422), {
            "code": code, "type": CATEGORY[code // 1000], "message": message,
            "documentationUrl": DOCS, "requestId": uuid.uuid4().hex[:12]})

    def authenticate(self, request, op, engine, body):
        return auth.authenticate(self, request, op, engine)

    def malformed(self, op, message, fmt="json"):
        return self.error(3016, "Invalid payload. The request body is not valid JSON.")

    def too_large(self, op, limit, fmt="json"):
        return self.error(3016, f"Invalid payload. The request body is larger than {limit} bytes.")

    def method_not_allowed(self, path, method, allowed):
        # no documented code: a GENERAL_ERROR beside 4004 (not found), in the standard envelope [gateway choice]
        return Reply(405, {"code": 4005, "type": CATEGORY[4], "message": f"Method {method} is not allowed.",
                           "documentationUrl": DOCS, "requestId": uuid.uuid4().hex[:12]})

    def invalid(self, op: Operation, violations: list[Violation]) -> Reply:
        v = violations[0]
        name = v.field or v.pointer
        if v.keyword == "required" and v.location == "body" and v.pointer.count("/") == 2:
            return self.error(3000, f"Missing arguments: {name} is required.")
        if v.keyword == "type" and v.message.startswith("None is not"):
            return self.error(3001, f"Null value passed for a required argument: {name}.")
        return self.error(3003, f"Invalid value for {name}: {v.message}")

    def engine_error(self, op, exc: E.EngineError) -> Reply:
        for cls, code, text in OPERATION.get(op.operation_id, []) + ENGINE:
            if isinstance(exc, cls):
                detail = exc.message and not isinstance(exc, E.NotFound)
                return self.error(code, f"{text} ({exc.message})" if detail else text)
        return self.error(3003, exc.message)

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
