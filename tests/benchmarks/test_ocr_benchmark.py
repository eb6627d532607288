"""The OCR benchmark refuses impossible settings with status 2, scores reading right, and runs in smoke mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.messages import OcrResult, TextLine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.ocr import char_accuracy  # noqa: E402


def _run(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ocr.py"), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--frames", "0"), "must be >= 1"),
        (("--batches", "0"), "--batches must be integers >= 1"),
        (("--frame", "10x10"), "--frame must be between"),
        (("--frame", "wide"), "must be integers"),
        (("--models", "open-nsfw"), "'open-nsfw' is not an OCR model"),
        (("--models", "nope"), "'nope' is not an OCR model (unknown"),
        (("--providers", "NoSuchExecutionProvider"), "unknown provider(s) ['NoSuchExecutionProvider']"),
    ],
)
def test_impossible_settings_exit_2(tmp_path: Path, args: tuple[str, ...], reason: str) -> None:
    proc = _run(*args, out=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert reason in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "ocr.json").exists()


def test_char_accuracy_ignores_spaces_and_counts_missing_glyphs() -> None:
    def res(*texts: str) -> OcrResult:
        return OcrResult("s", 0.0, tuple(TextLine(t, 0.9, (0, 0, 1, 1)) for t in texts), (10, 10))

    assert char_accuracy([res("線上 賭場", "下註")], ["線上賭場下註"]) == 1.0
    assert char_accuracy([res("線上場下")], ["線上賭場下註"]) == pytest.approx(0.8)
    assert char_accuracy([res()], ["abc"]) == 0.0


@pytest.mark.slow
def test_smoke_run_writes_both_paths_for_both_recognisers(tmp_path: Path) -> None:
    proc = _run("--smoke", out=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "ocr.json").read_text())
    assert [m["model"] for m in data["models"]] == ["rapidocr-ppocrv4", "ppocrv5-rec"]
    for m in data["models"]:
        assert set(m["modes"]) == {"per-frame", "batched-2"}
        assert all(row["images_per_s"] > 0 for row in m["modes"].values())
        assert m["rec_only"]["lines"] > 0
    assert len(data["machine"]["load_avg_start"]) == 3 and len(data["machine"]["load_avg_end"]) == 3
    assert "| ppocrv5-rec | batched-2 |" in (tmp_path / "ocr.md").read_text()
