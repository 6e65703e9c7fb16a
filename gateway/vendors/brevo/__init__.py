"""Brevo Loyalty Balance API v3 (https://api.brevo.com/v3/loyalty/balance/programs/{pid}/...)."""
from .descriptor import DESCRIPTOR
from .adapter import BrevoVendor

VENDOR = BrevoVendor()

__all__ = ["DESCRIPTOR", "VENDOR"]
