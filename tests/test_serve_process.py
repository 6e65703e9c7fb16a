"""`loyalty-gateway serve` as users run it: a real process (`python -m gateway serve`, and once the console
script), its serving line, its request log on stdout, its one-line start-up errors on stderr (exit 2, never a
traceback), its configuration from LOYALTY_GATEWAY_* variables, and a clean stop on SIGTERM / SIGINT.

Every wait has a timeout and every process is killed in a `finally`: a hung gateway fails a test, never the suite."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

import gateway

from processes import GB, GB_BALANCE, PY, TIME, TIMEOUT, Gateway, assert_clean_stop, clean_env, fails


# --- serving ----------------------------------------------------------------------------------------------------------

def test_port_0_serves_on_a_free_port_and_says_which(serve):
    g = serve("--port", "0", "--quiet")
    assert g.tenants == "demo" and g.port > 0
    status, body = g.get("/__admin/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = g.get(GB_BALANCE, GB)
    assert status == 200 and json.loads(body)["availablePointsBalance"] == 1400
    assert assert_clean_stop(g) == []


def test_sigint_stops_cleanly_too(serve):
    g = serve("--port", "0", "--quiet")
    assert g.get("/__admin/health")[0] == 200
    assert assert_clean_stop(g, signal.SIGINT) == []


def test_the_console_script(serve, tmp_path):
    script = Path(PY).parent / "loyalty-gateway"
    if not script.exists():
        pytest.skip(f"no console script next to {PY}")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"loyalty-gateway {gateway.__version__}\n", "")
    g = serve("--port", "0", "--quiet", command=[str(script)])
    assert g.get("/__admin/health")[0] == 200
    assert_clean_stop(g)


def test_version():
    out = subprocess.run([PY, "-m", "gateway", "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert (out.returncode, out.stdout, out.stderr) == (0, f"loyalty-gateway {gateway.__version__}\n", "")


def test_several_fixtures_files_serve_their_tenants(serve, tmp_path):
    import yaml

    from gateway import fixtures
    doc = fixtures.demo_document()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({**doc, "tenant": "acme"}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({**doc, "tenant": "globex", "credentials": {
        "omneo": {"token": "g-omneo"}, "altcraft": {"token": "g-altcraft"},
        "gameball": {"apikey": "g-api", "secretkey": "g-secret"}, "brevo": {"api_key": "g-brevo"}}}))
    g = serve("--port", "0", "--quiet", env=clean_env(LOYALTY_GATEWAY_FIXTURES=os.pathsep.join(["a.yaml", "b.yaml"])))
    assert g.tenants == "acme, globex"
    assert g.get(GB_BALANCE, {"apikey": "g-api", "secretkey": "g-secret"})[0] == 200
    assert_clean_stop(g)


# --- start-up problems: one line each, exit 2 --------------------------------------------------------------------------

def test_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert fails(tmp_path, "--port", str(port)) == [f"cannot listen on 127.0.0.1:{port}: address already in use"]


def test_missing_fixtures_file(tmp_path):
    assert fails(tmp_path, "--port", "0", "--fixtures", "nope.yaml") == [
        "nope.yaml: cannot read: No such file or directory"]


def test_unreadable_fixtures_file(tmp_path):
    f = tmp_path / "secret.yaml"
    f.write_text("tenant: x\n")
    f.chmod(0)
    try:
        if os.access(f, os.R_OK):
            pytest.skip("running as a user who reads any file (root)")
        assert fails(tmp_path, "--port", "0", "--fixtures", str(f)) == [f"{f}: cannot read: Permission denied"]
    finally:
        f.chmod(0o644)


def test_a_folder_given_as_fixtures(tmp_path):
    """Unreadable as a file whoever runs it (the permission test above is skipped as root, as in CI)."""
    (tmp_path / "world").mkdir()
    assert fails(tmp_path, "--port", "0", "--fixtures", "world") == ["world: cannot read: Is a directory"]


def test_schema_failing_fixtures_name_file_and_pointer(tmp_path):
    (tmp_path / "world.yaml").write_text(
        "programs:\n  - id: p\n    money_currency: usd\n    point_currencies: [{id: pts, value: -1}]\n")
    lines = fails(tmp_path, "--port", "0", "--fixtures", "world.yaml")
    assert len(lines) == 2
    assert lines[0].startswith("world.yaml#/programs/0/money_currency: 'usd' does not match")
    assert lines[1].startswith("world.yaml#/programs/0/point_currencies/0/value: ")


def test_two_fixtures_with_one_tenant_id(tmp_path):
    from gateway import fixtures
    import yaml
    doc = fixtures.demo_document()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({**doc, "credentials": {"brevo": {"api_key": "other"}}}))
    assert fails(tmp_path, "--fixtures", "a.yaml", "--fixtures", "b.yaml") == [
        "b.yaml: tenant 'demo' is already defined by a.yaml"]


@pytest.mark.parametrize("args,message", [
    (["--journal-size", "-1"], "argument --journal-size: must be an integer >= 0, got '-1' (see --help)"),
    (["--validation", "bogus"], "argument --validation: must be one of strict, warn, off, got 'bogus' (see --help)"),
    (["--log-format", "xml"], "argument --log-format: must be one of text, json, got 'xml' (see --help)"),
    (["--port", "abc"], "argument --port: not a port number: 'abc' (see --help)"),
    (["--port", "70000"], "argument --port: not a port number from 0 to 65535: '70000' (see --help)"),
])
def test_bad_option_values(tmp_path, args, message):
    assert fails(tmp_path, *args) == [message]


def test_bad_variables(tmp_path):
    env = clean_env(LOYALTY_GATEWAY_PORT="abc", LOYALTY_GATEWAY_VALIDATE_RESPONSES="perhaps")
    assert fails(tmp_path, env=env) == [
        "LOYALTY_GATEWAY_PORT: not a port number: 'abc'",
        "LOYALTY_GATEWAY_VALIDATE_RESPONSES: not a boolean (1/0, true/false, yes/no, on/off): 'perhaps'"]


# --- configuration from the environment --------------------------------------------------------------------------------

def test_variables_are_honoured(serve):
    g = serve(env=clean_env(LOYALTY_GATEWAY_PORT="0", LOYALTY_GATEWAY_LOG_FORMAT="json",
                            LOYALTY_GATEWAY_JOURNAL_SIZE="1", LOYALTY_GATEWAY_VALIDATION="warn"))
    assert g.port > 0
    status, _ = g.get(GB_BALANCE + "?expand=wallet", GB)     # warn: served, with a violation
    assert status == 200
    rec = json.loads(g.line())
    assert (rec["status"], rec["violations"], rec["reason"]) == (200, 1, None)
    g.get(GB_BALANCE, GB)
    g.line()
    _, body = g.get("/__admin/tenants/demo/journal")
    assert len(json.loads(body)["entries"]) == 1             # journal size 1
    g.line()
    assert_clean_stop(g)


def test_the_command_line_wins_over_variables(serve):
    env = clean_env(LOYALTY_GATEWAY_PORT="abc", LOYALTY_GATEWAY_QUIET="yes", LOYALTY_GATEWAY_LOG_FORMAT="json")
    g = serve("--port", "0", "--no-quiet", "--log-format", "text", env=env)
    g.get("/__admin/health")
    assert re.fullmatch(rf"{TIME} - admin get_health GET /__admin/health 200 \d+\.\d{{3}}ms", g.line())
    assert_clean_stop(g)


# --- the request log ---------------------------------------------------------------------------------------------------

def _four_calls(g: Gateway) -> None:
    assert g.get(GB_BALANCE, GB)[0] == 200
    assert g.get(GB_BALANCE, {"apikey": "wrong"})[0] == 401
    assert g.get("/__admin/health")[0] == 200
    assert g.get("/nothing/here")[0] == 404


def test_request_log_text(serve):
    g = serve("--port", "0")
    _four_calls(g)
    ms = r"\d+\.\d{3}ms"
    expected = [
        rf"{TIME} demo gameball get_customer_balance GET {GB_BALANCE} 200 {ms}",
        rf"{TIME} - gameball get_customer_balance GET {GB_BALANCE} 401 {ms} reason=bad_credentials",
        rf"{TIME} - admin get_health GET /__admin/health 200 {ms}",
        rf"{TIME} - - - GET /nothing/here 404 {ms} reason=no_route",
    ]
    for pattern in expected:
        line = g.line()
        assert re.fullmatch(pattern, line), (pattern, line)
    assert assert_clean_stop(g) == []       # exactly one line per call


def test_request_log_json(serve):
    g = serve("--port", "0", "--log-format", "json")
    _four_calls(g)
    records = [json.loads(g.line()) for _ in range(4)]
    assert assert_clean_stop(g) == []
    for rec in records:
        assert re.fullmatch(TIME, rec.pop("time")) and rec.pop("duration_ms") >= 0
    assert [(r["tenant"], r["vendor"], r["operation"], r["path"], r["status"], r["reason"]) for r in records] == [
        ("demo", "gameball", "get_customer_balance", GB_BALANCE, 200, None),
        (None, "gameball", "get_customer_balance", GB_BALANCE, 401, "bad_credentials"),
        (None, "admin", "get_health", "/__admin/health", 200, None),
        (None, None, None, "/nothing/here", 404, "no_route"),
    ]


def test_quiet_logs_nothing(serve):
    g = serve("--port", "0", "--quiet")
    _four_calls(g)
    assert assert_clean_stop(g) == []
