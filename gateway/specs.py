"""Loads specs/<vendor>.yaml once, and compiles one request and one response validator per
operation. The documents are the single source of routes and schemas (stripe-mock style).

Query, path and XML values arrive as strings: `coerce` turns them into the schema's types
first (a value that does not parse is left as it is, and fails validation in the vendor's words)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Iterable

import fastjsonschema
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import extend

from . import resources

VENDORS = ("omneo", "altcraft", "gameball", "brevo")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: specs load ~8x faster
METHODS = ("get", "post", "put", "patch", "delete")

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


def _float_view(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _float_view(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_float_view(v) for v in value]
    return value


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
        parts = self.pointer.strip("/").split("/")[1:] if self.location != "response" else self.pointer.strip("/").split("/")
        return ".".join(p.replace("~1", "/").replace("~0", "~") for p in parts if p)

    def as_dict(self) -> dict:
        return {"pointer": self.pointer, "message": self.message, "keyword": self.keyword}


def _pointer(parts: Iterable) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


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
                out.append(Violation(_pointer(prefix + path + ([m.group(1)] if m else [])), best.message,
                                     "required", location))
                continue
        value = None if err.validator == "required" else err.instance
        out.append(Violation(_pointer(prefix + path), err.message, str(err.validator), location, value))
    out.sort(key=lambda v: v.pointer)
    return out


# --- coercion: strings (query, path, XML) -> the schema's types -------------------------------------

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
        if t == "integer" and re.fullmatch(r"[+-]?\d+", s):
            return int(s)
        if t == "number" and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", s):
            try:
                return Decimal(s)
            except InvalidOperation:
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
    if isinstance(value, dict):
        props = _properties(schema)
        extra = schema.get("additionalProperties")
        return {k: coerce(v, props.get(k, extra if isinstance(extra, dict) else None)) for k, v in value.items()}
    if "array" in types or ("items" in schema and not types):
        items = value if isinstance(value, list) else ([] if value is None else [value])
        return [coerce(v, schema.get("items")) for v in items]
    if isinstance(value, list):
        return [coerce(v, schema) for v in value]
    if value is None and "object" in types:
        return {}
    if value is None and "string" in types:
        return ""
    return coerce_scalar(value, schema)


# --- the documents ----------------------------------------------------------------------------------

def _deref(node: Any, root: dict, seen: tuple = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}")
            target = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = _deref(target, root, seen + (ref,))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(merged, dict):
                merged = {**merged, **_deref(siblings, root, seen)}
            return merged
        return {k: _deref(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(v, root, seen) for v in node]
    return node


@dataclass
class Param:
    name: str
    location: str
    required: bool
    schema: dict


@dataclass
class Operation:
    vendor: str
    operation_id: str
    handler: str
    method: str
    path: str
    params: list[Param]
    body_schema: dict | None
    body_required: bool
    body_media: tuple[str, ...]
    responses: dict[str, dict]           # status ('200', '4XX', 'default') -> {media: schema}
    security: list
    summary: str = ""
    spec: dict = field(default_factory=dict, repr=False)

    def compile(self) -> None:
        """Build every validator now (start-up), not on the first request."""
        self._body_validator, self._param_validators, self._param_fast, self._response_validators  # noqa: B018
        # the compiled fast paths (code generation, ~4 ms a schema) are built on an operation's first call

    @cached_property
    def _body_validator(self):
        return compile_schema(self.body_schema) if self.body_schema is not None else None

    @cached_property
    def _param_validators(self):
        return {(p.location, p.name): compile_schema(p.schema) for p in self.params}

    @cached_property
    def _body_fast(self):
        return compile_fast(self.body_schema) if self.body_schema is not None else None

    @cached_property
    def _response_fast(self):
        return {status: {media: compile_fast(s) for media, s in media_map.items() if s is not None}
                for status, media_map in self.responses.items()}

    @cached_property
    def _param_fast(self):
        return {(p.location, p.name): fast_check(p.schema) for p in self.params}

    @cached_property
    def _response_validators(self):
        return {status: {media: compile_schema(s) for media, s in media_map.items() if s is not None}
                for status, media_map in self.responses.items()}

    def params_in(self, location: str) -> list[Param]:
        return [p for p in self.params if p.location == location]

    def coerce_params(self, location: str, raw) -> tuple[dict, list[Violation]]:
        """Typed values of the declared parameters of one location; missing required ones are violations."""
        out, errors = {}, []
        for p in self.params_in(location):
            if location == "query" and "array" in _types(p.schema) and hasattr(raw, "getall"):
                values = raw.getall(p.name, None)
                if values is not None:
                    flat = [x for v in values for x in v.split(",")]
                    out[p.name] = [coerce_scalar(v, p.schema.get("items", {})) for v in flat]
                    continue
            value = raw.get(p.name)
            if value is None:
                if p.required:
                    errors.append(Violation(f"/{location}/{p.name}", f"'{p.name}' is a required property",
                                            "required", location))
                continue
            out[p.name] = coerce_scalar(value, p.schema)
        return out, errors

    def validate_params(self, location: str, values: dict) -> list[Violation]:
        errors = []
        for p in self.params_in(location):
            if p.name in values:
                fast = self._param_fast[(location, p.name)]
                if fast is not None and fast(values[p.name]):
                    continue
                errors += _violations(self._param_validators[(location, p.name)], values[p.name],
                                      [location, p.name], location)
        return errors

    def validate_body(self, body: Any) -> list[Violation]:
        if self._body_validator is None:
            return []
        if body is None:
            return ([Violation("/body", "a request body is required", "required", "body")]
                    if self.body_required else [])
        if self._body_fast is not None and self._body_fast(body):
            return []
        return _violations(self._body_validator, body, ["body"], "body")

    def response_key(self, status: int) -> str | None:
        """The `responses` entry that covers a status: exact, then its range (4XX), then default."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                return key
        return None

    def validate_response(self, status: int, body: Any, media: str = "application/json") -> list[Violation]:
        key = self.response_key(status)
        if key is None:
            return [Violation("", f"status {status} is not declared for {self.operation_id}", "status", "response")]
        validators, fasts = self._response_validators[key], self._response_fast[key]
        fast = fasts.get(media) or next(iter(fasts.values()), None)
        if fast is not None and body is not None and fast(body):
            return []
        validator = validators.get(media) or next(iter(validators.values()), None)
        if validator is None:
            return [] if body in (None, b"", "") else [Violation("", "a body was sent where none is declared",
                                                               "body", "response")]
        return _violations(validator, body, [], "response")


@dataclass
class Spec:
    vendor: str
    document: dict
    operations: dict[str, Operation]

    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", ""))


def _media_schemas(content: dict | None) -> dict[str, dict | None]:
    return {media: (c or {}).get("schema") for media, c in (content or {}).items()}


class SpecError(RuntimeError):
    """A bundled spec is missing or unreadable: the gateway refuses to start rather than serve fewer vendors."""


def load(vendor: str, path=None) -> Spec:
    try:
        text = open(path).read() if path is not None else resources.spec_file(f"{vendor}.yaml").read_text()
        raw = yaml.load(text, Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"spec for {vendor!r} cannot be loaded: {exc}") from None
    try:
        doc = _deref(copy.deepcopy(raw), raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"spec for {vendor!r} has a broken $ref: {exc}") from None
    ops: dict[str, Operation] = {}
    for route, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            o = item.get(method)
            if o is None:
                continue
            params = {(p["in"], p["name"]): p for p in shared + o.get("parameters", [])}
            body = o.get("requestBody") or {}
            media = _media_schemas(body.get("content"))
            schema = next((s for s in media.values() if s is not None), None)
            op = Operation(
                vendor=vendor, operation_id=o["operationId"], handler=o.get("x-handler", o["operationId"]),
                method=method.upper(), path=route,
                params=[Param(name, loc, bool(p.get("required", loc == "path")), p.get("schema", {}))
                        for (loc, name), p in params.items() if loc in ("path", "query")],
                body_schema=schema, body_required=bool(body.get("required", False)), body_media=tuple(media),
                responses={str(status): _media_schemas(r.get("content")) for status, r in o.get("responses", {}).items()},
                security=o.get("security", doc.get("security", [])), summary=o.get("summary", ""), spec=o)
            if op.operation_id in ops:
                raise ValueError(f"{vendor}: duplicate operationId {op.operation_id}")
            ops[op.operation_id] = op
    return Spec(vendor=vendor, document=raw, operations=ops)


_cache: dict[str, Spec] = {}


def get(vendor: str) -> Spec:
    if vendor not in _cache:
        _cache[vendor] = load(vendor)
    return _cache[vendor]


def available() -> list[str]:
    """Every vendor the gateway serves. Each must have its spec: `get` fails loudly, never skips one."""
    return list(VENDORS)
