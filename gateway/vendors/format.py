"""Wire formatting shared by the renderers: rounding money, printing timestamps."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

UTC = timezone.utc
CENT = Decimal("0.01")


def money(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Money rounded half-up to cents (every vendor shows cents)."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


def fixed2(value: Decimal) -> str:
    """'1000.00': Altcraft's decimal strings."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def rfc3339(at: datetime | None, *, millis: bool = False) -> str | None:
    """'2024-09-01T12:34:56Z' (UTC, second precision, or milliseconds)."""
    if at is None:
        return None
    at = at.astimezone(UTC)
    if millis:
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def naive_iso(at: datetime | None) -> str | None:
    """'2024-12-01T00:00:00' or with fraction: UTC without an offset (Gameball)."""
    if at is None:
        return None
    at = at.astimezone(UTC).replace(tzinfo=None)
    s = at.replace(microsecond=0).isoformat()
    return s + (f".{at.microsecond:06d}".rstrip("0") if at.microsecond else "")


def laravel(at: datetime | None) -> str | None:
    """'2021-01-21 01:07:28': UTC, no offset (Omneo)."""
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_datetime(value: str, zone=UTC) -> datetime:
    """RFC 3339 / ISO 8601 / 'Y-m-d H:i:s'; a time without an offset is read in `zone` (UTC by default)."""
    d = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=zone)
