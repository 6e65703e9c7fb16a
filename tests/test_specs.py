"""The bundled specs: loadable, complete (every operation served), and the compiled fast path
never accepts what the full validator rejects."""
from __future__ import annotations

import copy
import re
from decimal import Decimal

import pytest
import yaml

from gateway import specs
from gateway import resources
from gateway.vendors import registry

VENDORS = registry.names()


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_has_a_handler(vendor):
    spec = specs.get(vendor)
    adapter = registry.get(vendor)
    missing = [op.operation_id for op in spec.operations.values() if not hasattr(adapter.responses, op.handler)]
    assert missing == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_keyword_the_compiled_fast_path_ignores(vendor):
    text = resources.spec_file(f"{vendor}.yaml").read_text()
    assert not re.search(r"\b(dependentRequired|dependentSchemas|prefixItems|unevaluated\w+|minContains|maxContains|"
                         r"\$dynamicRef)\b", text)


def _examples(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "example" and isinstance(v, (dict, list)):
                yield v
            elif k == "examples" and isinstance(v, dict):
                for ex in v.values():
                    if isinstance(ex, dict) and isinstance(ex.get("value"), (dict, list)):
                        yield ex["value"]
            else:
                yield from _examples(v)
    elif isinstance(node, list):
        for v in node:
            yield from _examples(v)


def _decimals(v):
    if isinstance(v, float):
        return Decimal(str(v))
    if isinstance(v, dict):
        return {k: _decimals(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decimals(x) for x in v]
    return v


def _mutations(doc):
    yield doc
    if isinstance(doc, dict):
        for k in list(doc):
            d = copy.deepcopy(doc)
            del d[k]
            yield d
            for bad in (None, "x", Decimal("-1.5")):
                d = copy.deepcopy(doc)
                d[k] = bad
                yield d


@pytest.mark.parametrize("vendor", VENDORS)
def test_fast_path_never_accepts_what_jsonschema_rejects(vendor):
    spec = specs.get(vendor)
    raw = yaml.safe_load(resources.spec_file(f"{vendor}.yaml").read_text())
    samples = [_decimals(e) for e in _examples(raw)]
    checked = 0
    for op in spec.operations.values():
        schemas = ([op.body_schema] if op.body_schema else []) + \
                  [s for media in op.responses.values() for s in media.values() if s]
        for schema in schemas:
            fast, slow = specs.compile_fast(schema), specs.compile_schema(schema)
            assert fast is not None
            for sample in samples:
                for m in _mutations(sample):
                    if fast(m):
                        assert not list(slow.iter_errors(m)), (op.operation_id, m)
                        checked += 1
    assert checked > 0
