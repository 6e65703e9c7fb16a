"""Amount checks and rounding: the one place that decides what a valid point amount is."""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import InvalidAmount
from .model import PointCurrency

_MODES = {"lower": ROUND_FLOOR, "upper": ROUND_CEILING, "natural": ROUND_HALF_UP}


def to_decimal(value) -> Decimal:
    """Accept Decimal, int or a decimal string; refuse floats' cousins (bool, NaN, inf)."""
    if isinstance(value, bool):
        raise InvalidAmount("amount must be a number", value=value)
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, (str, float)):
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidAmount("amount is not a number", value=value) from None
    else:
        raise InvalidAmount("amount must be a number", value=value)
    if not d.is_finite():
        raise InvalidAmount("amount must be finite", value=str(value))
    return d


def round_amount(amount: Decimal, mode: str | None, decimals: int) -> Decimal:
    """Round by a currency rule (`lower`/`upper`/`natural`); None keeps the amount as sent."""
    if mode is None:
        return amount
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=_MODES[mode])


def check_points(currency: PointCurrency, value, *, rounding: str | None = None,
                 allow_zero: bool = False) -> Decimal:
    """A positive, finite, sane amount of points with no more decimals than the currency has."""
    d = to_decimal(value)
    d = round_amount(d, rounding, currency.decimals)
    if d < 0 or (d == 0 and not allow_zero):
        raise InvalidAmount("amount must be greater than 0", value=str(d))
    if d > currency.rules.max_amount:
        raise InvalidAmount("amount is too large", value=str(d), max=str(currency.rules.max_amount))
    if -d.as_tuple().exponent > currency.decimals and d != d.quantize(Decimal(1).scaleb(-currency.decimals)):
        raise InvalidAmount(f"amount has more than {currency.decimals} decimal places", value=str(d))
    return d.quantize(Decimal(1).scaleb(-currency.decimals))


def check_money(value, *, max_value: Decimal = Decimal("1000000000"), decimals: int = 2,
                allow_zero: bool = False) -> Decimal:
    d = to_decimal(value)
    if d < 0 or (d == 0 and not allow_zero):
        raise InvalidAmount("amount must be greater than 0", value=str(d))
    if d > max_value:
        raise InvalidAmount("amount is too large", value=str(d))
    if -d.as_tuple().exponent > decimals and d != d.quantize(Decimal(1).scaleb(-decimals)):
        raise InvalidAmount(f"amount has more than {decimals} decimal places", value=str(d))
    return d


def points_value(currency: PointCurrency, points: Decimal) -> Decimal:
    return points * currency.value
