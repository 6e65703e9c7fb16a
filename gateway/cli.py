"""`loyalty-gateway serve | validate` (also `python -m gateway`)."""
from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web


def _engine(fixture_paths: list[str] | None):
    from . import fixtures
    from .engine import Engine
    engine = Engine()
    docs = [fixtures.read(p) for p in fixture_paths] if fixture_paths else [fixtures.demo_document()]
    for doc in docs:
        engine.add(fixtures.build(doc))
    return engine


def serve(args) -> int:
    from . import fixtures
    from .app import Config, build_app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        engine = _engine(args.fixtures)
    except fixtures.FixtureError as exc:
        for pointer, message in exc.errors:
            print(f"fixtures{pointer or '/'}: {message}", file=sys.stderr)
        return 2
    app = build_app(engine, Config(validation=args.validation, validate_responses=args.validate_responses,
                                   journal_size=args.journal_size))
    print(f"loyalty-gateway serving {', '.join(t.id for t in engine)} on http://{args.host}:{args.port}",
          flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def validate(args) -> int:
    """Check a recorded payload against the bundled spec: exit 0 valid, 1 violations, 2 bad usage."""
    from pathlib import Path

    from . import codecs, specs
    if args.vendor not in specs.available():
        print(f"unknown vendor {args.vendor!r}; one of: {', '.join(specs.available())}", file=sys.stderr)
        return 2
    spec = specs.get(args.vendor)
    op = spec.operations.get(args.operation)
    if op is None:
        print(f"unknown operation {args.operation!r} for {args.vendor}; one of: {', '.join(sorted(spec.operations))}",
              file=sys.stderr)
        return 2
    path = Path(args.request or args.response)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    is_xml = raw.lstrip().startswith(b"<")
    try:
        payload = codecs.decode_xml(raw) if is_xml else codecs.decode_json(raw)
    except codecs.DecodeError as exc:
        print(f"{path}: {exc}")
        return 1
    if args.request:
        if is_xml:
            payload = specs.coerce(payload, op.body_schema)
        violations = op.validate_body(payload)
    else:
        if is_xml:
            schemas = op.responses.get(op.response_key(args.status)) or {}
            payload = specs.coerce(payload, next((s for s in schemas.values() if s), None))
        violations = op.validate_response(args.status, payload)
    for v in violations:
        print(f"{v.pointer or '/'}: {v.message}")
    if not violations:
        print(f"{path}: valid {args.vendor}.{args.operation} {'request' if args.request else f'response {args.status}'}")
    return 1 if violations else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loyalty-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the four vendor dialects and /__admin")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--fixtures", action="append", metavar="PATH",
                   help="fixtures document (YAML/JSON); repeat for several tenants; default: the demo world")
    s.add_argument("--validation", choices=("strict", "warn", "off"), default="strict",
                   help="strict: refuse invalid requests in the vendor's shape; warn: serve and flag; off")
    s.add_argument("--validate-responses", action="store_true", help="check every response against the spec")
    s.add_argument("--journal-size", type=int, default=1000, help="requests kept per tenant")
    s.set_defaults(func=serve)
    v = sub.add_parser("validate", help="check a recorded request or response (JSON or XML) against the bundled spec")
    v.add_argument("--vendor", required=True)
    v.add_argument("--operation", required=True, help="operationId, e.g. get_customer_balance")
    which = v.add_mutually_exclusive_group(required=True)
    which.add_argument("--request", metavar="FILE", help="a request body")
    which.add_argument("--response", metavar="FILE", help="a response body")
    v.add_argument("--status", type=int, default=200, help="the response's HTTP status (default 200)")
    v.set_defaults(func=validate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
