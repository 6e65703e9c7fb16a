"""Assembles the aiohttp app: one route per spec operation, the request pipeline, the admin API.

decode -> vendor auth (resolves the tenant) -> coerce + validate -> handler (one engine call)
-> vendor renderer or vendor error envelope -> response validation -> encode."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from . import codecs, specs
from .engine import Engine
from .engine.errors import EngineError
from .journal import Journal
from .requestlog import RequestLog
from .specs import Operation, Violation
from .vendors import registry
from .vendors.base import Call, Reply, Vendor, VendorError

log = logging.getLogger("loyalty_gateway")

XML_TYPES = ("application/xml", "text/xml")


@dataclass
class Config:
    validation: str = "strict"           # strict | warn | off
    validate_responses: bool = False
    journal_size: int = 1000
    request_log: RequestLog | None = None   # one line per call (gateway.requestlog); None: no log at all


@dataclass
class Gateway:
    engine: Engine
    config: Config = field(default_factory=Config)
    vendors: dict[str, Vendor] = field(default_factory=dict)
    specs: dict[str, specs.Spec] = field(default_factory=dict)
    journals: dict[str, Journal] = field(default_factory=dict)
    faults: Any = None

    def journal(self, tenant_id: str) -> Journal:
        j = self.journals.get(tenant_id)
        if j is None:
            j = self.journals[tenant_id] = Journal(self.config.journal_size)
        return j


GATEWAY = web.AppKey("gateway", Gateway)


def _request_format(request: web.Request, op: Operation) -> str:
    return "xml" if request.content_type in XML_TYPES and any(m in XML_TYPES for m in op.body_media) else "json"


def _encode(vendor: Vendor, reply: Reply, fmt: str) -> web.Response:
    if reply.body is None:
        return web.Response(status=reply.status, headers=reply.headers)
    if fmt == "xml" and vendor.xml_root:
        return web.Response(status=reply.status, body=codecs.encode_xml(reply.body, vendor.xml_root),
                            headers={**reply.headers, "Content-Type": "application/xml; charset=utf-8"})
    return web.Response(status=reply.status, body=codecs.encode_json(reply.body),
                        headers={**reply.headers, "Content-Type": "application/json; charset=utf-8"})


def _refused(reply: Reply, reason: str) -> VendorError:
    """A vendor-level refusal, tagged for the request log (unless the vendor tagged it already)."""
    if reply.reason is None:
        reply.reason = reason
    return VendorError(reply)


def make_handler(gw: Gateway, vendor: Vendor, op: Operation) -> Callable:
    handler = getattr(vendor.responses, op.handler, None) if vendor.responses else None
    strict = gw.config.validation == "strict"
    check = gw.config.validation != "off"
    body_expected = op.body_schema is not None or bool(op.body_media)
    rlog = gw.config.request_log
    vendor_name, op_id = vendor.name, op.operation_id

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        fmt = "json"
        tenant = None
        call: Call | None = None
        mark = None
        refusal = None
        fault = None
        violations: list[Violation] = []
        try:
            # 1. who is calling (before the body, unless the credentials may be in it), 2. decode
            body = None
            if not vendor.auth_reads_body:
                try:
                    tenant = vendor.authenticate(request, op, gw.engine, None)
                except VendorError as exc:
                    raise _refused(exc.reply, "bad_credentials") from None
            if body_expected and request.body_exists:
                try:
                    raw = await request.read()
                except web.HTTPRequestEntityTooLarge:
                    raise _refused(vendor.malformed(op, "request body too large"), "malformed_body") from None
                fmt = _request_format(request, op)
                if raw.strip():
                    try:
                        body = codecs.decode_xml(raw, vendor.xml_root) if fmt == "xml" else codecs.decode_json(raw)
                    except codecs.DecodeError as exc:
                        raise _refused(vendor.malformed(op, str(exc), fmt), "malformed_body") from None
            fmt = vendor.response_format(request, body, fmt)
            if vendor.auth_reads_body:
                try:
                    tenant = vendor.authenticate(request, op, gw.engine, body)
                except VendorError as exc:
                    raise _refused(exc.reply, "bad_credentials") from None
            fault = gw.faults.take(tenant.id, vendor_name, op_id) if gw.faults else None
            if fault is not None:
                outcome = await fault.apply(vendor, op)
                if outcome is None:       # drop the connection: no status line ever reaches the client
                    if request.transport is not None:
                        request.transport.close()
                    duration = (time.perf_counter() - started) * 1000
                    gw.journal(tenant.id).record(
                        vendor=vendor_name, operation=op_id, method=request.method, path=request.path,
                        status=0, duration_ms=duration, request_violations=[], response_violations=[], entries=[],
                        at=tenant.now(), fault={"id": fault.id, "kind": fault.kind, "case": fault.case})
                    if rlog is not None:
                        rlog.write(tenant=tenant.id, vendor=vendor_name, operation=op_id, method=request.method,
                                   path=request.rel_url.raw_path, status=0, duration_ms=duration, reason="dropped")
                    return web.Response(status=499)   # never sent: the transport is closed
                if outcome is not True:
                    raise _refused(outcome, f"fault:{fault.case}")
            # 3. coerce and validate
            path, e1 = op.coerce_params("path", request.match_info)
            query, e2 = op.coerce_params("query", request.query)
            if fmt == "xml" or request.content_type in XML_TYPES:
                body = specs.coerce(body, op.body_schema)
            if check:
                violations = e1 + e2 + op.validate_params("path", path) + op.validate_params("query", query) \
                    + op.validate_body(body)
                if violations and strict:
                    raise _refused(vendor.invalid(op, violations), "invalid_request")
            # 4. one engine call, rendered by the vendor
            call = Call(request, op, tenant, path, query, body, fmt)
            mark = tenant.store.seq_value("entry")
            if handler is None:
                reply = vendor.not_implemented(op)
            else:
                reply = handler(call)
        except VendorError as exc:
            reply = exc.reply
        except EngineError as exc:
            reply = vendor.engine_error(op, exc)
            refusal = {"reason": exc.code, "message": exc.message,
                       "detail": {k: str(v) for k, v in exc.detail.items()}}
        except Exception as exc:   # a bug must still answer in the vendor's shape, never a bare 500
            log.exception("unhandled error in %s.%s", vendor_name, op_id)
            reply = vendor.internal(op)
            refusal = {"reason": "internal_error", "message": f"{type(exc).__name__}: {exc}", "detail": {}}
        reason = reply.reason            # finalize may build a new Reply (Altcraft's error-status switch)
        reply = vendor.finalize(reply, tenant)
        response_violations = []
        if gw.config.validate_responses:
            response_violations = op.validate_response(reply.status, reply.body)
            if response_violations:
                log.warning("%s.%s response violates the spec: %s", vendor_name, op_id,
                            "; ".join(f"{v.pointer} {v.message}" for v in response_violations))
        flagged = (0 if strict else len(violations)) + len(response_violations)
        if flagged:
            reply.headers["X-Gateway-Violations"] = str(flagged)
        if tenant is not None:
            extra = {}
            if refusal:
                extra["refusal"] = refusal
            if fault is not None:
                extra["fault"] = {"id": fault.id, "kind": fault.kind, "case": fault.case}
            gw.journal(tenant.id).record(
                vendor=vendor_name, operation=op_id, method=request.method, path=request.path,
                status=reply.status, duration_ms=(time.perf_counter() - started) * 1000,
                request_violations=violations, response_violations=response_violations,
                entries=[e.id for e in tenant.store.entries_after(mark)] if mark is not None else [],
                at=tenant.now(), **extra)
        response = _encode(vendor, reply, fmt)
        if rlog is not None:
            rlog.write(tenant=tenant.id if tenant is not None else None, vendor=vendor_name, operation=op_id,
                       method=request.method, path=request.rel_url.raw_path, status=reply.status,
                       duration_ms=(time.perf_counter() - started) * 1000,
                       reason=refusal["reason"] if refusal else reason,
                       violations=len(violations) + len(response_violations))
        return response

    handle.__name__ = f"{vendor_name}_{op_id}"
    return handle


def _vendor_for_path(gw: Gateway, path: str) -> Vendor | None:
    for v in gw.vendors.values():
        if any(path.startswith(p) for p in getattr(v, "path_prefixes", ())):
            return v
    return None


async def unknown_route(request: web.Request) -> web.StreamResponse:
    """The last route: paths no spec declares get a 404 (or a 405 when only the method is wrong) in the shape
    of the vendor whose prefix they share. A route, not a middleware: served calls pay nothing for it."""
    gw = request.app[GATEWAY]
    started = time.perf_counter()
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.name != "unknown":
            _, methods = await resource.resolve(request)
            allowed |= methods
    allowed = sorted(allowed)
    vendor = _vendor_for_path(gw, request.path)
    if allowed:
        reason = "method_not_allowed"
        response = web.json_response({"message": f"method {request.method} not allowed", "allowed": allowed},
                                     status=405, headers={"Allow": ",".join(allowed)})
    else:
        reason = "no_route"
        if vendor is None:
            response = web.json_response({"message": f"no route for {request.method} {request.path}"}, status=404)
        else:
            response = _encode(vendor, vendor.not_found_route(request.path), "json")
    rlog = gw.config.request_log
    if rlog is not None:     # /__admin paths never get here: the control plane has its own catch-all
        rlog.write(tenant=None, vendor=vendor.name if vendor is not None else None, operation=None,
                   method=request.method, path=request.rel_url.raw_path, status=response.status,
                   duration_ms=(time.perf_counter() - started) * 1000, reason=reason)
    return response


def build_app(engine: Engine, config: Config | None = None, vendors: list[str] | None = None) -> web.Application:
    from . import admin, faults
    gw = Gateway(engine=engine, config=config or Config())
    gw.faults = faults.Faults()
    app = web.Application(client_max_size=codecs.MAX_BODY)   # no middleware: served calls pay for none
    app[GATEWAY] = gw
    for name in vendors or registry.names():     # the built-ins, then vendors registered at run time
        spec = registry.spec(name)
        vendor = registry.get(name)
        gw.specs[name] = spec
        gw.vendors[name] = vendor
        for op in spec.operations.values():
            op.compile()
            app.router.add_route(op.method, op.path, make_handler(gw, vendor, op), name=f"{name}.{op.operation_id}")
    admin.setup(app, gw)
    # [\s\S]*, not .*: a path with an encoded newline is an unknown path too, not aiohttp's bare 404 page
    app.router.add_resource(r"/{tail:[\s\S]*}", name="unknown").add_route("*", unknown_route)
    return app
