"""Quick checks of what the wheel will carry, without building it (test_installed_package builds it)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gateway import resources, specs
from gateway.app import build_app
from gateway.engine import Engine
from gateway.vendors import registry

REPO = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_for_the_wheel():
    """pyproject lists packages by hand (two are mapped folders): a new package must be added there."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "gateway").rglob("__init__.py")}
    assert on_disk <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert {"gateway._data.specs", "gateway._data.fixtures"} <= listed


def test_bundled_files_are_found():
    for name in ("omneo.yaml", "altcraft.yaml", "gameball.yaml", "brevo.yaml", "admin.yaml", "fixtures.schema.json"):
        assert resources.spec_file(name).read_bytes() == (REPO / "specs" / name).read_bytes()
    assert resources.fixture_file("demo.yaml").read_bytes() == (REPO / "fixtures" / "demo.yaml").read_bytes()


def test_a_missing_bundled_file_is_a_clear_error():
    with pytest.raises(resources.MissingResource, match="carries no specs/nope.yaml"):
        resources.spec_file("nope.yaml")
    assert not resources.has_spec("nope.yaml")


def test_a_vendor_without_its_spec_stops_the_gateway(monkeypatch, tmp_path):
    """Never a gateway that silently serves fewer vendors."""
    for f in (REPO / "specs").iterdir():
        if f.name != "brevo.yaml":
            (tmp_path / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(resources, "_folder", lambda kind: tmp_path if kind == "specs" else REPO / kind)
    monkeypatch.setattr(specs, "_cache", {})
    assert registry.names() == ["omneo", "altcraft", "gameball", "brevo"]
    with pytest.raises(specs.SpecError, match="brevo"):
        build_app(Engine())
