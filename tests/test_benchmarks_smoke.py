"""The ASR and vision benchmarks run end to end in smoke mode and write well-formed results.

Benchmarks are not timed tests (their numbers depend on the machine); this only proves that they
still work, so a real run on a GPU machine does not fail on a renamed API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, out: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    name = Path(script).stem
    assert (out / f"{name}.md").is_file()
    data = json.loads((out / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def run_speech_benchmark(script: str, out: Path) -> dict[str, object]:
    """A benchmark that speaks with espeak-ng, run in smoke mode: its results name it and say smoke."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    data = run_benchmark(script, out)
    assert data["benchmark"] == Path(script).stem and data["smoke"] is True
    return data


def check_machine(m: object) -> None:
    assert isinstance(m, dict)
    assert m["cpu"] and isinstance(m["cores"], int) and m["cores"] >= 1
    assert isinstance(m["gpus"], list)
    assert m["onnxruntime"] and m["ctranslate2"]
    assert "load_avg_end" in m


@pytest.mark.slow
def test_vision_benchmark_smoke(tmp_path: Path) -> None:
    data = run_benchmark("vision.py", tmp_path)
    assert data["benchmark"] == "vision" and data["smoke"] is True
    rows = data["rows"]
    assert isinstance(rows, list)
    assert {(r["model"], r["batch"]) for r in rows} == {
        ("nudenet", 1),
        ("nudenet", 2),
        ("open_nsfw", 1),
        ("open_nsfw", 2),
    }
    assert all(r["images_per_s"] > 0 and r["model_images_per_s"] > 0 for r in rows)
    assert data["providers_used"] == ["CPUExecutionProvider"]
    check_machine(data["machine"])


@pytest.mark.slow
def test_asr_benchmark_smoke(tmp_path: Path) -> None:
    data = run_speech_benchmark("asr.py", tmp_path)
    cases = data["cases"]
    assert isinstance(cases, list) and len(cases) == 1
    case = cases[0]
    assert case["model"] == "whisper-tiny-en" and case["windows"] == 2
    assert case["sequential"]["audio_s_per_s"] > 0 and case["batched"]["audio_s_per_s"] > 0
    assert case["ratio"] > 0
    assert case["batched"]["last_run"]["decode_batches"][0] == 2  # both windows in one batch
    assert case["wer_batched_vs_sequential"] <= 0.02
    check_machine(data["machine"])


def test_text_matcher_benchmark_smoke(tmp_path: Path) -> None:
    data = run_benchmark("text_matcher.py", tmp_path)
    assert data["mb_per_s_lines"] > 0 and data["mb_per_s_lines_cpu"] > 0 and data["hits_per_pass"] > 0
    q = data["quality"]
    assert isinstance(q, dict)
    assert q["evasion_recall"] >= 0.95 and q["benign_false_positives"] == 0 and q["benign_sentences"] >= 2000
    check_machine(data["machine"])


@pytest.mark.slow
def test_asr_context_benchmark_smoke(tmp_path: Path) -> None:
    data = run_speech_benchmark("asr_context.py", tmp_path)
    cases = data["cases"]
    assert isinstance(cases, list) and [c["language"] for c in cases] == ["en"]
    rows = cases[0]["contexts"]
    assert [r["context_s"] for r in rows] == [30.0, 10.0]
    assert rows[0]["speedup"] == 1.0 and all(r["wall_s"] > 0 and 0 <= r["similarity"] <= 1 for r in rows)
    assert all(r["spotted"] <= r["oracle"] for r in rows)
    check_machine(data["machine"])


def test_asr_context_benchmark_refuses_impossible_settings(tmp_path: Path) -> None:
    for bad in (["--contexts", "45"], ["--contexts", "ten"], ["--languages", "fr"], ["--windows", "0"]):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "asr_context.py"), *bad, "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert proc.returncode == 2 and "error:" in proc.stderr, (bad, proc.stderr[-500:])
        assert not list(tmp_path.iterdir())
