"""pytest plugin (entry point `pytest11`): the `loyalty_gateway` fixture.

One gateway per test session (a real HTTP server on 127.0.0.1, free port, background thread),
a fresh tenant per test: tests -- and pytest-xdist workers -- never see each other's data.
Talks to the gateway over HTTP only (stdlib urllib), so it serves sync and async tests alike,
and `--loyalty-gateway-url` points it at a gateway you run yourself."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("loyalty-gateway")
    group.addoption("--loyalty-gateway-url", default=None,
                    help="use a running gateway (e.g. http://127.0.0.1:8080) instead of starting one")
    group.addoption("--loyalty-gateway-fixtures", default=None,
                    help="fixtures document (YAML/JSON) each test's tenant is built from (default: demo world)")
    group.addoption("--loyalty-gateway-admin-token", default=None,
                    help="the /__admin token of the gateway at --loyalty-gateway-url (default: the variable "
                         "LOYALTY_GATEWAY_ADMIN_TOKEN); the gateway the plugin starts gets one of its own")


class GatewayError(AssertionError):
    def __init__(self, status: int, body: Any):
        super().__init__(f"admin call failed with {status}: {body}")
        self.status, self.body = status, body


def _call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        raise GatewayError(exc.code, payload) from None


class _Server:
    """The gateway app served from its own event loop in a daemon thread."""

    def __init__(self) -> None:
        import secrets
        self.url: str | None = None
        self.token = secrets.token_hex(16)   # its control plane is locked: only this session's fixtures use it
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="loyalty-gateway", daemon=True)

    def _run(self) -> None:
        from aiohttp import web

        from .app import Config, Runner, build_app
        from .engine import Engine

        asyncio.set_event_loop(self._loop)

        async def start():
            engine = Engine()      # no tenant of its own: each test creates one (a user's world may name any id)
            runner = Runner(build_app(engine, Config(admin_token=self.token)), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            return runner

        try:
            self._runner = self._loop.run_until_complete(start())
        except BaseException as exc:  # surfaced to the fixture
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None or self.url is None:
            raise RuntimeError(f"loyalty-gateway did not start: {self._error}")
        return self.url

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class LoyaltyGateway:
    """One test's tenant on the gateway: where to send requests, the credentials, and the control plane."""

    def __init__(self, base_url: str, tenant: str, credentials: dict, admin_token: str | None = None):
        self.base_url = base_url
        self.tenant = tenant
        self.credentials = credentials
        self.admin_token = admin_token     # sent as `Authorization: Bearer` on every control-plane call

    def url(self, path: str = "") -> str:
        return self.base_url + path

    def headers(self, vendor: str) -> dict[str, str]:
        """The headers a client of that vendor sends with this tenant's credentials, as the vendor's descriptor
        says (Altcraft: Bearer; its token also works in the body). Any registered vendor, built-in or not."""
        from .vendors import registry
        return registry.descriptor(vendor).headers(self.credentials[vendor])

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        return _call(self.base_url, method, f"/__admin/tenants/{self.tenant}{path}", body, self.admin_token)

    # clock
    def clock(self) -> dict:
        return self.admin("GET", "/clock")

    def advance(self, by: str) -> dict:
        """Move the tenant's clock forward by an ISO 8601 duration ('P14D', 'PT10M')."""
        return self.admin("POST", "/clock/advance", {"by": by})

    def set_clock(self, now: str | None = None, frozen: bool | None = None) -> dict:
        body = {k: v for k, v in {"now": now, "frozen": frozen}.items() if v is not None}
        return self.admin("PUT", "/clock", body)

    # state
    def member(self, identity: str) -> dict:
        """Identities, ledger and `views`: the balance as each vendor would answer it."""
        return self.admin("GET", f"/members/{urllib.parse.quote(str(identity), safe='')}")

    def views(self, identity: str) -> dict:
        return self.member(identity)["views"]

    def journal(self, **filters) -> list[dict]:
        q = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self.admin("GET", "/journal" + (f"?{q}" if q else ""))["entries"]

    def fault(self, vendor: str, kind: str, **options) -> dict:
        """Arm a fault: kind 'latency' (latency_ms), 'error' (case), 'drop'; times / probability / operation."""
        return self.admin("POST", "/faults", {"vendor": vendor, "kind": kind, **options})

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")

    def load(self, fixtures: dict | str | Path) -> None:
        """Replace this tenant's world with a fixtures document (a dict, or a YAML/JSON file)."""
        if not isinstance(fixtures, dict):
            from .fixtures import read
            fixtures = read(fixtures)       # as serve reads a file: unquoted dates stay text, errors name the file
        self.admin("PUT", "/snapshot", fixtures)

    def snapshot(self) -> dict:
        return self.admin("GET", "/snapshot")

    def restore(self, snapshot: dict) -> None:
        self.admin("PUT", "/snapshot", snapshot)

    def reset(self) -> None:
        self.admin("POST", "/reset")


@pytest.fixture(scope="session")
def _loyalty_gateway_server(request):
    """(url, admin token) of the session's gateway: the one given, or one started here with its own token."""
    url = request.config.getoption("--loyalty-gateway-url")
    if url:
        import os
        token = request.config.getoption("--loyalty-gateway-admin-token") or \
            os.environ.get("LOYALTY_GATEWAY_ADMIN_TOKEN") or None
        yield url.rstrip("/"), token
        return
    server = _Server()
    yield server.start(), server.token
    server.stop()


@pytest.fixture(scope="session")
def loyalty_gateway_url(_loyalty_gateway_server):
    return _loyalty_gateway_server[0]


@pytest.fixture(scope="session")
def loyalty_gateway_admin_token(_loyalty_gateway_server):
    """The session gateway's /__admin token (None: its control plane is open)."""
    return _loyalty_gateway_server[1]


def _world(request) -> tuple[str | None, dict | None]:
    """The user's own world (--loyalty-gateway-fixtures), or None for the demo world."""
    path = request.config.getoption("--loyalty-gateway-fixtures")
    if not path:
        return None, None
    from .fixtures import FixtureError, read
    try:
        return path, read(path)
    except FixtureError as exc:
        pytest.fail("--loyalty-gateway-fixtures: " + "; ".join(exc.lines()), pytrace=False)


@pytest.fixture
def loyalty_gateway(request, loyalty_gateway_url, loyalty_gateway_admin_token):
    """A fresh tenant on the session's gateway; deleted after the test.

    With --loyalty-gateway-fixtures the tenant is built from that document, and keeps the tenant id and
    credentials it names (so the client under test can be configured with them); without, it is the demo
    world with fresh credentials (read them from `credentials` or `headers(vendor)`)."""
    path, body = _world(request)
    try:
        created = _call(loyalty_gateway_url, "POST", "/__admin/tenants", body, loyalty_gateway_admin_token)
    except GatewayError as exc:
        if path is None:
            raise
        problems = [f"{path}#{e.get('pointer', '')}: {e.get('message')}" for e in (exc.body or {}).get("errors", [])] \
            if isinstance(exc.body, dict) else []
        hint = (" (another tenant on this gateway uses the same tenant id or credentials: a gateway shared by "
                "several workers needs a document without `tenant` and `credentials`)" if exc.status == 409 else "")
        message = exc.body.get("message") if isinstance(exc.body, dict) else exc.body
        pytest.fail(f"--loyalty-gateway-fixtures {path}: {message}{hint}" + "".join(f"\n  {p}" for p in problems),
                    pytrace=False)
    gw = LoyaltyGateway(loyalty_gateway_url, created["tenant"], created["credentials"], loyalty_gateway_admin_token)
    yield gw
    try:
        _call(loyalty_gateway_url, "DELETE", f"/__admin/tenants/{gw.tenant}", token=loyalty_gateway_admin_token)
    except (GatewayError, OSError):
        pass
