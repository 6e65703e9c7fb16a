"""JSON and XML bodies (gateway.codecs): JSON numbers are Decimal, NaN/Infinity refused, XML parsed with
entities off under one root element, attributes dropped, a size cap before parsing; and the encoders."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from gateway import codecs
from gateway.codecs import DecodeError

JSON_OK = [
    (b'{"a": 1.10, "b": 2, "c": [1e2]}', {"a": Decimal("1.10"), "b": 2, "c": [Decimal("1E+2")]}),
    (b'{"p": 0.1}', {"p": Decimal("0.1")}),                     # never the float 0.1000000000000000055...
    (b'{"p": -0.0}', {"p": Decimal("-0.0")}),
    (b'{"p": 1e300}', {"p": Decimal("1E+300")}),                # a double's range, exactly
    (b'{"p": -1.5e-300}', {"p": Decimal("-1.5E-300")}),
    (b'{"p": 18446744073709551616}', {"p": 18446744073709551616}),   # beyond 64 bits: still exact
    (b'"x"', "x"),
    (b"[]", []),
    (b"null", None),
    (b'{"t": true, "f": false}', {"t": True, "f": False}),
    ('{"name": "Zoë"}'.encode(), {"name": "Zoë"}),
]


@pytest.mark.parametrize("raw, expected", JSON_OK, ids=[f"json-{i}" for i in range(len(JSON_OK))])
def test_decode_json(raw, expected):
    got = codecs.decode_json(raw)
    assert got == expected and repr(got) == repr(expected)


JSON_BAD = [
    (b"NaN", "malformed JSON: NaN is not valid JSON"),
    (b'{"a": NaN}', "malformed JSON: NaN is not valid JSON"),
    (b'{"a": Infinity}', "malformed JSON: Infinity is not valid JSON"),
    (b'{"a": -Infinity}', "malformed JSON: -Infinity is not valid JSON"),
    (b'{"a":', "malformed JSON: Expecting value: line 1 column 6 (char 5)"),
    (b'{"a": 1,}', "malformed JSON: Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"),
    (b"\xff", "malformed JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (b"", "malformed JSON: Expecting value: line 1 column 1 (char 0)"),
]


@pytest.mark.parametrize("raw, message", JSON_BAD, ids=[repr(r)[2:20] or "empty" for r, _ in JSON_BAD])
def test_decode_json_refuses(raw, message):
    with pytest.raises(DecodeError) as exc:
        codecs.decode_json(raw)
    assert str(exc.value) == message


@pytest.mark.parametrize("raw, start", [
    (b"[" * 100_000, "malformed JSON: nested deeper than 32 levels"),
    (b"1" * 5000, "malformed JSON: number too long (5000 characters, at most 64)"),
], ids=["deep", "huge-integer"])
def test_decode_json_refuses_pathological_bodies(raw, start):
    with pytest.raises(DecodeError) as exc:
        codecs.decode_json(raw)
    assert str(exc.value).startswith(start)


XML_OK = [
    (b"<xml><a>1</a><b><c>x</c></b></xml>", {"a": "1", "b": {"c": "x"}}),
    (b"<xml><e>1</e><e>2</e></xml>", {"e": ["1", "2"]}),                # repeated: a list
    (b"<xml><d/></xml>", {"d": None}),
    (b"<xml/>", {}),
    (b"<xml></xml>", {}),
    (b"<xml> <a> s </a> </xml>", {"a": "s"}),                           # whitespace stripped
    (b'<xml a="1"><b c="2"><d>v</d></b></xml>', {"b": {"d": "v"}}),     # attributes dropped
    (b'<xml><b c="2">v</b></xml>', {"b": "v"}),                         # ... the text kept
    (b"<xml><a>x<i>y</i>z</a></xml>", {"a": {"i": "y"}}),               # mixed content: stray text dropped
    (b'<?xml version="1.0" encoding="UTF-8"?><xml><a>&lt;&amp;</a></xml>', {"a": "<&"}),
    (b"<xml><![CDATA[]]><a><![CDATA[<b>]]></a></xml>", {"a": "<b>"}),
]


@pytest.mark.parametrize("raw, expected", XML_OK, ids=[f"xml-{i}" for i in range(len(XML_OK))])
def test_decode_xml(raw, expected):
    assert codecs.decode_xml(raw) == expected


XML_BAD = [
    (b"<root><a>1</a></root>", "malformed XML: the root element must be <xml>"),
    (b"<Xml/>", "malformed XML: the root element must be <xml>"),
    (b"<xml>text</xml>", "malformed XML: <xml> must contain elements"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><xml><a>&e;</a></xml>',
     "malformed XML: entities are disabled"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>',
     "malformed XML: entities are disabled"),
    (b"<xml><a>1</a>", "malformed XML: no element found: line 1, column 13"),
    (b"", "malformed XML: no element found: line 1, column 0"),
    (b"<xml><a>1</a></xml><xml/>", "malformed XML: junk after document element: line 1, column 19"),
    (b"<xml><a>1</b></xml>", "malformed XML: mismatched tag: line 1, column 11"),
]


@pytest.mark.parametrize("raw, message", XML_BAD, ids=[f"bad-xml-{i}" for i in range(len(XML_BAD))])
def test_decode_xml_refuses(raw, message):
    with pytest.raises(DecodeError) as exc:
        codecs.decode_xml(raw)
    assert str(exc.value) == message


def test_decode_xml_takes_the_vendor_root():
    assert codecs.decode_xml(b"<req><a>1</a></req>", "req") == {"a": "1"}
    with pytest.raises(DecodeError, match="must be <req>"):
        codecs.decode_xml(b"<xml><a>1</a></xml>", "req")


def test_size_cap():
    """1 MiB: aiohttp refuses a larger body before it is read (the app's client_max_size; tests/test_pipeline)."""
    assert codecs.MAX_BODY == 1 << 20


ENCODED_JSON = [
    ({"a": Decimal("1.50")}, b'{"a":1.5}'),
    ({"a": Decimal("2.00")}, b'{"a":2}'),
    ({"a": Decimal("-0")}, b'{"a":0}'),
    ({"t": datetime(2026, 3, 10, tzinfo=timezone.utc)}, b'{"t":"2026-03-10T00:00:00+00:00"}'),
    ({"s": "Zoë", "n": None, "l": [1, True]}, '{"s":"Zoë","n":null,"l":[1,true]}'.encode()),
]


@pytest.mark.parametrize("value, expected", ENCODED_JSON, ids=[f"enc-{i}" for i in range(len(ENCODED_JSON))])
def test_encode_json(value, expected):
    assert codecs.encode_json(value) == expected


def test_encode_json_refuses_unknown_types():
    with pytest.raises(TypeError, match="^Type is not JSON serializable: set$"):   # orjson's words
        codecs.encode_json({"a": {1}})


ENCODED_XML = [
    ({"a": 1}, b"<xml><a>1</a></xml>"),
    ({"b": [1, 2]}, b"<xml><b>1</b><b>2</b></xml>"),
    ({"c": {"d": None}}, b"<xml><c><d></d></c></xml>"),
    ({"e": True, "f": False}, b"<xml><e>true</e><f>false</f></xml>"),
    ({"g": "<&>"}, b"<xml><g>&lt;&amp;&gt;</g></xml>"),
    ({"h": Decimal("1.50")}, b"<xml><h>1.50</h></xml>"),
    ({}, b"<xml></xml>"),
]


@pytest.mark.parametrize("value, expected", ENCODED_XML, ids=[f"xml-enc-{i}" for i in range(len(ENCODED_XML))])
def test_encode_xml(value, expected):
    assert codecs.encode_xml(value) == expected


@pytest.mark.parametrize("value", [{"a": "1", "b": {"c": "x"}}, {"e": ["1", "2"]}, {"g": "<&>"}],
                         ids=["nested", "repeated", "escaped"])
def test_xml_round_trip(value):
    assert codecs.decode_xml(codecs.encode_xml(value)) == value


JSONABLE = [
    (Decimal("1.50"), 1.5), (Decimal("3"), 3), ((1, 2), [1, 2]),
    ({"t": datetime(2026, 3, 10, tzinfo=timezone.utc)}, {"t": "2026-03-10T00:00:00+00:00"}), ("x", "x"),
]


@pytest.mark.parametrize("value, expected", JSONABLE, ids=[f"jsonable-{i}" for i in range(len(JSONABLE))])
def test_jsonable(value, expected):
    got = codecs.jsonable(value)
    assert got == expected and type(got) is type(expected)
