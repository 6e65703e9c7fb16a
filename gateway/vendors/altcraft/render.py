"""Engine figures -> Altcraft bodies: the {error, error_text, data} envelope, points as decimal strings
with exactly two decimals ("800.50"). The dispatcher turns these dicts into XML under <xml> when the
response format is xml."""
from __future__ import annotations

from ...engine.ledger import Balance
from ..format import fixed2

SUCCESS = "Successful operation"


def success(data: dict) -> dict:
    return {"error": 0, "error_text": SUCCESS, "data": data}


def error(code: int, text: str) -> dict:
    return {"error": code, "error_text": text}


def balance(b: Balance) -> dict:
    return {"total_balance": fixed2(b.total), "active_balance": fixed2(b.available)}
