"""Gameball's error envelope {code, type, message, documentationUrl, requestId}: codes, their HTTP statuses and
categories, and which code each engine refusal gets (per operation where it differs). Used by the adapter and
by the batch operations, which report each item's refusal in the same words."""
from __future__ import annotations

import uuid

from ...engine import errors as E
from ..base import Reply

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
    (E.RuleInactive, 3009, "Redemption rule is not active."),
    (E.VerificationFailed, 3003, "Invalid value for otp: not the one-time password sent to the customer."),
    (E.HoldNotFound, 9006, "Hold reference not found."),
    (E.TransactionNotFound, 9002, "Transaction not found."),
    (E.DefinitionNotFound, 4004, "Redemption rule not found."),
    (E.NotEnabled, 6000, "This feature is not enabled for the account."),
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


def envelope(code: int, message: str) -> Reply:
    return Reply(STATUS.get(code, 422), {
        "code": code, "type": CATEGORY[code // 1000], "message": message,
        "documentationUrl": DOCS, "requestId": uuid.uuid4().hex[:12]})


def engine_reply(operation_id: str, exc: E.EngineError) -> Reply:
    """The envelope for an engine refusal of `operation_id`."""
    if isinstance(exc, E.VerificationFailed) and exc.detail.get("missing"):
        return envelope(3000, "Missing arguments: otp is required (OTP is enabled for this account).")
    for cls, code, text in OPERATION.get(operation_id, []) + ENGINE:
        if isinstance(exc, cls):
            detail = exc.message and not isinstance(exc, (E.NotFound, E.VerificationFailed, E.NotEnabled))
            return envelope(code, f"{text} ({exc.message})" if detail else text)
    return envelope(3003, exc.message)
