"""Brevo Loyalty Balance API v3 (https://api.brevo.com/v3/loyalty/balance/programs/{pid}/...)."""
from .adapter import BrevoVendor

VENDOR = BrevoVendor()
