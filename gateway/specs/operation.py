"""What a loaded spec is: its operations, each with its parameters, body and responses, and the
validators compiled for them (jsonschema always; the quick checks in front of it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .coercion import _types, coerce_scalar
from .validate import Violation, _violations, compile_fast, compile_schema, fast_check


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
