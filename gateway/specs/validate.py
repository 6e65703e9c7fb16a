"""The three validators of an instance against a (dereferenced) JSON Schema, and what they report.

- `compile_schema`: jsonschema, draft 2020-12, with Decimal numbers as JSON numbers (an integral Decimal is an
  integer) and a strict RFC 3339 `date-time`: the one that decides and explains (`_violations`).
- `compile_fast`: fastjsonschema, compiled, a yes/no for the happy path; a no goes to jsonschema.
- `fast_check`: a hand-written yes for the simple scalar schemas of path and query parameters.

Both quick checks only ever say yes when jsonschema would (tests/test_specs.py, tests/test_validate.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import extend

# --- JSON Schema machinery: Decimal numbers, strict RFC 3339 dates ------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_integer(checker, instance) -> bool:
    if isinstance(instance, bool):
        return False
    if isinstance(instance, int):
        return True
    return isinstance(instance, Decimal) and instance.is_finite() and instance == instance.to_integral_value()


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
_Validator = extend(Draft202012Validator, type_checker=_TYPES)
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return True


def compile_schema(schema: dict) -> Draft202012Validator:
    return _Validator(schema, format_checker=FORMATS)


# --- the compiled fast path -------------------------------------------------------------------------

def _fast_formats(schema) -> dict:
    names = set(re.findall(r"'format': '([^']+)'", repr(schema)))
    return {n: (lambda v, n=n: FORMATS.conforms(v, n)) for n in names}


def compile_fast(schema: dict):
    """A compiled (fastjsonschema) yes/no for the happy path, or None if it cannot take the schema.
    It sees a float view of the instance and our own format checks; a no (or any surprise) goes to
    jsonschema, which decides and explains. Our specs use no keyword draft 7 lacks (checked in tests)."""
    try:
        fn = fastjsonschema.compile(schema, formats=_fast_formats(schema), use_default=False)
    except Exception:   # a construct it does not support: jsonschema alone decides
        return None

    def ok(instance) -> bool:
        try:
            fn(_float_view(instance))
            return True
        except Exception:
            return False
    return ok


_HUGE = 300    # a Decimal beyond 1e300 (JSON allows 1e999999999): no exact int is built (that takes minutes)
_DIGITS = 15   # a double holds every decimal of 15 significant digits apart: comparisons stay exact


def _float_view(value):
    if isinstance(value, Decimal):
        # only what a double shows exactly enough: 1e-1000000 as a double is 0.0, an integer; and
        # 100.0000000000000001 is 100.0, under a maximum of 100. `ok` says no: jsonschema decides
        if not value.is_finite() or (value and abs(value.adjusted()) > _HUGE):
            raise OverflowError("out of the fast path's range")
        if value == value.to_integral_value():
            return int(value)
        if len(value.as_tuple().digits) > _DIGITS:
            raise OverflowError("more digits than a double holds")
        return float(value)
    if isinstance(value, dict):
        return {k: _float_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_float_view(v) for v in value]
    return value


# --- the simple-parameter fast check ----------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NOTES = {"description", "example", "examples", "title", "default", "deprecated", "readOnly", "writeOnly"}


def fast_check(schema: dict):
    """A quick yes for the simple scalar schemas of path and query parameters, or None when the
    schema is not simple. Only ever says True when jsonschema would; a False sends the value to
    the full validator, which explains the failure."""
    keys = set(schema) - _NOTES
    t = schema.get("type")
    if not keys <= {"type", "minLength", "maxLength", "pattern", "enum", "format", "minimum", "maximum"}:
        return None
    if t not in ("string", "integer", "boolean"):
        return None
    fmt = schema.get("format")
    if fmt not in (None, "uuid", "date-time"):
        return None
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    enum = schema.get("enum")
    lo, hi = schema.get("minimum"), schema.get("maximum")
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")

    def check(v) -> bool:
        if t == "string":
            if not isinstance(v, str):
                return False
            if (min_len is not None and len(v) < min_len) or (max_len is not None and len(v) > max_len):
                return False
            if pattern is not None and not pattern.search(v):
                return False
            if fmt == "uuid" and not _UUID.match(v):
                return False
            if fmt == "date-time" and not _RFC3339.match(v):
                return False
        elif t == "integer":
            if type(v) is not int or (lo is not None and v < lo) or (hi is not None and v > hi):
                return False
        elif type(v) is not bool:
            return False
        return enum is None or v in enum
    return check


# --- what a failure says ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Violation:
    pointer: str        # JSON pointer into {path, query, header, body} or the response body
    message: str
    keyword: str = ""
    location: str = "body"
    value: Any = None   # the offending value (None when missing)

    @property
    def field(self) -> str:
        """The offending field in dot notation (`items.0.price`), as Laravel-style vendors name it."""
        parts = pointer_parts(self.pointer)
        return ".".join(p for p in (parts if self.location == "response" else parts[1:]) if p)

    def as_dict(self) -> dict:
        return {"pointer": self.pointer, "message": self.message, "keyword": self.keyword}


def pointer(parts: Iterable) -> str:
    """A JSON pointer (RFC 6901) from its parts: `["a/b", 0]` -> `/a~1b/0`."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(text: str) -> list[str]:
    """The parts of a JSON pointer: `/a~1b/0` -> `["a/b", "0"]` (`""` and `"/"` -> `[]`)."""
    return [p.replace("~1", "/").replace("~0", "~") for p in text.strip("/").split("/")] if text.strip("/") else []


def _violations(validator, instance, prefix: list, location: str) -> list[Violation]:
    out = []
    for err in validator.iter_errors(instance):
        path = list(err.absolute_path)
        if err.validator == "required":     # name the missing field itself
            m = re.match(r"'([^']+)' is a required property", err.message)
            if m:
                path.append(m.group(1))
        if err.validator in ("oneOf", "anyOf") and err.context:   # the most specific reason
            best = min(err.context, key=lambda e: (-len(e.absolute_path), e.validator != "required"))
            if best.validator == "required":
                m = re.match(r"'([^']+)' is a required property", best.message)
                out.append(Violation(pointer(prefix + path + ([m.group(1)] if m else [])), best.message,
                                     "required", location))
                continue
        value = None if err.validator == "required" else err.instance
        out.append(Violation(pointer(prefix + path), err.message, str(err.validator), location, value))
    out.sort(key=lambda v: v.pointer)
    return out
