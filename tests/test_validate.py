"""The three validators (gateway.specs.validate): the compiled fast path and the simple-parameter check agree
with jsonschema on what they accept, and say no (never a wrong yes) on what it rejects; Violation pointers
name the offending field."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.specs import Violation, compile_fast, compile_schema, fast_check
from gateway.specs.validate import _violations

MEMBER = {"type": "object", "required": ["id", "points"], "additionalProperties": False, "properties": {
    "id": {"type": "string", "minLength": 1},
    "points": {"type": "number", "minimum": 0, "maximum": 1000000},
    "count": {"type": "integer"},
    "at": {"type": "string", "format": "date-time"},
    "tier": {"enum": ["gold", "silver"]},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}}

BODIES = [
    # (instance, jsonschema accepts)
    ({"id": "a", "points": 5}, True),
    ({"id": "a", "points": Decimal("5.25")}, True),
    ({"id": "a", "points": Decimal("0")}, True),
    ({"id": "a", "points": 5, "count": Decimal("3")}, True),            # an integral Decimal is an integer
    ({"id": "a", "points": 5, "count": Decimal("3.0")}, True),
    ({"id": "a", "points": 5, "count": Decimal("3.5")}, False),
    ({"id": "a", "points": 5, "count": True}, False),                   # a boolean is no integer
    ({"id": "a", "points": Decimal("1E+400")}, False),                  # huge: fast path declines, no hang
    ({"id": "a", "points": Decimal("1E+10000000")}, False),
    ({"id": "a", "points": Decimal("-0.01")}, False),
    ({"id": "a", "points": "5"}, False),
    ({"id": "", "points": 5}, False),
    ({"id": "a"}, False),
    ({"id": "a", "points": 5, "extra": 1}, False),
    ({"id": "a", "points": 5, "at": "2026-03-10T12:00:00Z"}, True),
    ({"id": "a", "points": 5, "at": "2026-03-10t12:00:00.5+02:00"}, True),
    ({"id": "a", "points": 5, "at": "2026-03-10 12:00:00Z"}, False),
    ({"id": "a", "points": 5, "at": "2026-02-30T12:00:00Z"}, False),    # the right shape, no such day
    ({"id": "a", "points": 5, "at": "2026-03-10T12:00:00"}, False),     # no offset
    ({"id": "a", "points": 5, "tier": "gold"}, True),
    ({"id": "a", "points": 5, "tier": "bronze"}, False),
    ({"id": "a", "points": 5, "tags": ["x", "y"]}, True),
    ({"id": "a", "points": 5, "tags": ["x", "y", "z"]}, False),
    ({"id": "a", "points": 5, "tags": [1]}, False),
    ([], False),
    (None, False),
]


@pytest.mark.parametrize("instance, accepted", BODIES, ids=[f"body-{i}" for i in range(len(BODIES))])
def test_fast_path_agrees_with_jsonschema(instance, accepted):
    fast, full = compile_fast(MEMBER), compile_schema(MEMBER)
    assert full.is_valid(instance) is accepted
    assert fast(instance) is accepted


PARAMS = [
    # (schema, value, jsonschema accepts)
    ({"type": "string", "pattern": "^[a-z]+$"}, "abc", True),
    ({"type": "string", "pattern": "^[a-z]+$"}, "ab1", False),
    ({"type": "string", "pattern": "[0-9]"}, "ab1", True),                 # search, not match, as jsonschema
    ({"type": "string", "minLength": 2, "maxLength": 3}, "ab", True),
    ({"type": "string", "minLength": 2, "maxLength": 3}, "a", False),
    ({"type": "string", "minLength": 2, "maxLength": 3}, "abcd", False),
    ({"type": "string", "format": "uuid"}, "3f2a9c4e-7b1d-4e8a-9f60-1c2d3e4f5a6b", True),
    ({"type": "string", "format": "uuid"}, "3f2a9c4e7b1d4e8a9f601c2d3e4f5a6b", False),
    ({"type": "string", "format": "date-time"}, "2026-03-10T12:00:00Z", True),
    ({"type": "string", "format": "date-time"}, "2026-03-10", False),
    ({"type": "string", "enum": ["a", "b"]}, "b", True),
    ({"type": "string", "enum": ["a", "b"]}, "c", False),
    ({"type": "string"}, 5, False),
    ({"type": "integer", "minimum": 1, "maximum": 100}, 1, True),
    ({"type": "integer", "minimum": 1, "maximum": 100}, 100, True),
    ({"type": "integer", "minimum": 1, "maximum": 100}, 0, False),
    ({"type": "integer", "minimum": 1, "maximum": 100}, 101, False),
    ({"type": "integer"}, "5", False),                                     # coercion failed: a string
    ({"type": "integer"}, True, False),
    ({"type": "boolean"}, False, True),
    ({"type": "boolean"}, 0, False),
    ({"type": "integer", "description": "noted", "example": 3}, 3, True),  # notes are no constraint
]


@pytest.mark.parametrize("schema, value, accepted", PARAMS, ids=[f"param-{i}" for i in range(len(PARAMS))])
def test_fast_check_agrees_with_jsonschema(schema, value, accepted):
    check = fast_check(schema)
    assert check is not None
    assert compile_schema(schema).is_valid(value) is accepted
    assert check(value) is accepted


NOT_SIMPLE = [
    {"type": "number"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "string", "format": "email"},
    {"type": "string", "multipleOf": 2},
    {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": ["string", "null"]},
]


@pytest.mark.parametrize("schema", NOT_SIMPLE, ids=[f"not-simple-{i}" for i in range(len(NOT_SIMPLE))])
def test_fast_check_declines_what_is_not_simple(schema):
    assert fast_check(schema) is None


def test_compile_fast_declines_what_it_cannot_compile():
    assert compile_fast({"type": "string", "pattern": "(?<=a"}) is None    # jsonschema alone decides


VIOLATIONS = [
    # (instance, [(pointer, keyword, value, field)])
    ({"points": 5}, [("/body/id", "required", None, "id")]),
    ({"id": "a", "points": -1}, [("/body/points", "minimum", -1, "points")]),
    ({"id": "a", "points": 5, "tags": ["x", 7]}, [("/body/tags/1", "type", 7, "tags.1")]),
    ({"id": "a", "points": 5, "extra": 1}, [("/body", "additionalProperties", {"id": "a", "points": 5, "extra": 1},
                                             "")]),
    ({"id": 1, "points": "x"}, [("/body/id", "type", 1, "id"), ("/body/points", "type", "x", "points")]),  # sorted
]


@pytest.mark.parametrize("instance, expected", VIOLATIONS, ids=[f"violation-{i}" for i in range(len(VIOLATIONS))])
def test_violation_pointers(instance, expected):
    got = _violations(compile_schema(MEMBER), instance, ["body"], "body")
    assert [(v.pointer, v.keyword, v.value, v.field) for v in got] == expected
    assert all(v.location == "body" for v in got)


ONE_OF = {"oneOf": [{"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
                    {"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}]}


@pytest.mark.parametrize("instance, expected", [
    ({}, [("/body/email", "required", "'email' is a required property")]),       # the most specific branch
    # only a missing field is singled out; otherwise the oneOf itself is the violation
    ({"email": 5}, [("/body", "oneOf", "{'email': 5} is not valid under any of the given schemas")]),
], ids=["oneOf-missing", "oneOf-wrong-type"])
def test_one_of_names_the_most_specific_reason(instance, expected):
    got = _violations(compile_schema(ONE_OF), instance, ["body"], "body")
    assert [(v.pointer, v.keyword, v.message) for v in got] == expected


FIELDS = [
    (Violation("/body/items/0/price", "m"), "items.0.price"),
    (Violation("/query/expand", "m", location="query"), "expand"),
    (Violation("/path/a~1b", "m", location="path"), "a/b"),
    (Violation("/body/a~0b", "m"), "a~b"),
    (Violation("/code", "m", location="response"), "code"),
    (Violation("", "m", location="response"), ""),
    (Violation("/body", "m"), ""),
]


@pytest.mark.parametrize("violation, field", FIELDS, ids=[v.pointer or "root" for v, _ in FIELDS])
def test_violation_field(violation, field):
    assert violation.field == field


def test_violation_as_dict():
    v = Violation("/body/id", "'id' is a required property", "required", "body", None)
    assert v.as_dict() == {"pointer": "/body/id", "message": "'id' is a required property", "keyword": "required"}


POINTERS = [([], ""), (["body"], "/body"), (["a/b", "c~d", 0], "/a~1b/c~0d/0"), (["x", ""], "/x/")]


@pytest.mark.parametrize("parts,text", POINTERS, ids=[t or "root" for _, t in POINTERS])
def test_json_pointers_both_ways(parts, text):
    from gateway.specs import pointer, pointer_parts
    assert pointer(parts) == text
    if parts and parts[-1] != "":          # a trailing empty key is the one form pointer_parts cannot tell apart
        assert pointer_parts(text) == [str(p) for p in parts]
