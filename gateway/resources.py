"""Where the bundled specs and fixtures live (beside the package in a checkout)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT / "specs"
FIXTURES_DIR = ROOT / "fixtures"
