"""The package as its users install it: the sdist and the wheel are built from a copy of the sources,
the wheel is installed into a fresh virtual environment that cannot see this checkout, and the
installed `loyalty-gateway` is used as a user would: `serve` as a process, `validate` on a recorded
payload, `--version`, and a small user project outside the repository whose test uses only the
`loyalty_gateway` fixture, as the README shows it.

One wheel and one environment serve the whole module: session-scoped, so a worker that interleaves other
modules between these tests does not rebuild them (the xdist group keeps them all on one worker)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest

from gateway.vendors import registry

pytestmark = pytest.mark.xdist_group("installed_package")

REPO = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".venv", "__pycache__", "build", "dist", "*.egg-info", ".pytest_cache",
                              ".hypothesis", "results")
VENDORS = tuple(d.name for d in registry.descriptors() if d.bundled_spec)   # the built-ins, in the wheel


def _run(cmd, timeout=300, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def _clean_env() -> dict:
    """The environment of a user's shell: nothing that points Python at this checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST", "LOYALTY_GATEWAY_", "VIRTUAL_ENV"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel, built the way `python -m build` does (the wheel from the unpacked sdist)."""
    root = tmp_path_factory.mktemp("build")
    src = root / "src"
    shutil.copytree(REPO, src, ignore=SKIP)
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(root / "dist"), str(src)],
         cwd=root, env=_clean_env())
    return root / "dist"


@pytest.fixture(scope="session")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel (and pytest, for the user project)."""
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    _run([sys.executable, "-m", "venv", str(env_dir)], cwd=home)
    wheel = next(dist.glob("*.whl"))
    _run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          str(wheel), "pytest"], cwd=home, env=_clean_env(), timeout=600)
    return env_dir


def test_the_sdist_and_wheel_carry_specs_fixtures_and_papers(dist):
    import gateway
    sdist = next(dist.glob("*.tar.gz"))
    wheel = next(dist.glob("*.whl"))
    assert f"-{gateway.__version__}" in wheel.name
    with tarfile.open(sdist) as tar:
        in_sdist = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    with zipfile.ZipFile(wheel) as z:
        in_wheel = set(z.namelist())
    for name in (*(f"{v}.yaml" for v in VENDORS), "admin.yaml", "fixtures.schema.json"):
        assert f"specs/{name}" in in_sdist
        assert f"gateway/_data/specs/{name}" in in_wheel
    assert "fixtures/demo.yaml" in in_sdist and "gateway/_data/fixtures/demo.yaml" in in_wheel
    assert {"LICENSE", "README.md", "CHANGELOG.md"} <= in_sdist
    assert "gateway/py.typed" in in_wheel
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel)
    assert not any(n.startswith(("tests/", "bench/")) for n in in_wheel)


def test_the_installed_package_does_not_see_the_checkout(venv, tmp_path):
    out = _run([str(venv / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
               cwd=tmp_path, env=_clean_env())
    assert Path(out.stdout.strip()).is_relative_to(venv)


def test_version(venv, tmp_path):
    import gateway
    out = _run([str(venv / "bin" / "loyalty-gateway"), "--version"], cwd=tmp_path, env=_clean_env())
    assert out.stdout.strip() == f"loyalty-gateway {gateway.__version__}"
    out = _run([str(venv / "bin" / "python"), "-m", "gateway", "--version"], cwd=tmp_path, env=_clean_env())
    assert out.stdout.strip() == f"loyalty-gateway {gateway.__version__}"


def _get(url: str, headers: dict | None = None) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
        return json.loads(resp.read())


def _first_line(proc: subprocess.Popen, timeout: float = 30) -> str:
    """The first line the process prints, or the failure with all it said (never blocks past timeout)."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"no line within {timeout}s; stdout {out!r}; stderr {err!r}")
    line = proc.stdout.readline()
    if not line:
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"exited {proc.returncode} without a line; stderr {err!r}")
    return line


def test_serve_answers_a_gameball_balance(venv, tmp_path):
    import gateway
    proc = subprocess.Popen([str(venv / "bin" / "loyalty-gateway"), "serve", "--port", "0"], cwd=tmp_path,
                            env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(proc)
        m = re.search(r"serving .* on (http://127\.0\.0\.1:(\d+))$", line.strip())
        assert m and int(m.group(2)) > 0, f"unexpected first line {line!r}"
        base = m.group(1)
        health = _get(f"{base}/__admin/health")
        assert health["version"] == gateway.__version__
        assert sorted(health["vendors"]) == sorted(VENDORS)
        body = _get(f"{base}/api/v4.0/integrations/customers/user-123/balance",
                    {"apikey": "demo-gameball-apikey", "secretkey": "demo-gameball-secretkey"})
        assert (body["availablePointsBalance"], body["pendingPoints"], body["totalPointsBalance"]) == (1400, 400, 1800)
        assert (body["availablePointsValue"], body["currency"]) == (70, "USD")
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_validate_a_recorded_payload(venv, tmp_path):
    recorded = {"totalPointsBalance": 1500, "totalPointsValue": 75, "availablePointsBalance": 1200,
                "availablePointsValue": 60, "pendingPoints": 300, "pendingPointsValue": 15, "currency": "USD",
                "pointsName": "Reward Points", "nextExpiringPointsAmount": 200, "nextExpiringPointsValue": 10,
                "nextExpiringPointsDate": "2024-12-01T00:00:00", "totalEarnedPoints": 2500}
    f = tmp_path / "recorded.json"
    f.write_text(json.dumps(recorded))
    cmd = [str(venv / "bin" / "loyalty-gateway"), "validate", "--vendor", "gameball",
           "--operation", "get_customer_balance", "--response", str(f)]
    out = _run(cmd, cwd=tmp_path, env=_clean_env())
    assert "valid gameball.get_customer_balance response 200" in out.stdout
    f.write_text(json.dumps({**recorded, "totalPointsBalance": "1500"}))
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_clean_env())
    assert bad.returncode == 1
    assert bad.stdout.strip() == "/totalPointsBalance: '1500' is not of type 'number'"


def test_a_user_project_uses_the_fixture_as_the_readme_shows(venv, tmp_path):
    example = re.search(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    assert "def test_" in example and "loyalty_gateway" in example
    project = tmp_path / "user-project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_loyalty.py").write_text(example)
    out = _run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
               env=_clean_env())
    assert re.search(r"\b1 passed\b", out.stdout), out.stdout


def test_a_missing_vendor_spec_stops_start_up(venv, tmp_path):
    """A broken install (brevo's spec gone from a copy of the installed package, which shadows it)."""
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import gateway, os; print(os.path.dirname(gateway.__file__))"],
                     cwd=tmp_path, env=_clean_env()).stdout.strip())
    broken = tmp_path / "broken"
    shutil.copytree(site, broken / "gateway")
    (broken / "gateway" / "_data" / "specs" / "brevo.yaml").unlink()
    env = {**_clean_env(), "PYTHONPATH": str(broken)}
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "gateway", "serve", "--port", "0"], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path, env=env)
    assert out.returncode == 2
    assert out.stdout == ""
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("loyalty-gateway: error:") and "brevo" in line and "Traceback" not in out.stderr
