"""The vendors this process knows: the four built-ins, then any registered at run time.

A vendor is one package (a folder) exposing `DESCRIPTOR` (gateway.vendors.descriptor.VendorDescriptor) and
`VENDOR` (its adapter, gateway.vendors.base.Vendor), plus its OpenAPI spec. Built-ins keep their spec in the
top-level specs/ (bundled, found by gateway.resources); any other vendor keeps it in its own folder, at the
path its descriptor names.

    from gateway.vendors import registry
    registry.register("acme_loyalty")       # an importable package; before build_app / the plugin's gateway

Everything else is driven from here: `build_app` serves `names()` (unless told a subset), /__admin lists,
validates and generates credentials for every registered vendor, the fixtures schema is composed from
`descriptors()`, and the pytest plugin's `headers(vendor)` uses the vendor's descriptor. A user's pytest
project registers its vendor in its conftest.py (`pytest_configure`) before the session's gateway starts.
`generation()` changes on every (un)registration, so the composed schemas are rebuilt."""
from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .. import resources, specs
from .base import Vendor
from .descriptor import VendorDescriptor

BUILTIN = ("gateway.vendors.omneo", "gateway.vendors.altcraft", "gateway.vendors.gameball", "gateway.vendors.brevo")

_modules: dict[str, str] = {}                   # vendor name -> its package, in registration order
_descriptors: dict[str, VendorDescriptor] = {}
_cache: dict[str, Vendor] = {}
_specs: dict[str, specs.Spec] = {}              # specs of vendors outside the bundle (built-ins: specs.get)
_generation = 0


class RegistryError(ValueError):
    """A vendor package that cannot be registered (no DESCRIPTOR, a name taken ...)."""


def _builtins() -> None:
    if not _modules:
        for module in BUILTIN:
            _add(module)


def _add(module_name: str) -> VendorDescriptor:
    global _generation
    try:
        module = import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"vendor package {module_name!r} cannot be imported: {exc}") from None
    d = getattr(module, "DESCRIPTOR", None)
    if not isinstance(d, VendorDescriptor):
        raise RegistryError(f"vendor package {module_name!r} has no DESCRIPTOR (a VendorDescriptor)")
    if d.name in _modules:
        if _modules[d.name] == module_name and _descriptors[d.name] is d:
            return d                            # registering the same package twice changes nothing
        raise RegistryError(f"vendor {d.name!r} is already registered (from {_modules[d.name]})")
    if d.bundled_spec and module_name not in BUILTIN:
        raise RegistryError(f"vendor {d.name!r}: only built-in vendors have a bundled spec; name a file in "
                            "its own folder")
    for other in _descriptors.values():
        shared = [p for p in d.path_prefixes for q in other.path_prefixes if p.startswith(q) or q.startswith(p)]
        if shared:
            raise RegistryError(f"vendor {d.name!r}: path prefix {shared[0]!r} overlaps {other.name}'s")
    _modules[d.name] = module_name
    _descriptors[d.name] = d
    _generation += 1
    return d


def register(module_name: str) -> VendorDescriptor:
    """Add the vendor of an importable package (its DESCRIPTOR names it); returns its descriptor. Apps built
    afterwards serve it; apps already built do not change."""
    _builtins()
    return _add(module_name)


def unregister(name: str) -> None:
    """Forget a vendor registered at run time (tests; the built-ins stay)."""
    global _generation
    _builtins()
    if name not in _modules:
        raise KeyError(name)
    if _modules[name] in BUILTIN:
        raise RegistryError(f"{name} is a built-in vendor")
    for table in (_modules, _descriptors, _cache, _specs):
        table.pop(name, None)
    _generation += 1


def generation() -> int:
    """A number that changes whenever the set of vendors does (for caches built from the descriptors)."""
    _builtins()
    return _generation


def names() -> list[str]:
    _builtins()
    return list(_modules)


def descriptors() -> list[VendorDescriptor]:
    _builtins()
    return list(_descriptors.values())


def descriptor(name: str) -> VendorDescriptor:
    _builtins()
    return _descriptors[name]


def get(name: str) -> Vendor:
    """The vendor's adapter (its package's VENDOR)."""
    if name not in _cache:
        d = descriptor(name)
        vendor = getattr(import_module(_modules[name]), "VENDOR", None)
        if not isinstance(vendor, Vendor):
            raise RegistryError(f"vendor package {_modules[name]!r} has no VENDOR (a gateway.vendors.base.Vendor)")
        if vendor.name != d.name:
            raise RegistryError(f"vendor package {_modules[name]!r}: VENDOR.name {vendor.name!r} is not its "
                                f"descriptor's {d.name!r}")
        vendor.path_prefixes = d.path_prefixes      # the descriptor's (unknown paths under them get its 404 shape)
        _cache[name] = vendor
    return _cache[name]


def spec_path(name: str) -> Path | None:
    """Where a non-bundled vendor's spec is (its own folder); None for a built-in (gateway.resources finds it)."""
    d = descriptor(name)
    if d.bundled_spec:
        return None
    module = import_module(_modules[name])
    return Path(module.__file__).resolve().parent / d.spec


def spec(name: str) -> specs.Spec:
    """The vendor's loaded spec; specs.SpecError when it is missing or broken (the gateway does not start)."""
    d = descriptor(name)
    if d.bundled_spec:
        return specs.get(name)
    if name not in _specs:
        _specs[name] = specs.load(name, spec_path(name))
    return _specs[name]


def spec_bytes(name: str) -> bytes:
    """The vendor's spec document as it is on disk (what /__admin/specs/<vendor> serves)."""
    path = spec_path(name)
    return resources.spec_file(descriptor(name).spec).read_bytes() if path is None else path.read_bytes()


__all__ = ["BUILTIN", "RegistryError", "descriptor", "descriptors", "generation", "get", "names", "register",
           "spec", "spec_bytes", "spec_path", "unregister"]
