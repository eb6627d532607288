"""Calibrate the fusion thresholds of the default pipeline on labelled data, per category.

Text: every message of the labelled corpus (``benchmarks/data/text_*.jsonl``) is matched once,
turned into signals on each channel (a viewer's chat line, a caption read by OCR on two frames, a
transcript segment), and fused with the default policy at a near-zero threshold; the verdict score
is then the fused score the message reaches on that channel (one message = one moment, so a verdict
opens at threshold T exactly when that score is at least T). Over a grid of T per category the
script reports recall on violating messages, single-message false verdicts on benign ones, and the
share of benign messages inside a verdict in a dense feed (0.5 s apart, 40 viewers, the real
per-viewer fusion). ``window`` is the range of T meeting recall ≥ 95 % and ≤ 0.5 % benign in
verdicts; the default is checked to lie inside it. It also reports whether the three channels give
the same score for the same message (they must: one scale).

Vision: there are no labelled real frames offline, so generated vision cases stand in (model outputs,
not images): the harmless failure modes (a weak box on a still image sampled repeatedly, swimwear
buttocks, weak boxes open_nsfw disagrees with) and violating ones (strong boxes, weak boxes open_nsfw
agrees with on frames that changed, open_nsfw alone). The grid over the per-class box threshold and
``agree_score`` shows which settings separate them; it cannot replace calibration on real footage.

Run: ``python benchmarks/policy_calibration.py`` (``--smoke`` for a tiny sample). Writes
``benchmarks/results/policy_calibration.{json,md}``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks.common import machine, machine_markdown, write_results  # noqa: E402
from benchmarks.text_quality import CATEGORIES, TARGET_FALSE_VERDICT, TARGET_RECALL, load  # noqa: E402
from moderation.config import PolicyConfig, SignalRule, VisionConfig, load_pipeline  # noqa: E402
from moderation.messages import (  # noqa: E402
    ChatMessage,
    Detection,
    OcrResult,
    Signal,
    TextLine,
    TranscriptSegment,
    VisionResult,
)
from moderation.policy.fuse import fuse  # noqa: E402
from moderation.signals.chat import chat_signals  # noqa: E402
from moderation.signals.keywords import ocr_signals, transcript_signals  # noqa: E402
from moderation.signals.vision import vision_signals  # noqa: E402
from moderation.text.lexicon import Lexicon  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402

GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 … 0.95
CHANNELS = ("chat", "ocr", "asr")


def with_thresholds(base: PolicyConfig, value: float | dict[str, float]) -> PolicyConfig:
    """``base`` with each text category's threshold (and close threshold) set."""
    cats = {}
    for c in CATEGORIES:
        t = value if isinstance(value, float) else value[c]
        cats[c] = base.category(c).model_copy(update={"threshold": t, "close_threshold": None})
    return base.model_copy(update={"categories": {**base.categories, **cats}})


def channel_signals(text: str, channel: str, match: Any) -> list[Signal]:
    if channel == "chat":
        return chat_signals([ChatMessage("cal", 1.0, "viewer", text)], match)
    if channel == "ocr":
        line = TextLine(text, 0.6, (0.0, 0.0, 200.0, 20.0))
        return ocr_signals([OcrResult("cal", 1.0, (line,)), OcrResult("cal", 2.0, (line,))], match)
    return transcript_signals([TranscriptSegment("cal", 1.0, 3.0, text, "zh")], match)


def scores(text: str, channel: str, match: Any, policy: PolicyConfig) -> dict[str, float]:
    """Fused score per category this message reaches on ``channel`` (0 = no verdict possible)."""
    out: dict[str, float] = defaultdict(float)
    for v in fuse("cal", channel_signals(text, channel, match), policy):
        out[v.category] = max(out[v.category], v.score)
    return out


def text_part(smoke: bool) -> dict[str, Any]:
    benign, bad = load("text_benign.jsonl"), load("text_violating.jsonl")
    if smoke:
        rng = random.Random(0)
        benign, bad = rng.sample(benign, 60), rng.sample(bad, 40)
    match = KeywordMatcher(Lexicon.load()).match
    default = load_pipeline("default").policy
    probe = with_thresholds(default, 1e-6)
    bad_s = [{ch: scores(r["text"], ch, match, probe) for ch in CHANNELS} for r in bad]
    ben_s = [{ch: scores(r["text"], ch, match, probe) for ch in CHANNELS} for r in benign]
    same = sum(1 for s in bad_s + ben_s if s["chat"] == s["ocr"] == s["asr"])
    rng = random.Random(1)
    order = [r["text"] for r in benign]
    rng.shuffle(order)
    feed = [ChatMessage("feed", 0.5 * i, f"viewer{rng.randrange(40)}", t) for i, t in enumerate(order)]
    feed_sigs = chat_signals(feed, match)
    per_cat: dict[str, Any] = {}
    for c in CATEGORIES:
        rows: list[dict[str, Any]] = []
        for t in GRID:
            n = sum(1 for r in bad if r["category"] == c)
            caught = {
                ch: sum(1 for r, s in zip(bad, bad_s, strict=True) if r["category"] == c and s[ch][c] >= t)
                for ch in CHANNELS
            }
            single = sum(1 for s in ben_s if s["chat"][c] >= t)
            vs = fuse("feed", feed_sigs, with_thresholds(default, {**{k: 1.0 for k in CATEGORIES}, c: t}))
            in_v = len({(s.user, s.t) for v in vs for s in v.signals})
            rows.append(
                {
                    "threshold": t,
                    "recall": {ch: caught[ch] / max(1, n) for ch in CHANNELS},
                    "benign_single_verdicts": single,
                    "dense_feed_rate": in_v / max(1, len(feed)),
                }
            )
        ok = [
            r["threshold"]
            for r in rows
            if min(r["recall"].values()) >= TARGET_RECALL and r["dense_feed_rate"] <= TARGET_FALSE_VERDICT
        ]
        d = default.category(c).threshold
        per_cat[c] = {
            "default": d,
            "window": [min(ok), max(ok)] if ok else None,
            "default_inside": bool(ok) and min(ok) <= d <= max(ok),
            "grid": rows,
        }
    return {"messages": len(bad) + len(benign), "same_score_on_every_channel": same, "categories": per_cat}


def _frame(t: float, label: str, box: float, nsfw: float, x: float = 10.0) -> VisionResult:
    return VisionResult("cal", t, (Detection(label, box, (x, 10.0, 60.0, 60.0)),), (("open_nsfw", nsfw),))


def vision_cases() -> list[tuple[str, bool, list[VisionResult]]]:
    """(name, violating, frames). Frames 1 s apart; "changed" frames move the box a little."""
    g, b = "FEMALE_GENITALIA_EXPOSED", "BUTTOCKS_EXPOSED"
    cases: list[tuple[str, bool, list[VisionResult]]] = []
    for box in (0.51, 0.524, 0.55, 0.58):
        cases.append(
            (f"still image, weak box {box}, nsfw 0.05, x5", False, [_frame(t, g, box, 0.05) for t in range(5)])
        )
        cases.append(
            (
                f"changing frames, weak box {box}, nsfw 0.1",
                False,
                [_frame(t, g, box, 0.1, 10 + 9 * t) for t in range(3)],
            )
        )
    for box in (0.6, 0.65, 0.69):
        cases.append(
            (f"swimwear buttocks {box}, nsfw 0.1", False, [_frame(t, b, box, 0.1, 10 + 9 * t) for t in range(2)])
        )
    for box in (0.62, 0.7, 0.85):
        cases.append((f"one strong box {box}, nsfw 0.2", True, [_frame(0, g, box, 0.2)]))
    for nsfw in (0.35, 0.5, 0.7):
        cases.append(
            (
                f"weak boxes 0.55 agreed by nsfw {nsfw}, 2 changed frames",
                True,
                [_frame(t, g, 0.55, nsfw, 10 + 9 * t) for t in range(2)],
            )
        )
    for nsfw in (0.82, 0.9):
        cases.append((f"open_nsfw {nsfw} alone", True, [VisionResult("cal", 0.0, (), (("open_nsfw", nsfw),))]))
    cases.append(("buttocks 0.75, nsfw 0.3", True, [_frame(0, b, 0.75, 0.3)]))
    return cases


def vision_part() -> dict[str, Any]:
    default = load_pipeline("default").policy
    cfg = VisionConfig()
    cases = vision_cases()
    rule = default.category("vulgar").signals["image.nudenet"]
    rows = []
    for box_t in (0.5, 0.55, 0.6, 0.65, 0.7):
        for agree in (0.1, 0.2, 0.3, 0.5, None):
            labels = {k: max(box_t, v) if k == "BUTTOCKS_EXPOSED" else box_t for k, v in rule.labels.items()}
            new_rule = SignalRule(min_score=rule.min_score, labels=labels, agree_score=agree)
            vul = default.category("vulgar")
            pol = default.model_copy(
                update={
                    "categories": {
                        **default.categories,
                        "vulgar": vul.model_copy(update={"signals": {**vul.signals, "image.nudenet": new_rule}}),
                    }
                }
            )
            wrong = [n for n, bad, fr in cases if bool(fuse("cal", vision_signals(fr, cfg), pol)) != bad]
            rows.append({"box_threshold": box_t, "agree_score": agree, "wrong": len(wrong), "wrong_cases": wrong})
    got = {n: bool(fuse("cal", vision_signals(fr, cfg), default)) for n, _, fr in cases}
    return {
        "cases": [{"name": n, "violating": bad, "default_verdict": got[n]} for n, bad, _ in cases],
        "default_wrong": sum(1 for n, bad, _ in cases if got[n] != bad),
        "grid": rows,
    }


def markdown(res: dict[str, Any]) -> list[str]:
    tx = res["text"]
    lines = ["# Fusion threshold calibration", ""]
    if res["smoke"]:
        lines += ["**Smoke run on a small sample — not a measurement.**", ""]
    lines += [
        f"Text: {tx['messages']} labelled messages; the same score on chat, OCR and speech for "
        f"{tx['same_score_on_every_channel']} of them.",
        "",
        "| category | default threshold | thresholds meeting both targets | default inside |",
        "|---|---|---|---|",
    ]
    for c, r in tx["categories"].items():
        w = "none" if r["window"] is None else f"{r['window'][0]:.2f} – {r['window'][1]:.2f}"
        lines.append(f"| {c} | {r['default']:.2f} | {w} | {'yes' if r['default_inside'] else 'NO'} |")
    for c, r in tx["categories"].items():
        lines += [
            "",
            f"### {c}",
            "",
            "| T | recall chat | recall OCR | recall ASR | benign alone | dense feed |",
            "|---|---|---|---|---|---|",
        ]
        for g in r["grid"]:
            rc = g["recall"]
            lines.append(
                f"| {g['threshold']:.2f} | {100 * rc['chat']:.1f} % | {100 * rc['ocr']:.1f} % | "
                f"{100 * rc['asr']:.1f} % | {g['benign_single_verdicts']} | {100 * g['dense_feed_rate']:.2f} % |"
            )
    vi = res["vision"]
    lines += [
        "",
        "## Vision (generated model outputs)",
        "",
        f"Default policy: {vi['default_wrong']} of {len(vi['cases'])} cases wrong.",
        "",
    ]
    lines += ["| box threshold | agree_score | cases wrong |", "|---|---|---|"]
    lines += [f"| {r['box_threshold']} | {r['agree_score']} | {r['wrong']} |" for r in vi["grid"]]
    lines += ["", "## Machine", "", *machine_markdown(res["machine"]), ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny corpus sample (CI)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    res = {
        "benchmark": "policy_calibration",
        "smoke": args.smoke,
        "text": text_part(args.smoke),
        "vision": vision_part(),
    }
    res["machine"] = machine()
    md = markdown(res)
    write_results("policy_calibration", res, md, args.out)
    print("\n".join(md[:20]))


if __name__ == "__main__":
    main()
