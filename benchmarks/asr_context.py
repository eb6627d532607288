"""Whisper's encoder input length on live-size windows: speed against spotted lexicon categories.

Why: a live audio window is 6-10 s, and Whisper pads every input to the 30 s it was trained on, so
most of each encoder pass is spent on padding. CTranslate2 accepts shorter inputs; the question is
what they cost in detection. This benchmark speaks lines of the readable text sets
(``benchmarks/data``, the held-out sets are never used; violating lines only in spellings one
says aloud) — Mandarin with real recorded syllables
(Debian ``gcin-voice``), English with espeak-ng — as live-size windows of one or two lines, and
transcribes the same windows with the encoder input padded to 30 s and to shorter contexts
(``BatchedTranscriber(bucket_s=...)``, what ``live.asr_context_s`` sets). Per context it reports:

* wall seconds for all windows (median of interleaved repeats) and the speed-up over 30 s;
* **categories spotted**: lexicon categories (weight ≥ 0.5) found in the transcript of a window
  that the matcher also finds in its script — the script is the oracle, so this is what the ASR
  loses, not what the lexicon misses; **extra**: categories found in the transcript only;
* text similarity to the script (characters for Mandarin, 1 − WER for English);
* **cut as live audio**: streams of three lines cut into overlapping live windows (a line may be
  split between two), and per context the violating lines spotted in any window of their stream,
  lost or gained against 30 s, and first spotted a window later or earlier (a later alert).

    python benchmarks/asr_context.py [--smoke] [--contexts 30,15,10,8] [--windows 150] [--repeats 2]

Writes ``benchmarks/results/asr_context.{json,md}``.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from asr import wer  # noqa: E402
from common import machine, machine_markdown, md_table, parser, require, smoke_note, write_results  # noqa: E402
from text_quality import HELD_OUT  # noqa: E402

from moderation.config import AsrConfig, LiveConfig  # noqa: E402
from moderation.infer.asr_batch import BatchedTranscriber, load_batched_transcriber  # noqa: E402
from moderation.infer.registry import Registry  # noqa: E402
from moderation.messages import AudioWindow, TranscriptSegment  # noqa: E402
from moderation.text.lexicon import Lexicon  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402

SR = 16000
DATA = ROOT / "benchmarks" / "data"
#: Lines whose every character can be spoken by the Mandarin voice (Han and pauses only).
_ZH_LINE = re.compile(r"^[\u4e00-\u9fff，。！？、]{6,40}$")
_EN_LINE = re.compile(r"^[A-Za-z ,.!?']{12,90}$")
MAX_WINDOW_S = 10.0  # a live window with its overlap: 6 s + 2 s, up to 10 s while busy


#: Violating lines a streamer would say aloud. Spellings that only exist in writing (pinyin, homophone
#: characters, split letters) are left out: speech of them is not what the line means.
SPOKEN_EVASIONS = frozenset({"plain", "slang", "traditional", "gift", "lottery", "regional", "english"})


def _lines(lang: str) -> tuple[list[str], list[str]]:
    """(violating, benign) speakable lines of ``lang`` from the readable sets, each once."""
    pattern = _ZH_LINE if lang == "zh" else _EN_LINE
    viol: dict[str, None] = {}
    ben: dict[str, None] = {}
    for path in sorted(DATA.glob("text_*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(raw)
            if row.get("split") in HELD_OUT or not pattern.match(row["text"]):
                continue
            if not row.get("category"):
                ben[row["text"]] = None
            elif row.get("evasion") in SPOKEN_EVASIONS:
                viol[row["text"]] = None
    return list(viol), list(ben)


def _speak(text: str, lang: str, rng: random.Random) -> np.ndarray:
    if lang == "zh":
        from moderation.samplegen.speech_zh import speak_zh

        return speak_zh(text, voice=rng.choice("ab"), gap_s=rng.choice((0.02, 0.05, 0.08)))
    from moderation.samplegen import speak

    return speak(text, speed_wpm=rng.choice((140, 160, 180)))


def _utter(
    lines: list[str], lang: str, rng: random.Random, lead: tuple[float, float], gap: tuple[float, float]
) -> np.ndarray:
    """``lines`` spoken one after another: silence of ``lead`` seconds (drawn from the range) first,
    and of ``gap`` after each line."""
    parts = [np.zeros(int(SR * rng.uniform(*lead)), np.float32)]
    for line in lines:
        parts += [_speak(line, lang, rng), np.zeros(int(SR * rng.uniform(*gap)), np.float32)]
    return np.concatenate(parts)


def _text(out: list[TranscriptSegment] | Exception) -> str:
    """A window's transcript as one line (a failed window reads as nothing heard)."""
    return " ".join(seg.text for seg in out) if isinstance(out, list) else ""


def make_windows(lang: str, n: int, seed: int) -> tuple[list[AudioWindow], list[str]]:
    """``n`` windows of one or two spoken lines (60 % from violating lines), at most 10 s each."""
    rng = random.Random(seed)
    viol, ben = _lines(lang)
    windows: list[AudioWindow] = []
    scripts: list[str] = []
    while len(windows) < n:
        picks = [rng.choice(viol if rng.random() < 0.6 else ben) for _ in range(rng.choice((1, 1, 2)))]
        audio = _utter(picks, lang, rng, lead=(0.1, 0.8), gap=(0.3, 0.7))
        if audio.size > MAX_WINDOW_S * SR:  # a live window never holds more; draw again
            continue
        windows.append(AudioWindow(f"{lang}-{len(windows):03d}", 0.0, audio))
        scripts.append(("，" if lang == "zh" else " ").join(picks))
    return windows, scripts


def make_streams(lang: str, n: int, seed: int) -> tuple[list[AudioWindow], list[set[str]], list[int]]:
    """``n`` streams of a benign, a violating and a benign line, cut as a live stream is: windows of
    ``live.audio_window_s`` overlapping by ``live.audio_overlap_s``, so a line may be split across
    two windows. Returns (windows, the violating line's categories per stream, stream of each window)."""
    live = LiveConfig()
    size, hop = live.audio_window_s, live.audio_window_s - live.audio_overlap_s
    rng = random.Random(seed)
    viol, ben = _lines(lang)
    windows: list[AudioWindow] = []
    scripts: list[str] = []
    owner: list[int] = []
    for i in range(n):
        picks = [rng.choice(ben), rng.choice(viol), rng.choice(ben)]
        audio = _utter(picks, lang, rng, lead=(0.2, 1.5), gap=(0.4, 1.2))
        t = 0.0
        while t * SR < audio.size:
            windows.append(AudioWindow(f"{lang}-{i:03d}", t, audio[int(t * SR) : int((t + size) * SR)]))
            owner.append(i)
            t += hop
        scripts.append(picks[1])
    return windows, scripts, owner


def _cut_case(
    lang: str,
    n: int,
    contexts: list[float],
    transcribers: dict[float, BatchedTranscriber],
    categories: Callable[[str], set[str]],
) -> dict[str, Any]:
    """Streams cut into live windows: per context, the violating lines' categories spotted in any
    window of their stream, and how many were first spotted a window later or earlier than at 30 s
    (a later window is a later alert)."""
    windows, scripts, owner = make_streams(lang, n, seed=23)
    oracle = [categories(s) for s in scripts]
    first: dict[float, dict[tuple[int, str], float]] = {}
    for c in contexts:
        seen: dict[tuple[int, str], float] = {}
        for w, i, out in zip(windows, owner, transcribers[c].transcribe_batch(windows), strict=True):
            for cat in categories(_text(out)) & oracle[i]:
                seen.setdefault((i, cat), w.start)
        first[c] = seen
    base = first[30.0]
    rows = [
        {
            "context_s": c,
            "spotted": len(first[c]),
            "lost": len(set(base) - set(first[c])),
            "gained": len(set(first[c]) - set(base)),
            "later": sum(1 for k, t in first[c].items() if k in base and t > base[k]),
            "earlier": sum(1 for k, t in first[c].items() if k in base and t < base[k]),
        }
        for c in contexts
    ]
    print(
        f"  live-cut: {n} streams, {len(windows)} windows: "
        + ", ".join(f"{r['context_s']} s {r['spotted']}" for r in rows)
    )
    return {"streams": n, "windows": len(windows), "oracle": sum(len(o) for o in oracle), "contexts": rows}


def _similarity(lang: str, scripts: list[str], texts: list[str]) -> float:
    if lang == "en":
        return 1 - wer(scripts, texts)
    keep = re.compile(r"[\u4e00-\u9fff]")
    return statistics.fmean(
        difflib.SequenceMatcher(None, "".join(keep.findall(s)), "".join(keep.findall(t))).ratio()
        for s, t in zip(scripts, texts, strict=True)
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = parser(__doc__, "asr_context", "tiny.en, English only, 3 windows, contexts 30 and 10, one repeat")
    ap.add_argument("--contexts", default="30,15,10,8", help="encoder input lengths (s), comma-separated")
    ap.add_argument("--windows", type=int, default=150, help="windows per language")
    ap.add_argument("--streams", type=int, default=60, help="streams per language cut into live windows (0: none)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default="whisper-base")
    ap.add_argument("--languages", default="zh,en")
    args = ap.parse_args(argv)
    require(ap, args, windows="count", repeats="count")
    if args.streams < 0:
        ap.error(f"--streams must be 0 or more, got {args.streams}")
    try:
        contexts = [float(c) for c in args.contexts.split(",") if c.strip()]
    except ValueError:
        ap.error(f"--contexts must be numbers, got {args.contexts!r}")
    if not contexts or any(not 1 <= c <= 30 for c in contexts):
        ap.error(f"--contexts must be seconds in [1, 30], got {args.contexts!r}")
    langs = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    if not langs or any(lang not in ("zh", "en") for lang in langs):
        ap.error(f"--languages must be zh and/or en, got {args.languages!r}")
    if args.smoke:
        args.model, args.windows, args.repeats, langs, contexts = "whisper-tiny-en", 3, 1, ["en"], [30.0, 10.0]
        args.streams = 1
    if 30.0 not in contexts:
        contexts.insert(0, 30.0)  # the baseline every other context is compared with

    host = machine()
    registry = Registry.load(ROOT / "models")
    matcher = KeywordMatcher(Lexicon.load(ROOT / "models" / "lexicons"))

    def categories(text: str) -> set[str]:
        return {h.category for h in matcher.match(text) if h.weight >= 0.5}

    transcribers: dict[float, BatchedTranscriber] = {}
    for c in contexts:
        t = load_batched_transcriber(registry, AsrConfig(model=args.model), bucket_s=None if c >= 30 else c)
        t.warm_up()
        transcribers[c] = t
    cases = []
    for lang in langs:
        windows, scripts = make_windows(lang, args.windows, seed=17)
        oracle = [categories(s) for s in scripts]
        speech_s = sum(w.samples.size for w in windows) / SR
        print(f"{lang}: {len(windows)} windows, {speech_s:.0f} s of speech", flush=True)
        times: dict[float, list[float]] = {c: [] for c in contexts}
        texts: dict[float, list[str]] = {}
        for rep in range(args.repeats):  # interleaved, so machine noise hits every context alike
            for c in contexts if rep % 2 == 0 else contexts[::-1]:
                t0 = time.perf_counter()
                out = transcribers[c].transcribe_batch(windows)
                times[c].append(time.perf_counter() - t0)
                texts[c] = [_text(o) for o in out]
        base = statistics.median(times[30.0])
        rows = []
        for c in contexts:
            found = [categories(t) for t in texts[c]]
            spotted = sum(len(o & f) for o, f in zip(oracle, found, strict=True))
            rows.append(
                {
                    "context_s": c,
                    "wall_s": round(statistics.median(times[c]), 3),
                    "speedup": round(base / statistics.median(times[c]), 2),
                    "spotted": spotted,
                    "oracle": sum(len(o) for o in oracle),
                    "extra": sum(len(f - o) for o, f in zip(oracle, found, strict=True)),
                    "similarity": round(_similarity(lang, scripts, texts[c]), 3),
                    "lost": [
                        {"script": s, "transcript": t, "missing": sorted(o - f)}
                        for s, t, o, f in zip(scripts, texts[c], oracle, found, strict=True)
                        if o - f
                    ],
                }
            )
            print(f"  {c:>4} s: {rows[-1]['wall_s']} s, {rows[-1]['speedup']}x, spotted {spotted}/{rows[-1]['oracle']}")
        cut = _cut_case(lang, args.streams, contexts, transcribers, categories) if args.streams else None
        cases.append(
            {
                "language": lang,
                "windows": len(windows),
                "audio_s": round(speech_s, 1),
                "contexts": rows,
                "live_cut": cut,
            }
        )
    result = {
        "benchmark": "asr_context",
        "smoke": args.smoke,
        "model": args.model,
        "repeats": args.repeats,
        "cases": cases,
        "machine": host,
    }
    path = write_results(args.name, result, markdown(result), args.out)
    print(json.dumps({"written": str(path)}))
    return result


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [
        "# Whisper encoder input length on live-size windows",
        "",
        f"Model {result['model']}, batched transcriber, median of {result['repeats']} interleaved repeats. "
        "Windows of one or two spoken lines (≤ 10 s) from the readable text sets; Mandarin from recorded "
        "syllables (gcin-voice), English from espeak-ng. *Spotted*: lexicon categories found in the transcript "
        "that the matcher also finds in the script (the script is the oracle); *extra*: found only in the "
        "transcript. Similarity: characters (Mandarin) or 1 − WER (English) against the script.",
    ]
    for case in result["cases"]:
        lines += ["", f"## {case['language']}: {case['windows']} windows, {case['audio_s']} s of audio", ""]
        lines += md_table(
            ["encoder input s", "wall s", "speed-up", "spotted", "extra", "similarity"],
            [
                [
                    c["context_s"],
                    c["wall_s"],
                    f"{c['speedup']}×",
                    f"{c['spotted']}/{c['oracle']}",
                    c["extra"],
                    c["similarity"],
                ]
                for c in case["contexts"]
            ],
            "rrrrrr",
        )
        cut = case.get("live_cut")
        if cut:
            lines += [
                "",
                f"Cut as live audio ({cut['streams']} streams of a benign, a violating and a benign line; "
                f"{cut['windows']} windows of 6 s overlapping by 2 s, so a line may be split): the violating "
                f"line's categories ({cut['oracle']}) spotted in any window of its stream, and against 30 s: lost, "
                "gained, first spotted a window later / earlier.",
                "",
            ]
            lines += md_table(
                ["encoder input s", "spotted", "lost", "gained", "later", "earlier"],
                [
                    [
                        c["context_s"],
                        f"{c['spotted']}/{cut['oracle']}",
                        c["lost"],
                        c["gained"],
                        c["later"],
                        c["earlier"],
                    ]
                    for c in cut["contexts"]
                ],
                "rrrrrr",
            )
    lines += ["", "Machine:", "", *machine_markdown(result["machine"]), *smoke_note(result["smoke"])]
    return lines


if __name__ == "__main__":
    main()
