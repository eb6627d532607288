"""The OCR detector-size benchmark runs in smoke mode and writes well-formed results (not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_run_compares_detector_sizes(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ocr_det_size.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "ocr_det_size.json").read_text())
    assert data["smoke"] is True
    assert [r["det_max_side"] for r in data["rows"]] == [0, 736]
    for r in data["rows"]:
        assert r["cpu_ms_per_frame"] > 0
        assert set(r["read_by_height"]) == {"18", "36"}  # JSON keys
        assert all(0 <= n <= data["captions_per_height"] for n in r["read_by_height"].values())
    assert "CPU ms/frame" in (tmp_path / "ocr_det_size.md").read_text()
