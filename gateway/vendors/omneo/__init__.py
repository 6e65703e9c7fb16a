"""Omneo API v3 (https://api.{tenant}.getomneo.com/api/v3/...)."""
from .descriptor import DESCRIPTOR
from .adapter import OmneoVendor

VENDOR = OmneoVendor()

__all__ = ["DESCRIPTOR", "VENDOR"]
