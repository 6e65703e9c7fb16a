"""The engine's point-currency catalogue (add, change in the draft, publish, delete with the in-use check) and its
calendar expiry rule."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.engine import errors as E
from gateway.engine.catalog import CurrencyTerms
from gateway.engine.expiry import ExpiryRule, expires_at
from gateway.engine.model import CurrencyRules

from helpers import NOW


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize("rule, at, expected", [
    (ExpiryRule(10, "day"), utc(2026, 3, 10, 12), utc(2026, 3, 20, 12)),
    (ExpiryRule(2, "week", "start"), utc(2026, 3, 11, 12), utc(2026, 3, 23)),            # Monday
    (ExpiryRule(1, "month"), utc(2026, 1, 31, 8), utc(2026, 2, 28, 8)),                   # no 31 February
    (ExpiryRule(1, "month", "end"), utc(2026, 1, 31, 8), utc(2026, 2, 28, 23, 59, 59, 999999)),
    (ExpiryRule(1, "year", "start"), utc(2024, 2, 29, 8), utc(2025, 1, 1)),
    (ExpiryRule(3, "month", "start"), utc(2026, 11, 15), utc(2027, 2, 1)),
    (ExpiryRule(1, "day", "end"), utc(2026, 3, 10, 12), utc(2026, 3, 11, 23, 59, 59, 999999)),
])
def test_calendar_expiry(rule, at, expected):
    assert expires_at(rule, at) == expected


def test_add_names_the_currency_by_its_id_and_the_next_free_numbers(t):
    """Numbers where the program's currencies are named by numbers, its own id where they are named by UUIDs."""
    program = t.program("main")
    c = t.add_currency(program, CurrencyTerms(name="Wallet", unit="USD"), name_as=("x.id",))
    assert c.external == {"x.id": c.id, "altcraft.iid": 2, "omneo.point_definition_id": 2,
                          "brevo.balance_definition_id": c.id}
    assert (c.created_at, c.value, c.decimals, c.expiry_days) == (NOW, 1, 2, None)    # USD is the program's money
    assert t.program("main").currencies[-1] == c
    d = t.add_currency(program, CurrencyTerms(name="Stars", unit="POINTS", rules=CurrencyRules(debit_rounding="upper")))
    assert (d.external["altcraft.iid"], d.value, d.decimals) == (3, program.default_currency.value, 0)


def test_a_change_waits_in_the_draft_until_published(t):
    program = t.program("main")
    c = t.add_currency(program, CurrencyTerms(name="Wallet"))
    t.clock.advance(timedelta(minutes=1))
    draft = t.change_currency(program, c, CurrencyTerms(name="Wallet 2", expiry_rule=ExpiryRule(1, "year")))
    current = t.program("main")
    assert current.currency(c.id) == c and t.currency_version(current, c) == draft
    assert draft.updated_at == NOW + timedelta(minutes=1)
    t.publish(current)
    assert t.program("main").currency(c.id) == draft and t.program("main").currency_drafts == {}


def test_delete_refuses_a_currency_in_use_and_the_last_one(t, alice):
    program = t.program("main")
    c = t.add_currency(program, CurrencyTerms(name="Wallet"))
    t.credit(alice, c, 5)
    with pytest.raises(E.CurrencyInUse):
        t.delete_currency(program, c)
    unused = t.add_currency(program, CurrencyTerms(name="Unused"))
    t.delete_currency(program, unused)
    assert [x.id for x in t.program("main").currencies] == ["points", c.id]
    with pytest.raises(E.CurrencyNotFound):
        t.delete_currency(program, unused)


def test_a_handle_is_unique_and_a_change_may_be_published_at_once(t):
    from gateway.engine.catalog import terms_of
    program = t.program("main")
    c = t.add_currency(program, CurrencyTerms(name="Wallet", info={"handle": "wallet"}))
    with pytest.raises(E.InvalidRequest):
        t.add_currency(program, CurrencyTerms(name="Other", info={"handle": "wallet"}))
    with pytest.raises(E.InvalidRequest):          # a currency without a handle is called by its id
        t.add_currency(program, CurrencyTerms(name="Other", info={"handle": "points"}))
    t.change_currency(program, c, CurrencyTerms(name="Drafted", info={"handle": "wallet"}))
    t.clock.advance(timedelta(minutes=1))
    now = t.change_currency(t.program("main"), c, CurrencyTerms(name="Now", info={"handle": "wallet"}), at_once=True)
    current = t.program("main")
    assert current.currency(c.id) == now and current.currency_drafts == {}      # the draft is superseded
    assert (now.name, now.created_at, now.updated_at) == ("Now", NOW, NOW + timedelta(minutes=1))
    # a currency's terms as they are: its expiry in days is the same expiry in calendar days
    terms = terms_of(program.default_currency)
    assert (terms.expiry_rule, terms.unit, terms.name) == (ExpiryRule(365, "day"), "POINTS", "Reward Points")


def test_terms_are_checked(t):
    program = t.program("main")
    with pytest.raises(E.InvalidRequest):
        t.add_currency(program, CurrencyTerms(name="W", fixed_expiry="31/12", expiry_rule=ExpiryRule(1)))
    with pytest.raises(E.InvalidRequest):
        t.add_currency(program, CurrencyTerms(name="W", fixed_expiry="30/02"))
    assert len(t.program("main").currencies) == 1


def test_in_use_is_per_program(t):
    """Currency ids are unique within a program only: another program's `points` in use does not hold this one."""
    from dataclasses import replace
    main = t.program("main")
    t.programs["twin"] = replace(main, id="twin", external={}, currencies=(main.default_currency,))
    twin = t.program("twin")
    extra = t.add_currency(twin, CurrencyTerms(name="Extra"))
    t.delete_currency(t.program("twin"), twin.default_currency)      # main's `points` is in use, twin's is not
    assert [c.id for c in t.program("twin").currencies] == [extra.id]
    with pytest.raises(E.CurrencyInUse):
        t.add_currency(main, CurrencyTerms(name="Extra"))
        t.delete_currency(t.program("main"), main.default_currency)


class Boom(Exception):
    pass


def test_a_failed_operation_leaves_no_trace_of_its_catalogue_changes(t, alice):
    """Catalogue changes are store state: a group of operations that fails undoes them with everything else."""
    from decimal import Decimal
    from gateway.engine.limits import LimitTerms
    before = t.program("main")
    kept = t.add_currency(before, CurrencyTerms(name="Kept"))
    configured = t.program("main")
    with pytest.raises(Boom):
        with t.atomic():
            added = t.add_currency(configured, CurrencyTerms(name="Wallet"))
            t.credit(alice, added, 5)
            t.change_currency(configured, kept, CurrencyTerms(name="Renamed"))
            t.add_limit(configured, kept, LimitTerms("credit", "count", 1, "day", Decimal(1)))
            t.publish(t.program("main"))
            with t.atomic():                     # a nested group failing takes the outer one with it
                t.delete_currency(t.program("main"), kept)
                raise Boom
    assert t.program("main") == configured
    assert [c.id for c in t.program("main").currencies] == [before.default_currency.id, kept.id]
    assert t.program("main").currency_drafts == {} and t.program("main").currency(kept.id).limits == ()
    assert not t.store.currency_used("main", added.id)
    assert t.programs["main"] == before          # the programs as built are never written to


def test_every_reader_sees_the_configured_programs(t):
    c = t.add_currency(t.program("main"), CurrencyTerms(name="Wallet"))
    assert c in t.find_program("main").currencies and c in t.programs_now()[0].currencies
    kind, value = next(iter(t.programs["main"].external.items()))
    assert c in t.program_by(kind, value).currencies
    assert c in t.only_program().currencies and t.find_program("nope") is None
    assert c not in t.programs["main"].currencies


def test_nothing_outside_the_program_accessors_reads_the_built_programs():
    """Readers go through Tenant.program / find_program / programs_now, which apply the configuration written
    through the API: a direct read of `.programs` would miss it."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "gateway"
    allowed = {"engine/program_config.py", "engine/tenant.py", "fixtures.py",
               "store/sqlite/world.py"}     # keeps the tenant's programs as built (the overlay is in its rows)
    found = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py") if str(p.relative_to(root)) not in allowed
             for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\.programs\b(?!_now)", line)]
    assert found == []
