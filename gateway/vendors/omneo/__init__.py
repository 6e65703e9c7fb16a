"""Omneo API v3 (https://api.{tenant}.getomneo.com/api/v3/...)."""
from .adapter import OmneoVendor

VENDOR = OmneoVendor()
