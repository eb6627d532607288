"""Throughput of KeywordMatcher on a generated zh+en corpus (MB/s of UTF-8 text, one core).

Why: every ASR segment, OCR line and chat message of every stream goes through the matcher, so it
must stay far from being the bottleneck (target ≥ 5 MB/s per core). The corpus is the benign test
corpus plus a small share of evasion variants, so both the no-hit fast path and hit resolution count.

    python benchmarks/text_matcher.py [--smoke] [--seconds 5]

Writes ``benchmarks/results/text_matcher.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "helpers")]

from text_corpus import benign_sentences  # noqa: E402
from text_evasion import en_variants, wrap, zh_variants  # noqa: E402

from benchmarks.common import machine, machine_markdown, timed_passes, write_results  # noqa: E402
from moderation.signals.chat import BATCH  # noqa: E402
from moderation.text.lexicon import Lexicon  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402


def build_corpus(lex: Lexicon, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    lines = benign_sentences()
    evasions = []
    for e in lex.entries:
        vs = zh_variants(e.term, True, rng) if e.lang == "zh" else en_variants(e.term, rng)
        evasions.append(wrap(rng.choice(vs), e.lang, rng))
    # ~5% of lines carry a (possibly disguised) term, like a busy but mostly benign stream
    return lines + rng.sample(evasions, min(len(evasions), len(lines) // 20))


def quality(matcher: KeywordMatcher, lex: Lexicon, seed: int = 1) -> dict[str, object]:
    """Recall over generated evasion variants of every term and false positives on the benign
    corpus, so a speed-up that loses either shows up next to its number (same rules as the tests)."""
    rng = random.Random(seed)
    pinyin_terms = {
        e.term
        for e in lex.entries
        if e.lang == "zh" and e.pinyin is not False and len(e.term) > 1 and all(c >= "\u3400" for c in e.term)
    }
    total = found = 0
    for e in lex.entries:
        vs = zh_variants(e.term, e.term in pinyin_terms, rng) if e.lang == "zh" else en_variants(e.term, rng)
        for v in vs:
            total += 1
            hits = matcher.match(wrap(v, e.lang, rng))
            found += any(h.term == e.term or h.category == e.category for h in hits)
    benign = benign_sentences()
    fps = sum(1 for s in benign if matcher.match(s))
    return {
        "evasion_variants": total,
        "evasion_recall": round(found / total, 4),
        "benign_sentences": len(benign),
        "benign_false_positives": fps,
    }


def run(seconds: float) -> dict[str, object]:
    info = machine()  # load average before the runs
    t0 = time.perf_counter()
    lex = Lexicon.load()
    matcher = KeywordMatcher(lex)
    build_s = time.perf_counter() - t0
    corpus = build_corpus(lex)
    nbytes = sum(len(s.encode("utf-8")) for s in corpus)
    nchars = sum(len(s) for s in corpus)
    hits = sum(len(matcher.match(s)) for s in corpus)  # warm-up (fills the per-character caches)
    # Each pass repeats every line of the last: the line cache is emptied first, so every line is
    # matched (the repeated-line speed is measured apart, with the cache kept).
    fresh = matcher.line_cache.clear
    passes, elapsed, cpu = timed_passes(lambda: [matcher.match(s) for s in corpus], seconds, fresh)
    # The same lines in batches of 64 (``match_many``, as the chat scan path matches them).
    batches = [corpus[i : i + BATCH] for i in range(0, len(corpus), BATCH)]
    for b in batches[:2]:
        matcher.match_many(b)
    bpasses, belapsed, bcpu = timed_passes(lambda: [matcher.match_many(b) for b in batches], seconds, fresh)
    rpasses, _, rcpu = timed_passes(lambda: [matcher.match_many(b) for b in batches], seconds)
    # Long texts (a whole transcript at once) exercise the same code without per-call overhead.
    blob = "\n".join(corpus)
    blob_times = []
    for _ in range(3):
        t1 = time.perf_counter()
        matcher.match(blob)
        blob_times.append(time.perf_counter() - t1)
    blob_times.sort()
    return {
        "lexicon_terms": lex.counts(),
        "automaton_build_s": round(build_s, 3),
        "corpus_lines": len(corpus),
        "corpus_bytes": nbytes,
        "corpus_chars": nchars,
        "hits_per_pass": hits,
        "passes": passes,
        "seconds": round(elapsed, 3),
        "mb_per_s_lines": round(nbytes * passes / elapsed / 1e6, 2),
        "mb_per_s_lines_cpu": round(nbytes * passes / cpu / 1e6, 2),
        "lines_per_s": round(len(corpus) * passes / elapsed),
        "batch": BATCH,
        "mb_per_s_batched": round(nbytes * bpasses / belapsed / 1e6, 2),
        "mb_per_s_batched_cpu": round(nbytes * bpasses / bcpu / 1e6, 2),
        "mb_per_s_batched_repeat_cpu": round(nbytes * rpasses / rcpu / 1e6, 2),
        "mb_per_s_single_text": round(len(blob.encode("utf-8")) / blob_times[1] / 1e6, 2),
        "quality": quality(matcher, lex),
        "machine": info,
    }


def write(result: dict[str, object], out_dir: Path) -> None:
    m = result["machine"]
    q = result["quality"]
    assert isinstance(m, dict) and isinstance(q, dict)
    md = [
        "# Text matcher throughput",
        "",
        "One thread (`KeywordMatcher.match`, and `match_many` on batches); wall-clock MB/s is the",
        "headline, CPU-time MB/s of the same thread is given too because the machine may be shared.",
        "",
        *machine_markdown(m),
        "",
        "| metric | value |",
        "|---|---|",
        f"| corpus | {result['corpus_lines']} lines, {result['corpus_bytes']} bytes UTF-8 (zh + en, ~5% evasive) |",
        f"| throughput, line by line (1 core, wall) | **{result['mb_per_s_lines']} MB/s**, "
        f"{result['lines_per_s']} lines/s |",
        f"| throughput, line by line (1 core, thread CPU time) | {result['mb_per_s_lines_cpu']} MB/s |",
        f"| throughput, batches of {result['batch']} (`match_many`; 1 core, wall / thread CPU time) | "
        f"{result['mb_per_s_batched']} / {result['mb_per_s_batched_cpu']} MB/s |",
        f"| the same, every line seen before (answered by the line cache; thread CPU time) | "
        f"{result['mb_per_s_batched_repeat_cpu']} MB/s |",
        f"| throughput, one long text (1 core, median of 3) | {result['mb_per_s_single_text']} MB/s |",
        f"| hits per pass | {result['hits_per_pass']} |",
        f"| evasion recall | {q['evasion_recall']:.2%} of {q['evasion_variants']} variants |",
        f"| false positives on benign sentences | {q['benign_false_positives']} of {q['benign_sentences']} |",
        f"| lexicon load + automaton build | {result['automaton_build_s']} s |",
        f"| terms | {result['lexicon_terms']} |",
        "",
        "Target: ≥ 5 MB/s per core.",
    ]
    write_results("text_matcher", result, md, out_dir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="run for ~0.5 s (CI check that it works)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    result = run(0.5 if args.smoke else args.seconds)
    write(result, args.out)
    keys = ("mb_per_s_lines", "mb_per_s_lines_cpu", "mb_per_s_batched_cpu", "mb_per_s_batched_repeat_cpu")
    keys += ("mb_per_s_single_text", "lines_per_s")
    keys += ("quality",)
    print(json.dumps({k: result[k] for k in keys}, ensure_ascii=False))


if __name__ == "__main__":
    main()
