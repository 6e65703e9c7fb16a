"""Gameball v4.0 integrations API (https://api.gameball.co/api/v4.0/integrations/...)."""
from .exceptions import GameballVendor

VENDOR = GameballVendor()
