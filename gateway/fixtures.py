"""Fixtures documents (YAML or JSON) -> tenants. Validated by specs/fixtures.schema.json.

History is replayed through the engine's own operations with the clock set to each event's
instant, so a fixture world obeys exactly the rules a live one does."""
from __future__ import annotations

import copy
from dataclasses import replace
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .engine.clock import Clock
from .engine.model import CurrencyRules, PointCurrency, Program, RedemptionRule, RewardDefinition, Tier
from .engine.promotions import Promotion, PromotionRule
from .engine.tenant import Tenant
from . import codecs, resources, specs
from .engine.ports import StoreFactory
from .store import open_stores
from .vendors import registry

UTC = timezone.utc
_REL = re.compile(r"^(?:now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*([wdhms])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


class FixtureError(ValueError):
    """A fixtures document that cannot be loaded; `errors` is [(json pointer, message)], `source` the file
    it came from (None for a document sent over HTTP)."""

    def __init__(self, errors: list[tuple[str, str]], source: str | None = None):
        super().__init__("; ".join(f"{p or '/'}: {m}" for p, m in errors))
        self.errors = errors
        self.source = source

    def lines(self) -> list[str]:
        """One line per problem, `FILE#/json/pointer: message` (the JSON-reference form), for a terminal."""
        where = self.source or "fixtures"
        return [f"{where}#{p}: {m}" if p else f"{where}: {m}" for p, m in self.errors]


_validator: tuple[int, Draft202012Validator] | None = None     # (registry generation, validator)


def compose(base: dict, descriptors) -> dict:
    """specs/fixtures.schema.json with its vendor parts made from the vendors' descriptors: `credentials` and
    `settings` (one closed object per vendor), the identity kinds (`$defs/member/.../identities`), and the
    program's and point currency's `external` keys. What the file itself writes there is the built-ins' part
    (kept equal to this composition by tests/test_fifth_vendor.py), so the file stays a valid, readable schema."""
    schema = copy.deepcopy(base)
    props = schema["properties"]
    props["credentials"]["properties"] = {d.name: d.credentials_schema() for d in descriptors}
    props["settings"]["properties"] = {d.name: d.settings_schema() for d in descriptors}
    identities = schema["$defs"]["member"]["properties"]["identities"]
    identities["propertyNames"]["pattern"] = \
        "^(" + "|".join(p for d in descriptors for p in d.identity_patterns()) + ")$"
    identities["description"] = "identity kind -> value. Kinds: " + \
        ", ".join(k for d in descriptors for k in d.identities)
    for where, attr in (("program_external", "program_external"), ("currency_external", "currency_external")):
        schema["$defs"][where]["properties"] = {key: {"$ref": "#/$defs/external_id", "description": text}
                                                for d in descriptors for key, text in getattr(d, attr).items()}
    return schema


def schema() -> dict:
    """The fixtures schema in force: the bundled file, its vendor parts from every registered vendor."""
    return compose(json.loads(resources.spec_file("fixtures.schema.json").read_text()), registry.descriptors())


def _schema_validator() -> Draft202012Validator:
    global _validator
    generation = registry.generation()
    if _validator is None or _validator[0] != generation:
        _validator = (generation, Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER))
    return _validator[1]


def validate(doc: Any) -> None:
    errors = sorted(_schema_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise FixtureError([(specs.pointer(e.absolute_path), e.message) for e in errors])


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML whose unquoted dates stay strings (`at: 2026-03-10T12:00:00Z`), as the schema expects:
    the fixtures format reads every date itself (absolute or relative to the clock)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load_yaml(text: str | bytes):
    """A YAML or JSON fixtures document (the one loader for files and for bodies posted to /__admin), bounded
    by codecs.ADMIN (depth, strings, alias expansion: a DecodeError)."""
    return codecs.decode_yaml(text, _Loader, codecs.ADMIN)


def read(path) -> dict:
    """A fixtures document from a file (YAML or JSON). Every failure is a FixtureError naming the file."""
    source = str(path)
    try:
        text = path.read_text() if hasattr(path, "read_text") else Path(path).read_text()
    except UnicodeDecodeError:
        raise FixtureError([("", "cannot read: not UTF-8 text")], source) from None
    except OSError as exc:
        raise FixtureError([("", f"cannot read: {exc.strerror or exc}")], source) from None
    try:
        doc = load_yaml(text)
    except (yaml.YAMLError, codecs.DecodeError) as exc:
        raise FixtureError([("", "not valid YAML/JSON: " + " ".join(str(exc).split()))], source) from None
    if not isinstance(doc, dict):
        raise FixtureError([("", "a fixtures document is a mapping (tenant, programs, members ...)")], source)
    return doc


def load_file(path, **kw) -> Tenant:
    """Read and build one fixtures file; any error names the file."""
    try:
        return build(read(path), **kw)
    except FixtureError as exc:
        exc.source = exc.source or str(path)
        raise


def demo_document() -> dict:
    return read(resources.fixture_file("demo.yaml"))


def parse_when(value: Any, now: datetime, where: str = "") -> datetime:
    """Absolute RFC 3339 / ISO 8601, or relative to now: 'now', '-30d', '+2h', 'now-15m'."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    s = str(value).strip()
    if s == "now":
        return now
    m = _REL.match(s)
    if m:
        sign, n, unit = m.groups()
        delta = timedelta(**{_UNITS[unit]: float(n)})
        return now + delta if sign == "+" else now - delta
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise FixtureError([(where, f"not a date or relative time: {s!r}")]) from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _dec(v) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def _program(doc: dict) -> Program:
    currencies = []
    for c in doc["point_currencies"]:
        r = c.get("rules", {})
        rules = CurrencyRules(
            min_balance=_dec(r.get("min_balance")), max_balance=_dec(r.get("max_balance")),
            max_credit=_dec(r.get("max_credit")), max_debit=_dec(r.get("max_debit")),
            overtaking=r.get("overtaking", "strict"), credit_rounding=r.get("credit_rounding"),
            debit_rounding=r.get("debit_rounding"),
            **({"max_amount": _dec(r["max_amount"])} if "max_amount" in r else {}))
        currencies.append(PointCurrency(
            id=c["id"], name=c.get("name", c["id"]), value=_dec(c["value"]), decimals=c.get("decimals", 2),
            pending_days=c.get("pending_days", 0), expiry_days=c.get("expiry_days"),
            fixed_expiry=c.get("fixed_expiry"), hold_minutes=c.get("hold_minutes", 10),
            temp_timeout_sec=c.get("temp_timeout_sec", 600), rules=rules,
            external=dict(c.get("external", {})), info=dict(c.get("info", {}))))
    tiers = tuple(Tier(id=t["id"], handle=t["handle"], name=t["name"], value_min=_dec(t["value_min"]),
                       value_maintain=_dec(t.get("value_maintain", t["value_min"])),
                       is_floor=t.get("is_floor", _dec(t["value_min"]) == 0), info=dict(t.get("info", {})))
                  for t in doc.get("tiers", []))
    rewards = tuple(RewardDefinition(id=d["id"], handle=d["handle"], name=d["name"], value=_dec(d["value"]),
                                     period_days=d.get("period_days"), info=dict(d.get("info", {})))
                    for d in doc.get("reward_definitions", []))
    return Program(
        id=doc["id"], name=doc.get("name", doc["id"]), money_currency=doc["money_currency"],
        currencies=tuple(currencies), tiers=tiers, tier_window_days=doc.get("tier_window_days", 365),
        reward_definitions=rewards,
        currency_rates={k: _dec(v) for k, v in doc.get("currency_rates", {}).items()},
        earn_per_money=_dec(doc.get("earn_per_money", 1)),
        reversal_window_minutes=doc.get("reversal_window_minutes", 10),
        external=dict(doc.get("external", {})), info=dict(doc.get("info", {})),
        redemption_rules=tuple(_redemption_rule(r) for r in doc.get("redemption_rules", [])))


def _redemption_rule(doc: dict) -> RedemptionRule:
    return RedemptionRule(id=doc["id"], points=_dec(doc.get("points")), kind=doc.get("kind", "fixed_rate"),
                          value_per_point=_dec(doc.get("value_per_point")), active=doc.get("active", True),
                          created_at=parse_when(doc["created_at"], None, "created_at") if doc.get("created_at") else None,
                          info=dict(doc.get("info", {})))


def _promotions(doc: dict, now: datetime, where: str) -> tuple[Promotion, ...]:
    """A program's promotions: unique ids, rules naming its own point currencies, a start before the end."""
    currencies = {c["id"] for c in doc["point_currencies"]}
    out, errors, seen = [], [], set()
    for i, p in enumerate(doc["promotions"]):
        at = f"{where}/promotions/{i}"
        if p["id"] in seen:
            errors.append((f"{at}/id", f"duplicate promotion id {p['id']}"))
        seen.add(p["id"])
        rules = {}
        for kind in ("accrual_rules", "redeem_rules"):
            rules[kind] = []
            for j, r in enumerate(p.get(kind, [])):
                if r["currency"] not in currencies:
                    errors.append((f"{at}/{kind}/{j}/currency", f"no point currency {r['currency']!r} in this program"))
                rules[kind].append(PromotionRule(currency_id=r["currency"], static_amount=_dec(r.get("static_amount")),
                                                 min_amount=_dec(r.get("min_amount")), max_amount=_dec(r.get("max_amount"))))
        start = parse_when(p["start_date"], now, f"{at}/start_date") if "start_date" in p else None
        end = parse_when(p["end_date"], now, f"{at}/end_date") if "end_date" in p else None
        if start is not None and end is not None and end < start:
            errors.append((f"{at}/end_date", "the promotion ends before it starts"))
        out.append(Promotion(id=p["id"], name=p["name"], description=p.get("description"),
                             external_id=p.get("external_id"), starts_at=start, ends_at=end,
                             active=p.get("is_active", True), accrual_rules=tuple(rules["accrual_rules"]),
                             redeem_rules=tuple(rules["redeem_rules"])))
    if errors:
        raise FixtureError(errors)
    return tuple(sorted(out, key=lambda x: x.id))


_MEMORY: StoreFactory | None = None


def _default_stores() -> StoreFactory:
    global _MEMORY
    if _MEMORY is None:
        _MEMORY = open_stores("memory")
    return _MEMORY


def build(doc: dict, *, tenant_id: str | None = None, credentials: dict | None = None,
          wall: datetime | None = None, stores: StoreFactory | None = None) -> Tenant:
    """A fresh tenant from a validated fixtures document, its state in a store from `stores` (memory by default)."""
    validate(doc)
    stores = stores or _default_stores()
    wall = wall or datetime.now(UTC)
    clock_doc = doc.get("clock", {})
    now = parse_when(clock_doc["now"], wall, "/clock/now") if clock_doc.get("now") else wall
    programs = {}
    for p in doc["programs"]:
        if p["id"] in programs:
            raise FixtureError([("/programs", f"duplicate program id {p['id']!r}")])
        programs[p["id"]] = _program(p)
        if p.get("promotions"):
            programs[p["id"]] = replace(programs[p["id"]], promotions=_promotions(p, now, f"/programs/{len(programs) - 1}"))
    tid = tenant_id or doc.get("tenant", "demo")
    tenant = Tenant(id=tid, programs=programs, store=stores.new(tid),
                    clock=Clock(now, frozen=True), credentials=credentials or doc.get("credentials", {}),
                    settings=doc.get("settings", {}), source=doc)
    if "state" in doc:       # a snapshot: the exact state, no history to replay
        bad = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)
        try:
            tenant.store = stores.restore(tid, doc["state"]["store"])
        except bad as exc:
            raise FixtureError([("/state/store", f"not a snapshot of this gateway: {exc!r}")]) from None
        try:
            hw = doc["state"].get("high_water")
            tenant.high_water = datetime.fromisoformat(hw) if hw else None
        except bad:
            raise FixtureError([("/state/high_water", "not a date")]) from None
        tenant.clock = Clock(now, frozen=bool(clock_doc.get("frozen", False)))
        return tenant
    events = []
    for i, m in enumerate(doc.get("members", [])):
        where = f"/members/{i}"
        program = programs.get(m["program"]) if "program" in m else next(iter(programs.values()))
        if program is None:
            raise FixtureError([(f"{where}/program", f"unknown program {m['program']!r}")])
        joined = parse_when(m.get("joined_at", "now"), now, f"{where}/joined_at")
        try:
            member = tenant.add_member(program, m["identities"], member_id=m.get("id"), joined_at=joined,
                                       attributes=m.get("attributes"))
        except Exception as exc:  # duplicate identity
            raise FixtureError([(f"{where}/identities", str(exc))]) from None
        if m.get("active", True) is False:
            tenant.update_member(member, active=False)
        for j, h in enumerate(m.get("history", [])):
            at = parse_when(h.get("at", "now"), now, f"{where}/history/{j}/at")
            if at > now:
                raise FixtureError([(f"{where}/history/{j}/at", "history cannot be in the future")])
            events.append((at, i, j, member.id, program, h))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    for at, i, j, member_id, program, h in events:
        where = f"/members/{i}/history/{j}"
        tenant.clock.set(at, frozen=True)
        member = tenant.member_by_id(member_id)
        try:
            _apply(tenant, program, member, h, now, where)
        except FixtureError:
            raise
        except Exception as exc:   # engine refusals name the event that caused them
            raise FixtureError([(where, getattr(exc, "message", str(exc)))]) from None
    tenant.clock = Clock(now, frozen=bool(clock_doc.get("frozen", False)))
    tenant.high_water = max((e[0] for e in events), default=None)
    return tenant


def _apply(tenant: Tenant, program: Program, member, h: dict, now: datetime, where: str) -> None:
    currency = tenant.currency(program, h.get("currency"))
    when = lambda key: parse_when(h[key], now, f"{where}/{key}") if h.get(key) is not None else None
    if "credit" in h:
        tenant.credit(member, currency, _dec(h["credit"]), available_at=when("available_at"),
                      expires_at=when("expires_at"), pending_days=h.get("pending_days"),
                      origin=h.get("origin", "fixture"), refs=h.get("refs", {}))
    elif "debit" in h:
        tenant.debit(member, currency, _dec(h["debit"]), origin=h.get("origin", "fixture"), refs=h.get("refs", {}))
    elif "reward" in h:
        tenant.issue_reward(member, h.get("definition", 0), _dec(h["reward"]), expires_at=when("expires_at"),
                            timezone=h.get("timezone", "UTC"), external_id=h.get("external_id"))
    elif "store_credit" in h:
        tenant.issue_store_credit(member, _dec(h["store_credit"]), expires_at=when("expires_at"),
                                  security_code=h.get("security_code"), name=h.get("name"),
                                  external_id=h.get("external_id"))
    elif "benefit" in h:
        tenant.issue_benefit(member, h["benefit"], h.get("name", h["benefit"]), h.get("quantity", 1),
                             value=_dec(h.get("value", 0)), expires_at=when("expires_at"))


def snapshot(tenant: Tenant) -> dict:
    """The whole world as a fixtures document (programs as loaded, exact ledger state under `state`)."""
    doc = snapshot_head(tenant)
    doc["state"] = {"store": tenant.store.export(), "high_water": snapshot_high_water(tenant)}
    return doc


def snapshot_head(tenant: Tenant) -> dict:
    """A snapshot without its `state` (what the admin API writes first, before streaming the store)."""
    doc = {k: v for k, v in (tenant.source or {}).items() if k not in ("members", "clock", "state")}
    doc.update(tenant=tenant.id, credentials=tenant.credentials, settings=tenant.settings,
               clock={"now": tenant.now().isoformat(), "frozen": tenant.clock.frozen})
    doc.setdefault("version", 1)
    return doc


def snapshot_high_water(tenant: Tenant) -> str | None:
    return tenant.high_water.isoformat() if tenant.high_water else None


__all__ = ["FixtureError", "build", "compose", "demo_document", "load_file", "load_yaml", "parse_when", "read", "schema",
           "validate"]
