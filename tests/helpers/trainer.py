"""The intent trainer script (``scripts/train_intent.py``) as a module, for tests that read its sets."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def train_intent() -> ModuleType:
    """``scripts/train_intent.py``, imported once (scripts/ is not a package, so it goes on the path
    only for the import)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import train_intent as module
    finally:
        sys.path.remove(str(SCRIPTS))
    return module
