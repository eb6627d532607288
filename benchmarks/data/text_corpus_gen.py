"""Writes the labelled chat corpus for ``benchmarks/text_quality.py``.

Run: ``python benchmarks/data/text_corpus_gen.py`` (from any folder).

Messages are built from templates and fillers written for typical live-room chat, news and rules
text, not from the lexicon: a benign template is what viewers or announcements actually say (and
often contains near-miss words: 上分 in ranked games, 回血 for healing, 火箭队, 保时捷, 打榜, 赌场 in a film
review); a violating template is a real spam shape with an evasion applied *as a class*
(Traditional, separators, homophones, pinyin with or without tones, run-on pinyin, leetspeak,
initialisms, obfuscated URLs, contact lures, gift names and emoji, slang, lottery products, brands).

Two splits: ``dev`` (templates the lexicon was tuned against) and ``heldout`` (templates written
separately and not used for tuning; the benchmark reports them apart). Output is deterministic.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from corpus_benign import BENIGN
from corpus_violating import violating

HERE = Path(__file__).resolve().parent
#: how viewers decorate any message (the same line arrives in many shapes in a real room)
PRE = ["", "", "", "哈哈", "主播，", "家人们", "+1 ", "啊啊啊", "话说", "说真的，"]
SUF = ["", "", "", "！", "哈哈哈", "😂", "~", "？", "👍", "。。。", " 666"]
PRE_EN = ["", "", "lol ", "honestly, "]
SUF_EN = ["", "", "!", " lol", "..."]


def _expand(templates: list[tuple[str, dict[str, list[str]]]], rng: random.Random, per: int) -> list[str]:
    out: list[str] = []
    for tpl, slots in templates:
        seen: set[str] = set()
        for _ in range(per * 4):
            text = tpl.format(**{k: rng.choice(v) for k, v in slots.items()})
            en = text.isascii()
            text = rng.choice(PRE_EN if en else PRE) + text + rng.choice(SUF_EN if en else SUF)
            if text not in seen:
                seen.add(text)
                out.append(text)
            if len(seen) >= per:
                break
    return out


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(20261130)
    benign: list[dict[str, Any]] = []
    for split, contexts in BENIGN.items():
        for context, (per, templates) in contexts.items():
            for text in _expand(templates, rng, per * 2):
                benign.append({"text": text, "context": context, "split": split})
    bad = [dict(r) for r in violating(rng)]
    return benign, bad


def main() -> None:
    benign, bad = build()
    for name, rows in (("text_benign.jsonl", benign), ("text_violating.jsonl", bad)):
        with (HERE / name).open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} messages")


if __name__ == "__main__":
    main()
