"""Assembles the aiohttp app: one route per spec operation, the request pipeline, the admin API.

Each operation's route handler is its Pipeline's `handle`: authenticate -> decode -> fault -> validate
-> dispatch (one engine call, rendered by the vendor) -> finalize (response validation) -> journal -> encode
-> request log; the call's state travels through the steps in an Exchange (see Pipeline)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from aiohttp import web, web_protocol

from . import codecs, specs
from .engine import Engine
from .engine.errors import EngineError, Replayed, StoreUnavailable
from .journal import Journal, SharedJournal
from .requestlog import RequestLog
from .routes import allowed_methods
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
    admin_token: str | None = None       # set: every /__admin call needs `Authorization: Bearer <token>`
    max_tenants: int = 1000              # POST /__admin/tenants refuses past this many tenants
    workers: int = 1                     # processes serving this port (over one shared store); health says so


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
            world = getattr(self.engine.stores, "world", None)
            j = self.journals[tenant_id] = Journal(self.config.journal_size) if world is None else \
                SharedJournal(world, tenant_id, self.config.journal_size)
        return j


GATEWAY = web.AppKey("gateway", Gateway)


def _request_format(request: web.Request, op: Operation, raw: bytes = b"") -> str:
    """The body's format: XML when it is labelled so and the operation takes XML, unless the body itself is
    plainly JSON (`{` or `[` first: no XML document starts so), which is then read as the JSON it is, never
    coerced as XML strings."""
    if request.content_type in XML_TYPES and any(m in XML_TYPES for m in op.body_media):
        return "json" if raw.lstrip()[:1] in (b"{", b"[") else "xml"
    return "json"


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


class _Dropped(Exception):
    """The fault step closed the connection: no status line ever reaches the client."""


_NO_VIOLATIONS: tuple = ()


class Exchange:
    """One call on its way through the pipeline: what each step found, for the steps after it."""

    __slots__ = ("request", "started", "tenant", "fmt", "body", "path", "query", "violations",
                 "response_violations", "fault", "mark", "reply", "status", "reason", "refusal", "body_fmt")

    def __init__(self, request: web.Request):
        self.request = request
        self.started = time.perf_counter()
        self.tenant: Any = None               # set by authenticate; None: nobody's journal
        self.fmt = "json"                     # the reply's format (json | xml)
        self.body_fmt = "json"                # the request body's format, as decoded
        self.body: Any = None
        self.path: dict | None = None         # typed parameters, set by validate
        self.query: dict | None = None
        self.violations: Sequence[Violation] = _NO_VIOLATIONS       # shared: no list per call on the happy path
        self.response_violations: Sequence[Violation] = _NO_VIOLATIONS
        self.fault: Any = None                # the armed fault this call fired, if any
        self.mark: Any = None                 # the store's entry sequence before dispatch
        self.reply: Reply | None = None       # None after a drop: nothing to answer
        self.status = 0                       # 0: the connection was dropped
        self.reason: str | None = None        # the request log's reason tag
        self.refusal: dict | None = None      # why the engine (or a bug) refused, for the journal


class Pipeline:
    """The steps every call of one operation goes through, in order:

        authenticate  (header vendors: before the body is read)
        decode        (bounded JSON | XML; the reply's format)
        authenticate  (Altcraft: after decoding, its token may be in the body)
        fault         (an armed fault: latency, the vendor's error, or a dropped connection)
        validate      (coerce path, query and XML values; strict | warn | off)
        dispatch      (the vendor's handler: one engine call, rendered)
        finalize      (the vendor's last touch; response validation; X-Gateway-Violations)
        journal       (one entry per call whose tenant is known) -> encode -> request log (one line)

    A step refuses by raising VendorError with the vendor's reply, tagged for the request log; an EngineError
    becomes the vendor's envelope (and the journal's `refusal`); anything else is a bug, logged and answered
    in the vendor's 500 shape."""

    __slots__ = ("gw", "vendor", "op", "handler", "strict", "check", "body_expected", "auth_first", "rlog",
                 "vendor_name", "op_id")

    def __init__(self, gw: Gateway, vendor: Vendor, op: Operation):
        self.gw, self.vendor, self.op = gw, vendor, op
        self.handler = getattr(vendor.responses, op.handler, None) if vendor.responses else None
        self.strict = gw.config.validation == "strict"
        self.check = gw.config.validation != "off"
        self.body_expected = op.body_schema is not None or bool(op.body_media)
        self.auth_first = not vendor.auth_reads_body
        self.rlog = gw.config.request_log
        self.vendor_name, self.op_id = vendor.name, op.operation_id

    def __repr__(self) -> str:
        return f"<Pipeline {self.vendor_name}.{self.op_id}>"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        x = Exchange(request)
        try:
            self.gw.engine.sync()            # another worker's writes to a shared store (memory: nothing)
            if self.auth_first:
                self.authenticate(x)
            await self.decode(x)
            if not self.auth_first:
                self.authenticate(x)
            if self.take_fault(x) is not None:
                await self.apply_fault(x)
            self.validate(x)
            self.dispatch(x)
        except VendorError as exc:
            x.reply = exc.reply
        except EngineError as exc:
            self.engine_refused(x, exc)
        except _Dropped:
            pass                                  # x.reply stays None: nothing to finalize or send
        except Exception as exc:   # a bug must still answer in the vendor's shape, never a bare 500
            self.bug(x, exc)
        if x.reply is not None:
            self.finalize(x)
        # a dropped call's 499 is never sent: the transport is closed
        response = self.encode(x) if x.reply is not None else web.Response(status=499)
        if x.tenant is not None:
            self.journal(x)
        if self.rlog is not None:
            self.log(x)
        return response

    # --- the steps, in order ------------------------------------------------------------------------------

    def authenticate(self, x: Exchange) -> None:
        """Who is calling: the tenant, or the vendor's refusal (bad_credentials)."""
        try:
            x.tenant = self.vendor.authenticate(x.request, self.op, self.gw.engine, x.body)
        except VendorError as exc:
            raise _refused(exc.reply, "bad_credentials") from None

    async def decode(self, x: Exchange) -> None:
        """The body (JSON with Decimal numbers, or XML), bounded; then the format the reply is written in."""
        request, vendor = x.request, self.vendor
        if self.body_expected and request.body_exists:
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                fmt = "xml" if request.content_type in XML_TYPES and any(m in XML_TYPES for m in self.op.body_media) \
                    else "json"
                x.fmt = vendor.response_format(request, None, fmt)
                self.identify(x)
                raise _refused(vendor.too_large(self.op, codecs.MAX_BODY, fmt), "body_too_large") from None
            x.fmt = x.body_fmt = _request_format(request, self.op, raw)
            if raw.strip():
                try:
                    x.body = codecs.decode_xml(raw, vendor.xml_root) if x.fmt == "xml" else codecs.decode_json(raw)
                except codecs.DecodeError as exc:
                    self.identify(x)
                    raise _refused(vendor.malformed(self.op, str(exc), x.fmt), "malformed_body") from None
            x.body = vendor.prepare_body(x.body)
        x.fmt = vendor.response_format(request, x.body, x.fmt)

    def identify(self, x: Exchange) -> None:
        """A body-reading vendor's body could not be read, but a header or query credential may still name the
        tenant: its refusal then follows that tenant's settings and is journaled (unknown: stays anonymous)."""
        if x.tenant is None:
            try:
                x.tenant = self.vendor.authenticate(x.request, self.op, self.gw.engine, None)
            except VendorError:
                pass

    def take_fault(self, x: Exchange):
        """The armed fault this call fires, if any (marked in the journal)."""
        faults = self.gw.faults
        x.fault = faults.take(x.tenant.id, self.vendor_name, self.op_id) if faults else None
        return x.fault

    async def apply_fault(self, x: Exchange) -> None:
        """Latency (then serve on), the vendor's error (fault:<case>), or a dropped connection."""
        outcome = await x.fault.apply(self.vendor, self.op)
        if outcome is None:
            if x.request.transport is not None:
                x.request.transport.close()
            x.reason = "dropped"
            raise _Dropped
        if outcome is not True:
            raise _refused(outcome, f"fault:{x.fault.case}")

    def validate(self, x: Exchange) -> None:
        """Path, query and XML values typed by the schema, then checked (strict: refused, invalid_request)."""
        request, op = x.request, self.op
        x.path, e1 = op.coerce_params("path", request.match_info)
        x.query, e2 = op.coerce_params("query", request.query)
        if x.body_fmt == "xml":       # XML strings typed by the schema; a JSON body keeps its own types
            x.body = specs.coerce(x.body, op.body_schema)
        if self.check:
            x.violations = e1 + e2 + op.validate_params("path", x.path) + op.validate_params("query", x.query) \
                + op.validate_body(x.body)
            if x.violations and self.strict:
                raise _refused(self.vendor.invalid(op, x.violations), "invalid_request")

    def dispatch(self, x: Exchange) -> None:
        """One engine call through the vendor's handler, rendered in its words."""
        x.mark = x.tenant.store.seq_value("entry")
        if self.handler is None:
            x.reply = self.vendor.not_implemented(self.op)
        else:
            call = Call(x.request, self.op, x.tenant, x.path, x.query, x.body, x.fmt)
            try:
                x.reply = self.handler(call)
            except Replayed:     # its identical twin was kept first by another worker: answer as its replay
                x.reply = self.handler(call)

    def engine_refused(self, x: Exchange, exc: EngineError) -> None:
        x.reply = (self.vendor.unavailable(self.op) if isinstance(exc, StoreUnavailable)
                   else self.vendor.engine_error(self.op, exc))
        x.refusal = {"reason": exc.code, "message": exc.message, "detail": {k: str(v) for k, v in exc.detail.items()}}

    def bug(self, x: Exchange, exc: Exception) -> None:
        log.exception("unhandled error in %s.%s", self.vendor_name, self.op_id)
        x.reply = self.vendor.internal(self.op)
        x.refusal = {"reason": "internal_error", "message": f"{type(exc).__name__}: {exc}", "detail": {}}

    def finalize(self, x: Exchange) -> None:
        """The vendor's last touch, the response checked against the spec, violations flagged in a header."""
        x.reason = x.reply.reason            # finalize may build a new Reply (Altcraft's error-status switch)
        reply = x.reply = self.vendor.finalize(x.reply, x.tenant)
        x.status = reply.status
        if self.gw.config.validate_responses:
            x.response_violations = self.op.validate_response(reply.status, reply.body)
            if x.response_violations:
                log.warning("%s.%s response violates the spec: %s", self.vendor_name, self.op_id,
                            "; ".join(f"{v.pointer} {v.message}" for v in x.response_violations))
        flagged = (0 if self.strict else len(x.violations)) + len(x.response_violations)
        if flagged:
            reply.headers["X-Gateway-Violations"] = str(flagged)

    def journal(self, x: Exchange) -> None:
        """The tenant's journal entry: status (0: dropped), violations, the ledger entries written, why it was
        refused, the fault it fired."""
        tenant, extra = x.tenant, {}
        if x.refusal:
            extra["refusal"] = x.refusal
        if x.fault is not None:
            extra["fault"] = {"id": x.fault.id, "kind": x.fault.kind, "case": x.fault.case}
        self.gw.journal(tenant.id).record(
            vendor=self.vendor_name, operation=self.op_id, method=x.request.method, path=x.request.path,
            status=x.status, duration_ms=(time.perf_counter() - x.started) * 1000,
            request_violations=x.violations, response_violations=x.response_violations,
            entries=[e.id for e in tenant.store.entries_page(after_seq=x.mark)] if x.mark is not None else [],
            at=tenant.now(), **extra)

    def encode(self, x: Exchange) -> web.StreamResponse:
        """The reply's bytes. Decoding bounds what a body may hold, so a reply built from it always encodes;
        should one still fail, the client gets the vendor's 500 shape (never aiohttp's plain text), logged."""
        try:
            return _encode(self.vendor, x.reply, x.fmt)
        except Exception:   # noqa: BLE001 - the last line: a reply that cannot be written is a bug
            log.exception("cannot encode the reply of %s.%s", self.vendor_name, self.op_id)
            x.status = 500
            return _encode(self.vendor, self.vendor.internal(self.op), "json")

    def log(self, x: Exchange) -> None:
        """The request log's one line."""
        self.rlog.write(tenant=x.tenant.id if x.tenant is not None else None, vendor=self.vendor_name,
                        operation=self.op_id, method=x.request.method, path=x.request.rel_url.raw_path,
                        status=x.status, duration_ms=(time.perf_counter() - x.started) * 1000,
                        reason=x.refusal["reason"] if x.refusal else x.reason,
                        violations=len(x.violations) + len(x.response_violations))


def make_handler(gw: Gateway, vendor: Vendor, op: Operation) -> Callable:
    """The route handler of one operation: its Pipeline's `handle`."""
    return Pipeline(gw, vendor, op).handle


def _vendor_for_path(gw: Gateway, path: str) -> Vendor | None:
    for v in gw.vendors.values():
        if any(path.startswith(p) for p in v.path_prefixes):
            return v
    return None


async def _readable_body(vendor: Vendor, request: web.Request, fmt: str) -> Any:
    """The body of a call to an unknown path, for a vendor whose body may choose the reply's format (Altcraft's
    `format` field); None when there is none or it cannot be read."""
    if not vendor.auth_reads_body or not request.body_exists:
        return None
    try:
        raw = await request.read()
        return codecs.decode_xml(raw, vendor.xml_root) if fmt == "xml" and vendor.xml_root else codecs.decode_json(raw)
    except (web.HTTPRequestEntityTooLarge, codecs.DecodeError):
        return None


async def unknown_route(request: web.Request) -> web.StreamResponse:
    """The last route: paths no spec declares get a 404 (or a 405 when only the method is wrong) in the shape
    of the vendor whose prefix they share. A route, not a middleware: served calls pay nothing for it."""
    gw = request.app[GATEWAY]
    started = time.perf_counter()
    allowed = await allowed_methods((r for r in request.app.router.resources() if r.name != "unknown"), request)
    vendor = _vendor_for_path(gw, request.path)
    if allowed:
        reason = "method_not_allowed"
        if vendor is None:
            response = web.json_response({"message": f"method {request.method} not allowed", "allowed": allowed},
                                         status=405, headers={"Allow": ",".join(allowed)})
        else:       # the vendor's own 405 envelope; the Allow header is HTTP's
            reply = vendor.method_not_allowed(request.path, request.method, allowed)
            reply.headers = {**reply.headers, "Allow": ",".join(allowed)}
            response = _encode(vendor, reply, "json")
    else:
        reason = "no_route"
        if vendor is None:
            response = web.json_response({"message": f"no route for {request.method} {request.path}"}, status=404)
        else:
            fmt = "xml" if request.content_type in XML_TYPES else "json"
            fmt = vendor.response_format(request, await _readable_body(vendor, request, fmt), fmt)
            response = _encode(vendor, vendor.not_found_route(request.path), fmt)
    rlog = gw.config.request_log
    if rlog is not None:     # /__admin paths never get here: the control plane has its own catch-all
        rlog.write(tenant=None, vendor=vendor.name if vendor is not None else None, operation=None,
                   method=request.method, path=request.rel_url.raw_path, status=response.status,
                   duration_ms=(time.perf_counter() - started) * 1000, reason=reason)
    return response


class _JsonErrors(web_protocol.RequestHandler):
    """aiohttp's connection handler, whose own refusals (a request line, URL or header too long, bytes that are
    no HTTP, a handler that raised past every envelope) are answered as JSON instead of plain text. The status
    is aiohttp's; the connection is closed, as aiohttp does. Nothing is known of the request here (not even
    its path, when the line could not be read), so the body is the gateway's own `{message, status}`."""

    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        plain = super().handle_error(request, status, exc, message)    # logs it; refuses once bytes are out
        text = message if message and status != 500 else "internal server error"
        resp = web.Response(status=plain.status, body=codecs.encode_json({"message": " ".join(str(text).split())
                                                                          [:500], "status": plain.status}),
                            content_type="application/json")
        resp.force_close()
        return resp


class _Server(web.Server):
    def __call__(self) -> web_protocol.RequestHandler:
        return _JsonErrors(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """web.AppRunner whose connections answer aiohttp's own refusals (parser errors) as JSON (_JsonErrors):
    `serve` and the pytest plugin run the app through it."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server       # the same server, its connections' error answers in JSON
        return server


def build_app(engine: Engine, config: Config | None = None, vendors: list[str] | None = None) -> web.Application:
    from . import admin, faults
    gw = Gateway(engine=engine, config=config or Config())
    world = getattr(engine.stores, "world", None)
    gw.faults = faults.Faults() if world is None else faults.SharedFaults(world)
    app = web.Application(client_max_size=codecs.MAX_BODY)   # no middleware: served calls pay for none
    app[GATEWAY] = gw
    for name in vendors or registry.names():     # the built-ins, then vendors registered at run time
        spec = registry.spec(name)
        vendor = registry.get(name)
        gw.specs[name] = spec
        gw.vendors[name] = vendor
        # `x-prefix-aliases` {main prefix: [other prefixes]}: the same operations under other documented prefixes
        aliases = spec.document.get("x-prefix-aliases") or {}
        for op in spec.operations.values():
            op.compile()
            handler = make_handler(gw, vendor, op)
            app.router.add_route(op.method, op.path, handler, name=f"{name}.{op.operation_id}")
            for main, others in aliases.items():
                for k, other in enumerate(others if op.path.startswith(main) else ()):
                    app.router.add_route(op.method, other + op.path[len(main):], handler,
                                         name=f"{name}.{op.operation_id}.alias{k}")
    admin.setup(app, gw)
    # [\s\S]*, not .*: a path with an encoded newline is an unknown path too, not aiohttp's bare 404 page
    app.router.add_resource(r"/{tail:[\s\S]*}", name="unknown").add_route("*", unknown_route)
    return app
