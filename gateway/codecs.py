"""JSON, XML and YAML bodies, bounded once here so that no later step can be made expensive by them.

JSON numbers become Decimal (never float); NaN/Infinity are refused; XML is parsed by xmltodict/expat with
entities off, root element <xml>; YAML (control-plane bodies, fixtures files) is composed first and refused
when its aliases would expand it. Every decoder applies the same `Limits`: nesting depth, string length,
number length and magnitude. A body that breaks one is a DecodeError, which each caller answers in its own
envelope (the vendor's `malformed`, the control plane's `malformed_body`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import xmltodict
import yaml
from xml.sax.saxutils import escape

MAX_BODY = 1 << 20   # 1 MiB: far above any loyalty call; larger bodies are refused before parsing


@dataclass(frozen=True)
class Limits:
    """What one decoded body may hold. A vendor call is a flat object with small nested parts (Brevo's free
    `meta`); a control-plane body is a fixtures document, whose entries may carry such a `meta`."""

    depth: int = 32            # nested objects/arrays (the top level is 1)
    items: int = 10_000        # members of one object or array: what a validator or a handler walks
    string: int = 65_536       # characters in one string (or object key)
    number: int = 64           # characters in one number literal (XML and query strings too: coercion)
    exponent: int = 300        # |adjusted exponent| of a number: inside a double's range, as the vendors
    #                            parse them; Decimal arithmetic on them never overflows its context
    expansion: int = 10        # YAML: expanded nodes per composed node (aliases), above `expansion_floor`
    expansion_floor: int = 10_000


VENDOR = Limits()
ADMIN = Limits(depth=64, items=10_000_000)   # a snapshot: document > state > store > entries > entry > meta (32);
#                                              its lists are as long as the history (the body's size bounds them)


class DecodeError(ValueError):
    """The body is not well-formed in the declared format, or breaks a limit."""


def number(text: str, limits: Limits = VENDOR) -> int | Decimal:
    """A number literal (JSON, XML, query) as int (digits only) or Decimal,
    bounded in length and magnitude; ValueError otherwise. Cheap whatever the text: the length is checked
    before anything is converted, and the exponent before any integer is built."""
    if len(text) > limits.number:
        raise ValueError(f"number too long ({len(text)} characters, at most {limits.number})")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"{text} is not a number")
    if value and abs(value.adjusted()) > limits.exponent:
        raise ValueError(f"number out of range: {text} (at most 1e{limits.exponent} in magnitude, "
                         f"at least 1e-{limits.exponent} when not zero)")
    if value.as_tuple().exponent == 0 and "." not in text and "e" not in text.lower():
        return int(text)     # at most `limits.number` digits: cheap
    return value


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def check(value: Any, limits: Limits = VENDOR, what: str = "body") -> None:
    """Depth and string lengths of a decoded value, walked without recursion (a 100,000-deep value is refused,
    never a RecursionError). DecodeError names the first breach."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if len(node) > limits.string:
                raise DecodeError(f"{what}: a string of {len(node)} characters (at most {limits.string})")
        elif isinstance(node, (dict, list)):
            if depth > limits.depth:
                raise DecodeError(f"{what}: nested deeper than {limits.depth} levels")
            if len(node) > limits.items:
                kind = "an object of" if isinstance(node, dict) else "an array of"
                raise DecodeError(f"{what}: {kind} {len(node)} members (at most {limits.items})")
            if isinstance(node, dict):
                for k, v in node.items():
                    if isinstance(k, str) and len(k) > limits.string:
                        raise DecodeError(f"{what}: a key of {len(k)} characters (at most {limits.string})")
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in node)


def decode_json(raw: bytes, limits: Limits = VENDOR) -> Any:
    """JSON with exact numbers (int or Decimal, bounded by `limits`), then the depth and string limits."""
    parse = lambda text: number(text, limits)  # noqa: E731
    try:
        value = json.loads(raw, parse_float=parse, parse_int=parse, parse_constant=_no_constants)
    except RecursionError:
        raise DecodeError(f"malformed JSON: nested deeper than {limits.depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed JSON: {exc}") from None
    check(value, limits, "malformed JSON")
    return value


def _xml_clean(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k.startswith("@") or k.startswith("#"):    # attributes and stray text carry nothing here
                continue
            out[k] = _xml_clean(v)
        if not out and "#text" in node:     # <points unit="x">5</points>: the text is the value
            return node["#text"]
        return out
    if isinstance(node, list):
        return [_xml_clean(v) for v in node]
    return node


def decode_xml(raw: bytes, root: str = "xml", limits: Limits = VENDOR) -> dict:
    """expat (through xmltodict, which keeps its own stack: any depth parses), then the limits, checked before
    anything walks the tree recursively; numbers stay strings here and are bounded where they are typed."""
    try:
        doc = xmltodict.parse(raw, disable_entities=True, strip_whitespace=True)
    except Exception as exc:   # expat errors, entity declarations, bad encodings
        raise DecodeError(f"malformed XML: {exc}") from None
    if not isinstance(doc, dict) or list(doc) != [root]:
        raise DecodeError(f"malformed XML: the root element must be <{root}>")
    body = doc[root]
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise DecodeError(f"malformed XML: <{root}> must contain elements")
    check(body, limits, "malformed XML")
    return _xml_clean(body)


def decode_yaml(text: str | bytes, loader: type, limits: Limits = ADMIN) -> Any:
    """YAML through `loader` (a SafeLoader), composed first: a document whose aliases would expand it past
    `limits.expansion` times its own nodes (an alias bomb: 3 KB that expands to gigabytes) or whose nesting is
    deeper than `limits.depth` is refused before anything is constructed. Raises yaml.YAMLError or
    DecodeError."""
    ld = loader(text)
    try:
        try:
            node = ld.get_single_node()
        except RecursionError:
            raise DecodeError(f"malformed YAML: nested deeper than {limits.depth} levels") from None
        if node is None:
            return None
        _yaml_bounds(node, limits)
        return ld.construct_document(node)
    finally:
        ld.dispose()


_YAML_INT, _YAML_FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _yaml_scalar(node, limits: Limits) -> None:
    """A YAML scalar within the limits: strings by length; numbers (as the loader resolved their tags) by
    length too, and finite: `.inf` and `.nan` are no amount, and YAML has no other way to write them."""
    text = node.value
    if node.tag in (_YAML_INT, _YAML_FLOAT):
        if len(text) > limits.number:
            raise DecodeError(f"malformed YAML: number too long ({len(text)} characters, at most {limits.number})")
        if node.tag == _YAML_FLOAT and text.lstrip("+-").lower() in (".inf", ".nan"):
            raise DecodeError(f"malformed YAML: {text} is not a finite number")
    elif len(text) > limits.string:
        raise DecodeError(f"malformed YAML: a string of {len(text)} characters (at most {limits.string})")


def _yaml_bounds(root, limits: Limits) -> None:
    """Expanded size and depth of a composed YAML graph, each distinct node visited once (memoised: an alias is
    the same node object), without recursion."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in size:
            continue
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        size[key] = 1 + sum(size.get(id(c), 1) for c in children)
        depth[key] = 1 + max((depth.get(id(c), 1) for c in children), default=0) if children else 1
        if isinstance(node, yaml.ScalarNode):
            _yaml_scalar(node, limits)
        if depth[key] > limits.depth + 1:
            raise DecodeError(f"malformed YAML: nested deeper than {limits.depth} levels")
    distinct, expanded = len(size), size[id(root)]
    if expanded > limits.expansion * distinct + limits.expansion_floor:
        raise DecodeError(f"malformed YAML: its aliases expand {distinct} nodes to {expanded} "
                          f"(at most {limits.expansion}x + {limits.expansion_floor})")


def jsonable(value: Any) -> Any:
    """Decimal -> int when integral, else float (JSON numbers); datetimes -> ISO strings."""
    if isinstance(value, Decimal):
        return _json_default(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


_INT64 = Decimal(1 << 63)


def _json_default(value):
    if isinstance(value, Decimal):   # an integer where it fits orjson's 64 bits; a double otherwise
        if value.is_finite() and value == value.to_integral_value() and -_INT64 <= value < _INT64:
            return int(value)
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_json(value: Any) -> bytes:
    """orjson with a Decimal hook: about 5x the stdlib on our bodies (bench/README.md). What orjson refuses
    (an int beyond 64 bits, nesting past its 254 levels) is written by the stdlib, exactly."""
    try:
        return orjson.dumps(value, default=_json_default)
    except orjson.JSONEncodeError as exc:
        try:
            return json.dumps(value, default=_json_default, separators=(",", ":")).encode()
        except (TypeError, ValueError, RecursionError):
            raise exc from None


def _xml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_element(name: str, value: Any, out: list) -> None:
    if isinstance(value, (list, tuple)):         # a list: the element repeated, once per item
        for item in value:
            _xml_element(name, item, out)
    elif isinstance(value, dict):
        out.append(f"<{name}>")
        for k, v in value.items():
            _xml_element(k, v, out)
        out.append(f"</{name}>")
    elif value is None:
        out.append(f"<{name}></{name}>")
    else:
        out.append(f"<{name}>{_xml_scalar(value)}</{name}>")


def encode_xml(value: dict, root: str = "xml") -> bytes:
    """Objects become nested elements, lists repeated sibling elements, as Altcraft's examples show.
    Written directly (element names are our renderers' own keys): ~30x faster than xmltodict.unparse."""
    out: list[str] = []
    _xml_element(root, value, out)
    return "".join(out).encode()
