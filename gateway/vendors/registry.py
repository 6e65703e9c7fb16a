"""Vendor name -> adapter. Adding a vendor: a folder like the others, and one line here."""
from __future__ import annotations

from importlib import import_module

from .base import Vendor

_ADAPTERS = {
    "omneo": "gateway.vendors.omneo",
    "altcraft": "gateway.vendors.altcraft",
    "gameball": "gateway.vendors.gameball",
    "brevo": "gateway.vendors.brevo",
}
_cache: dict[str, Vendor] = {}


def names() -> list[str]:
    return list(_ADAPTERS)


def get(name: str) -> Vendor:
    if name not in _cache:
        _cache[name] = import_module(_ADAPTERS[name]).VENDOR
    return _cache[name]
