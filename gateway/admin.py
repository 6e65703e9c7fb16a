"""The /__admin control plane: tenants, snapshots, member views, journal, clock, faults, specs.
JSON in and out; described by specs/admin.yaml (served at /__admin/openapi.yaml)."""
from __future__ import annotations

import functools
import json
import secrets
from datetime import datetime, timezone

import yaml
from aiohttp import web

from . import durations, fixtures
from .engine.errors import EngineError, NotFound
from .engine.tenant import Tenant
from .faults import KINDS
from . import resources

UTC = timezone.utc


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []


def _json(data, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, default=str), content_type="application/json")


def _plain(value):
    """Engine values for admin JSON: tagged-free (Decimal -> string, datetime -> RFC 3339)."""
    from decimal import Decimal
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
    import dataclasses
    return _plain({f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)})


async def _body(request: web.Request, required: bool = True):
    raw = await request.read()
    if not raw.strip():
        if required:
            raise AdminError(400, "missing_body", "a JSON body is required")
        return None
    try:
        if request.content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise AdminError(400, "malformed_body", f"body is not valid JSON/YAML: {exc}") from None


def fresh_credentials() -> dict:
    tok = lambda prefix: f"{prefix}-{secrets.token_hex(12)}"
    return {"omneo": {"token": tok("omneo")}, "altcraft": {"token": tok("altcraft")},
            "gameball": {"apikey": tok("gb-api"), "secretkey": tok("gb-secret")},
            "brevo": {"api_key": tok("brevo")}}


def setup(app: web.Application, gw) -> None:
    engine = gw.engine
    routes = web.RouteTableDef()

    def tenant_of(request) -> Tenant:
        try:
            return engine.get(request.match_info["tenant"])
        except NotFound:
            raise AdminError(404, "tenant_not_found", f"no tenant {request.match_info['tenant']!r}") from None

    def build(doc, **kw) -> Tenant:
        try:
            return fixtures.build(doc, **kw)
        except fixtures.FixtureError as exc:
            raise AdminError(422, "invalid_fixtures", "the fixtures document is not valid",
                             [{"pointer": p or "/", "message": m} for p, m in exc.errors]) from None

    def member_of(tenant: Tenant, ref: str):
        for m in tenant.store.members():
            if ref == m.id or ref in (str(v) for v in m.identities.values()):
                return m
        raise AdminError(404, "member_not_found", f"no member with id or identity {ref!r}")

    def errors(handler):
        """Admin errors in the admin envelope (a wrapper per route, not a middleware on every call)."""
        @functools.wraps(handler)
        async def wrapped(request):
            try:
                return await handler(request)
            except AdminError as exc:
                return _json({"error": exc.code, "message": exc.message, "errors": exc.errors}, exc.status)
            except EngineError as exc:
                status = 404 if isinstance(exc, NotFound) else 409
                if "earliest" in exc.detail:
                    errors_ = [{"pointer": "/now", "message": f"earliest allowed is {_plain(exc.detail['earliest'])}"}]
                else:
                    errors_ = [{"pointer": "", "message": f"{k}: {_plain(v)}"} for k, v in exc.detail.items()]
                return _json({"error": exc.code, "message": exc.message, "errors": errors_}, status)
        return wrapped

    @routes.get("/__admin/health")
    async def health(request):
        return _json({"status": "ok", "tenants": len(engine),
                      "vendors": {n: s.version for n, s in gw.specs.items()}})

    @routes.get("/__admin/openapi.yaml")
    async def openapi(request):
        return web.Response(body=resources.spec_file("admin.yaml").read_bytes(), content_type="application/yaml")

    # --- tenants ----------------------------------------------------------------------------------
    @routes.get("/__admin/tenants")
    async def list_tenants(request):
        return _json({"tenants": [{"tenant": t.id, "members": len(list(t.store.members())),
                                   "now": _plain(t.now())} for t in engine]})

    @routes.post("/__admin/tenants")
    async def create_tenant(request):
        doc = await _body(request, required=False)
        if doc is None:
            doc = fixtures.demo_document()
        if not isinstance(doc, dict):
            raise AdminError(422, "invalid_fixtures", "the body must be a fixtures document (an object)")
        tid = f"t-{secrets.token_hex(6)}"
        creds = fresh_credentials()
        tenant = engine.add(build(doc, tenant_id=tid, credentials=creds))
        tenant.source = {**doc, "credentials": creds}
        return _json({"tenant": tenant.id, "credentials": creds}, 201)

    @routes.delete("/__admin/tenants/{tenant}")
    async def delete_tenant(request):
        tenant = tenant_of(request)
        engine.remove(tenant.id)
        gw.journals.pop(tenant.id, None)
        gw.faults.disarm(tenant.id)
        return web.Response(status=204)

    @routes.post("/__admin/tenants/{tenant}/reset")
    async def reset(request):
        tenant = tenant_of(request)
        fresh = engine.add(build(tenant.source, tenant_id=tenant.id, credentials=tenant.credentials), replace=True)
        fresh.source = tenant.source
        return _json({"tenant": fresh.id, "now": _plain(fresh.now())})

    @routes.get("/__admin/tenants/{tenant}/snapshot")
    async def get_snapshot(request):
        return _json(fixtures.snapshot(tenant_of(request)))

    @routes.put("/__admin/tenants/{tenant}/snapshot")
    async def put_snapshot(request):
        tenant = tenant_of(request)
        doc = await _body(request)
        if not isinstance(doc, dict):
            raise AdminError(422, "invalid_fixtures", "the body must be a fixtures document (an object)")
        fresh = engine.add(build(doc, tenant_id=tenant.id, credentials=tenant.credentials), replace=True)
        fresh.source = tenant.source
        return _json({"tenant": fresh.id, "now": _plain(fresh.now())})

    # --- members ----------------------------------------------------------------------------------
    @routes.get("/__admin/tenants/{tenant}/members")
    async def list_members(request):
        tenant = tenant_of(request)
        return _json({"members": [{"id": m.id, "identities": dict(m.identities), "active": m.active}
                                  for m in tenant.store.members()]})

    @routes.get("/__admin/tenants/{tenant}/members/{member}")
    async def get_member(request):
        tenant = tenant_of(request)
        member = member_of(tenant, request.match_info["member"])
        program = tenant.program(member.program_id)
        ledgers = {}
        for c in program.currencies:
            b = tenant.balance(member, c)
            ledgers[c.id] = {
                "balance": {"available": b.available, "pending": b.pending, "held": b.held, "total": b.total,
                            "lifetime_earned": b.lifetime_earned, "next_expiring_amount": b.next_expiring_amount,
                            "next_expiring_at": b.next_expiring_at},
                "totals": _record(tenant.store.totals(member.id, c.id)),
                "lots": [_record(l) for l in tenant.store.open_lots(member.id, c.id)],
                "holds": [_record(h) for h in tenant.store.active_holds(member.id, c.id)],
                "entries": [_record(e) for e in tenant.store.entries(member.id, c.id)],
            }
        views = {}
        for name, vendor in gw.vendors.items():
            try:
                views[name] = vendor.member_view(tenant, member)
            except EngineError as exc:
                views[name] = {"error": exc.code, "message": exc.message}
        return _json(_plain({"id": member.id, "program": member.program_id, "active": member.active,
                             "identities": dict(member.identities), "joined_at": member.joined_at,
                             "ledger": ledgers, "rewards": [_record(r) for r in tenant.store.rewards(member.id)],
                             "views": views}))

    # --- journal ----------------------------------------------------------------------------------
    @routes.get("/__admin/tenants/{tenant}/journal")
    async def get_journal(request):
        tenant = tenant_of(request)
        q = request.query
        try:
            status = int(q["status"]) if "status" in q else None
            limit = int(q.get("limit", 100))
            if limit < 1:
                raise ValueError
        except ValueError:
            raise AdminError(422, "invalid_query", "status and limit must be positive integers") from None
        items = gw.journal(tenant.id).list(vendor=q.get("vendor"), operation=q.get("operation"), status=status,
                                           limit=limit)
        return _json({"entries": items, "count": len(items)})

    @routes.delete("/__admin/tenants/{tenant}/journal")
    async def clear_journal(request):
        gw.journal(tenant_of(request).id).clear()
        return web.Response(status=204)

    # --- clock ------------------------------------------------------------------------------------
    def clock_view(tenant):
        return {"now": _plain(tenant.now()), "frozen": tenant.clock.frozen,
                "earliest": _plain(tenant.high_water) if tenant.high_water else None}

    @routes.get("/__admin/tenants/{tenant}/clock")
    async def get_clock(request):
        return _json(clock_view(tenant_of(request)))

    @routes.put("/__admin/tenants/{tenant}/clock")
    async def put_clock(request):
        tenant = tenant_of(request)
        body = await _body(request)
        if not isinstance(body, dict) or not set(body) <= {"now", "frozen"} or not body:
            raise AdminError(422, "invalid_clock", 'expected {"now": RFC 3339, "frozen": bool} (either or both)')
        frozen = body.get("frozen")
        if frozen is not None and not isinstance(frozen, bool):
            raise AdminError(422, "invalid_clock", "frozen must be a boolean")
        if "now" in body:
            try:
                at = fixtures.parse_when(body["now"], tenant.now())
            except fixtures.FixtureError:
                raise AdminError(422, "invalid_clock", f"now is not a date: {body['now']!r}") from None
            tenant.set_clock(at, frozen=frozen)
        else:
            tenant.clock.freeze(frozen)
        return _json(clock_view(tenant))

    @routes.post("/__admin/tenants/{tenant}/clock/advance")
    async def advance(request):
        tenant = tenant_of(request)
        body = await _body(request)
        if not isinstance(body, dict) or "by" not in body:
            raise AdminError(422, "invalid_duration", 'expected {"by": "P14D"}')
        try:
            target = durations.apply(tenant.now(), body["by"])
        except durations.DurationError as exc:
            raise AdminError(422, "invalid_duration", str(exc), [{"pointer": "/by", "message": str(exc)}]) from None
        except (ValueError, OverflowError):
            raise AdminError(422, "invalid_duration", f"duration out of range: {body['by']!r}",
                             [{"pointer": "/by", "message": "out of range"}]) from None
        tenant.set_clock(target)
        return _json(clock_view(tenant))

    # --- faults -------------------------------------------------------------------------------------
    @routes.get("/__admin/tenants/{tenant}/faults")
    async def list_faults(request):
        return _json({"faults": [f.as_dict() for f in gw.faults.list(tenant_of(request).id)]})

    @routes.post("/__admin/tenants/{tenant}/faults")
    async def arm_fault(request):
        tenant = tenant_of(request)
        body = await _body(request)
        problems = []
        if not isinstance(body, dict):
            raise AdminError(422, "invalid_fault", "expected a JSON object")
        mistyped = {n for n in ("vendor", "operation", "case", "kind")
                    if body.get(n) is not None and not isinstance(body[n], str)}
        problems += [{"pointer": f"/{n}", "message": "must be a string"} for n in sorted(mistyped)]
        body = {k: v for k, v in body.items() if k not in mistyped}
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
            problems.append({"pointer": "/seed", "message": "an integer or a string"})
        vendor = gw.vendors.get(body.get("vendor"))
        if vendor is None and "vendor" not in mistyped:
            problems.append({"pointer": "/vendor", "message": f"unknown vendor; one of {sorted(gw.vendors)}"})
        op = body.get("operation")
        if vendor is not None and op is not None and op not in gw.specs[vendor.name].operations:
            problems.append({"pointer": "/operation",
                             "message": f"unknown operation; one of {sorted(gw.specs[vendor.name].operations)}"})
        kind = body.get("kind")
        if kind not in KINDS and "kind" not in mistyped:
            problems.append({"pointer": "/kind", "message": f"one of {list(KINDS)}"})
        latency = (0, 0)
        if kind == "latency":
            ms = body.get("latency_ms")
            if isinstance(ms, int) and not isinstance(ms, bool) and 0 <= ms <= 60000:
                latency = (ms, ms)
            elif (isinstance(ms, list) and len(ms) == 2 and all(isinstance(x, int) for x in ms)
                  and 0 <= ms[0] <= ms[1] <= 60000):
                latency = (ms[0], ms[1])
            else:
                problems.append({"pointer": "/latency_ms", "message": "milliseconds (0..60000) or [min, max]"})
        case = body.get("case")
        if kind == "error" and vendor is not None and case not in vendor.fault_cases and "case" not in mistyped:
            problems.append({"pointer": "/case", "message": f"one of {sorted(vendor.fault_cases)}"})
        times, prob = body.get("times"), body.get("probability")
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            problems.append({"pointer": "/times", "message": "a positive integer"})
        if prob is not None and (not isinstance(prob, (int, float)) or isinstance(prob, bool) or not 0 < prob <= 1):
            problems.append({"pointer": "/probability", "message": "a number in (0, 1]"})
        if problems:
            raise AdminError(422, "invalid_fault", "the fault cannot be armed", problems)
        f = gw.faults.arm(tenant=tenant.id, vendor=vendor.name, operation=op, kind=kind, latency_ms=latency,
                          case=case, times=times, probability=prob)
        if seed is not None:
            f.rng.seed(seed)
        return _json(f.as_dict(), 201)

    @routes.delete("/__admin/tenants/{tenant}/faults")
    async def disarm_all(request):
        gw.faults.disarm(tenant_of(request).id)
        return web.Response(status=204)

    @routes.delete("/__admin/tenants/{tenant}/faults/{fault}")
    async def disarm(request):
        tenant = tenant_of(request)
        try:
            fid = int(request.match_info["fault"])
        except ValueError:
            fid = -1
        if not gw.faults.disarm(tenant.id, fid):
            raise AdminError(404, "fault_not_found", f"no fault {request.match_info['fault']!r}")
        return web.Response(status=204)

    # --- specs --------------------------------------------------------------------------------------
    @routes.get("/__admin/specs")
    async def list_specs(request):
        return _json({"specs": [{"vendor": n, "version": s.version, "title": s.document.get("info", {}).get("title"),
                                 "operations": len(s.operations), "url": f"/__admin/specs/{n}"}
                                for n, s in gw.specs.items()]})

    @routes.get("/__admin/specs/{vendor}")
    async def get_spec(request):
        name = request.match_info["vendor"]
        if name not in gw.specs:
            raise AdminError(404, "vendor_not_found", f"no spec for {name!r}; one of {sorted(gw.specs)}")
        return web.Response(body=resources.spec_file(f"{name}.yaml").read_bytes(), content_type="application/yaml")

    for route in routes:
        app.router.add_route(route.method, route.path, errors(route.handler))


__all__ = ["setup", "fresh_credentials"]
