"""benchmarks/vision.py refuses impossible settings with exit status 2 and one line of reason, and a
GPU provider this machine lacks falls back to the CPU with one warning line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnxruntime as ort
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "vision.py"), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--batches", "0,8"], "batch sizes must be >= 1"),
        (["--batches", "eight"], "--batches must be comma-separated integers"),
        (["--providers", "NoSuchExecutionProvider"], "unknown provider(s) ['NoSuchExecutionProvider']"),
        (["--frame", "1280"], "--frame must be WIDTHxHEIGHT"),
        (["--preprocess", "gpu"], "--preprocess must be among"),
    ],
)
def test_impossible_settings_exit_2_with_the_reason(tmp_path: Path, args: list[str], reason: str) -> None:
    proc = run(*args, out=tmp_path)
    assert proc.returncode == 2
    assert reason in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # nothing measured, nothing written


@pytest.mark.slow
def test_missing_gpu_provider_falls_back_to_cpu_with_one_warning(tmp_path: Path) -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has the CUDA provider")
    proc = run("--smoke", "--providers", "CUDAExecutionProvider", out=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "CUDAExecutionProvider" in warnings[0]
    assert (tmp_path / "vision.json").is_file()
