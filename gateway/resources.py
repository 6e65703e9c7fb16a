"""Where the bundled specs and fixtures live, found the same way in a wheel, an editable install
and a checkout.

The repository keeps `specs/` and `fixtures/` at its top (the project's layout); the wheel ships
them inside the package as `gateway/_data/specs` and `gateway/_data/fixtures` (see pyproject's
package-dir). `importlib.resources` finds the bundled copy in an installed package; a checkout
or an editable install, whose `gateway/` has no `_data`, uses the folders beside it."""
from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


class MissingResource(FileNotFoundError):
    """A bundled file the package should carry is absent: a broken install, never a user error."""


def _folder(kind: str) -> Traversable:
    bundled = resources.files("gateway").joinpath("_data", kind)
    if bundled.is_dir():
        return bundled
    checkout = _CHECKOUT / kind
    if checkout.is_dir():
        return checkout
    raise MissingResource(f"the package carries no {kind}/ folder (looked in {bundled} and {checkout}); "
                          "reinstall loyalty-gateway")


def _file(kind: str, name: str) -> Traversable:
    f = _folder(kind).joinpath(name)
    if not f.is_file():
        raise MissingResource(f"the package carries no {kind}/{name}; reinstall loyalty-gateway")
    return f


def spec_file(name: str) -> Traversable:
    """A bundled spec by file name: `gameball.yaml`, `admin.yaml`, `fixtures.schema.json`."""
    return _file("specs", name)


def fixture_file(name: str) -> Traversable:
    """A bundled fixtures document by file name: `demo.yaml`."""
    return _file("fixtures", name)


def has_spec(name: str) -> bool:
    try:
        spec_file(name)
    except MissingResource:
        return False
    return True
