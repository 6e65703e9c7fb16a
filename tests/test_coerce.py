"""Strings from XML, query and path -> the schema's types (gateway.specs.coerce, coerce_scalar): a value that
does not parse stays the string it was, for the validator to refuse in the vendor's words."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.specs import coerce, coerce_scalar

INTEGER, NUMBER, BOOLEAN, NULL, STRING = ({"type": t} for t in ("integer", "number", "boolean", "null", "string"))

SCALARS = [
    # (value, schema, expected)
    ("42", INTEGER, 42),
    (" 42 ", INTEGER, 42),
    ("+7", INTEGER, 7),
    ("-0", INTEGER, 0),
    ("-12", INTEGER, -12),
    ("12345678901234567890123456789", INTEGER, 12345678901234567890123456789),
    ("4.0", INTEGER, "4.0"),
    ("1e3", INTEGER, "1e3"),
    ("", INTEGER, ""),
    ("abc", INTEGER, "abc"),
    ("٣", INTEGER, "٣"),                       # another script's digit is no JSON number
    ("1" * 5000, INTEGER, "1" * 5000),          # longer than a number may be (64): stays a string
    ("1.50", NUMBER, Decimal("1.50")),
    (".5", NUMBER, Decimal("0.5")),
    ("5.", NUMBER, Decimal("5")),
    ("1e3", NUMBER, Decimal("1E+3")),
    ("-2.5E-2", NUMBER, Decimal("-0.025")),
    ("1" * 64, NUMBER, Decimal("1" * 64)),
    ("1" * 65, NUMBER, "1" * 65),               # longer than a number may be: stays a string
    ("1e999999999", NUMBER, "1e999999999"),       # beyond a double's range (codecs.number): stays a string
    ("1e300", NUMBER, Decimal("1E+300")),
    ("NaN", NUMBER, "NaN"),
    ("Infinity", NUMBER, "Infinity"),
    ("1,5", NUMBER, "1,5"),
    ("٣.٥", NUMBER, "٣.٥"),
    ("true", BOOLEAN, True),
    ("TRUE", BOOLEAN, True),
    ("False", BOOLEAN, False),
    ("1", BOOLEAN, True),
    ("0", BOOLEAN, False),
    (" true ", BOOLEAN, True),
    ("yes", BOOLEAN, "yes"),
    ("", NULL, None),
    (" ", NULL, None),
    ("x", NULL, "x"),
    ("12", {"type": ["integer", "null"]}, 12),
    ("", {"type": ["integer", "null"]}, None),
    ("12", {"type": ["string", "integer"]}, "12"),          # a string is allowed: kept as sent
    ("12", STRING, "12"),
    ("12", {"oneOf": [{"type": "integer"}, {"type": "boolean"}]}, 12),
    ("true", {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}, True),
    ("12", {"enum": ["12", "13"]}, "12"),
    ("12", {"const": "12"}, "12"),
    ("12", {}, "12"),                                       # no type: nothing to coerce to
    (12, INTEGER, 12),                                      # not a string: untouched
    (None, INTEGER, None),
    (Decimal("1.5"), INTEGER, Decimal("1.5")),
]


@pytest.mark.parametrize("value, schema, expected", SCALARS,
                         ids=[f"{i}-{str(v)[:12]!r}->{s.get('type', '/'.join(s) or 'any')}" for i, (v, s, _) in enumerate(SCALARS)])
def test_coerce_scalar(value, schema, expected):
    got = coerce_scalar(value, schema)
    assert got == expected and type(got) is type(expected)


ITEM = {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"},
                                         "price": {"type": "number"}}}
ORDER = {"type": "object", "properties": {
    "id": {"type": "string"}, "total": {"type": "number"}, "gift": {"type": "boolean"},
    "items": {"type": "array", "items": ITEM}, "tags": {"type": "array", "items": {"type": "integer"}},
    "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
    "customer": {"type": "object", "properties": {"age": {"type": "integer"}}},
    "note": {"type": "string"}}}

TREES = [
    # (value, schema, expected)
    ({"id": "7", "total": "10.50", "gift": "true"}, ORDER, {"id": "7", "total": Decimal("10.50"), "gift": True}),
    ({"items": {"sku": "A", "qty": "2", "price": "1.5"}}, ORDER,                     # one <items>: still a list
     {"items": [{"sku": "A", "qty": 2, "price": Decimal("1.5")}]}),
    ({"items": [{"qty": "1"}, {"qty": "x"}]}, ORDER, {"items": [{"qty": 1}, {"qty": "x"}]}),
    ({"items": None}, ORDER, {"items": []}),                                        # <items/>: an empty list
    ({"tags": ["1", "2"]}, ORDER, {"tags": [1, 2]}),
    ({"tags": "3"}, ORDER, {"tags": [3]}),
    ({"meta": {"a": "1", "b": "two"}}, ORDER, {"meta": {"a": 1, "b": "two"}}),    # additionalProperties typed
    ({"customer": {"age": "30"}}, ORDER, {"customer": {"age": 30}}),
    ({"customer": None}, ORDER, {"customer": {}}),                                  # <customer/>: an empty object
    ({"note": None}, ORDER, {"note": ""}),                                          # <note/>: an empty string
    ({"unknown": "1"}, ORDER, {"unknown": "1"}),                                    # undeclared: left alone
    ({"a": "1"}, None, {"a": "1"}),                                                 # no schema at all
    ({"n": "5"}, {"allOf": [{"properties": {"n": {"type": "integer"}}}]}, {"n": 5}),
    ({"n": "5"}, {"oneOf": [{"properties": {"n": {"type": "number"}}}, {"properties": {"m": {}}}]},
     {"n": Decimal("5")}),
    ({"n": "5"}, {"if": {}, "then": {"properties": {"n": {"type": "boolean"}}},
                  "else": {"properties": {"n": {"type": "integer"}}}}, {"n": "5"}),   # then's schema first
    ({"n": "1"}, {"if": {}, "then": {"properties": {"n": {"type": "boolean"}}}}, {"n": True}),
    ({"v": "2"}, {"properties": {"v": {"oneOf": [{"type": "integer"}, {"type": "string"}]}}}, {"v": "2"}),
    ({"v": "2"}, {"properties": {"v": {"anyOf": [{"type": "null"}, {"type": "integer"}]}}}, {"v": 2}),
    (["1", "2"], {"items": {"type": "integer"}}, [1, 2]),                           # items without a type
    (["1", "x"], INTEGER, [1, "x"]),                                                # repeated scalar element
]


@pytest.mark.parametrize("value, schema, expected", TREES, ids=[f"tree-{i}" for i in range(len(TREES))])
def test_coerce_tree(value, schema, expected):
    got = coerce(value, schema)
    assert got == expected
    assert repr(got) == repr(expected)      # types too: Decimal('5') is not 5, True is not 1


EITHER = {"type": ["object", "array", "null"], "items": {"type": "integer"},
          "properties": {"n": {"type": "integer"}}}


@pytest.mark.parametrize("value, expected", [
    ({"n": "1"}, {"n": 1}),          # an object is allowed: stays one
    (["1", "2"], [1, 2]),
    (None, []),
], ids=["object", "list", "empty"])
def test_object_or_array(value, expected):
    assert coerce(value, EITHER) == expected
