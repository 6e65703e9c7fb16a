"""Engine figures -> Altcraft bodies: the {error, error_text, data} envelope, points as decimal strings
with exactly two decimals ("800.50"). The dispatcher turns these dicts into XML under <xml> when the
response format is xml."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from ...engine.ledger import Balance
from ...engine.model import Entry, Member
from ...engine.statement import StatementPage, StatementRow
from ...engine.tier_history import ReachedTier
from ...engine.promotions import Promotion, PromotionPage, PromotionRule
from ..format import fixed2, rfc3339

SUCCESS = "Successful operation"
PROFILE_ID = "altcraft.profile_id"


def success(data: dict) -> dict:
    return {"error": 0, "error_text": SUCCESS, "data": data}


def error(code: int, text: str) -> dict:
    return {"error": code, "error_text": text}


def balance(b: Balance) -> dict:
    return {"total_balance": fixed2(b.total), "active_balance": fixed2(b.available)}


# --- writes ------------------------------------------------------------------------------------------

def profile_id(member: Member) -> str:
    """The member's Altcraft profile id; a member known to Altcraft by other identities only is named by
    its engine id."""
    return str(member.identities.get(PROFILE_ID) or member.id)


def member(m: Member) -> dict:
    """register_member / delete_member: `profile_id` at the top level, no `data`."""
    return {"error": 0, "error_text": SUCCESS, "profile_id": profile_id(m)}


def transaction(entry: Entry, eid: str | None, is_temp: bool, total: Decimal) -> dict:
    """accrue / redeem: the transaction as created (`balance` is the active balance the engine recorded
    after it) and the member's total balance."""
    return success({
        "transaction_id": entry.id,
        "transaction_eid": eid,
        "amount": fixed2(entry.amount),
        "is_temp": is_temp,
        "status": "temporary" if is_temp else "committed",
        "balance": fixed2(entry.balance_after),
        "total_balance": fixed2(total),
    })


def transaction_state(entry: Entry, available: Decimal) -> dict:
    """commit / rollback / cancel: the transaction named and the active balance after the operation."""
    return success({"transaction_id": entry.id, "balance": fixed2(available)})


# --- account reads --------------------------------------------------------------------------------------

TRANSACTION_TYPES = {"credit": "accrual", "debit": "redemption", "expire": "expiration", "cancel": "cancellation"}


def _text(value) -> str | None:
    return None if value is None else str(value)


def _money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else fixed2(value)


def statement_row(r: StatementRow, promo_iid: int | None) -> dict:
    e = r.entry
    return {"transaction_id": e.id, "transaction_eid": _text(e.refs.get("transaction_eid")),
            "created_at": rfc3339(e.at), "transaction_type": TRANSACTION_TYPES[e.kind], "status": e.status,
            "amount": fixed2(e.amount), "balance_before": _money_or_none(r.balance_before),
            "balance_after": _money_or_none(r.balance_after), "promo_iid": promo_iid,
            "promo_eid": _text(e.refs.get("promotion_id")), "description": e.description,
            "activation_date": rfc3339(r.available_at), "expiration_date": rfc3339(r.expires_at),
            "source_type": e.origin or None, "source_iid": None}


def transactions(page: StatementPage, promo_iid) -> dict:
    """account/transactions: the page under `data`, the cursor and the count at the top level (as
    trigger_promotions has them). `promo_iid(row)` names the trigger promotion a row's promotion_id names."""
    return {"error": 0, "error_text": SUCCESS, "data": [statement_row(r, promo_iid(r)) for r in page.rows],
            "next_from_id": page.next_after, "total_count": page.total}


TIERS_GROUP_TYPE = "cumulative"   # tiers are reached by the points earned in the program's rolling window


def tier(r: ReachedTier) -> dict:
    return {"tiers_group_type": TIERS_GROUP_TYPE, "tier_eid": r.tier.handle, "tier_id": r.tier.id,
            "tier_order": r.order, "reached_at": rfc3339(r.reached_at)}


def _external(currency, key: str):
    value = currency.external.get(key) if currency is not None else None
    if isinstance(value, (list, tuple)):      # aliases: the first one names it
        value = value[0] if value else None
    return value


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def promotion_rule(rule: PromotionRule, program) -> dict:
    currency = program.currency(rule.currency_id)
    iid, eid = _external(currency, "altcraft.iid"), _external(currency, "altcraft.eid")
    return {"points_currency_iid": None if iid is None else int(iid), "points_currency_eid": _text(eid),
            "static_amount": _amount(rule.static_amount), "min_amount": _amount(rule.min_amount),
            "max_amount": _amount(rule.max_amount)}


def promotion(p: Promotion, program) -> dict:
    return {"id": p.id, "name": p.name, "description": p.description, "external_id": p.external_id,
            "start_date": rfc3339(p.starts_at), "end_date": rfc3339(p.ends_at), "is_active": p.active,
            "redeem_rules": [promotion_rule(r, program) for r in p.redeem_rules],
            "accrual_rules": [promotion_rule(r, program) for r in p.accrual_rules]}


def promotions(page: PromotionPage, program) -> dict:
    """trigger_promotions: the page under `data`, `next_from_id` and `total_count` at the top level [DOC]."""
    return {"error": 0, "error_text": SUCCESS, "data": [promotion(p, program) for p in page.items],
            "next_from_id": page.next_after, "total_count": page.total}


EXPORT_COLUMNS = ("transaction_id", "transaction_eid", "profile_id", "created_at", "transaction_type", "status",
                  "amount", "balance_before", "balance_after", "promo_iid", "promo_eid", "description",
                  "activation_date", "expiration_date", "source_type", "source_iid")


def export_csv(rows, profile_of, promo_iid) -> str:
    """transactions_export's file: a header of Altcraft field names, one line per record, null as an empty cell.
    `profile_of(member_id)` gives the member's profile id, `promo_iid(row)` the promotion a row names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        fields = {**statement_row(r, promo_iid(r)), "profile_id": profile_of(r.entry.member_id)}
        writer.writerow(["" if fields[c] is None else fields[c] for c in EXPORT_COLUMNS])
    return out.getvalue()
