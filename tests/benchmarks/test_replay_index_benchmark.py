"""The replay-index benchmark runs in smoke mode and writes well-formed results (not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_cost_and_memory(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "replay_index.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "replay_index.json").read_text())
    assert data["smoke"] is True and data["phash_720p_ms"] > 0
    rows = data["sizes"]
    assert {r["distribution"] for r in rows} == {"uniform", "clustered"}
    for r in rows:
        assert r["fingerprints"] == r["stream_hours"] * data["keyframes_per_stream_hour"]
        assert r["observe_us_per_frame"] > 0 and r["memory_mib_per_stream_hour"] > 0
    assert "MiB/stream-hour" in (tmp_path / "replay_index.md").read_text()
