"""The text quality benchmark runs end to end in smoke mode and writes well-formed results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_text_quality_benchmark_smoke(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "text_quality.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads((tmp_path / "text_quality.json").read_text())
    assert data["benchmark"] == "text_quality" and data["smoke"] is True
    for split in ("dev", "heldout", "all"):
        res = data["splits"][split]
        assert set(res["categories"]) == {"gambling", "tipping_inducement", "vulgar"}
        assert 0.0 <= res["dense_feed"]["false_verdict_rate"] <= 1.0
    fresh = data["splits"]["fresh"]
    assert fresh["categories"]["vulgar"]["violating"] == 20 and fresh["benign_messages"] == 30
    assert 0.0 <= fresh["dense_feed"]["false_verdict_rate"] <= 1.0
    assert data["throughput"]["mb_per_s_per_core"] > 0
    assert data["throughput"]["batched_mb_per_s_per_core_cpu"] > 0
    assert data["machine"]["cpu"] and data["machine"]["cores"] >= 1
    md = (tmp_path / "text_quality.md").read_text()
    assert "| category |" in md
    # held-out sets are reported as counts only: none of their lines reaches a results file
    from benchmarks.text_quality import FRESH_SETS, HELD_OUT, load

    assert HELD_OUT and set(FRESH_SETS) >= HELD_OUT
    for split in HELD_OUT:
        res = data["splits"][split]
        assert res["missed"] == [] and res["false_benign"] == [] and res["dense_feed"]["examples"] == []
        texts = [r["text"] for r in load(FRESH_SETS[split][0]) if len(r["text"]) >= 8]  # short chat recurs
        assert not any(t in md for t in texts), split
    assert data["splits"]["dev6"]["missed"], "a development set keeps its misses"


def test_corpus_is_labelled_and_large_enough() -> None:
    rows = {
        name: [json.loads(line) for line in (ROOT / "benchmarks" / "data" / name).read_text().splitlines()]
        for name in ("text_benign.jsonl", "text_violating.jsonl")
    }
    benign, bad = rows["text_benign.jsonl"], rows["text_violating.jsonl"]
    assert len(benign) >= 1000 and len(bad) >= 600
    assert {r["split"] for r in benign + bad} == {"dev", "heldout"}
    assert {"news", "regulatory", "counter", "gaming", "cooking", "sports", "music", "shopping", "reviews"} <= {
        r["context"] for r in benign
    }
    assert {r["category"] for r in bad} == {"gambling", "tipping_inducement", "vulgar"}
    assert len({r["text"] for r in bad}) == len(bad)


def test_fresh_vulgar_set_is_labelled() -> None:
    rows = [
        json.loads(line)
        for line in (ROOT / "benchmarks" / "data" / "text_vulgar_fresh.jsonl").read_text().splitlines()
        if line.strip()
    ]
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= 60 and len(benign) >= 150
    assert {r["category"] for r in bad} == {"vulgar"} and {r["split"] for r in rows} == {"fresh"}
    assert len({r["evasion"] for r in bad}) >= 8
    contexts = {r["context"] for r in benign}
    assert {"medical", "biology", "fashion", "fitness", "news", "regulatory", "counter"} <= contexts
    assert len({r["text"] for r in rows}) == len(rows)
