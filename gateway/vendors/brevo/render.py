"""Engine records -> Brevo bodies: JSON numbers for amounts (exact decimals, the codec prints
integral ones as integers), RFC 3339 UTC timestamps with `Z` at second precision, and the error
envelope {code, message}."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from ...engine.history import HistoryRow
from ...engine.ledger import Balance
from ...engine.limits import BalanceLimit
from ...engine.model import BalanceRecord, Draft, Lot, Order, PointCurrency
from ..base import Reply
from ..format import parse_datetime, rfc3339

DEFAULT_UNIT = "POINTS"
CONSTRAINTS = {"count": "transaction", "amount": "amount"}
MODIFIERS = {"none": "noModification", "start": "startOfPeriod", "end": "endOfPeriod"}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"code": code, "message": message}, dict(headers or {}))


def external_id(external, key: str) -> str:
    """The canonical external id (the first one when a list of aliases is configured)."""
    value = external.get(key)
    if isinstance(value, (list, tuple)):
        value = value[0]
    return str(value)


def _instant(value: Any, fallback: datetime) -> str:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, str) and value.strip():
        return rfc3339(parse_datetime(value))
    return rfc3339(fallback)


def definition(currency: PointCurrency, bdid: str, now: datetime) -> dict:
    """A point currency as a BalanceDefinition. Optional attributes the currency does not set are
    omitted (never null); `meta` is always sent, `deletedAt` always null (a deleted definition is not found)."""
    info, rules = currency.info, currency.rules
    body: dict[str, Any] = {"id": bdid, "name": currency.name}
    if info.get("description"):
        body["description"] = info["description"]
    if info.get("image_ref"):
        body["imageRef"] = info["image_ref"]
    body["meta"] = dict(info.get("meta") or {})
    body["unit"] = info.get("unit") or DEFAULT_UNIT
    for field, value in (("minAmount", rules.min_balance), ("maxAmount", rules.max_balance),
                         ("maxCreditAmountLimit", rules.max_credit), ("maxDebitAmountLimit", rules.max_debit)):
        if value is not None:
            body[field] = value
    if rules.overtaking:
        body["balanceOptionAmountOvertakingStrategy"] = rules.overtaking
    if rules.credit_rounding:
        body["balanceOptionCreditRounding"] = rules.credit_rounding
    if rules.debit_rounding:
        body["balanceOptionDebitRounding"] = rules.debit_rounding
    if currency.fixed_expiry:
        body["balanceExpirationDate"] = currency.fixed_expiry
    elif currency.expiry_rule is not None:
        body["balanceAvailabilityDurationValue"] = currency.expiry_rule.value
        body["balanceAvailabilityDurationUnit"] = currency.expiry_rule.unit
        body["balanceAvailabilityDurationModifier"] = MODIFIERS[currency.expiry_rule.snap]
    elif currency.expiry_days is not None:
        body["balanceAvailabilityDurationValue"] = currency.expiry_days
        body["balanceAvailabilityDurationUnit"] = "day"
        body["balanceAvailabilityDurationModifier"] = "noModification"
    # A currency created through the API has its own stamps; one of the fixtures has those of its info, and
    # without them the two stand in for each other, and failing both the definition is "as of now".
    created = currency.created_at or info.get("created_at") or info.get("updated_at")
    body["createdAt"] = _instant(created, now)
    body["updatedAt"] = _instant(currency.updated_at or info.get("updated_at") or created, now)
    body["deletedAt"] = None
    return body


def definitions(items: Iterable[dict]) -> dict:
    return {"items": list(items)}


def contact_balances(program_id: str, bdid: str, count: int, rows: Iterable[tuple[int, str | None, datetime, Decimal]]
                     ) -> dict:
    return {"loyaltyProgramId": program_id, "balanceDefinitionId": bdid, "count": count,
            "balances": [{"contactId": cid, "loyaltySubscriptionId": sub, "updatedAt": rfc3339(at), "value": value}
                         for cid, sub, at, value in rows]}


def limit(l: BalanceLimit, bdid: str) -> dict:
    t = l.terms
    return {"id": l.id, "balanceDefinitionId": bdid, "transactionType": t.direction,
            "constraintType": CONSTRAINTS[t.constraint], "durationValue": t.window_value,
            "durationUnit": t.window_unit, "value": t.value, "slidingSchedule": t.sliding,
            "createdAt": rfc3339(l.created_at), "updatedAt": rfc3339(l.updated_at)}


def subscription_balances(program_id: str, contact_id: int, balances: Iterable[tuple[str, Balance]]) -> dict:
    return {"loyaltyProgramId": program_id, "contactId": contact_id,
            "balance": [{"balanceDefinitionId": bdid, "value": b.available} for bdid, b in balances]}


def active_balance(lot: Lot, amount: Decimal) -> dict:
    """A lot and what it still gives (the engine's figure: its remaining, less what holds take of it)."""
    return {"id": lot.id, "amount": amount, "createdAt": rfc3339(lot.earned_at),
            "expiresAt": rfc3339(lot.expires_at)}


def active_balances(program_id: str, contact_id: int, bdid: str, count: int,
                    lots: Iterable[tuple[Lot, Decimal]]) -> dict:
    return {"count": count, "loyaltyProgramId": program_id, "contactId": contact_id,
            "balanceDefinitionId": bdid, "activeBalances": [active_balance(l, a) for l, a in lots]}


# --- transactions, history, orders, balance records ------------------------------------------------

def transaction(d: Draft, *, program_id: str, bdid: str, contact_id: int) -> dict:
    """A draft as a Brevo Transaction: the amount with the sign the client gave it. `balance` (the balance
    after it) only when it changed the balance, i.e. once completed; `expirationDate` is the expiry of the
    balance a completed credit created."""
    body: dict[str, Any] = {"id": d.id, "amount": d.signed_amount}
    if d.status == "completed" and d.balance_after is not None:
        body["balance"] = d.balance_after
    body.update({
        "transactionType": d.direction, "status": d.status, "meta": dict(d.meta or {}),
        "loyaltyProgramId": program_id, "balanceDefinitionId": bdid, "contactId": contact_id,
        "eventTime": rfc3339(d.event_time or d.created_at),
        "rejectReason": d.reject_reason, "rejectedAt": rfc3339(d.rejected_at),
        "expirationDate": rfc3339(d.lot_expires_at if d.status == "completed" else None),
        "completedAt": rfc3339(d.completed_at), "cancelledAt": rfc3339(d.cancelled_at),
        "createdAt": rfc3339(d.created_at), "updatedAt": rfc3339(d.updated_at or d.created_at),
    })
    return body


def history_row(row: HistoryRow) -> dict:
    """A history row (a draft, or a ledger movement made outside drafts: fixtures, other dialects, a reversal)
    as a Brevo transaction history item."""
    return {"id": row.id, "amount": row.signed_amount, "transactionType": row.direction, "status": row.status,
            "meta": dict(row.meta), "balanceExpirationDate": rfc3339(row.lot_expires_at),
            "createdAt": rfc3339(row.created_at), "completedAt": rfc3339(row.completed_at),
            "cancelledAt": rfc3339(row.cancelled_at), "rejectedAt": rfc3339(row.rejected_at),
            "rejectReason": row.reject_reason}


def history(program_id: str, contact_id: int, bdid: str, count: int, items: Iterable[dict]) -> dict:
    return {"loyaltyProgramId": program_id, "contactId": contact_id, "balanceDefinitionId": bdid, "count": count,
            "transactionHistory": list(items)}


def order(o: Order, *, program_id: str, bdid: str, contact_id: int) -> dict:
    return {"id": o.id, "amount": o.signed_amount, "balanceDefinitionId": bdid, "contactId": contact_id,
            "loyaltyProgramId": program_id, "dueAt": rfc3339(o.due_at), "expiresAt": rfc3339(o.expires_at),
            "meta": dict(o.meta), "processedAt": rfc3339(o.processed_at), "transactionid": o.draft_id,
            "createdAt": rfc3339(o.created_at), "updatedAt": rfc3339(o.updated_at or o.created_at)}


def balance_record(rec: BalanceRecord, *, program_id: str, organization_id: int, contact_id: int, bdid: str) -> dict:
    return {"id": rec.id, "amount": rec.amount, "loyaltyProgramId": program_id, "organizationId": organization_id,
            "contactId": contact_id, "balanceDefinitionId": bdid, "createdAt": rfc3339(rec.created_at),
            "expiresAt": rfc3339(rec.expires_at), "consumedAt": rfc3339(rec.consumed_at)}
