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
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "text")]

from text_corpus import benign_sentences  # noqa: E402
from text_evasion import en_variants, wrap, zh_variants  # noqa: E402

from moderation.text.lexicon import Lexicon  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_corpus(lex: Lexicon, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    lines = benign_sentences()
    evasions = []
    for e in lex.entries:
        vs = zh_variants(e.term, True, rng) if e.lang == "zh" else en_variants(e.term, rng)
        evasions.append(wrap(rng.choice(vs), e.lang, rng))
    # ~5% of lines carry a (possibly disguised) term, like a busy but mostly benign stream
    return lines + rng.sample(evasions, min(len(evasions), len(lines) // 20))


def run(seconds: float) -> dict[str, object]:
    t0 = time.perf_counter()
    lex = Lexicon.load()
    matcher = KeywordMatcher(lex)
    build_s = time.perf_counter() - t0
    corpus = build_corpus(lex)
    nbytes = sum(len(s.encode("utf-8")) for s in corpus)
    nchars = sum(len(s) for s in corpus)
    hits = sum(len(matcher.match(s)) for s in corpus)  # warm-up (fills the per-character caches)
    passes, start = 0, time.perf_counter()
    while True:
        for s in corpus:
            matcher.match(s)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    # Long texts (a whole transcript at once) exercise the same code without per-call overhead.
    blob = "\n".join(corpus)
    t1 = time.perf_counter()
    matcher.match(blob)
    blob_s = time.perf_counter() - t1
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
        "lines_per_s": round(len(corpus) * passes / elapsed),
        "mb_per_s_single_text": round(len(blob.encode("utf-8")) / blob_s / 1e6, 2),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "single thread; the machine may be shared with other processes",
        },
    }


def write(result: dict[str, object], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "text_matcher.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    m = result["machine"]
    assert isinstance(m, dict)
    md = [
        "# Text matcher throughput",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']} ({m['note']}).",
        "",
        "| metric | value |",
        "|---|---|",
        f"| corpus | {result['corpus_lines']} lines, {result['corpus_bytes']} bytes UTF-8 (zh + en, ~5% evasive) |",
        f"| throughput, line by line (1 core) | **{result['mb_per_s_lines']} MB/s**, {result['lines_per_s']} lines/s |",
        f"| throughput, one long text (1 core) | {result['mb_per_s_single_text']} MB/s |",
        f"| hits per pass | {result['hits_per_pass']} |",
        f"| lexicon load + automaton build | {result['automaton_build_s']} s |",
        f"| terms | {result['lexicon_terms']} |",
        "",
        "Target: ≥ 5 MB/s per core.",
    ]
    (out_dir / "text_matcher.md").write_text("\n".join(md) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="run for ~0.5 s (CI check that it works)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    result = run(0.5 if args.smoke else args.seconds)
    write(result, args.out)
    print(json.dumps({k: result[k] for k in ("mb_per_s_lines", "mb_per_s_single_text", "lines_per_s")}))


if __name__ == "__main__":
    main()
