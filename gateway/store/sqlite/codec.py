"""Engine values <-> bytes for the SQLite store's rows: pickle, restricted both ways.

Records are written as (class name, field values) and rebuilt through their constructor, so a row never runs
code from the file: the unpickler finds only the engine's record classes, Decimal and the datetime types, and
refuses anything else (a file that was tampered with is a clear error, not code execution). Pickle's C
implementation makes a row a few microseconds, which keeps a write within budget (bench/README.md)."""
from __future__ import annotations

import copyreg
import dataclasses
import datetime
import importlib
import io
import operator
import pickle
import pkgutil
import threading
from typing import Any

PROTOCOL = 5
_ALLOWED = {("decimal", "Decimal"), ("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta"),
            ("datetime", "date"), ("builtins", "frozenset"), ("builtins", "set")}


class CorruptRow(ValueError):
    """A row that this version cannot read (tampered with, or written by an incompatible version)."""


def _engine_records() -> dict[str, type]:
    """Every dataclass the engine defines (records, programs, rules), by `module.Name`."""
    from ... import engine
    found = {}
    for info in pkgutil.iter_modules(engine.__path__):
        module = importlib.import_module(f"{engine.__name__}.{info.name}")
        for value in vars(module).values():
            if dataclasses.is_dataclass(value) and isinstance(value, type) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


_CLASSES = _engine_records()
_NAMES = {cls: (name, operator.attrgetter(*[f.name for f in dataclasses.fields(cls)])) for name, cls in _CLASSES.items()}


def _make(name: str, values: tuple) -> Any:
    cls = _CLASSES.get(name)
    if cls is None:
        raise CorruptRow(f"the store holds a {name}, which this version does not know")
    return cls(*values)


def _reduce(obj):
    name, values = _NAMES[type(obj)]
    got = values(obj)
    return _make, (name, got if isinstance(got, tuple) else (got,))


_UTC = datetime.timezone.utc


def _utc(*fields: int) -> datetime.datetime:
    return datetime.datetime(*fields, tzinfo=_UTC)


def _reduce_datetime(d: datetime.datetime):
    """UTC instants (all the engine keeps) as their fields: a third of the default's cost; others as usual."""
    if d.tzinfo is _UTC:
        return _utc, (d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
    return d.__reduce_ex__(PROTOCOL)


_TABLE = copyreg.dispatch_table.copy()
for _cls in _NAMES:
    _TABLE[_cls] = _reduce
_TABLE[datetime.datetime] = _reduce_datetime


class _Pickler(pickle.Pickler):
    dispatch_table = _TABLE


_local = threading.local()     # one pickler per thread, reused: a third cheaper than a new one per row


def dumps(value: Any) -> bytes:
    try:
        buf, p = _local.pickler
    except AttributeError:
        buf = io.BytesIO()
        p = _Pickler(buf, PROTOCOL)
        _local.pickler = buf, p
    buf.seek(0)
    buf.truncate()
    p.clear_memo()
    p.dump(value)
    return buf.getvalue()


_FOUND = {(__name__, "_make"): _make, (__name__, "_utc"): _utc,
          **{(module, name): getattr(importlib.import_module(module), name) for module, name in _ALLOWED}}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        found = _FOUND.get((module, name))
        if found is None:
            raise CorruptRow(f"the store holds a value of {module}.{name}, which no gateway store writes")
        return found


def loads(data: bytes) -> Any:
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except CorruptRow:
        raise
    except Exception as exc:   # noqa: BLE001 - any unreadable row is the same clear error
        raise CorruptRow(f"unreadable row: {type(exc).__name__}: {exc}") from None
