"""The vendors' OpenAPI documents (specs/<vendor>.yaml): the single source of routes and validators
(stripe-mock style). Each is loaded once (`get`), with one request and one response validator per operation.

Query, path and XML values arrive as strings: `coerce` turns them into the schema's types first (a value
that does not parse is left as it is, and fails validation in the vendor's words).

    loader.py     read a bundled spec, dereference `$ref`, build the Spec; SpecError
    operation.py  Spec, Operation, Param: an operation's validate_* and coerce_params
    validate.py   jsonschema with Decimal numbers and strict dates, the compiled fast path, the
                  simple-parameter fast check; Violation
    coercion.py   strings -> schema types (coerce, coerce_scalar)

The names below are the package's API; callers import them from `gateway.specs`, never from a module."""
from __future__ import annotations

from .coercion import coerce, coerce_scalar
from .loader import METHODS, SpecError, load
from .operation import Operation, Param, Spec
from .validate import FORMATS, Violation, compile_fast, compile_schema, fast_check, pointer, pointer_parts

__all__ = ["METHODS", "FORMATS", "SpecError", "Spec", "Operation", "Param", "Violation",
           "load", "get", "pointer", "pointer_parts", "coerce", "coerce_scalar", "compile_schema", "compile_fast", "fast_check"]

_cache: dict[str, Spec] = {}


def get(vendor: str) -> Spec:
    """A bundled spec, loaded once (which vendors exist is the vendor registry's business)."""
    if vendor not in _cache:
        _cache[vendor] = load(vendor)
    return _cache[vendor]

