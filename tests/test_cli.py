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


def test_serve_refuses_malformed_fixtures_naming_the_path(tmp_path, capsys):
    f = tmp_path / "world.yaml"
    f.write_text("programs:\n  - id: p\n    money_currency: usd\n    point_currencies: [{id: pts, value: -1}]\n")
    assert main(["serve", "--fixtures", str(f)]) == 2
    err = capsys.readouterr().err
    assert "fixtures/programs/0/money_currency:" in err
    assert "fixtures/programs/0/point_currencies/0/value:" in err
