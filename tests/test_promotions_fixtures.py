"""Promotions in fixtures: a closed section of a program, checked when the world is built (unique ids, rules in the
program's own currencies, a start before the end); relative dates read against the fixture clock."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from gateway import fixtures
from helpers import NOW

DOC = {"version": 1, "clock": {"now": NOW.isoformat(), "frozen": True},
       "programs": [{"id": "p", "money_currency": "EUR",
                     "point_currencies": [{"id": "stars", "value": "0.01"}]}]}


def with_promotions(*promotions) -> dict:
    doc = copy.deepcopy(DOC)
    doc["programs"][0]["promotions"] = list(promotions)
    return doc


def errors(doc) -> list[tuple[str, str]]:
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.build(doc)
    return info.value.errors


def test_promotions_are_loaded_by_id_with_their_rules():
    tenant = fixtures.build(with_promotions(
        {"id": 9, "name": "B", "start_date": "-7d", "end_date": "+1d", "is_active": False,
         "accrual_rules": [{"currency": "stars", "min_amount": 1, "max_amount": "10.5"}]},
        {"id": 2, "name": "A", "external_id": "a"}))
    first, second = tenant.program("p").promotions
    assert (first.id, first.external_id, first.active, first.starts_at, first.ends_at) == (2, "a", True, None, None)
    assert (second.id, second.active, second.starts_at, second.ends_at) == (
        9, False, NOW - timedelta(days=7), NOW + timedelta(days=1))
    rule = second.accrual_rules[0]
    assert (rule.currency_id, str(rule.min_amount), str(rule.max_amount), rule.static_amount) == (
        "stars", "1", "10.5", None)


@pytest.mark.parametrize("promotions, pointer, words", [
    ([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "/programs/0/promotions/1/id", "duplicate promotion id 1"),
    ([{"id": 1, "name": "a", "redeem_rules": [{"currency": "gold"}]}], "/programs/0/promotions/0/redeem_rules/0/currency",
     "no point currency 'gold'"),
    ([{"id": 1, "name": "a", "start_date": "+2d", "end_date": "+1d"}], "/programs/0/promotions/0/end_date",
     "ends before it starts"),
])
def test_promotion_mistakes_are_refused(promotions, pointer, words):
    [(where, message)] = errors(with_promotions(*promotions))
    assert where == pointer and words in message


@pytest.mark.parametrize("promotion", [
    {"id": 1},                                            # no name
    {"id": 0, "name": "a"},
    {"id": 1, "name": "a", "colour": "red"},              # closed
    {"id": 1, "name": "a", "accrual_rules": [{"currency": "stars", "static": 1}]},
])
def test_the_section_is_closed(promotion):
    assert errors(with_promotions(promotion))
