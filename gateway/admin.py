"""The /__admin control plane: tenants, snapshots, member views, journal, clock, faults, specs.

Routed and validated from specs/admin.yaml (served at /__admin/openapi.yaml): each operation is served by
the function of this module named by its operationId, after its path and query parameters and its body
have passed the operation's own validators. Every error, including unknown paths and wrong methods, is
`{error, message, errors: [{pointer, message}]}`; a request that breaks the operation's schemas gets the
operation's `x-error-code`."""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import hmac
import itertools
import json
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import yaml
from aiohttp import web

from . import __version__, codecs, durations, fixtures, resources, specs
from .engine.errors import EngineError, InvalidTime, NotFound, TenantConflict
from .engine.tenant import Tenant
from .faults import FaultCaseError, error_case
from .routes import allowed_methods
from .specs import Operation, Violation
from .store import serial
from .vendors import registry

log = logging.getLogger("loyalty_gateway.admin")
UTC = timezone.utc
PREFIX = "/__admin"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


# --- the envelope -----------------------------------------------------------------------------------------

class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []
        self.headers = headers

    def response(self) -> web.Response:
        return _json({"error": self.code, "message": self.message, "errors": self.errors}, self.status,
                     self.headers)


def _json(data, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, default=str), content_type="application/json",
                        headers=headers)


def _plain(value):
    """Engine values for admin JSON: tagged-free (Decimal -> string, datetime -> RFC 3339)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "$r"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _record(rec) -> dict:
    return _plain({f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)})


def _engine_error(exc: EngineError) -> AdminError:
    status = 404 if isinstance(exc, NotFound) else 409
    return AdminError(status, exc.code, exc.message,
                      [{"pointer": "", "message": f"{k}: {_plain(v)}"} for k, v in exc.detail.items()])


# --- one admin request: parameters and body checked against the operation ------------------------------

@dataclass
class AdminCall:
    """A request that passed its operation's validators: typed parameters, decoded body, resolved tenant."""

    request: web.Request
    gw: Any                          # gateway.app.Gateway
    op: Operation
    tenant: Tenant | None            # the {tenant} of the path, when the path has one
    path: dict[str, Any]
    query: dict[str, Any]
    body: Any                        # None: no body was sent


def _error_code(op: Operation) -> str:
    return op.spec.get("x-error-code", "invalid_request")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text}")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _integer(text: str) -> int:
    if len(text) > codecs.ADMIN.number:
        raise ValueError(f"number too long ({len(text)} characters, at most {codecs.ADMIN.number})")
    return int(text)


def _decode_json(raw: bytes) -> Any:
    """The control plane's JSON: plain floats (probabilities, no money), integers bounded in length, then the
    depth and string limits of codecs.ADMIN (a DecodeError, a ValueError)."""
    value = json.loads(raw, parse_float=_finite, parse_int=_integer, parse_constant=_no_constant)
    codecs.check(value, codecs.ADMIN, "nesting")
    return value


async def _read_body(request: web.Request, op: Operation) -> Any:
    """The decoded body, or None when there is none (empty, or a document that is null). JSON; YAML where the
    operation takes it. NaN and infinities are refused: they are not JSON and compare with nothing."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise AdminError(413, "body_too_large",
                         f"the body is larger than {request.client_max_size} bytes") from None
    if not raw.strip():
        return None
    yaml_ok = any(m in YAML_TYPES for m in op.body_media)
    try:
        if yaml_ok and request.content_type in YAML_TYPES:
            return fixtures.load_yaml(raw)
        return _decode_json(raw)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        kind = "JSON or YAML" if yaml_ok else "JSON"
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise AdminError(400, "malformed_body", f"the body is not valid {kind}: {message}") from None


def _declared(schema: dict) -> set[str]:
    """The property names an object schema declares, its if/then/else and *Of branches included."""
    names = set(schema.get("properties", {}))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            names |= _declared(sub)
    for key in ("if", "then", "else"):
        if isinstance(schema.get(key), dict):
            names |= _declared(schema[key])
    return names


def _schema_at(schema: dict | None, parts: list[str]) -> dict | None:
    for part in parts:
        if not isinstance(schema, dict):
            return None
        if part in schema.get("properties", {}):
            schema = schema["properties"][part]
        elif part.isdigit() and isinstance(schema.get("items"), dict):
            schema = schema["items"]
        elif isinstance(schema.get("additionalProperties"), dict):
            schema = schema["additionalProperties"]
        else:
            return None
    return schema


def _body_errors(op: Operation, violations: list[Violation]) -> list[dict]:
    """Violations as envelope errors, pointers into the body (`/` the whole body). A closed object names each
    field it does not declare, at that field's own pointer."""
    out = []
    for v in violations:
        parts = specs.pointer_parts(v.pointer)[1:]     # drop the "/body" prefix
        if v.keyword == "additionalProperties" and isinstance(v.value, dict):
            node = _schema_at(op.body_schema, parts)
            if node is not None:
                known = _declared(node)
                out += [{"pointer": specs.pointer(parts + [k]),
                         "message": f"unknown field {k!r}; expected one of {sorted(known)}"}
                        for k in v.value if k not in known]
                continue
        out.append({"pointer": specs.pointer(parts) or "/", "message": v.message})
    return out


def _not_found(name: str, value: Any) -> AdminError:
    return AdminError(404, f"{name}_not_found", f"no {name} {value!r}")


async def _prepare(gw, op: Operation, request: web.Request) -> AdminCall:
    raw_path = request.match_info
    tenant = None
    gw.engine.sync()       # what other workers wrote to a shared store first (memory: nothing)
    if "tenant" in raw_path:     # first: a request about no tenant is a 404, whatever else it says
        try:
            tenant = gw.engine.get(raw_path["tenant"])
        except NotFound:
            raise _not_found("tenant", raw_path["tenant"]) from None
    path, missing = op.coerce_params("path", raw_path)
    for v in missing + op.validate_params("path", path):   # a path value its schema refuses names nothing
        name = specs.pointer_parts(v.pointer)[1]
        raise _not_found(name, raw_path.get(name))
    query, missing = op.coerce_params("query", request.query)
    violations = missing + op.validate_params("query", query)
    if violations:
        raise AdminError(422, _error_code(op), "the query is not valid",
                         [{"pointer": v.pointer, "message": v.message} for v in violations])
    for p in op.params_in("query"):
        if p.name not in query and "default" in p.schema:
            query[p.name] = p.schema["default"]
    body = None
    if op.body_schema is not None:
        body = await _read_body(request, op)
        if body is None:
            if op.body_required:
                raise AdminError(400, "missing_body", "a JSON body is required")
        else:
            violations = op.validate_body(body)
            if violations:
                raise AdminError(422, _error_code(op), f"the body does not match {op.operation_id}'s schema",
                                 _body_errors(op, violations))
    return AdminCall(request, gw, op, tenant, path, query, body)


def _route(gw, op: Operation, handler: Callable[[AdminCall], web.StreamResponse]):
    async def handle(request: web.Request) -> tuple[web.StreamResponse, str | None]:
        try:
            return handler(await _prepare(gw, op, request)), None
        except AdminError as exc:
            return exc.response(), exc.code
        except EngineError as exc:
            error = _engine_error(exc)
            return error.response(), error.code
        except Exception as exc:    # a bug still answers in the envelope, never a bare 500
            log.exception("unhandled error in admin %s", op.operation_id)
            return AdminError(500, "internal_error", f"{type(exc).__name__}: {exc}").response(), "internal_error"

    return _answer(gw, op.operation_id, handle)


def _locked(gw, handle):
    """With an admin token configured, `handle` only for requests that carry it (`Authorization: Bearer`,
    compared in constant time); any other is a 401 in the envelope. Without one, `handle` itself."""
    token = gw.config.admin_token
    if not token:
        return handle
    expected = f"Bearer {token}".encode()

    async def checked(request: web.Request) -> tuple[web.StreamResponse, str | None]:
        given = request.headers.get("Authorization", "").strip().encode()
        if not hmac.compare_digest(given, expected):
            error = AdminError(401, "unauthorized", "the control plane needs Authorization: Bearer <its token> "
                               "(--admin-token)", headers={"WWW-Authenticate": 'Bearer realm="loyalty-gateway admin"'})
            return error.response(), error.code
        return await handle(request)
    return checked


def _answer(gw, operation: str | None, handle):
    """The aiohttp handler: the answer, and the request log's line for it (vendor `admin`) when there is a log.
    The token, when one is set, is checked first (_locked)."""
    handle = _locked(gw, handle)
    rlog = gw.config.request_log
    if rlog is None:
        async def answer(request: web.Request) -> web.StreamResponse:
            return (await handle(request))[0]
    else:
        async def answer(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            response, refusal = await handle(request)
            rlog.write(tenant=request.match_info.get("tenant"), vendor="admin", operation=operation,
                       method=request.method, path=request.rel_url.raw_path, status=response.status,
                       duration_ms=(time.perf_counter() - started) * 1000, reason=refusal)
            return response
    answer.__name__ = f"admin_{operation or 'unknown'}"
    return answer


# --- gateway ------------------------------------------------------------------------------------------------

def get_health(call: AdminCall):
    gw = call.gw
    stores = gw.engine.stores
    return _json({"status": "ok", "version": __version__, "tenants": len(gw.engine),
                  "vendors": {n: s.version for n, s in gw.specs.items()},
                  "store": stores.describe() if stores is not None else {"kind": "memory"},
                  "workers": gw.config.workers})


def get_openapi(call: AdminCall):
    return web.Response(body=resources.spec_file("admin.yaml").read_bytes(), content_type="application/yaml")


def list_specs(call: AdminCall):
    return _json({"specs": [{"vendor": n, "version": s.version, "title": s.document.get("info", {}).get("title"),
                             "operations": len(s.operations), "url": f"{PREFIX}/specs/{n}"}
                            for n, s in call.gw.specs.items()]})


def get_spec(call: AdminCall):
    name = call.path["vendor"]
    if name not in call.gw.specs:
        raise AdminError(404, "vendor_not_found", f"no spec for {name!r}; one of {sorted(call.gw.specs)}")
    return web.Response(body=registry.spec_bytes(name), content_type="application/yaml")


# --- tenants --------------------------------------------------------------------------------------------------

def fresh_credentials() -> dict:
    """New credentials for every registered vendor, as its descriptor makes them (`<prefix>-<24 hex digits>`)."""
    return {d.name: d.fresh_credentials() for d in registry.descriptors()}


def _build(gw, doc: dict, **kw) -> Tenant:
    try:
        return fixtures.build(doc, stores=gw.engine.stores, **kw)
    except fixtures.FixtureError as exc:
        raise AdminError(422, "invalid_fixtures", "the fixtures document is not valid",
                         [{"pointer": p or "/", "message": m} for p, m in exc.errors]) from None


def _collisions(engine, tenant: Tenant) -> list[dict]:
    """What of a new (unregistered) tenant is already another tenant's: its id, each credential (pointers into
    the document)."""
    out = []
    for kind, _owner in engine.conflicts(tenant):
        if kind == "tenant":
            out.append({"pointer": "/tenant", "message": f"tenant {tenant.id!r} already exists"})
        else:
            vendor, name = kind.split(".", 1)
            out.append({"pointer": f"/credentials/{vendor}/{name}", "message": f"{kind} already opens another tenant"})
    return out


def list_tenants(call: AdminCall):
    return _json({"tenants": [{"tenant": t.id, "members": len(list(t.store.members())), "now": _plain(t.now())}
                              for t in call.gw.engine]})


def create_tenant(call: AdminCall):
    """No body or `{}`: the demo world, with a new id and new credentials for every vendor. A fixtures document
    keeps its own `tenant` id and `credentials` (per vendor it names); what it leaves out is generated."""
    doc = call.body
    cap = call.gw.config.max_tenants
    if len(call.gw.engine) >= cap:
        raise AdminError(409, "too_many_tenants", f"this gateway holds {len(call.gw.engine)} tenants, as many as "
                         f"it may (--max-tenants {cap}): delete one first")
    creds = fresh_credentials()
    if not doc:
        doc, tid = fixtures.demo_document(), None
    else:
        tid = doc.get("tenant") if isinstance(doc.get("tenant"), str) else None
        own = doc.get("credentials")
        if isinstance(own, dict):
            creds.update({v: c for v, c in own.items() if v in creds and isinstance(c, dict)})
    tenant = _build(call.gw, doc, tenant_id=tid or f"t-{secrets.token_hex(6)}", credentials=creds)
    tenant.source = {**doc, "tenant": tenant.id, "credentials": tenant.credentials}
    try:
        call.gw.engine.add(tenant)
    except TenantConflict as exc:
        raise AdminError(409, "tenant_conflict", exc.message, _collisions(call.gw.engine, tenant)) from None
    return _json({"tenant": tenant.id, "credentials": tenant.credentials}, 201)


def delete_tenant(call: AdminCall):
    gw, tid = call.gw, call.tenant.id
    gw.engine.remove(tid)
    gw.journals.pop(tid, None)
    gw.faults.disarm(tid)
    return web.Response(status=204)


def _tenant_state(tenant: Tenant):
    return _json({"tenant": tenant.id, "now": _plain(tenant.now())})


def reset_tenant(call: AdminCall):
    tenant = call.tenant
    fresh = _build(call.gw, tenant.source, tenant_id=tenant.id, credentials=tenant.credentials)
    fresh.source = tenant.source
    return _tenant_state(call.gw.engine.add(fresh, replace=True))


SNAPSHOT_ROWS = 2000     # records per written chunk of a streamed snapshot


def get_snapshot(call: AdminCall):
    """Streamed: the store's sections are taken at once (a consistent view), then written a chunk of records
    at a time, yielding to other calls between chunks; the document is never built whole."""
    tenant = call.tenant
    try:
        sections = tenant.store.export_sections()
    except NotImplementedError:          # a store that cannot: the whole document at once
        return _json(fixtures.snapshot(tenant))
    body = _snapshot_chunks(fixtures.snapshot_head(tenant), sections, fixtures.snapshot_high_water(tenant))
    return web.Response(body=body, content_type="application/json")


async def _snapshot_chunks(head: dict, sections: list, high_water: str | None):
    text = json.dumps(head, default=str)
    yield (text[:-1] + (", " if len(text) > 2 else "") + '"state": {"store": {').encode()
    for i, (key, value) in enumerate(sections):
        yield ((", " if i else "") + json.dumps(key) + ": ").encode()
        if isinstance(value, list):
            async for piece in _list_chunks(value):
                yield piece
        else:
            yield codecs.encode_json(serial.dump(value))
    yield ('}, "high_water": ' + json.dumps(high_water) + "}}").encode()


def _long(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > SNAPSHOT_ROWS


async def _list_chunks(items):
    """A list's JSON (as serial.dump writes it), SNAPSHOT_ROWS items a piece, yielding to other calls between
    pieces. An item that is itself long, or holds a long list (one member's 100,000 tier movements are one row),
    is written the same way, piece by piece."""
    yield b"["
    sep, run = b"", []
    for item in items:
        if isinstance(item, (list, tuple)) and (len(item) > SNAPSHOT_ROWS or any(_long(x) for x in item)):
            if run:
                yield sep + codecs.encode_json(serial.dump(run))[1:-1]
                sep, run = b", ", []
                await asyncio.sleep(0)
            yield sep
            sep = b", "
            async for piece in _list_chunks(item):
                yield piece
            continue
        run.append(item)
        if len(run) >= SNAPSHOT_ROWS:
            yield sep + codecs.encode_json(serial.dump(run))[1:-1]
            sep, run = b", ", []
            await asyncio.sleep(0)
    if run:
        yield sep + codecs.encode_json(serial.dump(run))[1:-1]
    yield b"]"


def put_snapshot(call: AdminCall):
    tenant = call.tenant
    fresh = _build(call.gw, call.body, tenant_id=tenant.id, credentials=tenant.credentials)
    fresh.source = tenant.source
    return _tenant_state(call.gw.engine.add(fresh, replace=True))


# --- members ----------------------------------------------------------------------------------------------------

def _member(tenant: Tenant, ref: str):
    """By id, then by each fixed identity kind through the store's index; a scan only for what they miss
    (identity kinds with a `<name>` part, such as Altcraft's custom fields)."""
    found = tenant.store.member(ref)
    if found is not None:
        return found
    for kind in (k for d in registry.descriptors() for k in d.identities if "<" not in k):
        found = tenant.store.find_member(kind, ref)
        if found is not None:
            return found
    for m in tenant.store.members():
        if ref == m.id or ref in (str(v) for v in m.identities.values()):
            return m
    raise AdminError(404, "member_not_found", f"no member with id or identity {ref!r}")


def list_members(call: AdminCall):
    first, limit = call.query["offset"], call.query["limit"]
    members = itertools.islice(call.tenant.store.members(), first, first + limit)
    return _json({"members": [{"id": m.id, "identities": dict(m.identities), "active": m.active} for m in members]})


def get_member(call: AdminCall):
    tenant = call.tenant
    member = _member(tenant, call.path["member"])
    program = tenant.program(member.program_id)
    ledgers = {}
    first, limit = call.query["offset"], call.query["limit"]
    page = lambda records: [_record(r) for r in records[first:first + limit]]  # noqa: E731
    for c in program.currencies:
        b = tenant.balance(member, c)
        lots = tenant.store.open_lots(member.id, c.id)
        holds = tenant.store.active_holds(member.id, c.id)
        entries = tenant.store.entries_page(member.id, c.id, offset=first, limit=limit)   # a page, not the past
        ledgers[c.id] = {
            "balance": {"available": b.available, "pending": b.pending, "held": b.held, "total": b.total,
                        "lifetime_earned": b.lifetime_earned, "next_expiring_amount": b.next_expiring_amount,
                        "next_expiring_at": b.next_expiring_at},
            "totals": _record(tenant.store.totals(member.id, c.id)),
            "lots": page(lots), "holds": page(holds), "entries": [_record(e) for e in entries],
            "counts": {"lots": len(lots), "holds": len(holds), "entries": tenant.store.entries_count(member.id, c.id)},
        }
    rewards = tenant.store.rewards(member.id)
    views = {}
    for name, vendor in call.gw.vendors.items():
        try:
            views[name] = vendor.member_view(tenant, member)
        except EngineError as exc:
            views[name] = {"error": exc.code, "message": exc.message}
    return _json(_plain({"id": member.id, "program": member.program_id, "active": member.active,
                         "identities": dict(member.identities), "joined_at": member.joined_at,
                         "ledger": ledgers, "rewards": page(rewards), "reward_count": len(rewards),
                         "views": views}))


# --- journal ------------------------------------------------------------------------------------------------------

def get_journal(call: AdminCall):
    q = call.query
    items = call.gw.journal(call.tenant.id).list(vendor=q.get("vendor"), operation=q.get("operation"),
                                                 status=q.get("status"), limit=q["limit"], offset=q["offset"])
    return _json({"entries": items, "count": len(items)})


def clear_journal(call: AdminCall):
    call.gw.journal(call.tenant.id).clear()
    return web.Response(status=204)


# --- clock ----------------------------------------------------------------------------------------------------------

def _clock(tenant: Tenant):
    return _json({"now": _plain(tenant.now()), "frozen": tenant.clock.frozen,
                  "earliest": _plain(tenant.high_water) if tenant.high_water else None})


def _move(tenant: Tenant, at: datetime, frozen: bool | None, pointer: str) -> None:
    try:
        tenant.set_clock(at, frozen=frozen)
    except InvalidTime as exc:
        raise AdminError(409, exc.code, exc.message,
                         [{"pointer": pointer, "message": f"the earliest allowed instant is "
                                                          f"{_plain(tenant.high_water)}"}]) from None


def get_clock(call: AdminCall):
    return _clock(call.tenant)


def set_clock(call: AdminCall):
    tenant, body = call.tenant, call.body
    if "now" in body:
        try:
            at = fixtures.parse_when(body["now"], tenant.now())
        except (fixtures.FixtureError, ValueError, OverflowError):
            raise AdminError(422, "invalid_clock", f"now is not a date: {body['now']!r}",
                             [{"pointer": "/now", "message": "RFC 3339, or relative to now: 'now', '+2h', "
                                                             "'-30d', 'now-15m'"}]) from None
        _move(tenant, at, body.get("frozen"), "/now")
    else:
        tenant.freeze_clock(body["frozen"])
    return _clock(tenant)


def advance_clock(call: AdminCall):
    tenant, by = call.tenant, call.body["by"]
    try:
        target = durations.apply(tenant.now(), by)
    except durations.DurationError as exc:
        raise AdminError(422, "invalid_duration", str(exc), [{"pointer": "/by", "message": str(exc)}]) from None
    except (ValueError, OverflowError):
        raise AdminError(422, "invalid_duration", f"duration out of range: {by!r}",
                         [{"pointer": "/by", "message": "out of range"}]) from None
    _move(tenant, target, None, "/by")
    return _clock(tenant)


# --- faults -------------------------------------------------------------------------------------------------------------

_ONLY = {"latency_ms": "latency", "case": "error", "status": "error"}


def list_faults(call: AdminCall):
    return _json({"faults": [f.as_dict() for f in call.gw.faults.list(call.tenant.id)]})


def arm_fault(call: AdminCall):
    """The schema has checked shapes and ranges; what depends on the vendor (served, its operations, its cases)
    and on several fields at once is checked here."""
    gw, body = call.gw, call.body
    kind, problems = body["kind"], []
    problems += [{"pointer": f"/{field}", "message": f"applies to kind {only} only, not {kind}"}
                 for field, only in _ONLY.items() if field in body and kind != only]
    vendor = gw.vendors.get(body["vendor"])
    if vendor is None:
        problems.append({"pointer": "/vendor", "message": f"not served by this gateway; one of {list(gw.vendors)}"})
    op = body.get("operation")
    if vendor is not None and op is not None and op not in gw.specs[vendor.name].operations:
        problems.append({"pointer": "/operation", "message": f"{vendor.name} has no operation {op!r}; one of "
                                                             f"{sorted(gw.specs[vendor.name].operations)}"})
    latency, case, status = (0, 0), None, None
    if kind == "latency":
        ms = body["latency_ms"]
        # an integer, or [min, max]; JSON may write an integer as 5.0 (the schema's integer takes it)
        latency = (int(ms), int(ms)) if isinstance(ms, (int, float)) else tuple(int(v) for v in ms)
        if latency[0] > latency[1]:
            problems.append({"pointer": "/latency_ms", "message": "[min, max] with min <= max"})
    if kind == "error" and vendor is not None:
        try:
            case, status = error_case(vendor, body.get("case"), body.get("status"))
        except FaultCaseError as exc:
            problems.append({"pointer": exc.pointer, "message": exc.message})
    if problems:
        raise AdminError(422, "invalid_fault", "the fault cannot be armed",
                         sorted(problems, key=lambda p: p["pointer"]))
    f = gw.faults.arm(tenant=call.tenant.id, vendor=vendor.name, operation=op, kind=kind, latency_ms=latency,
                      case=case, status=status, times=body.get("times"), probability=body.get("probability"))
    if body.get("seed") is not None:
        f.rng.seed(body["seed"])
    return _json(f.as_dict(), 201)


def disarm_faults(call: AdminCall):
    call.gw.faults.disarm(call.tenant.id)
    return web.Response(status=204)


def disarm_fault(call: AdminCall):
    if not call.gw.faults.disarm(call.tenant.id, call.path["fault"]):
        raise _not_found("fault", call.request.match_info["fault"])
    return web.Response(status=204)


# --- routes ---------------------------------------------------------------------------------------------------------------

_spec: tuple[int, specs.Spec] | None = None      # (registry generation, the spec with its vendor lists filled)


def _vendor_parts(node: Any, descriptors) -> Any:
    """A schema with its `x-vendors` nodes filled from the descriptors: `enum` (VendorName: the vendor names),
    `credentials` (one closed object per vendor, its credential names), `views` (one view per vendor)."""
    if isinstance(node, list):
        return [_vendor_parts(v, descriptors) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _vendor_parts(v, descriptors) for k, v in node.items()}
    kind = node.get("x-vendors")
    if kind == "enum":
        node["enum"] = [d.name for d in descriptors]
    elif kind == "credentials":
        node["required"] = [d.name for d in descriptors]
        node["properties"] = {d.name: {
            "type": "object", "additionalProperties": False, "required": [c.name for c in d.credentials],
            "properties": {c.name: {"type": "string", "minLength": 1, **({"description": c.description}
                                                                          if c.description else {})}
                           for c in d.credentials}} for d in descriptors}
    elif kind == "views":
        view = next(iter(node.get("properties", {}).values()), {"type": ["object", "array", "null"]})
        node["properties"] = {d.name: copy.deepcopy(view) for d in descriptors}
    return node


def spec() -> specs.Spec:
    """The control plane's own spec (specs/admin.yaml, bundled), its vendor lists (the `x-vendors` schemas:
    vendor names, credentials, member views) filled from the registry's vendors. Rebuilt when a vendor is
    (un)registered; apps already built keep the one they were built with."""
    global _spec
    generation = registry.generation()
    if _spec is None or _spec[0] != generation:
        base, ds = specs.get("admin"), registry.descriptors()
        fill = lambda schema: _vendor_parts(schema, ds) if schema is not None else None
        ops = {oid: dataclasses.replace(
                   op, params=[dataclasses.replace(p, schema=fill(p.schema)) for p in op.params],
                   body_schema=fill(op.body_schema),
                   responses={status: {media: fill(s) for media, s in by_media.items()}
                              for status, by_media in op.responses.items()})
               for oid, op in base.operations.items()}
        _spec = (generation, specs.Spec(vendor=base.vendor, document=base.document, operations=ops))
    return _spec[1]


def setup(app: web.Application, gw) -> None:
    """One route per operation of specs/admin.yaml (HEAD beside every GET), then a catch-all that answers
    every other /__admin request: 405 with `Allow` when the path is served with other methods, else 404."""
    resources_: list[web.AbstractResource] = []
    by_path: dict[str, web.Resource] = {}
    for op in spec().operations.values():
        handler = globals().get(op.handler)
        if not callable(handler):
            raise RuntimeError(f"specs/admin.yaml: operation {op.operation_id} has no handler {op.handler}()")
        op.compile()
        resource = by_path.get(op.path)
        if resource is None:
            resource = by_path[op.path] = app.router.add_resource(op.path, name=f"admin.{op.operation_id}")
            resources_.append(resource)
        route = _route(gw, op, handler)
        resource.add_route(op.method, route)
        if op.method == "GET":
            resource.add_route("HEAD", route)

    async def unknown(request: web.Request) -> tuple[web.StreamResponse, str]:
        allowed = await allowed_methods(resources_, request)
        if allowed:
            allow = ", ".join(allowed)
            return AdminError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; "
                              f"allowed: {allow}", headers={"Allow": allow}).response(), "method_not_allowed"
        return AdminError(404, "not_found", f"no control-plane route {request.path}").response(), "not_found"

    # [\s\S], not .: a path with an encoded newline is an unknown admin path too
    app.router.add_resource(PREFIX + r"{tail:(?:/[\s\S]*)?}", name="admin.unknown").add_route(
        "*", _answer(gw, None, unknown))


__all__ = ["AdminError", "fresh_credentials", "setup", "spec"]


# --- exports (appended) ---------------------------------------------------------------------------------------------

def get_export(call: AdminCall):
    """The file of an export, in the format of the vendor that took it (its `export_document`)."""
    export = call.tenant.transaction_export(call.path["task"])
    vendor = call.gw.vendors.get(export.requested_by)
    document = vendor.export_document(call.tenant, export) if vendor is not None else None
    if document is None:
        raise AdminError(404, "not_found", "export not found", [{"pointer": "", "message": f"task: {export.id}"}])
    media, text = document
    return web.Response(text=text, content_type=media)
