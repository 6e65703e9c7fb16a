"""Gameball v4.0 integrations API (https://api.gameball.co/api/v4.0/integrations/...)."""
from .descriptor import DESCRIPTOR
from .adapter import GameballVendor

VENDOR = GameballVendor()

__all__ = ["DESCRIPTOR", "VENDOR"]
