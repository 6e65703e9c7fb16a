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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
