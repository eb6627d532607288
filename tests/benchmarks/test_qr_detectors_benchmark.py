"""The QR detector benchmark runs in smoke mode and writes well-formed results (not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_every_detector(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "qr_detectors.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "qr_detectors.json").read_text())
    assert data["smoke"] is True and set(data["summary"]) == {"classic", "aruco", "product"}
    assert len(data["by_case"]) == data["cases"] == 3
    for s in data["summary"].values():
        assert s["empty_ms_median"] > 0 and 0 <= s["decoded"] <= data["cases"]
    assert "decoded of 3" in (tmp_path / "qr_detectors.md").read_text()
