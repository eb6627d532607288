"""``benchmarks/node_scale.py`` in smoke mode writes well-formed results (not timed), and its
latency option and CPU meter behave as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from node_standin import DEFAULT_LATENCY, SETUP, StageMeter, _setup_in_executor, parse_latency  # noqa: E402


def test_latency_option_overrides_one_family() -> None:
    lat = parse_latency("vision=1.5+0.2")
    assert lat["vision"] == (1.5, 0.2)
    assert lat["ocr"] == DEFAULT_LATENCY["ocr"]


@pytest.mark.parametrize("bad", ["vision=3", "gpu=1+2", "vision=a+b"])
def test_bad_latency_option_is_one_clear_line(bad: str) -> None:
    with pytest.raises(SystemExit, match="--latency: bad entry"):
        parse_latency(bad)


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_meter_charges_nested_stages_exclusively() -> None:
    meter = StageMeter()
    inner = meter.wrap(lambda: _spin(0.05), "inner")
    outer = meter.wrap(lambda: (_spin(0.05), inner()), "outer")
    t0 = time.thread_time()
    outer()
    total = time.thread_time() - t0
    assert meter.cpu["inner"] >= 0.05
    assert meter.cpu["outer"] >= 0.05
    assert meter.cpu["inner"] + meter.cpu["outer"] <= total + 1e-3  # nothing counted twice


def test_a_family_warm_up_in_an_executor_thread_is_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model loaded by a family's warm-up on an executor thread is one-off work, not per stream."""
    import asyncio

    from moderation.pipeline.clients import BatchFamily

    monkeypatch.setattr(BatchFamily, "warm", BatchFamily.warm)  # restored after the test
    meter = StageMeter()
    _setup_in_executor(meter)
    fam = BatchFamily("intent", lambda items: list(items), lambda: _spin(0.05), 1, 1.0)
    asyncio.run(fam.warm())
    assert meter.cpu[SETUP] >= 0.05
    assert meter.main_cpu.get(SETUP, 0.0) == 0.0  # it ran on the executor's thread


@pytest.mark.slow
def test_node_scale_smoke(tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    env["MODERATION_BENCH_CACHE"] = str(tmp_path / "samples")
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "node_scale.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    md = (out / "node_scale.md").read_text()
    assert "Smoke run" in md and "CPU:" in md and "ASSUMPTION" in md
    data = json.loads((out / "node_scale.json").read_text())
    assert data["benchmark"] == "node_scale" and data["smoke"] is True
    assert set(data["latency_model_ms"]) >= {"vision", "ocr", "asr"}
    assert "load_avg_start" in data["machine"] and "load_avg_end" in data["machine"]
    assert [t["streams"] for t in data["trials"]] == [1, 2]
    for t in data["trials"]:
        assert t["stream_s"] > 0 and t["cores_per_stream_total"] > 0
        stages = t["cores_per_stream"]
        assert "libavcodec decoder threads" in stages or any("decode" in k for k in stages)
        assert any(k.startswith("QR decode") for k in stages)
        assert abs(sum(stages.values()) - t["cores_per_stream_total"]) < 1e-3
    r = data["by_resolution"]["720p"]
    assert r["streams_per_node"] and r["cores_per_stream"] > 0
    assert isinstance(data["target_met"], bool)


@pytest.mark.parametrize(
    ("script", "args", "reason"),
    [
        ("node_scale.py", ["--start", "0"], "--start must be at least 1"),
        ("node_scale.py", ["--gop-s", "0"], "--gop-s must be positive"),
        ("node_scale.py", ["--growth", "1"], "--growth must be more than 1"),
        ("live_capacity.py", ["--max-streams", "0"], "--max-streams must be at least 1"),
        ("live_capacity.py", ["--duration", "-5"], "--duration must be positive"),
    ],
)
def test_impossible_settings_exit_2_with_the_reason(script: str, args: list[str], reason: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert reason in proc.stderr
