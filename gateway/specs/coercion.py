"""Strings (query, path, XML) -> the schema's types. A value that does not parse is left as it is, and
fails validation in the vendor's words."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .. import codecs

# ASCII digits only: \d would also take other scripts' digits ('٣' is 3 to int()), which no JSON number has
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _types(schema: dict) -> list[str]:
    t = schema.get("type")
    if t is None:
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return [x for s in schema[key] for x in _types(s)]
        if "enum" in schema or "const" in schema:
            return ["string"]
        return []
    return [t] if isinstance(t, str) else list(t)


def _properties(schema: dict) -> dict[str, dict]:
    """Property schemas of an object schema, including those named in allOf/oneOf/anyOf/if-then-else."""
    props = dict(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, ()):
            for k, v in _properties(sub).items():
                props.setdefault(k, v)
    for key in ("then", "else"):
        if key in schema:
            for k, v in _properties(schema[key]).items():
                props.setdefault(k, v)
    return props


def coerce_scalar(value: Any, schema: dict) -> Any:
    if not isinstance(value, str):
        return value
    types = _types(schema)
    if not types or "string" in types:
        return value
    s = value.strip()
    for t in types:
        if t == "integer" and _INTEGER.fullmatch(s):
            try:             # bounded as a JSON number is (codecs.number): a 5,000-digit id stays a string
                return codecs.number(s)
            except ValueError:
                pass
        if t == "number" and _NUMBER.fullmatch(s):
            try:
                value = codecs.number(s)
                return Decimal(value) if isinstance(value, int) else value
            except ValueError:
                pass
        if t == "boolean" and s.lower() in ("true", "false", "1", "0"):
            return s.lower() in ("true", "1")
        if t == "null" and s == "":
            return None
    return value


def coerce(value: Any, schema: dict | None) -> Any:
    """Walk an XML-derived value (strings, dicts, lists) and type it by the schema."""
    if schema is None:
        return value
    types = _types(schema)
    arrays = "array" in types or ("items" in schema and not types)
    if arrays and not (isinstance(value, dict) and "object" in types):   # one XML element is a list of one
        items = value if isinstance(value, list) else ([] if value is None else [value])
        return [coerce(v, schema.get("items")) for v in items]
    if isinstance(value, dict):
        props = _properties(schema)
        extra = schema.get("additionalProperties")
        return {k: coerce(v, props.get(k, extra if isinstance(extra, dict) else None)) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce(v, schema) for v in value]
    if value is None and "object" in types:
        return {}
    if value is None and "string" in types:
        return ""
    return coerce_scalar(value, schema)
