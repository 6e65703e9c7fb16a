"""Omneo's list pagination, shared by every Omneo list: which page a request asks for, and the Laravel
paginator envelope (`data`, `links`, `meta`) around the one page the engine read.

A request names its page with `page[size]` / `page[number]` (current API), or the older `per_page` / `page`;
the `page[...]` form wins when both are sent. Default size 15 (Laravel's), at most 100 [gateway choice].
Links keep the request's other query parameters and set `page[number]` (and `page[size]` when it was sent)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

DEFAULT_SIZE = 15
MAX_SIZE = 100
WINDOW = 3      # Laravel's onEachSide: page links shown each side of the current one


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def requested(query: dict) -> Page:
    """The page a list request asks for (the values are already checked against the spec's bounds)."""
    size = query.get("page[size]", query.get("per_page", DEFAULT_SIZE))
    number = query.get("page[number]", query.get("page", 1))
    return Page(number=int(number), size=int(size))


def newest_first(query: dict) -> bool:
    """`sort=-id` (or `-created_at`: records are numbered as they are created) lists the newest first."""
    return query.get("sort") in ("-id", "-created_at")


def _url(path: str, query: dict, number: int | None) -> str | None:
    if number is None:
        return None
    q = {k: v for k, v in query.items() if k not in ("page", "page[number]")}
    q["page[number]"] = number
    return f"{path}?{urlencode(q, safe='[]')}"


def _label_links(path: str, query: dict, current: int, last: int) -> list[dict]:
    """Laravel's `meta.links`: Previous, the page numbers (a window with `...` gaps past 13 pages), Next."""
    if last <= WINDOW * 2 + 8:
        shown = list(range(1, last + 1))
    else:
        if current <= WINDOW * 2:
            middle = range(1, WINDOW * 2 + 3)
        elif current > last - WINDOW * 2:
            middle = range(last - (WINDOW * 2 + 2), last + 1)
        else:
            middle = range(current - WINDOW, current + WINDOW + 1)
        shown = sorted({1, 2, last - 1, last, *middle})
    out = [{"url": _url(path, query, current - 1 if current > 1 else None), "label": "&laquo; Previous",
            "active": False}]
    prev = 0
    for n in shown:
        if n - prev > 1:
            out.append({"url": None, "label": "...", "active": False})
        out.append({"url": _url(path, query, n), "label": str(n), "active": n == current})
        prev = n
    out.append({"url": _url(path, query, current + 1 if current < last else None), "label": "Next &raquo;",
                "active": False})
    return out


def envelope(request, data: list, total: int, page: Page) -> dict:
    """`{"data", "links", "meta"}` for one page of `total` rows. `request` gives the absolute path and the query
    the links repeat."""
    path = str(request.url.with_query(None))
    query = {k: v for k, v in request.query.items()}
    last = max(1, -(-total // page.size))
    first_row = page.offset + 1 if data else None
    return {
        "data": data,
        "links": {"first": _url(path, query, 1), "last": _url(path, query, last),
                  "prev": _url(path, query, page.number - 1 if page.number > 1 else None),
                  "next": _url(path, query, page.number + 1 if page.number < last else None)},
        "meta": {"current_page": page.number, "from": first_row, "last_page": last,
                 "links": _label_links(path, query, page.number, last), "path": path, "per_page": page.size,
                 "to": page.offset + len(data) if data else None, "total": total},
    }
