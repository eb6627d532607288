"""The streamer-speech set and its benchmark: the set is labelled like the chat sets, and the
benchmark runs end to end in smoke mode and writes a sweep with the rules-alone row."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SET = ROOT / "benchmarks" / "data" / "text_speech_v1.jsonl"


def test_the_speech_set_is_labelled_and_sized() -> None:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert {r["split"] for r in rows} == {"speech"}
    assert all(set(r) == {"text", "category", "evasion", "split"} for r in bad)
    assert {r["evasion"] for r in bad} == {"implicit", "plain"}
    assert all(set(r) == {"text", "context", "split"} for r in benign)
    per_cat = Counter(r["category"] for r in bad)
    assert set(per_cat) == {"gambling", "tipping_inducement", "vulgar"} and min(per_cat.values()) >= 100
    assert len(benign) >= 700
    contexts = Counter(r["context"] for r in benign)
    assert {"thanks", "follow", "pk", "rules", "counter", "commerce"} <= set(contexts)
    assert len({r["text"] for r in rows}) == len(rows)


@pytest.mark.slow
def test_speech_intent_benchmark_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "speech_intent.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "speech_intent.json").read_text())
    assert data["benchmark"] == "speech_intent" and data["smoke"] is True and data["segments"] == 40
    assert "None" in data["sweep"] and "0.9" in data["sweep"]
    for row in data["sweep"].values():
        assert all(0.0 <= r <= 1.0 for r in row["recall"].values())
        assert 0 <= row["benign_false"] <= row["benign"]
    assert "| rules alone |" in (tmp_path / "speech_intent.md").read_text()
