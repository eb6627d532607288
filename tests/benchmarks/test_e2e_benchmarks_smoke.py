"""The end-to-end benchmarks (baseline, rescan, live capacity) run in smoke mode.

Not timed tests: this only proves the scripts still work end to end and write well-formed JSON +
Markdown with the machine described, so a real run does not fail on a renamed API. The three
share one generated 7 s 320x180 recording (cached in a temporary folder for this module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-samples")


def run_smoke(script: str, out: Path, cache: Path) -> dict[str, object]:
    env = {
        "HF_HUB_OFFLINE": "1",
        "PATH": "/usr/bin:/bin",
        "HOME": str(Path.home()),
        "MODERATION_BENCH_CACHE": str(cache),
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    name = Path(script).stem
    md = (out / f"{name}.md").read_text()
    assert "Smoke run" in md and "CPU:" in md
    data = json.loads((out / f"{name}.json").read_text())
    assert isinstance(data, dict) and data["smoke"] is True and data["benchmark"] == name
    m = data["machine"]
    assert m["cpu"] and m["cores"] >= 1 and "load_avg_start" in m and "load_avg_end" in m
    return data


@pytest.mark.slow
def test_baseline_smoke(tmp_path: Path, cache: Path) -> None:
    data = run_smoke("baseline.py", tmp_path, cache)
    assert data["media_s_per_s"] > 0  # type: ignore[operator]
    stages = data["stage_s"]
    assert isinstance(stages, dict) and stages["frames"] >= 5 and stages["chunks"] >= 1
    files = data["files"]
    assert isinstance(files, list) and files[0]["categories"] == ["gambling"]


@pytest.mark.slow
def test_rescan_smoke(tmp_path: Path, cache: Path) -> None:
    data = run_smoke("rescan.py", tmp_path, cache)
    sets = data["sets"]
    assert isinstance(sets, dict) and set(sets) == {"long", "short"}
    for name, s in sets.items():
        rates = s["media_s_per_s"]
        assert rates["multi"] > 0 and rates["loop"] > 0 and rates["baseline"] > 0, (name, rates)
        for side in ("multi", "loop", "baseline"):  # every side finds every planted event, nothing more
            found = {r[side]["found"] for r in s["rounds"] if side in r}
            assert found == {f"{s['files']}/{s['files']} (+0)"}, (name, side, found)


@pytest.mark.slow
def test_live_capacity_smoke(tmp_path: Path, cache: Path) -> None:
    data = run_smoke("live_capacity.py", tmp_path, cache)
    trials = data["trials"]
    assert isinstance(trials, list)
    assert {(t["side"], t["streams"]) for t in trials} == {("ours", 1), ("ours", 2), ("baseline", 1)}
    for t in trials:
        assert t["frame_latency_s"]["n"] > 0 and t["peak_rss_mib"] > 0 and t["cpu_cores_busy"] > 0
        assert not t["errors"]
    ours = [t for t in trials if t["side"] == "ours"]
    assert all(t["frames_done"] > 0 and t["frames_dropped"] == 0 and t["inference_errors"] == 0 for t in ours)
    # the planted caption is alerted (preview fuser) in every stream, and its latency recorded
    alerts = [t["visual_alert_latency_s"] for t in ours]
    assert all(a["n"] == t["streams"] for a, t in zip(alerts, ours, strict=True)), alerts
    assert isinstance(data["ours"], dict) and isinstance(data["baseline"], dict)
    # whether N was "held" depends on the load of the CI machine; only the shape is checked here
    assert isinstance(data["ours"]["max_streams_held"], int) and isinstance(data["baseline"]["max_streams_held"], int)
