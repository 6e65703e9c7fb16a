"""Reads a bundled spec (through gateway.resources, or a given file), dereferences its local `$ref`s and
builds the Spec: one Operation per path and method. SpecError when it cannot."""
from __future__ import annotations

import copy
from typing import Any

import yaml

from .. import resources
from .operation import Operation, Param, Spec
from .validate import pointer_parts

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: specs load ~8x faster
METHODS = ("get", "post", "put", "patch", "delete")


class SpecError(RuntimeError):
    """A bundled spec is missing or unreadable: the gateway refuses to start rather than serve fewer vendors."""


def _deref(node: Any, root: dict, seen: tuple = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}")
            target = root
            for part in pointer_parts(ref[1:]):
                target = target[part]
            merged = _deref(target, root, seen + (ref,))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(merged, dict):
                merged = {**merged, **_deref(siblings, root, seen)}
            return merged
        return {k: _deref(v, root, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(v, root, seen) for v in node]
    return node


def _media_schemas(content: dict | None) -> dict[str, dict | None]:
    return {media: (c or {}).get("schema") for media, c in (content or {}).items()}


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
