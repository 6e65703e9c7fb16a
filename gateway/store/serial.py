"""Engine records <-> JSON-safe values, for snapshots. Tagged so a restore is exact:
{"$d": "1.50"} a Decimal, {"$t": "...Z"} a datetime, {"$r": "Lot", ...} a record; tuples as lists.
A client's own mapping whose keys start with `$` (a `meta` of {"$t": ...}) is wrapped as {"$m": {...}}, so it
is never read back as a tag."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..engine import exports, model, statement
from ..engine.expiry import ExpiryRule
from ..engine.limits import BalanceLimit, LimitTerms

RECORDS = {cls.__name__: cls for cls in (model.Member, model.Lot, model.Hold, model.Entry, model.Reward,
                                          model.Totals, model.Draft, model.Redemption, model.Payment,
                                          model.Order, model.BalanceRecord, model.EarnRate, model.Receipt,
                                          model.TierStatus, model.Tier, model.RewardDefinition,
                                          # a program's catalogue changed through the engine (engine/catalog.py)
                                          model.PointCurrency, model.CurrencyRules, ExpiryRule, BalanceLimit,
                                          LimitTerms,
                                          # a transactions export kept under its task id (engine/exports.py)
                                          exports.TransactionExport, statement.StatementRow,
                                          # store credit and benefits (engine/instruments.py)
                                          model.StoreCredit, model.Benefit)}


def dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"$r": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = dump(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        out = {str(k): dump(v) for k, v in value.items()}
        return {"$m": out} if any(k.startswith("$") for k in out) else out
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    return value


def load(value: Any, *, as_tuple: bool = False) -> Any:
    if isinstance(value, dict):
        if "$d" in value and len(value) == 1:
            return Decimal(value["$d"])
        if "$t" in value and len(value) == 1:
            return datetime.fromisoformat(value["$t"])
        if "$m" in value and len(value) == 1:
            return {k: load(v) for k, v in value["$m"].items()}
        if "$r" in value:
            cls = RECORDS[value["$r"]]
            kwargs = {}
            for f in dataclasses.fields(cls):
                if f.name in value:
                    kwargs[f.name] = load(value[f.name], as_tuple=True)
            return cls(**kwargs)
        return {k: load(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [load(v, as_tuple=as_tuple) for v in value]
        return tuple(items) if as_tuple else items
    return value
