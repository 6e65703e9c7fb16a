"""A program's promotions (configured with the program, like its tiers) and the paged list of them.

A promotion is triggered by a transaction that names it (an accrual or a redemption carrying its id or external
id): the transaction records it. Its rules say, per point currency, the fixed amount and the bounds a
triggering transaction's amount is meant to have; the engine shows them and does not enforce them (no vendor
documents how they constrain an API amount)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PromotionRule:
    currency_id: str
    static_amount: Decimal | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Promotion:
    id: int
    name: str
    description: str | None = None
    external_id: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool = True
    accrual_rules: tuple[PromotionRule, ...] = ()
    redeem_rules: tuple[PromotionRule, ...] = ()


@dataclass(frozen=True, slots=True)
class PromotionPage:
    items: tuple[Promotion, ...]
    total: int                     # promotions matching the filter, all pages together
    next_after: int | None         # the last item's id when more follow (the next page's cursor)


def page(promotions: tuple[Promotion, ...], *, after: int | None = None, limit: int = 20,
         active: bool | None = None) -> PromotionPage:
    """Promotions by ascending id, those with an id above `after`, at most `limit`; `active` filters by the
    promotion's switch (None: all)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    matching = sorted((p for p in promotions if active is None or p.active == active), key=lambda p: p.id)
    rest = [p for p in matching if after is None or p.id > after]
    items = tuple(rest[:limit])
    return PromotionPage(items=items, total=len(matching),
                         next_after=items[-1].id if len(rest) > limit else None)


def named(promotions: tuple[Promotion, ...], reference: Any) -> Promotion | None:
    """The promotion a transaction names: by its external id, else by its id."""
    if reference is None:
        return None
    text = str(reference)
    for p in promotions:
        if p.external_id is not None and p.external_id == text:
            return p
    for p in promotions:
        if str(p.id) == text:
            return p
    return None
