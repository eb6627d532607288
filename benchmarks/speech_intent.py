"""The intent classifier on the streamer's speech: what ``intent.speech_min_score`` would catch and cost.

Set: ``benchmarks/data/text_speech_v1.jsonl``, transcript segments written the way Whisper
transcribes Chinese live streams (little punctuation, fillers, sometimes Traditional, near-homophone
errors, some English): the streamer's tipping pressure (most of it naming no gift or price),
gambling promotion and vulgar talk, against what streamers say all day — thanks for gifts already
sent, asks for free follows and likes, PK results, platform rules read out, scam warnings, live
commerce, game commentary, songs and chat. Written by an author who read neither the lexicons nor
the other sets; the classifier never trained on it.

* **Per segment** — each segment alone, as the streamer's speech, goes through the keyword rules
  (:func:`moderation.signals.keywords.transcript_signals`), the classifier
  (:func:`moderation.signals.intent.speech_intent_signals`, at each bar of the sweep, with the
  rules' reading of the segment as the pipeline gives it) and the default fusion. A violating
  segment is caught when that opens a verdict of its category; a benign one is a false verdict when
  it opens any.
* **Monologue** — all benign segments in a row, one every 5 s, as one streamer's speech through the
  fusion (each segment read with the speech before it, ``asr.context_s``): the share of segments
  inside a verdict against the streamer. This is what turning the classifier on for speech would
  cost a harmless stream.
* **Speech context** (rules alone) — each segment read after another segment of its own kind
  (violating: same category; benign: same context), with ``asr.context_s`` on and off: a violating
  segment is caught when its own signals open a verdict of its category, a benign one is a false
  verdict when its own signals open any. The earlier segment can only corroborate, so the benign
  side shows what that costs.

Run: ``python benchmarks/speech_intent.py`` (``--smoke`` for a tiny CI run).
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks.common import machine, machine_markdown, parser, smoke_note, write_results  # noqa: E402
from moderation.config import load_pipeline  # noqa: E402
from moderation.config.intent import IntentConfig  # noqa: E402
from moderation.infer.intent import IntentModel, classify_batch  # noqa: E402
from moderation.messages import Signal, TranscriptSegment  # noqa: E402
from moderation.policy.fuse import fuse  # noqa: E402
from moderation.signals.intent import classifiable, rules_reading, speech_intent_signals  # noqa: E402
from moderation.signals.keywords import SpeechContext, transcript_signals  # noqa: E402
from moderation.text.lexicon import Lexicon  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "text_speech_v1.jsonl"
CATEGORIES = ("gambling", "tipping_inducement", "vulgar")
#: ``intent.speech_min_score`` values swept (None: the rules alone).
BARS: tuple[float | None, ...] = (None, 0.8, 0.85, 0.9, 0.95, 0.97)
SEGMENT_S = 5.0


def load(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _segments(rows: list[dict[str, Any]]) -> list[TranscriptSegment]:
    return [TranscriptSegment("bench", SEGMENT_S * i, SEGMENT_S * i + 4.0, r["text"], "zh") for i, r in enumerate(rows)]


def _signals(
    segs: list[TranscriptSegment],
    probs: dict[int, dict[str, float]],
    cfg: IntentConfig,
    match: KeywordMatcher,
    context_s: float = 0.0,
) -> list[Signal]:
    """Keyword and (where ``cfg.speech_min_score`` is set) intent signals of ``segs``, in time order."""
    out = transcript_signals(segs, match.match, SpeechContext(context_s))
    keep = [i for i in range(len(segs)) if i in probs]
    out += speech_intent_signals([segs[i] for i in keep], [probs[i] for i in keep], cfg, rules_reading(match))
    return sorted(out, key=lambda s: s.t)


def run(smoke: bool) -> dict[str, Any]:
    rows = load()
    if smoke:
        rows = random.Random(0).sample(rows, min(len(rows), 40))
    pipe = load_pipeline("default")
    match = KeywordMatcher(Lexicon.load())
    base = pipe.intent.model_copy(update={"enabled": True})
    segs = _segments(rows)
    keep = [i for i, s in enumerate(segs) if classifiable(s.text, base)]
    probs = dict(zip(keep, classify_batch([segs[i].text for i in keep], model=IntentModel()), strict=True))
    benign = [i for i, r in enumerate(rows) if "category" not in r]
    sweep: dict[str, Any] = {}
    for bar in BARS:
        cfg = base.model_copy(update={"speech_min_score": bar})
        got: list[set[str]] = []
        for i, seg in enumerate(segs):
            one = {0: probs[i]} if i in probs else {}
            got.append({v.category for v in fuse("bench", _signals([seg], one, cfg, match), pipe.policy)})
        cat: dict[str, Counter[str]] = defaultdict(Counter)
        false_by_context: Counter[str] = Counter()
        for r, g in zip(rows, got, strict=True):
            c = r.get("category", "benign")
            hit = bool(g) if c == "benign" else c in g
            cat[c]["n"] += 1
            cat[c]["hit"] += hit
            if c == "benign" and hit:
                false_by_context[r["context"]] += 1
        # the benign segments as one streamer's monologue, 5 s apart
        mono = _segments([rows[i] for i in benign])
        mono_probs = {j: probs[i] for j, i in enumerate(benign) if i in probs}
        verdicts = fuse("bench", _signals(mono, mono_probs, cfg, match, pipe.asr.context_s), pipe.policy)
        inside = {s.t for v in verdicts for s in v.signals}
        sweep[str(bar)] = {
            "recall": {c: cat[c]["hit"] / cat[c]["n"] for c in CATEGORIES if cat[c]["n"]},
            "violating": {c: cat[c]["n"] for c in CATEGORIES},
            "benign": cat["benign"]["n"],
            "benign_false": cat["benign"]["hit"],
            "benign_false_by_context": dict(false_by_context),
            "monologue_segments": len(mono),
            "monologue_verdicts": len(verdicts),
            "monologue_segments_in_verdicts": len(inside),
        }
    return {
        "benchmark": "speech_intent",
        "smoke": smoke,
        "set": DATA.name,
        "segments": len(rows),
        "default_speech_min_score": pipe.intent.speech_min_score,
        "sweep": sweep,
        "context_s": pipe.asr.context_s,
        "context": _context(rows, match, pipe),
        "machine": machine(),
    }


def _context(rows: list[dict[str, Any]], match: KeywordMatcher, pipe: Any) -> dict[str, dict[str, int]]:
    """Rules alone: each segment after a random other one of its kind, read with and without context."""
    rng = random.Random(1)
    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        kinds[r.get("category") or "benign"].append(r)
    out: dict[str, dict[str, int]] = {}
    for kind, same in sorted(kinds.items()):
        if len(same) < 2:
            continue
        counts = Counter[str]()
        for r in same:
            others = [o for o in same if o["text"] != r["text"]]
            peers = [o for o in others if o.get("context") == r.get("context")]
            before = rng.choice(peers or others)["text"]
            segs = [
                TranscriptSegment("bench", 0.0, 4.0, before, "zh"),
                TranscriptSegment("bench", 5.0, 9.0, r["text"], "zh"),
            ]
            for label, span in (("alone", 0.0), ("with_context", pipe.asr.context_s)):
                own = [s for s in transcript_signals(segs, match.match, SpeechContext(span)) if s.t >= 5.0]
                got = {v.category for v in fuse("bench", own, pipe.policy)}
                counts[label] += bool(got) if kind == "benign" else kind in got
        out[kind] = {"n": len(same), **counts}
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def markdown(res: dict[str, Any]) -> list[str]:
    md = ["# Intent classifier on the streamer's speech", ""]
    md += [
        f"Set: `{res['set']}` ({res['segments']} transcript segments). Default `intent.speech_min_score`: "
        f"{res['default_speech_min_score']}.",
        "",
        "| intent.speech_min_score | gambling | tipping_inducement | vulgar | benign segments in a verdict, alone "
        "| monologue: benign segments in a verdict |",
        "|---|---|---|---|---|---|",
    ]
    for bar, m in res["sweep"].items():
        label = "rules alone" if bar == "None" else bar
        rec = " | ".join(_pct(m["recall"].get(c, 0.0)) for c in CATEGORIES)
        ben = f"{m['benign_false']} of {m['benign']} ({_pct(m['benign_false'] / max(1, m['benign']))})"
        mono = m["monologue_segments_in_verdicts"]
        md.append(f"| {label} | {rec} | {ben} | {mono} of {m['monologue_segments']} |")
    md += [
        "",
        f"## Speech context (rules alone, `asr.context_s` = {res['context_s']})",
        "",
        "Each segment read after another of its own kind; counted from its own signals only.",
        "",
        "| segments | n | caught / false verdicts, alone | with the speech before |",
        "|---|---|---|---|",
    ]
    for kind, c in res["context"].items():
        md.append(f"| {kind} | {c['n']} | {c.get('alone', 0)} | {c.get('with_context', 0)} |")
    md += ["", "## Machine", "", *machine_markdown(res["machine"]), *smoke_note(res["smoke"]), ""]
    return md


def main() -> None:
    args = parser(__doc__, "speech_intent", "40 segments").parse_args()
    res = run(args.smoke)
    md = markdown(res)
    write_results(args.name, res, md, args.out)
    print("\n".join(md))


if __name__ == "__main__":
    main()
