"""The vendor-neutral balance engine: no HTTP, no vendor names."""
from .clock import Clock
from .errors import EngineError
from .ledger import Balance
from .model import Member, PointCurrency, Program
from .registry import Engine
from .tenant import Tenant

__all__ = ["Balance", "Clock", "Engine", "EngineError", "Member", "PointCurrency", "Program", "Tenant"]
