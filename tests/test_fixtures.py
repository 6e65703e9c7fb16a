"""Fixtures documents catch mistakes: unknown keys are refused, tenants never share an id or a credential,
and every error names the file and the JSON pointer."""
from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from gateway import fixtures
from gateway.engine import Engine
from gateway.engine.errors import TenantConflict

MINIMAL = {"programs": [{"id": "p", "money_currency": "EUR", "point_currencies": [{"id": "pts", "value": "0.01"}]}]}


def errors_of(doc) -> list[tuple[str, str]]:
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.build(doc)
    return info.value.errors


@pytest.mark.parametrize("where,key", [
    (("programs", 0, "external"), "altcraft.programid"),             # typo of altcraft.program_id
    (("programs", 0, "point_currencies", 0, "external"), "brevo.balance_definition"),
    (("programs", 0, "point_currencies", 0, "external"), "altcraft.program_id"),   # a program's key on a currency
])
def test_unknown_external_id_keys_are_refused(where, key):
    doc = copy.deepcopy(MINIMAL)
    node = doc
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = {key: 1}
    errs = errors_of(doc)
    pointer = "/" + "/".join(map(str, where))
    assert [p for p, _ in errs] == [pointer]
    assert key in errs[0][1]


@pytest.mark.parametrize("settings,pointer", [
    ({"altcraft": {"error_http_statuss": True}}, "/settings/altcraft"),
    ({"gameball": {"highsecurity": True}}, "/settings/gameball"),
    ({"brevo": {"organisation_id": 1}}, "/settings/brevo"),
    ({"omneo": {"anything": 1}}, "/settings/omneo"),
    ({"shopify": {}}, "/settings"),
])
def test_unknown_settings_are_refused(settings, pointer):
    errs = errors_of({**MINIMAL, "settings": settings})
    assert [p for p, _ in errs] == [pointer]
    assert "Additional properties are not allowed" in errs[0][1]


def test_every_known_setting_and_external_key_is_accepted():
    doc = copy.deepcopy(MINIMAL)
    doc["settings"] = {"altcraft": {"error_http_status": True},
                       "gameball": {"high_security": True, "replay_identical": True},
                       "brevo": {"organization_id": 42}, "omneo": {}}
    doc["programs"][0]["external"] = {"altcraft.program_id": 7, "brevo.program_id": "0b1e5f3a-6c2d-4e7f-8a9b-1c2d3e4f5a6b"}
    doc["programs"][0]["point_currencies"][0]["external"] = {
        "altcraft.iid": 1, "altcraft.eid": ["a", "b"], "brevo.balance_definition_id": "x", "omneo.point_definition_id": 1}
    tenant = fixtures.build(doc)
    assert tenant.setting("brevo", "organization_id") == 42
    assert tenant.program("p").default_currency.external["altcraft.eid"] == ["a", "b"]


def test_two_tenants_with_the_same_id_are_refused():
    engine = Engine()
    engine.add(fixtures.build({**MINIMAL, "tenant": "acme"}))
    with pytest.raises(TenantConflict, match="tenant 'acme' already exists"):
        engine.add(fixtures.build({**MINIMAL, "tenant": "acme"}))
    assert [t.id for t in engine] == ["acme"]


def test_two_tenants_with_the_same_credentials_are_refused():
    engine = Engine()
    creds = {"gameball": {"apikey": "k", "secretkey": "s"}, "brevo": {"api_key": "b"}}
    first = engine.add(fixtures.build({**MINIMAL, "tenant": "one", "credentials": creds}))
    with pytest.raises(TenantConflict) as info:
        engine.add(fixtures.build({**MINIMAL, "tenant": "two", "credentials": {"brevo": {"api_key": "b"}}}))
    assert "brevo.api_key" in info.value.message and "gameball" not in info.value.message
    assert [t.id for t in engine] == ["one"]
    assert engine.by_credential("brevo.api_key", "b") is first


def test_replacing_a_tenant_keeps_its_own_credentials():
    engine = Engine()
    creds = {"brevo": {"api_key": "b"}}
    engine.add(fixtures.build({**MINIMAL, "tenant": "one", "credentials": creds}))
    fresh = engine.add(fixtures.build({**MINIMAL, "tenant": "one", "credentials": creds}), replace=True)
    assert engine.by_credential("brevo.api_key", "b") is fresh and len(engine) == 1


def test_a_file_error_names_the_file_and_pointer(tmp_path):
    f = tmp_path / "world.yaml"
    f.write_text("programs:\n  - id: p\n    money_currency: usd\n    point_currencies: [{id: pts, value: 1}]\n")
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.load_file(f)
    assert info.value.lines() == [f"{f}#/programs/0/money_currency: 'usd' does not match '^[A-Z]{{3}}$'"]


def test_a_history_refusal_names_the_file_and_event(tmp_path):
    doc = copy.deepcopy(MINIMAL)
    doc["members"] = [{"identities": {"gameball.customer": "c"}, "history": [{"at": "-1d", "debit": 5}]}]
    f = tmp_path / "world.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.load_file(f)
    [line] = info.value.lines()
    assert line.startswith(f"{f}#/members/0/history/0: ")


@pytest.mark.parametrize("content,needle", [
    (None, "cannot read: No such file or directory"),
    ("programs: [unclosed", "not valid YAML/JSON"),
    ("- just\n- a list\n", "a fixtures document is a mapping"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
])
def test_unreadable_documents_name_the_file(tmp_path, content, needle):
    f = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        f.write_bytes(content)
    elif content is not None:
        f.write_text(content)
    with pytest.raises(fixtures.FixtureError) as info:
        fixtures.read(f)
    [line] = info.value.lines()
    assert line.startswith(f"{f}: ") and needle in line and "\n" not in line


# --- the README's reference world ------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "specs" / "fixtures.schema.json").read_text())
FREE_FORM = {"info", "attributes", "refs", "currency_rates"}   # objects whose keys are the user's own


def _reference_world() -> dict:
    text = README.read_text().split("## Fixtures reference", 1)[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))


def _schema_paths(node, path=(), seen=()) -> set[tuple]:
    """Every property path the schema declares (list items as '*'), through $refs and combinators."""
    out = set()
    if "$ref" in node:
        ref = node["$ref"]
        return set() if ref in seen else _schema_paths(SCHEMA["$defs"][ref.rsplit("/", 1)[1]], path, seen + (ref,))
    for key, sub in node.get("properties", {}).items():
        if path + (key,) == ("state",):
            continue
        out.add(path + (key,))
        if key not in FREE_FORM:
            out |= _schema_paths(sub, path + (key,), seen)
    if isinstance(node.get("items"), dict):
        out |= _schema_paths(node["items"], path + ("*",), seen)
    for combinator in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(combinator, ()):
            out |= _schema_paths(sub, path, seen)
    return out


def _doc_paths(value, path=()) -> set[tuple]:
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(path + (k,))
            out |= _doc_paths(v, path + (k,))
    elif isinstance(value, list):
        for v in value:
            out |= _doc_paths(v, path + ("*",))
    return out


def test_the_readme_reference_world_loads():
    tenant = fixtures.build(_reference_world())
    ada = tenant.member_by_id("ada")
    balance = tenant.balance(ada, tenant.program("main").default_currency)
    assert (balance.available, balance.lifetime_earned) == (Decimal("850.00"), Decimal("1000.00"))
    assert tenant.setting("altcraft", "error_http_status") is True


def test_the_readme_reference_world_uses_every_key():
    doc = _reference_world()
    missing = _schema_paths(SCHEMA) - _doc_paths(doc)
    assert not missing, f"the README's reference world does not show: {sorted('/'.join(p) for p in missing)}"
    kinds = re.findall(r"[a-z]+\.[a-z_]+(?:\.<name>)?", SCHEMA["$defs"]["member"]["properties"]["identities"]["description"])
    used = {re.sub(r"^(altcraft\.field|omneo\.identity)\.[A-Za-z0-9_]+$", r"\1.<name>", k)
            for m in doc["members"] for k in m["identities"]}
    assert set(kinds) <= used, set(kinds) - used


def test_unquoted_yaml_dates_are_read_as_dates(tmp_path):
    """YAML would make `2026-03-10T12:00:00Z` a datetime, which the schema's strings refuse: it stays text."""
    f = tmp_path / "world.yaml"
    f.write_text("clock: {now: 2026-03-10T12:00:00Z, frozen: true}\n"
                 "programs: [{id: p, money_currency: EUR, point_currencies: [{id: pts, value: 1}]}]\n"
                 "members: [{identities: {gameball.customer: c}, history: [{at: 2026-03-01T08:00:00Z, credit: 5}]}]\n")
    tenant = fixtures.load_file(f)
    assert tenant.now().isoformat() == "2026-03-10T12:00:00+00:00"
    assert tenant.high_water.isoformat() == "2026-03-01T08:00:00+00:00"
