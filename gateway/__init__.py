"""loyalty-gateway: a local, stateful, spec-checked stand-in for the loyalty APIs of Omneo, Altcraft,
Gameball and Brevo (see README.md)."""

__version__ = "0.2.0"
