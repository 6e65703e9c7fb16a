"""One exception type per failure; each vendor maps them to its own envelope and status."""
from __future__ import annotations


class EngineError(Exception):
    """Base: a refused operation. Nothing was changed."""

    code = "engine_error"

    def __init__(self, message: str, **detail):
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(EngineError):
    code = "not_found"


class TenantNotFound(NotFound):
    code = "tenant_not_found"


class ProgramNotFound(NotFound):
    code = "program_not_found"


class CurrencyNotFound(NotFound):
    code = "currency_not_found"


class MemberNotFound(NotFound):
    code = "member_not_found"


class TransactionNotFound(NotFound):
    code = "transaction_not_found"


class HoldNotFound(NotFound):
    code = "hold_not_found"


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"


class DefinitionNotFound(NotFound):
    code = "definition_not_found"


class RewardNotFound(NotFound):
    code = "reward_not_found"


class RewardDefinitionNotFound(DefinitionNotFound):
    code = "reward_definition_not_found"


class TierDefinitionNotFound(DefinitionNotFound):
    code = "tier_definition_not_found"


class TierPointNotFound(NotFound):
    code = "tier_point_not_found"

class PointRecordNotFound(NotFound):
    code = "point_not_found"


class RateNotFound(NotFound):
    code = "rate_not_found"


class ReceiptNotFound(NotFound):
    code = "transaction_not_found"


class MemberInactive(EngineError):
    """The member exists but is deleted / not registered in the program."""

    code = "member_inactive"


class MemberExists(EngineError):
    code = "member_exists"


class InvalidAmount(EngineError):
    """Zero, negative, non-finite, absurdly large or over-precise amounts."""

    code = "invalid_amount"


class InsufficientPoints(EngineError):
    code = "insufficient_points"


class LimitExceeded(EngineError):
    """A program/currency rule (min/max balance, per-operation cap) refuses the operation."""

    code = "limit_exceeded"


class InvalidState(EngineError):
    """The transaction/hold is not in a state that allows this (commit after rollback...)."""

    code = "invalid_state"


class AlreadyCancelled(InvalidState):
    code = "already_cancelled"


class NotRefundable(InvalidState):
    """A refund gives back what a payment or a redemption did; this transaction is neither (a manual
    adjustment, a refund itself)."""

    code = "not_refundable"


class NotReversible(InvalidState):
    """Only a redemption can be reversed (a reversal cannot)."""

    code = "not_reversible"


class AlreadyReversed(InvalidState):
    code = "already_reversed"


class ReversalWindowClosed(InvalidState):
    """Too late to reverse (detail `minutes`: how long the window is)."""

    code = "reversal_window_closed"


class EntryCancelled(InvalidState):
    """What the operation would undo was cancelled meanwhile (e.g. a redemption's points, through another call)."""

    code = "entry_cancelled"


class DuplicateKey(EngineError):
    """An idempotency key or business id was used before with a different request."""

    code = "duplicate_key"


class Replayed(DuplicateKey):
    """The key was claimed, between the adapter's look-up and the write, by an IDENTICAL request (same
    fingerprint) that another worker kept first. The caller is answered as that request's replay: the pipeline
    runs the handler once more, and its look-up now finds the twin."""


class InvalidTime(EngineError):
    code = "invalid_time"


class NotInFuture(InvalidTime):
    """A time that must be ahead of the tenant clock is not (detail `field`: which one, e.g. expires_at)."""

    code = "not_in_future"


class TenantConflict(EngineError):
    """A new tenant would take an id or a credential that already opens another tenant."""

    code = "tenant_conflict"


class InvalidRequest(EngineError):
    code = "invalid_request"


class CurrencyInUse(InvalidState):
    """A point currency members have points, transactions or records in (or a program's last one) is not deleted."""

    code = "currency_in_use"


class LastCurrency(CurrencyInUse):
    """A program keeps at least one point currency."""

    code = "last_currency"


class LimitNotFound(NotFound):
    """A balance limit the currency (in the version asked) does not have."""

    code = "limit_not_found"


class RuleInactive(EngineError):
    """A configured rule (e.g. a redemption rule) exists but is not offered now."""

    code = "rule_inactive"


class VerificationFailed(EngineError):
    """A one-time password is missing, wrong or expired (detail `missing`: none was given)."""

    code = "verification_failed"


class NotEnabled(EngineError):
    """The tenant has not switched on what the call needs (e.g. one-time passwords)."""

    code = "not_enabled"


class StoreCreditNotFound(NotFound):
    code = "credit_not_found"


class BenefitNotFound(NotFound):
    code = "benefit_not_found"


class StoreUnavailable(EngineError):
    """The durable store could not write the operation (disk full, I/O error, locked too long): nothing of it
    was kept. Vendors answer their own 5xx."""
    code = "store_unavailable"
