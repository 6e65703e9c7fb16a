"""ISO 8601 durations ('P14D', 'PT10M', 'P1Y2M3DT4H', '-P1D') applied to an instant.
Years and months are calendar steps (31 Jan + P1M = 28/29 Feb), the rest exact."""
from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

_RE = re.compile(r"^(?P<sign>[-+])?P(?!$)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
                 r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


class DurationError(ValueError):
    pass


def parse(text: str) -> tuple[int, int, timedelta]:
    """(sign, months, exact part)."""
    m = _RE.match(str(text).strip().upper()) if isinstance(text, str) else None
    if not m:
        raise DurationError(f"not an ISO 8601 duration: {text!r} (examples: P14D, PT10M, P1M, PT36H)")
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    months = int(g.get("y", 0)) * 12 + int(g.get("mo", 0))
    exact = timedelta(weeks=int(g.get("w", 0)), days=int(g.get("d", 0)), hours=int(g.get("h", 0)),
                      minutes=int(g.get("mi", 0)), seconds=float(g.get("s", 0)))
    return (-1 if g.get("sign") == "-" else 1), months, exact


def add_months(at: datetime, months: int) -> datetime:
    y, m = divmod(at.month - 1 + months, 12)
    year, month = at.year + y, m + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def apply(at: datetime, text: str) -> datetime:
    sign, months, exact = parse(text)
    return add_months(at, sign * months) + sign * exact
