"""Every curl in the README works, as printed, against `loyalty-gateway serve` (a real process)."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _curls() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S):
        for cmd in block.replace("\\\n", " ").splitlines():
            if cmd.strip().startswith("curl"):
                commands.append(cmd.strip())
    return commands


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/health", timeout=1) as r:
                assert json.loads(r.read())["status"] == "ok"
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"the gateway did not start: {proc.stdout.read().decode()}")
    yield port
    proc.terminate()
    proc.wait(10)


def test_readme_has_a_curl_per_vendor():
    joined = "\n".join(_curls())
    for path in ("/api/v4.0/integrations/", "/api/v1.1/loyalty/", "/api/v3/profiles/", "/v3/loyalty/balance/"):
        assert path in joined
    assert "application/xml" in joined


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_readme_curl_works(server):
    for cmd in _curls():
        cmd = cmd.replace("127.0.0.1:8080", f"127.0.0.1:{server}").replace("curl -s", "curl -sS --fail", 1)
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, f"{cmd}\n{out.stderr}"
        body = out.stdout.strip()
        if body.startswith("<"):
            assert "<error>0</error>" in body, body
            assert "<active_balance>1400.00</active_balance>" in body, body
        else:
            data = json.loads(body)
            if "/api/v1.1/" in cmd:
                assert data["error"] == 0 and data["data"]["active_balance"] == "1400.00", data
