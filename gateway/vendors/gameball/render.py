"""Engine figures -> Gameball bodies: numbers for points and money (money rounded to cents), every time in one
form (UTC, milliseconds, `Z`), and optional fields left out rather than sent as null (Gameball's published
OpenAPI declares none of them nullable)."""
from __future__ import annotations

from decimal import Decimal

from ...engine.amounts import points_value
from ...engine.ledger import Balance
from ...engine.model import Entry, Hold, PointCurrency
from ...engine.tiers import TierProgress
from ..format import money, rfc3339


def when(at) -> str | None:
    """Every time Gameball is sent: UTC, milliseconds, `Z` (one fixed form; see GameballTimestamp)."""
    return rfc3339(at, millis=True)


def present(body: dict) -> dict:
    """The body without its absent (None) fields: the reference declares them non-nullable."""
    return {k: v for k, v in body.items() if v is not None}


def balance(b: Balance, money_currency: str) -> dict:
    return present({
        "totalPointsBalance": b.total,
        "totalPointsValue": money(b.value(b.total)),
        "availablePointsBalance": b.available,
        "availablePointsValue": money(b.value(b.available)),
        "pendingPoints": b.pending,
        "pendingPointsValue": money(b.value(b.pending)),
        "currency": money_currency,
        "pointsName": b.currency.name,
        "nextExpiringPointsAmount": b.next_expiring_amount,
        "nextExpiringPointsValue": money(b.value(b.next_expiring_amount)),
        "nextExpiringPointsDate": when(b.next_expiring_at),
        "totalEarnedPoints": b.lifetime_earned,
    })


def tier_level(tier, order: int) -> dict:
    return {"order": order, "name": tier.name, "minProgress": tier.value_min, "icon": tier.info.get("icon") or ""}


def tier(progress: TierProgress, tiers) -> dict:
    """The balance's `expand=tier` object (our invention: `next` null at the top tier)."""
    order = {t.id: i + 1 for i, t in enumerate(sorted(tiers, key=lambda t: t.value_min))}
    return {"current": tier_level(progress.current, order[progress.current.id]),
            "next": tier_level(progress.next, order[progress.next.id]) if progress.next else None,
            "progress": progress.next_progress}


def tier_progress(progress: TierProgress, tiers) -> dict:
    """GET /customers/{id}/tier-progress: `next` absent at the top tier (the reference declares no null)."""
    return present(tier(progress, tiers))


# --- customer profiles -------------------------------------------------------------------------------
# Attributes the engine keeps under neutral names (written by any dialect) -> Gameball's names.
NEUTRAL = {"first_name": "firstName", "last_name": "lastName", "display_name": "displayName", "email": "email",
           "mobile": "mobile"}
PUBLIC = ("gender", "country", "city", "zip", "source", "utms", "devices", "paymentMethods", "totalSpent",
          "lastOrderDate", "totalOrders", "custom")
DETAILS = ("displayName", "firstName", "lastName", "email", "gender", "mobile", "dateOfBirth", "joinDate", "country",
           "city", "zip", "preferredLanguage", "source", "utms", "devices", "paymentMethods", "totalSpent",
           "lastOrderDate", "totalOrders", "avgOrderAmount", "channel", "custom")


def _attributes(member, names) -> dict:
    sent = member.attributes.get("gameball.customerAttributes") or {}
    merged = {**{g: member.attributes.get(n) for n, g in NEUTRAL.items()}, **sent}
    return {k: merged[k] for k in names if merged.get(k) is not None}


def customer(customer_id: str, member) -> dict:
    return {"gameballId": member.seq, "customerId": customer_id,
            "customerAttributes": _attributes(member, PUBLIC), "isReferred": False}


def customer_details(customer_id: str, member) -> dict:
    return {"customerId": customer_id, "gameballId": member.seq,
            "customerAttributes": _attributes(member, DETAILS), "isReferred": False}


def activation(customer_id: str, member, changed: bool) -> dict:
    return {"customerId": customer_id, "isActive": member.active, "stateChanged": changed}


def deleted() -> dict:
    return {"success": True, "message": "Customer deleted successfully"}


def referrals_count() -> dict:
    """Referrals are not modelled: a known customer referred nobody."""
    return {"count": 0, "totalPending": 0, "totalActive": 0}


# --- writes ----------------------------------------------------------------------------------------
# Every figure comes from the engine's records (entries, holds); money values are points x the
# redemption factor (the point currency's value), rounded to cents for display.

def points_money(currency: PointCurrency, points: Decimal) -> Decimal:
    return money(points_value(currency, points))


def order(customer_id: str, rewarded: Decimal, redeemed: Decimal, lines: list) -> dict:
    return {"customerId": customer_id, "redeemedPoints": redeemed, "rewardedPoints": rewarded,
            "lineItems": lines}


def order_lines(lines: list) -> list:
    """(line item, exact points, whole points) -> the response's lineItems; `score` is not modelled (0)."""
    return [present({"productId": item.get("productId"), "quantity": item.get("quantity") or 1,
                     "decimalPoints": exact, "points": whole, "score": 0}) for item, exact, whole in lines]


def payment(customer_id: str, rewarded: Decimal, redeemed: Decimal, lines: list) -> dict:
    return {"customerId": customer_id, "redeemedPoints": redeemed, "rewardedPoints": rewarded,
            "paymentDetails": lines}


def payment_lines(lines: list) -> list:
    """(service, exact points, whole points) -> the response's paymentDetails; `score` is not modelled (0)."""
    return [present({"serviceId": item.get("productId"), "decimalPoints": exact, "points": whole, "score": 0})
            for item, exact, whole in lines]


def quote_lines(lines: list) -> list:
    return [present({"productId": item.get("productId"), "quantity": item.get("quantity") or 1,
                     "totalDecimalPoints": exact, "totalPoints": whole, "totalScore": 0}) for item, exact, whole in lines]


def cashback_quote(total: Decimal, lines: list, per_money: Decimal) -> dict:
    return {"totalPoints": total, "totalScore": 0,
            "lineItems": [{**line, "rewardWalletFactor": per_money} for line in lines]}


def cashback(customer_id: str, entry: Entry | None, currency: PointCurrency) -> dict:
    points = entry.amount if entry is not None else Decimal(0)
    return {"customerId": customer_id, "gameballTransactionId": entry.seq if entry is not None else 0,
            "rewardAmount": points_money(currency, points), "rewardEquivalentPoints": points}


def manual(customer_id: str, transaction_id: str, entry: Entry, currency: PointCurrency) -> dict:
    sign = -1 if entry.kind == "debit" else 1
    value = entry.money if entry.money is not None else points_money(currency, entry.amount)
    return {"customerId": customer_id, "gameballTransactionId": entry.seq, "transactionId": transaction_id,
            "points": sign * entry.amount, "amount": sign * value}


def activated(points: Decimal, entry: Entry, transaction_id: str) -> dict:
    return {"pointsActivated": points, "gameballTransactionId": entry.seq, "clientTransactionId": transaction_id}


def hold(customer_id: str, h: Hold, currency: PointCurrency) -> dict:
    return {"customerId": customer_id, "holdAmount": points_money(currency, h.amount),
            "holdEquivalentPoints": h.amount, "holdReference": h.id}


HOLD_STATE = {"active": "active", "used": "used", "expired": "expired", "released": "expired"}


def hold_detail(customer_id: str, h: Hold, currency: PointCurrency) -> dict:
    return {"customerId": customer_id, "holdAmount": points_money(currency, h.amount),
            "holdEquivalentPoints": h.amount, "state": HOLD_STATE[h.state], "dateToExpire": when(h.expires_at)}


def events_processed() -> dict:
    return {"success": True, "message": "Events processed"}


def otp_sent() -> dict:
    """The code itself goes to the customer (by SMS at Gameball), never into the answer."""
    return {"success": True, "message": "OTP sent to the customer"}


def released() -> dict:
    return {"success": True, "message": "Hold released successfully"}


def redeem(customer_id: str, transaction_id: str, entry: Entry, currency: PointCurrency, reason) -> dict:
    return present({"customerId": customer_id, "gameballTransactionId": str(entry.seq),
                    "transactionId": transaction_id, "redeemAmount": points_money(currency, entry.amount),
                    "redeemEquivalentPoints": entry.amount, "reason": reason})


def refund(refund_id: str, rev: Entry, currency: PointCurrency) -> dict:
    value = money(rev.money) if rev.money is not None else points_money(currency, rev.amount)
    return {"gameballTransactionId": str(rev.seq), "refundTransactionId": refund_id, "refundAmount": value,
            "refundEquivalentPoints": rev.amount}


def simple_error(message: str) -> dict:
    """The {error, message} body of the manual transaction's documented 400 refusals."""
    return {"error": 400, "message": message}


# --- history ----------------------------------------------------------------------------------------------
# Engine rows (entry, sign, state) -> Gameball's vocabulary; see the spec's GET /transactions description.
EARNINGS = ("order", "cashback", "payment")
REDEMPTIONS = ("redeem", "redemption", "order", "payment", "transaction")
STATE = {"pending": "Pending", "active": "Active", "expired": "Expired"}
BUSINESS_IDS = ("transactionId", "orderId", "paymentId", "refundTransactionId")


def row_type(row) -> str:
    e = row.entry
    if e.kind == "expire":
        return "Expiry"
    if e.kind == "cancel":
        return "Refund" if row.reversed_kind == "debit" else "Cancel"
    if e.origin == "fixture":
        return "Migration"
    if e.kind == "credit":
        return "PaymentReward" if e.origin in EARNINGS else ("ManualAccumulation" if e.origin == "manual"
                                                              else "ManualReward")
    return "ManualDeduction" if e.origin == "manual" else "Redemption"


def transaction_row(row, customer_id: str | None, currency: PointCurrency) -> dict:
    e = row.entry
    value = e.money if e.money is not None and e.kind != "expire" else points_value(currency, e.amount)
    return present({
        "transactionId": next((str(e.refs[k]) for k in BUSINESS_IDS if e.refs.get(k)), None),
        "gameballTransactionId": str(e.seq), "type": row_type(row), "direction": "+" if row.sign > 0 else "-",
        "customerId": customer_id, "points": e.amount, "amount": money(value), "transactionTime": when(e.at),
        "status": STATE[row.state], "reason": e.refs.get("reason") or None, "expiryDate": when(row.expires_at),
        "pointsBalanceBefore": row.total_before, "pointsBalanceAfter": row.total_after})


def customer_view_row(row, customer_id: str | None, currency: PointCurrency, deleted: bool) -> dict:
    attrs = row.member.attributes
    name = attrs.get("display_name") or " ".join(filter(None, (attrs.get("first_name"), attrs.get("last_name"))))
    return present({**transaction_row(row, customer_id, currency), "customerName": name or None,
                    "customerEmail": attrs.get("email"), "isCustomerDeleted": deleted})


def page(rows: list, has_more: bool) -> dict:
    return {"transactions": rows, "count": len(rows), "hasMore": has_more}


def order_transaction(row, currency: PointCurrency) -> dict:
    e = row.entry
    if e.kind == "cancel" and row.reversed_kind == "debit":
        kind = "PartialRefund" if row.reversed_amount is not None and e.amount < row.reversed_amount else "Refund"
    else:
        kind = row_type(row)
    value = e.money if e.money is not None else points_value(currency, e.amount)
    return present({"transactionDate": when(e.at), "gameballTransactionId": e.seq, "transactionType": kind,
                    "amount": money(value), "transactionId": next((str(e.refs[k]) for k in BUSINESS_IDS
                                                                   if e.refs.get(k)), None),
                    "equivalentPoints": e.amount})


def order_transactions(rows: list) -> dict:
    return {"transactions": rows, "count": len(rows)}


# --- configuration ---------------------------------------------------------------------------------------------

def redemption_configuration(currency: PointCurrency, rules) -> dict:
    return {"redemptionFactor": currency.value, "redemptionRules": [present({
        "id": r.id, "pointsToRedeem": r.points, "valueOfPoint": r.value_per_point, "ruleType": r.kind,
        "coupon": r.info.get("coupon"), "image": r.info.get("image"), "creationDate": when(r.created_at),
        "isActive": r.active}) for r in rules]}


def cashback_configuration(per_money: Decimal, currency: PointCurrency) -> dict:
    """One rule: `per_money` points per 1 money unit; rewardFactor the cashback percentage it makes."""
    return {"defaultCashbackRule": {"amountRewardThreshold": 1, "rewardWalletFactor": per_money,
                                    "rewardRankFactor": 0, "rewardFactor": points_value(currency, per_money) * 100},
            "tierCashbackRules": []}


def tiers_configuration(tiers) -> list:
    ordered = sorted(tiers, key=lambda t: t.value_min)
    return [{**tier_level(t, i + 1), "benefits": []} for i, t in enumerate(ordered)]


# --- batches ---------------------------------------------------------------------------------------------------

def adjustment(customer_id: str, entry: Entry, currency: PointCurrency) -> dict:
    sign = -1 if entry.kind == "debit" else 1
    return {"customerId": customer_id, "gameballTransactionId": entry.seq, "points": sign * entry.amount,
            "amount": sign * points_money(currency, entry.amount)}


def batch_status(batch_id: str, job: dict) -> dict:
    """A job the gateway ran at once: completed, every item processed."""
    total = len(job["results"])
    return {"batchId": batch_id, "status": "completed", "progress": 100, "totalItems": total,
            "processedItems": total, "failedItems": len(job["errors"]), "results": job["results"],
            "errors": job["errors"]}
