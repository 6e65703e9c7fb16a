"""`loyalty-gateway serve | validate` (also `python -m gateway`).

Every problem the user can cause (a bad option or environment variable, fixtures that cannot be read or are
invalid, a port already taken, a broken install) is one line on stderr, `loyalty-gateway: error: ...`, and
exit status 2; never a traceback."""
from __future__ import annotations

import argparse
import errno
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

from . import __version__, workers

PROG = "loyalty-gateway"
ENV_PREFIX = "LOYALTY_GATEWAY_"
BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


# --- values: one parser per kind, shared by the command line and the environment -------------------------------------

def _port(text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number from 0 to 65535: {text!r}")
    return port


def _size(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return n


def _one_of(*values: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip() not in values:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(values)}, got {text!r}")
        return text.strip()
    parse.choices = values   # type: ignore[attr-defined]
    return parse


def _host(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text.strip()):
        raise argparse.ArgumentTypeError(f"not a host name or address: {text!r}")
    return text.strip()


def _path(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return text


def _package(text: str) -> str:
    import re
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", text.strip()):
        raise argparse.ArgumentTypeError(f"not a Python package name: {text!r}")
    return text.strip()


def _positive(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return n


def _token(text: str) -> str:
    if not text.strip() or any(c.isspace() or not c.isprintable() for c in text.strip()):
        raise argparse.ArgumentTypeError("must be a non-empty token without spaces")
    return text.strip()


def _loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine: a loopback address, or `localhost`."""
    import ipaddress
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False     # a name: it may resolve to any interface


def _store(text: str) -> str:
    text = text.strip()
    if text == "memory" or (text.startswith("sqlite:") and len(text) > len("sqlite:")):
        return text
    raise argparse.ArgumentTypeError(f"not a store: {text!r} (memory, or sqlite:PATH)")


def _boolean(text: str) -> bool:
    try:
        return BOOLEANS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"not a boolean (1/0, true/false, yes/no, on/off): {text!r}") from None


# --- the one table of `serve` options --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """One `serve` option: its flag, how a value is read (the same for the flag and the environment variable),
    its default and help. kind: `value`; `switch` (--x / --no-x; the variable takes a boolean); `repeat`
    (the flag may be given several times; the variable holds several values separated by os.pathsep)."""

    flag: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    metavar: str | None = None
    kind: str = "value"

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()

    def from_env(self, raw: str) -> Any:
        if self.kind == "switch":
            return _boolean(raw)
        if self.kind == "repeat":
            return [self.parse(part) for part in raw.split(os.pathsep) if part]
        return self.parse(raw)

    def shown_default(self) -> str:
        if self.kind == "switch":
            return "off" if not self.default else "on"
        if self.default is None:
            return "the demo world" if self.dest == "fixtures" else "none"
        return str(self.default)


OPTIONS: tuple[Option, ...] = (
    Option("--host", _host, "127.0.0.1", "address to listen on", "HOST"),
    Option("--port", _port, 8080, "TCP port; 0 picks a free one (the serving line shows it)", "PORT"),
    Option("--fixtures", _path, None, "fixtures document (YAML/JSON), one tenant each; repeat the flag (in the "
           "variable: separate paths with the platform's path separator, ':' on POSIX)", "PATH", "repeat"),
    Option("--validation", _one_of("strict", "warn", "off"), "strict",
           "strict: refuse invalid requests in the vendor's shape; warn: serve them and flag the violations; off",
           "{strict,warn,off}"),
    Option("--validate-responses", _boolean, False, "check every response against the vendor's spec",
           kind="switch"),
    Option("--journal-size", _size, 1000, "requests kept per tenant in the /__admin journal", "N"),
    Option("--log-format", _one_of("text", "json"), "text", "request log format: one text line or one JSON "
           "object per call, on stdout", "{text,json}"),
    Option("--quiet", _boolean, False, "no request log", kind="switch"),
    Option("--admin-token", _token, None, "lock /__admin: every call needs 'Authorization: Bearer TOKEN' (prefer "
           "the variable: a flag shows in the process list)", "TOKEN"),
    Option("--admin-open", _boolean, False, "serve /__admin without a token on a non-loopback --host (refused "
           "otherwise)", kind="switch"),
    Option("--max-tenants", _positive, 1000, "tenants this gateway holds at most (POST /__admin/tenants refuses "
           "more: 409 too_many_tenants)", "N"),
    Option("--store", _store, "memory", "where tenant state lives: memory (this process; gone with it) or "
           "sqlite:PATH (a file: survives restarts, shared by --workers; add ?sync=full to survive a power cut too)",
           "URL"),
    Option("--workers", _positive, 1, "processes serving the port (SO_REUSEPORT) over one --store sqlite:PATH",
           "N"),
    Option("--vendor", _package, None, "an extra vendor package to serve besides the four built-ins (importable: "
           "installed, or on PYTHONPATH; see 'Adding a vendor'); repeat the flag (in the variable: separate names "
           "with the path separator)", "PACKAGE", "repeat"),
)


def options_markdown() -> str:
    """The options table as Markdown (the README's "Configuration" section is this table)."""
    rows = ["| option | environment variable | default | meaning |", "|---|---|---|---|"]
    for o in OPTIONS:
        flag = f"`{o.flag}` / `--no-{o.flag[2:]}`" if o.kind == "switch" else f"`{o.flag} {o.metavar}`"
        if o.kind == "repeat":
            flag += " (repeatable)"
        default = o.shown_default()
        rows.append(f"| {flag} | `{o.env}` | {default if ' ' in default else f'`{default}`'} | "
                    f"{o.help.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


ENV_EPILOG = ("Every option can also be set by its environment variable (shown with each option); the command "
              "line wins. Booleans: 1/0, true/false, yes/no, on/off (any case); an empty variable counts as unset.")


# --- errors ----------------------------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, exit 2 (argparse would print the usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {' '.join(message.split())} (see --help)\n")


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(f"{PROG}: error: {' '.join(str(problem).split())}", file=sys.stderr)
    sys.stderr.flush()
    return 2


class _Problems(Exception):
    def __init__(self, lines: list[str]):
        super().__init__("; ".join(lines))
        self.lines = lines


def resolve(given: argparse.Namespace, environ=None) -> tuple[dict[str, Any], list[str]]:
    """Each option's value: the command line, else its environment variable, else the default.
    Returns (values by dest, one problem per bad variable)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for o in OPTIONS:
        if hasattr(given, o.dest):
            values[o.dest] = getattr(given, o.dest)
            continue
        raw = environ.get(o.env, "")
        if not raw.strip():
            values[o.dest] = o.default
            continue
        try:
            values[o.dest] = o.from_env(raw)
        except argparse.ArgumentTypeError as exc:
            problems.append(f"{o.env}: {exc}")
    return values, problems


# --- serve -----------------------------------------------------------------------------------------------------------

def _resuming(tenants: list[str], fixture_paths) -> None:
    if fixture_paths:
        print(f"{PROG}: the store already holds {', '.join(tenants)}: resuming; --fixtures not "
              f"loaded (reset a tenant through /__admin, or start on a new file)", file=sys.stderr, flush=True)


def _engine(fixture_paths: list[str] | None, stores=None):
    """The engine with one tenant per fixtures document (the demo world without any), its tenants in `stores`
    (memory by default). A store that already holds tenants (a restart on a SQLite file) resumes them and loads
    no fixtures. Every problem of every document is collected, then raised together as _Problems."""
    from . import fixtures
    from .engine import Engine
    from .engine.errors import TenantConflict
    from .store import StoreError
    try:
        engine = Engine(stores)          # a durable store loads the tenants it holds
    except StoreError as exc:
        raise _Problems([f"--store: {exc}"]) from None
    if len(engine):
        _resuming([t.id for t in engine], fixture_paths)
        return engine
    problems: list[str] = []
    loaded: list[tuple[str, Any]] = []      # (source, tenant) in order
    for path in fixture_paths or [None]:
        try:
            tenant = fixtures.load_file(path, stores=stores) if path is not None else \
                fixtures.build(fixtures.demo_document(), stores=stores)
        except fixtures.FixtureError as exc:
            if exc.source is None:
                exc.source = "the demo world"
            problems.extend(exc.lines())
            continue
        source = path or "the demo world"
        try:
            engine.add(tenant)
        except TenantConflict as exc:
            problems.append(_conflict(engine, source, tenant, loaded, exc))
            continue
        loaded.append((source, tenant))
    if problems:
        raise _Problems(problems)
    return engine


def _conflict(engine, source: str, tenant, loaded: list[tuple[str, Any]], exc) -> str:
    """A tenant id or credential taken by an earlier document, naming both files."""
    found = engine.conflicts(tenant)
    for other_source, other in loaded:
        if ("tenant", other.id) in found and other.id == tenant.id:
            return f"{source}: tenant {tenant.id!r} is already defined by {other_source}"
    for other_source, other in loaded:
        shared = sorted(kind for kind, owner in found if kind != "tenant" and owner == other.id)
        if shared:
            return (f"{source}: credentials {', '.join(shared)} of tenant {tenant.id!r} already open tenant "
                    f"{other.id!r} of {other_source}")
    return f"{source}: {exc.message}"


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _run(app, host: str, port: int, tenants: list[str], ready=None) -> int:
    """Bind, say where (once bound, with the real port), serve until SIGINT/SIGTERM, clean up. A worker
    (`ready` set) binds with SO_REUSEPORT and tells its parent instead of printing the serving line."""
    import asyncio
    import signal

    from aiohttp import web

    from .app import Runner
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):   # before binding: a signal during start-up is a clean stop too
        loop.add_signal_handler(sig, stop.set)
    # in-flight calls get 5 s to finish on a stop: inside a container's usual 10 s grace period
    runner = Runner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_port=True if ready is not None else None)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "address already in use"
            else:
                text = exc.strerror or str(exc) or type(exc).__name__
                reason = text[:1].lower() + text[1:]
            return _fail([f"cannot listen on {host}:{port}: {reason}"])
        bound = next((a[1] for a in runner.addresses if isinstance(a, tuple) and len(a) >= 2), port)
        if ready is not None:
            ready()
        else:
            print(f"{PROG} {__version__} serving {', '.join(tenants)} on {_url(host, bound)}", flush=True)
        await stop.wait()
        return 0
    finally:
        await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _register_vendors(packages) -> list[str]:
    """Register each extra vendor package; one problem line per package that cannot be."""
    from .vendors import registry
    problems = []
    for package in packages:
        try:
            registry.register(package)
        except registry.RegistryError as exc:     # not importable, no DESCRIPTOR/VENDOR, a refused descriptor
            problems.append(f"--vendor {package}: {exc}")
        except Exception as exc:                  # its own code failed while importing
            problems.append(f"--vendor {package}: {type(exc).__name__}: {exc}")
    return problems


def serve(given: argparse.Namespace) -> int:
    values, problems = resolve(given)
    if problems:
        return _fail(problems)
    args = argparse.Namespace(**values)
    if not args.admin_token and not args.admin_open and not _loopback(args.host):
        return _fail([f"--host {args.host} is reachable from other machines and /__admin would be open to them: "
                      f"set --admin-token (or {ENV_PREFIX}ADMIN_TOKEN), or --admin-open to serve it unlocked"])
    if args.workers > 1 and args.store == "memory":
        return _fail([f"--workers {args.workers} needs a store the workers share: the memory store lives in one "
                      f"process; use --store sqlite:PATH"])
    if args.workers > 1 and not workers.supported():
        return _fail(["--workers above 1 needs SO_REUSEPORT, which this platform does not have"])
    problems = _register_vendors(args.vendor or ())   # first: fixtures may name their credentials and identities
    if problems:
        return _fail(problems)
    from .store import StoreError, open_stores
    try:
        stores = open_stores(args.store, workers=args.workers)
    except StoreError as exc:
        return _fail([f"--store: {exc}"])
    held = stores.held() if args.workers > 1 else []
    if held:             # the workers each load the tenants: the parent only names them (a large store loads slowly)
        _resuming(held, args.fixtures)
    else:
        try:
            engine = _engine(args.fixtures, stores)
        except _Problems as exc:
            return _fail(exc.lines)
        except OSError as exc:   # the bundled demo world missing: a broken install
            return _fail([str(exc)])
        except Exception as exc:   # a bug: still one line, never a traceback
            return _fail([f"cannot load the fixtures: {type(exc).__name__}: {exc}"])
    if args.workers > 1:
        tenants = held or [t.id for t in engine]
        stores.close()           # each worker opens the file itself (no connection crosses a fork)
        announce = lambda port: print(f"{PROG} {__version__} serving {', '.join(tenants)} on "
                                      f"{_url(args.host, port)} ({args.workers} workers)", flush=True)
        return workers.serve(args.workers, args.host, args.port, lambda port, ready: _serve_one(args, None, port, ready),
                             announce, _fail)
    return _serve_one(args, engine, args.port, None)


def _serve_one(args, engine, port: int, ready) -> int:
    """Serve `engine` (None: open the store again, as a worker does) on `port` until stopped."""
    if engine is None:
        from .store import StoreError, open_stores
        try:
            engine = _engine(None, open_stores(args.store, workers=args.workers))
        except StoreError as exc:
            return _fail([f"--store: {exc}"])
        except _Problems as exc:
            return _fail(exc.lines)
    import asyncio
    import logging

    from .app import Config, build_app
    from .requestlog import RequestLog
    from .resources import MissingResource
    from .specs import SpecError
    request_log = None
    if not args.quiet:
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(line_buffering=True)   # a line per call reaches a pipe (docker logs) at once
        request_log = RequestLog(sys.stdout, args.log_format)
    try:
        app = build_app(engine, Config(validation=args.validation, validate_responses=args.validate_responses,
                                       journal_size=args.journal_size, request_log=request_log,
                                       admin_token=args.admin_token, max_tenants=args.max_tenants,
                                       workers=args.workers))
    except (SpecError, MissingResource) as exc:
        return _fail([str(exc)])
    except Exception as exc:   # a bug (a broken bundled file ...): still one line, never a traceback
        return _fail([f"cannot start: {type(exc).__name__}: {exc}"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(app, args.host, port, [t.id for t in engine], ready))
    finally:
        if engine.stores is not None:
            engine.stores.close()    # a clean stop: buffered journal lines written, the log folded


# --- validate --------------------------------------------------------------------------------------------------------

def validate(args) -> int:
    """Check a recorded payload against the bundled spec: exit 0 valid, 1 violations, 2 bad usage."""
    from pathlib import Path

    from . import codecs, specs
    from .vendors import registry
    if args.vendor not in registry.names():
        return _fail([f"unknown vendor {args.vendor!r}; one of: {', '.join(registry.names())}"])
    try:
        spec = registry.spec(args.vendor)
    except specs.SpecError as exc:
        return _fail([str(exc)])
    op = spec.operations.get(args.operation)
    if op is None:
        return _fail([f"unknown operation {args.operation!r} for {args.vendor}; one of: "
                      f"{', '.join(sorted(spec.operations))}"])
    path = Path(args.request or args.response)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _fail([f"cannot read {path}: {exc.strerror or exc}"])
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


# --- the command line ------------------------------------------------------------------------------------------------

def _status(text: str) -> int:
    try:
        status = int(text)
    except ValueError:
        status = 0
    if not 100 <= status <= 599:
        raise argparse.ArgumentTypeError(f"not an HTTP status: {text!r}")
    return status


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="A local, stateful, spec-checked stand-in for the loyalty APIs of Omneo, "
                                       "Altcraft, Gameball and Brevo.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{serve,validate}")
    s = sub.add_parser("serve", help="serve the four vendor dialects and /__admin", epilog=ENV_EPILOG,
                       description="Serve the four vendor dialects and the /__admin control plane.")
    for o in OPTIONS:
        where = f"[env {o.env}; default: {o.shown_default()}]"
        if o.kind == "switch":
            s.add_argument(o.flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                           help=f"{o.help} {where}")
        elif o.kind == "repeat":
            s.add_argument(o.flag, action="append", type=o.parse, metavar=o.metavar, default=argparse.SUPPRESS,
                           help=f"{o.help} {where}")
        else:
            s.add_argument(o.flag, type=o.parse, metavar=o.metavar, default=argparse.SUPPRESS,
                           help=f"{o.help} {where}")
    s.set_defaults(func=serve)
    v = sub.add_parser("validate", help="check a recorded request or response (JSON or XML) against the bundled spec",
                       description="Check a recorded request or response (JSON or XML) against the bundled spec: "
                                   "exit 0 valid, 1 with one line per violation, 2 on bad usage.")
    v.add_argument("--vendor", required=True)
    v.add_argument("--operation", required=True, help="operationId, e.g. get_customer_balance")
    which = v.add_mutually_exclusive_group(required=True)
    which.add_argument("--request", metavar="FILE", help="a request body")
    which.add_argument("--response", metavar="FILE", help="a response body")
    v.add_argument("--status", type=_status, default=200, help="the response's HTTP status (default 200)")
    v.set_defaults(func=validate)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:     # --help, --version, or a usage error already printed as one line
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return args.func(args)
    except KeyboardInterrupt:     # Ctrl-C before the server took over the signal
        return 130


if __name__ == "__main__":
    sys.exit(main())
