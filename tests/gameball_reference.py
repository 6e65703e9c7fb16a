"""Gameball's own published OpenAPI (../shared/reference/gameball-openapi.json, copied into
tests/data/) as a second judge of every Gameball answer: Gameball's client SDKs are generated from it,
so a body it rejects breaks a real client even when our own spec accepts it.

`check(method, path, status, body)` returns the problems of one answer (empty when it is valid or the
reference declares nothing for that status); `seen` records every (operation, status) checked, so a test
can show which operations the suite's answers covered."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from gateway.specs.validate import compile_schema

REFERENCE = Path(__file__).parent / "data" / "gameball-openapi.json"
# Gameball's documented prefixes for the same resource paths: v4.0, v4 (older guides), v4.1 (secure mode)
PREFIX = re.compile(r"^/api/v4(?:\.[01])?/integrations/")
seen: set[tuple[str, str, int]] = set()


@lru_cache(maxsize=1)
def document() -> dict:
    return json.loads(REFERENCE.read_text())


def _resolve(node, doc, stack=(), keep=()):
    """The schema with every local $ref inlined and OpenAPI 3.0's `nullable` spelled as 3.1 types (examples
    dropped unless named in `keep`)."""
    if isinstance(node, list):
        return [_resolve(n, doc, stack, keep) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        assert ref not in stack, f"recursive $ref {ref}"
        target = doc
        for part in ref.lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _resolve(target, doc, stack + (ref,), keep)
    out = {k: _resolve(v, doc, stack, keep) if k not in keep else v for k, v in node.items()
           if k in keep or k not in ("example", "examples", "nullable")}
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = types + ["null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


@lru_cache(maxsize=1)
def _routes():
    doc = document()
    routes = []
    for template, methods in doc["paths"].items():
        if not template.startswith("/api/"):
            continue                       # the template leftovers (/plants)
        parts = template.split("/")
        rx = re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", template) + "$")
        literal = sum(1 for p in parts if not p.startswith("{"))
        for method, op in methods.items():
            if method in ("get", "put", "post", "delete", "patch") and isinstance(op, dict):
                routes.append((method.upper(), rx, literal, template, op))
    return routes


def operation(method: str, path: str):
    """(template, operation) of the reference for a wire path under any documented version prefix."""
    path = PREFIX.sub("/api/v4.0/integrations/", path.split("?", 1)[0])
    found = [(literal, template, op) for m, rx, literal, template, op in _routes() if m == method and rx.match(path)]
    if not found:
        return None, None
    _, template, op = max(found, key=lambda f: f[0])   # a literal segment beats a parameter
    return template, op


@lru_cache(maxsize=None)
def _validator(template: str, method: str, status: str):
    op = document()["paths"][template][method.lower()]
    responses = op.get("responses") or {}          # POST /transactions/otp declares none
    response = responses.get(status) or responses.get("default")
    if response is None:
        return None
    schema = ((response.get("content") or {}).get("application/json") or {}).get("schema")
    if schema is None:
        return None
    return compile_schema(_resolve(schema, document()))


def check(method: str, path: str, status: int, body) -> list[str]:
    template, op = operation(method, path)
    if template is None:
        return [] if status == 404 else [f"{method} {path} is not an operation of Gameball's reference"]
    seen.add((method, template, status))
    validator = _validator(template, method, str(status))
    if validator is None:
        return []
    return [f"{'/'.join(map(str, e.absolute_path)) or '/'}: {e.message}" for e in validator.iter_errors(body)]


def request_example(method: str, path: str):
    """A request body made of the reference's own property examples (what its docs' generated samples send),
    or None when the operation takes no body."""
    template, op = operation(method, path)
    body = (op or {}).get("requestBody")
    if body is None:
        return None
    media = body["content"]["application/json"]
    if "example" in media:
        return media["example"]
    return _example(_resolve(media["schema"], document(), keep=("example",)))


def _example(schema):
    if "example" in schema:
        return schema["example"]
    if schema.get("type") == "object" or "properties" in schema:
        built = {k: _example(v) for k, v in (schema.get("properties") or {}).items()}
        return {k: v for k, v in built.items() if v not in (None, {}, [])} or None
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        item = _example(schema["items"])
        return [item] if item is not None else None
    return None


def required_present(method: str, path: str, body) -> bool:
    """Whether `body` has every top-level field the reference requires (its examples do not always say)."""
    _, op = operation(method, path)
    schema = _resolve(op["requestBody"]["content"]["application/json"]["schema"], document())
    return isinstance(body, dict) and all(k in body for k in schema.get("required", ()))
