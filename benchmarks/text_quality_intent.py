"""Intent classifier section of the text quality benchmark (``text_quality.py --intent``).

What the learned classifier adds to the keyword rules, per message:

* **rules** — the message alone through the matcher, the chat signal stage and the fusion
  (exactly what ``text_quality.py`` counts): caught when a verdict of its category comes out.
* **rules + intent** — also caught when the classifier gives the category a ``text.intent``
  signal (probability at or above its threshold): the classifier as a channel that can open a
  verdict on its own at that bar. A benign message is a false positive when either says anything.
* **rules + intent + veto** — as above, but a rule verdict is dropped when the classifier calls
  the line confidently harmless (P(benign) ≥ ``veto_score``, or ``VETO_PROBE`` while the pipeline
  leaves the veto off): what vetoing counter-speech costs in recall and saves in false positives.

Sets (none of them in the head's training data): the corpus's ``heldout`` split,
``text_intent_fresh.jsonl``, written apart from the lexicon (plain, slang, implicit violating lines
and benign ones), and the hand-written held-out chat sets ``text_fresh_v2.jsonl``,
``text_fresh_v3.jsonl`` and ``text_fresh_v4.jsonl`` (nine evasion classes each, implicit wording
among them, and benign near misses). Cost: wall and thread-CPU milliseconds per message of the classifier, batched.
A threshold sweep shows the recall / false-positive trade per setting.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from moderation.config import IntentConfig
from moderation.infer.intent import IntentModel, classify_batch
from moderation.messages import ChatMessage
from moderation.signals.intent import ReadingFn, classifiable, intent_signals, vetoed_lines

CATEGORIES = ("gambling", "tipping_inducement", "vulgar")
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: P(benign) the veto row uses when the pipeline leaves the veto off (its default).
VETO_PROBE = 0.8
VerdictFn = Callable[[str], set[str]]


def _probs(texts: Sequence[str], model: IntentModel, batch: int) -> tuple[list[dict[str, float]], dict[str, float]]:
    classify_batch(texts[:2], model=model)  # load and warm outside the timing
    t0, c0 = time.perf_counter(), time.thread_time()
    out: list[dict[str, float]] = []
    for i in range(0, len(texts), batch):
        out.extend(classify_batch(texts[i : i + batch], model=model))
    wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
    n = max(1, len(texts))
    return out, {
        "messages": len(texts),
        "batch": batch,
        "ms_per_msg_wall": 1000 * wall / n,
        "ms_per_msg_cpu": 1000 * cpu / n,
    }


def _score(
    rows: list[dict[str, Any]],
    rule_cats: list[set[str]],
    probs: list[dict[str, float]],
    cfg: IntentConfig,
    reading: ReadingFn | None = None,
) -> dict[str, Any]:
    """Recall per category and evasion class, and the benign false-positive rate, three ways
    (``reading``: the rules' reading of each line, as in the pipeline: their mentions silence the
    classifier on their line, their evidence lowers its bar)."""
    msgs = [ChatMessage("bench", float(i), "viewer", r["text"]) for i, r in enumerate(rows)]
    cfg = cfg.model_copy(update={"veto_score": cfg.veto_score or VETO_PROBE})
    keep = [i for i, r in enumerate(rows) if classifiable(r["text"], cfg)]  # as the pipeline: short lines, rules only
    sigs = intent_signals([msgs[i] for i in keep], [probs[i] for i in keep], cfg, reading)
    intent_cats: list[set[str]] = [set() for _ in rows]
    for s in sigs:
        if s.category in CATEGORIES:
            intent_cats[int(s.t)].add(s.category)
    veto = {int(t) for _, _, t in vetoed_lines(sigs, cfg)}
    modes = {
        "rules": lambda i: rule_cats[i],
        "rules+intent": lambda i: rule_cats[i] | intent_cats[i],
        "rules+intent+veto": lambda i: (
            (rule_cats[i] - set(cfg.veto_categories) if i in veto else rule_cats[i]) | intent_cats[i]
        ),
        "intent": lambda i: intent_cats[i],
    }
    out: dict[str, Any] = {}
    for mode, got in modes.items():
        cat: dict[str, Counter[str]] = defaultdict(Counter)
        ev: dict[str, Counter[str]] = defaultdict(Counter)
        for i, r in enumerate(rows):
            c = r.get("category", "benign")
            hit = bool(got(i)) if c == "benign" else c in got(i)
            cat[c]["n"] += 1
            cat[c]["hit"] += hit
            if c != "benign":
                ev[r.get("evasion", "?")]["n"] += 1
                ev[r.get("evasion", "?")]["hit"] += hit
        out[mode] = {
            "recall": {c: cat[c]["hit"] / cat[c]["n"] for c in CATEGORIES if cat[c]["n"]},
            "recall_by_evasion": {e: v["hit"] / v["n"] for e, v in sorted(ev.items())},
            "benign_fp_rate": cat["benign"]["hit"] / cat["benign"]["n"] if cat["benign"]["n"] else None,
            "benign": cat["benign"]["n"],
            "violating": sum(cat[c]["n"] for c in CATEGORIES),
        }
    return out


def run_intent(
    sets: dict[str, list[dict[str, Any]]],
    rule_verdicts: VerdictFn,
    cfg: IntentConfig | None = None,
    batch: int = 64,
    reading: ReadingFn | None = None,
) -> dict[str, Any]:
    """``sets``: name → rows (``text``, ``category`` or none for benign, optional ``evasion``);
    ``reading`` as in the pipeline (:func:`moderation.signals.intent.rules_reading`)."""
    cfg = cfg or IntentConfig(enabled=True)
    model = IntentModel()
    res: dict[str, Any] = {"config": cfg.model_dump(), "sets": {}}
    for name, rows in sets.items():
        rule_cats = [rule_verdicts(r["text"]) for r in rows]
        probs, cost = _probs([r["text"] for r in rows], model, batch)
        entry = {"cost": cost, **_score(rows, rule_cats, probs, cfg, reading)}
        entry["sweep"] = {
            str(t): _score(rows, rule_cats, probs, cfg.model_copy(update={"min_score": t, "thresholds": {}}), reading)[
                "rules+intent"
            ]
            for t in SWEEP
        }
        res["sets"][name] = entry
    res["model_versions"] = list(model.versions)
    return res


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _row(label: str, m: dict[str, Any]) -> str:
    recalls = " | ".join(_pct(m["recall"].get(k)) for k in CATEGORIES)
    return f"| {label} | {recalls} | {_pct(m['benign_fp_rate'])} |"


def markdown(res: dict[str, Any]) -> list[str]:
    cfg = res["config"]
    lines = [
        "## Intent classifier (rules vs rules + intent)",
        "",
        f"Models: {', '.join(res['model_versions'])}; threshold {cfg['min_score']} "
        f"(overrides {cfg['thresholds'] or 'none'}), veto row at P(benign) ≥ {cfg['veto_score'] or VETO_PROBE}.",
        "",
    ]
    for name, s in res["sets"].items():
        c = s["cost"]
        lines += [
            f"### {name} ({s['rules']['violating']} violating, {s['rules']['benign']} benign)",
            "",
            f"Cost: {c['ms_per_msg_wall']:.1f} ms/msg wall, {c['ms_per_msg_cpu']:.1f} ms/msg CPU "
            f"(batches of {c['batch']}).",
            "",
            "| mode | " + " | ".join(f"recall {k}" for k in CATEGORIES) + " | benign FP |",
            "|---|" + "---|" * (len(CATEGORIES) + 1),
        ]
        for mode in ("rules", "intent", "rules+intent", "rules+intent+veto"):
            lines.append(_row(mode, s[mode]))
        ev = s["rules"]["recall_by_evasion"]
        if len(ev) <= 10:  # the hand-written sets; the corpus split has too many classes to list
            lines += ["", "| evasion | rules | rules + intent |", "|---|---|---|"]
            for e, r in ev.items():
                lines.append(f"| {e} | {_pct(r)} | {_pct(s['rules+intent']['recall_by_evasion'][e])} |")
        lines += [
            "",
            "| intent threshold | " + " | ".join(f"recall {k}" for k in CATEGORIES) + " | benign FP |",
            "|---|" + "---|" * (len(CATEGORIES) + 1),
        ]
        for t, m in s["sweep"].items():
            lines.append(_row(t, m))
        lines.append("")
    return lines
