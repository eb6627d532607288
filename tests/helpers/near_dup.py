"""The trainer's near-duplicate test (``scripts/train_intent.py``: :func:`near`, :class:`NearIndex`)
for the data-set tests, so the sets are held to the very rule the trainer filters by."""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPTS = str(Path(__file__).resolve().parents[2] / "scripts")
sys.path.insert(0, _SCRIPTS)
try:
    from train_intent import NearIndex, near
finally:
    sys.path.remove(_SCRIPTS)

__all__ = ["NearIndex", "near"]
