"""Altcraft Platform API v1.1, loyalty section (https://<host>/api/v1.1/loyalty/...), JSON and XML."""
from .descriptor import DESCRIPTOR
from .adapter import AltcraftVendor

VENDOR = AltcraftVendor()

__all__ = ["DESCRIPTOR", "VENDOR"]
