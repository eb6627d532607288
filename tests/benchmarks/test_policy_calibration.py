"""The fusion calibration runs on a corpus sample: one score scale across channels, and the default
vision thresholds separate the generated vision cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_policy_calibration_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "policy_calibration.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads((tmp_path / "policy_calibration.json").read_text())
    text = res["text"]
    assert text["same_score_on_every_channel"] == text["messages"] == 100
    for cat in text["categories"].values():
        for row in cat["grid"]:
            assert row["recall"]["chat"] == row["recall"]["ocr"] == row["recall"]["asr"]
    assert res["vision"]["default_wrong"] == 0, res["vision"]["cases"]
    assert "Fusion threshold calibration" in (tmp_path / "policy_calibration.md").read_text()
