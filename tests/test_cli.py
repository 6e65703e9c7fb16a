"""`loyalty-gateway validate` on recorded payloads, and bad usage."""
from __future__ import annotations

import json

import pytest

from gateway.cli import main

BALANCE = {"totalPointsBalance": 1500, "totalPointsValue": 75, "availablePointsBalance": 1200,
           "availablePointsValue": 60, "pendingPoints": 300, "pendingPointsValue": 15, "currency": "USD",
           "pointsName": "Reward Points", "nextExpiringPointsAmount": 200, "nextExpiringPointsValue": 10,
           "nextExpiringPointsDate": "2024-12-01T00:00:00", "totalEarnedPoints": 2500}


def run(capsys, *args):
    code = main(["validate", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_vendor_documented_response_is_valid(tmp_path, capsys):
    f = tmp_path / "balance.json"
    f.write_text(json.dumps(BALANCE))
    code, out = run(capsys, "--vendor", "gameball", "--operation", "get_customer_balance", "--response", str(f))
    assert code == 0 and "valid gameball.get_customer_balance response 200" in out


def test_drifted_response_one_line_per_violation(tmp_path, capsys):
    f = tmp_path / "balance.json"
    f.write_text(json.dumps({**BALANCE, "totalPointsBalance": "1500", "extra": 1}))
    code, out = run(capsys, "--vendor", "gameball", "--operation", "get_customer_balance", "--response", str(f))
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert any(l.startswith("/totalPointsBalance: '1500' is not of type 'number'") for l in lines)
    assert any("extra" in l for l in lines)


def test_xml_request_coerced_then_checked(tmp_path, capsys):
    f = tmp_path / "req.xml"
    f.write_text("<xml><token>abc123def456</token><loyalty_program_id>123</loyalty_program_id>"
                 "<matching>email</matching><email>user@example.com</email></xml>")
    code, out = run(capsys, "--vendor", "altcraft", "--operation", "get_account_balance", "--request", str(f))
    assert code == 0, out
    f.write_text("<xml><loyalty_program_id>abc</loyalty_program_id><matching>email</matching></xml>")
    code, out = run(capsys, "--vendor", "altcraft", "--operation", "get_account_balance", "--request", str(f))
    assert code == 1 and "/loyalty_program_id" in out and "/email" in out


def test_error_response_status(tmp_path, capsys):
    f = tmp_path / "err.json"
    f.write_text(json.dumps({"code": 7000, "type": "CUSTOMER_ERROR", "message": "Customer not found",
                             "documentationUrl": "https://docs.gameball.co", "requestId": "x"}))
    code, _ = run(capsys, "--vendor", "gameball", "--operation", "get_customer_balance", "--response", str(f),
                  "--status", "404")
    assert code == 0


def test_malformed_file(tmp_path, capsys):
    f = tmp_path / "bad.json"
    f.write_text("{not json")
    code, out = run(capsys, "--vendor", "brevo", "--operation", "get_balance_definition", "--response", str(f))
    assert code == 1 and "malformed JSON" in out


@pytest.mark.parametrize("args,needle", [
    (["--vendor", "nope", "--operation", "x"], "unknown vendor"),
    (["--vendor", "omneo", "--operation", "nope"], "unknown operation"),
])
def test_unknown_vendor_or_operation(tmp_path, capsys, args, needle):
    f = tmp_path / "x.json"
    f.write_text("{}")
    code, out = run(capsys, *args, "--request", str(f))
    assert code == 2 and needle in out


def test_missing_file(capsys):
    code, out = run(capsys, "--vendor", "omneo", "--operation", "get_profile_balances", "--request", "/no/such/file")
    assert code == 2 and "cannot read" in out


# --- serve: start-up problems, one line each, exit 2 (in-process: none of these reaches the listening socket) ----------

def errors(capsys) -> list[str]:
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert lines and all(l.startswith("loyalty-gateway: error: ") for l in lines), lines
    assert "Traceback" not in out.err
    return [l.removeprefix("loyalty-gateway: error: ") for l in lines]


def test_serve_refuses_malformed_fixtures_naming_the_file_and_pointer(tmp_path, capsys):
    f = tmp_path / "world.yaml"
    f.write_text("programs:\n  - id: p\n    money_currency: usd\n    point_currencies: [{id: pts, value: -1}]\n")
    assert main(["serve", "--fixtures", str(f)]) == 2
    lines = errors(capsys)
    assert len(lines) == 2
    assert lines[0].startswith(f"{f}#/programs/0/money_currency: 'usd' does not match")
    assert lines[1].startswith(f"{f}#/programs/0/point_currencies/0/value: -1 is not valid")


def test_serve_reports_every_bad_fixtures_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("[1, 2")
    assert main(["serve", "--fixtures", str(tmp_path / "missing.yaml"), "--fixtures", str(bad)]) == 2
    lines = errors(capsys)
    assert lines[0] == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory"
    assert lines[1].startswith(f"{bad}: not valid YAML/JSON: ")
    assert len(lines) == 2


def _demo_copy(path, **changes):
    import yaml
    from gateway import fixtures
    doc = fixtures.demo_document()
    doc.update(changes)
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_serve_names_both_files_of_a_tenant_id_conflict(tmp_path, capsys):
    a = _demo_copy(tmp_path / "a.yaml", credentials={"brevo": {"api_key": "a-key"}})
    b = _demo_copy(tmp_path / "b.yaml", credentials={"brevo": {"api_key": "b-key"}})
    assert main(["serve", "--fixtures", a, "--fixtures", b]) == 2
    assert errors(capsys) == [f"{b}: tenant 'demo' is already defined by {a}"]


def test_serve_names_both_files_of_a_credential_conflict(tmp_path, capsys):
    a = _demo_copy(tmp_path / "a.yaml", tenant="one")
    b = _demo_copy(tmp_path / "b.yaml", tenant="two", credentials={"brevo": {"api_key": "demo-brevo-key"},
                                                                    "omneo": {"token": "own"}})
    assert main(["serve", "--fixtures", a, "--fixtures", b]) == 2
    assert errors(capsys) == [f"{b}: credentials brevo.api_key of tenant 'two' already open tenant 'one' of {a}"]


@pytest.mark.parametrize("args,message", [
    (["--journal-size", "-1"], "argument --journal-size: must be an integer >= 0, got '-1' (see --help)"),
    (["--journal-size", "many"], "argument --journal-size: must be an integer >= 0, got 'many' (see --help)"),
    (["--port", "abc"], "argument --port: not a port number: 'abc' (see --help)"),
    (["--port", "70000"], "argument --port: not a port number from 0 to 65535: '70000' (see --help)"),
    (["--validation", "bogus"], "argument --validation: must be one of strict, warn, off, got 'bogus' (see --help)"),
    (["--log-format", "xml"], "argument --log-format: must be one of text, json, got 'xml' (see --help)"),
    (["--host", ""], "argument --host: not a host name or address: '' (see --help)"),
    (["--nope"], "unrecognized arguments: --nope (see --help)"),
])
def test_serve_usage_errors_are_one_line(capsys, args, message):
    assert main(["serve", *args]) == 2
    assert errors(capsys) == [message]


def test_top_level_usage_errors_are_one_line(capsys):
    assert main([]) == 2
    assert errors(capsys) == ["the following arguments are required: {serve,validate} (see --help)"]
    assert main(["bogus"]) == 2
    assert errors(capsys) == ["argument {serve,validate}: invalid choice: 'bogus' (choose from 'serve', 'validate') "
                              "(see --help)"]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "loyalty-gateway 0.2.0\n"


def test_validate_usage_errors_are_one_line(capsys, tmp_path):
    assert main(["validate", "--vendor", "gameball"]) == 2
    assert errors(capsys) == ["the following arguments are required: --operation (see --help)"]
    assert main(["validate", "--vendor", "gameball", "--operation", "x", "--request", "a", "--response", "b"]) == 2
    assert errors(capsys) == ["argument --response: not allowed with argument --request (see --help)"]
    assert main(["validate", "--vendor", "nope", "--operation", "x", "--request", "a"]) == 2
    assert errors(capsys) == ["unknown vendor 'nope'; one of: omneo, altcraft, gameball, brevo"]
    assert main(["validate", "--vendor", "gameball", "--operation", "get_customer_balance", "--response",
                 str(tmp_path / "none.json"), "--status", "999"]) == 2
    assert errors(capsys) == ["argument --status: not an HTTP status: '999' (see --help)"]


# --- configuration from the environment ------------------------------------------------------------------------------

def resolved(argv: list[str], env: dict):
    from gateway.cli import parser, resolve
    return resolve(parser().parse_args(["serve", *argv]), env)


def test_defaults_without_flags_or_variables():
    assert resolved([], {}) == ({"host": "127.0.0.1", "port": 8080, "fixtures": None, "validation": "strict",
                                 "validate_responses": False, "journal_size": 1000, "log_format": "text",
                                 "quiet": False, "admin_token": None, "admin_open": False, "max_tenants": 1000,
                                 "store": "memory", "workers": 1, "vendor": None}, [])


def test_every_option_from_its_variable():
    import os
    env = {"LOYALTY_GATEWAY_HOST": "0.0.0.0", "LOYALTY_GATEWAY_PORT": "9000",
           "LOYALTY_GATEWAY_FIXTURES": os.pathsep.join(["a.yaml", "b.yaml"]), "LOYALTY_GATEWAY_VALIDATION": "warn",
           "LOYALTY_GATEWAY_VALIDATE_RESPONSES": "Yes", "LOYALTY_GATEWAY_JOURNAL_SIZE": "5",
           "LOYALTY_GATEWAY_LOG_FORMAT": "json", "LOYALTY_GATEWAY_QUIET": "ON",
           "LOYALTY_GATEWAY_VENDOR": os.pathsep.join(["acme", "shop.loyalty"]),
           "LOYALTY_GATEWAY_ADMIN_TOKEN": "s3cret", "LOYALTY_GATEWAY_ADMIN_OPEN": "no",
           "LOYALTY_GATEWAY_MAX_TENANTS": "7", "LOYALTY_GATEWAY_STORE": "sqlite:world.db",
           "LOYALTY_GATEWAY_WORKERS": "3"}
    assert resolved([], env) == ({"host": "0.0.0.0", "port": 9000, "fixtures": ["a.yaml", "b.yaml"],
                                  "validation": "warn", "validate_responses": True, "journal_size": 5,
                                  "log_format": "json", "quiet": True, "admin_token": "s3cret", "admin_open": False,
                                  "max_tenants": 7, "store": "sqlite:world.db", "workers": 3,
                                  "vendor": ["acme", "shop.loyalty"]}, [])


def test_the_command_line_wins():
    env = {"LOYALTY_GATEWAY_PORT": "9000", "LOYALTY_GATEWAY_QUIET": "1", "LOYALTY_GATEWAY_FIXTURES": "a.yaml",
           "LOYALTY_GATEWAY_VALIDATE_RESPONSES": "true", "LOYALTY_GATEWAY_JOURNAL_SIZE": "oops"}
    values, problems = resolved(["--port", "0", "--no-quiet", "--fixtures", "c.yaml", "--no-validate-responses",
                                 "--journal-size", "3"], env)
    assert problems == []    # a variable the command line overrides is not read at all
    assert (values["port"], values["quiet"], values["fixtures"], values["validate_responses"],
            values["journal_size"]) == (0, False, ["c.yaml"], False, 3)


@pytest.mark.parametrize("text,value", [("1", True), ("0", False), ("TRUE", True), ("false", False), ("yes", True),
                                        ("No", False), ("on", True), ("off", False), (" true ", True)])
def test_boolean_variables(text, value):
    assert resolved([], {"LOYALTY_GATEWAY_QUIET": text})[0]["quiet"] is value


def test_an_empty_variable_is_unset():
    assert resolved([], {"LOYALTY_GATEWAY_PORT": "", "LOYALTY_GATEWAY_FIXTURES": " "})[0]["port"] == 8080


def test_bad_variables_are_named_one_line_each(capsys, monkeypatch):
    monkeypatch.setenv("LOYALTY_GATEWAY_PORT", "abc")
    monkeypatch.setenv("LOYALTY_GATEWAY_QUIET", "maybe")
    monkeypatch.setenv("LOYALTY_GATEWAY_JOURNAL_SIZE", "-5")
    assert main(["serve"]) == 2
    assert errors(capsys) == ["LOYALTY_GATEWAY_PORT: not a port number: 'abc'",
                              "LOYALTY_GATEWAY_JOURNAL_SIZE: must be an integer >= 0, got '-5'",
                              "LOYALTY_GATEWAY_QUIET: not a boolean (1/0, true/false, yes/no, on/off): 'maybe'"]


def test_serve_help_shows_every_variable(capsys):
    from gateway.cli import OPTIONS
    assert main(["serve", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for o in OPTIONS:
        assert f"{o.flag} " in out and f"[env {o.env}; default: " in out


def test_options_markdown_has_a_row_per_option():
    from gateway.cli import OPTIONS, options_markdown
    rows = options_markdown().splitlines()
    assert rows[:2] == ["| option | environment variable | default | meaning |", "|---|---|---|---|"]
    assert len(rows) == 2 + len(OPTIONS)
    for row, o in zip(rows[2:], OPTIONS):
        assert f"`{o.flag}" in row and f"`{o.env}`" in row
    assert "| `--port PORT` | `LOYALTY_GATEWAY_PORT` | `8080` |" in options_markdown()


def test_readme_configuration_lists_every_variable():
    from pathlib import Path

    from gateway.cli import options_markdown as cli_table
    from gateway.cli import OPTIONS
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    assert cli_table() in section, "paste the output of gateway.cli.options_markdown() into README's Configuration"
    missing = [o.env for o in OPTIONS if f"`{o.env}`" not in section]
    assert missing == [], f"README.md's Configuration section lacks {missing}"
    missing = [o.flag for o in OPTIONS if f"`{o.flag}" not in section]
    assert missing == [], f"README.md's Configuration section lacks {missing}"


def test_serve_refuses_to_start_without_a_bundled_spec(monkeypatch, capsys):
    from gateway import specs
    real = specs.get

    def get(name):
        if name == "brevo":
            raise specs.SpecError("spec for 'brevo' cannot be loaded: the package carries no specs/brevo.yaml")
        return real(name)
    monkeypatch.setattr(specs, "get", get)
    assert main(["serve", "--port", "0", "--quiet"]) == 2
    assert errors(capsys) == ["spec for 'brevo' cannot be loaded: the package carries no specs/brevo.yaml"]
