"""The second hand-written held-out set is labelled like the first and covers what it claims."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_v2_set_is_labelled() -> None:
    path = ROOT / "benchmarks" / "data" / "text_fresh_v2.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = [r for r in rows if "category" in r]
    benign = [r for r in rows if "category" not in r]
    assert len(bad) >= 150 and len(benign) >= 200
    assert {r["category"] for r in bad} == {"vulgar", "gambling", "tipping_inducement"}
    assert {r["split"] for r in rows} == {"fresh2"}
    evasions = {"plain", "slang", "implicit", "homophone", "split", "pinyin", "traditional", "emoji", "mixed"}
    assert {r["evasion"] for r in bad} == evasions
    assert all("context" in r and "evasion" not in r for r in benign)
    assert {"news", "regulatory", "counter", "gaming", "cooking", "sports"} <= {r["context"] for r in benign}
    assert len({r["text"] for r in rows}) == len(rows)
