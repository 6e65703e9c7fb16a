"""What a vendor declares about itself, so that nothing outside its folder has to name it.

Each vendor package exposes `DESCRIPTOR` (a `VendorDescriptor`) beside `VENDOR` (its adapter). The registry
(gateway.vendors.registry) reads it, and from the descriptors alone come: the vendors `build_app` serves and
their specs, fresh credentials for a new tenant, the /__admin vendor lists (enums, credentials, member views),
the vendor parts of the fixtures schema (credentials, settings, identity kinds, external ids) and the
headers the pytest plugin's `headers(vendor)` returns.

This module imports nothing of the gateway: a vendor's `descriptor.py` (and its auth.py, which reads its
credential names from it) can be imported on its own."""
from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KIND = re.compile(r"^[a-z][a-z0-9_]*(\.([a-z][a-z0-9_]*|<name>))+$")
PLACEHOLDER = "<name>"                  # in an identity kind: any [A-Za-z0-9_]+ (altcraft.field.<name>)
PLACEHOLDER_PATTERN = "[A-Za-z0-9_]+"


@dataclass(frozen=True)
class Credential:
    """One secret of a tenant for a vendor: `credentials.<vendor>.<name>` in a fixtures document, looked up by
    the vendor's auth as `<vendor>.<name>` (Engine.by_credential)."""

    name: str                         # apikey, token, api_key ...
    prefix: str                       # a fresh one is `<prefix>-<24 hex digits>`
    header: str                       # the header a client sends it in
    scheme: str | None = None         # "Bearer": the header value is `Bearer <secret>`; None: the raw secret
    description: str = ""

    def fresh(self) -> str:
        return f"{self.prefix}-{secrets.token_hex(12)}"

    def header_value(self, secret: str) -> str:
        return f"{self.scheme} {secret}" if self.scheme else str(secret)


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(copy.deepcopy(dict(mapping or {})))


@dataclass(frozen=True, eq=False)
class VendorDescriptor:
    """A vendor, as the rest of the gateway knows it (compared by identity: it holds JSON Schema mappings)."""

    name: str                                   # lower case, [a-z][a-z0-9_]*: URLs, enums, credential namespace
    spec: str                                   # its OpenAPI file: a bundled specs/ file name (bundled_spec), else
                                                # a path relative to the vendor package's own folder
    path_prefixes: tuple[str, ...]              # unknown paths under these get the vendor's 404 shape
    credentials: tuple[Credential, ...]         # every one is required in a fixtures `credentials.<name>`
    identities: tuple[str, ...]                 # identity kinds, `<vendor>.<kind>`; `<name>` stands for any word
    settings: Mapping[str, Any] = field(default_factory=dict)   # setting name -> its JSON Schema
    settings_description: str | None = None     # the fixtures schema's description of `settings.<name>`
    test_headers: Mapping[str, str] = field(default_factory=dict)   # sent by clients besides the credentials
    program_external: Mapping[str, str] = field(default_factory=dict)    # program.external key -> description
    currency_external: Mapping[str, str] = field(default_factory=dict)   # point_currency.external key -> description
    bundled_spec: bool = False                  # the built-ins: the spec is in the top-level specs/ (resources)
    title: str = ""                             # one line: what API this is

    def __post_init__(self) -> None:
        problems = []
        if not NAME.match(self.name or ""):
            problems.append(f"name {self.name!r} is not [a-z][a-z0-9_]*")
        if not self.spec:
            problems.append("no spec file")
        if self.bundled_spec and self.spec != f"{self.name}.yaml":
            problems.append(f"a bundled spec is named after its vendor: {self.name}.yaml, not {self.spec}")
        if not self.path_prefixes or any(not p.startswith("/") for p in self.path_prefixes):
            problems.append("path_prefixes: one or more, each starting with /")
        names = [c.name for c in self.credentials]
        if not names or len(set(names)) != len(names):
            problems.append("credentials: one or more, with distinct names")
        for kind in (*self.identities, *self.program_external, *self.currency_external):
            if not kind.startswith(self.name + ".") or not KIND.match(kind):
                problems.append(f"{kind!r} is not `{self.name}.<kind>`")
        if problems:
            raise ValueError(f"vendor descriptor {self.name!r}: " + "; ".join(problems))
        object.__setattr__(self, "path_prefixes", tuple(self.path_prefixes))
        object.__setattr__(self, "credentials", tuple(self.credentials))
        object.__setattr__(self, "identities", tuple(self.identities))
        for name in ("settings", "test_headers", "program_external", "currency_external"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    # --- credentials ------------------------------------------------------------------------------------------
    def credential_key(self, name: str) -> str:
        """What the vendor's auth looks a secret up by (Engine.by_credential): `<vendor>.<name>`."""
        if name not in {c.name for c in self.credentials}:
            raise KeyError(f"{self.name} declares no credential {name!r}")
        return f"{self.name}.{name}"

    def fresh_credentials(self) -> dict[str, str]:
        return {c.name: c.fresh() for c in self.credentials}

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """The headers a client of this vendor sends, with these credentials."""
        out = dict(self.test_headers)
        for c in self.credentials:
            out[c.header] = c.header_value(credentials[c.name])
        return out

    # --- the fixtures schema's vendor parts ---------------------------------------------------------------------
    def credentials_schema(self) -> dict:
        return {"type": "object", "required": [c.name for c in self.credentials], "additionalProperties": False,
                "properties": {c.name: {"$ref": "#/$defs/secret"} for c in self.credentials}}

    def settings_schema(self) -> dict:
        out = {"type": "object", "additionalProperties": False, "properties": copy.deepcopy(_plain(self.settings))}
        if self.settings_description:
            out["description"] = self.settings_description
        return out

    def identity_patterns(self) -> list[str]:
        """One regular expression (unanchored) per identity kind."""
        return [re.escape(k).replace(re.escape(PLACEHOLDER), PLACEHOLDER_PATTERN) for k in self.identities]


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


__all__ = ["Credential", "VendorDescriptor"]
