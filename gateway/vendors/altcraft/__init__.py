"""Altcraft Platform API v1.1, loyalty section (https://<host>/api/v1.1/loyalty/...), JSON and XML."""
from .adapter import AltcraftVendor

VENDOR = AltcraftVendor()
