"""ASR throughput: Whisper batched across streams vs. sequential faster-whisper, same windows.

Why: batching Whisper windows across streams is half of the performance core (DESIGN.md §7).
The baseline is what a user would otherwise write: faster-whisper's ``WhisperModel.transcribe``
called once per window (VAD on, ``condition_on_previous_text=False``, same model, beam, compute
type and device). The batched side is :class:`moderation.infer.asr_batch.BatchedTranscriber`.
Both get the SAME windows (espeak-ng speech, 10-30 s each, one window per "stream"), in the same
process, interleaved run by run (seq, batched, batched, seq, ...) so machine noise hits both; the
median of the repeats is reported, and the word error rate between the two transcripts shows
that the speed was not bought with different text.

Throughput is audio seconds per wall second (= real-time streams one process keeps up with, if
all their audio were speech).

    python benchmarks/asr.py [--smoke] [--models whisper-base,whisper-tiny-en] [--windows 16]
                             [--device cuda --compute-type float16]

Writes ``benchmarks/results/asr.{json,md}`` (``--out DIR``, ``--name NAME`` to change).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import RESULTS, machine, machine_markdown, write_results  # noqa: E402

from moderation.config import AsrConfig  # noqa: E402
from moderation.infer.asr_batch import BatchedTranscriber  # noqa: E402
from moderation.infer.registry import Registry  # noqa: E402
from moderation.messages import AudioWindow  # noqa: E402

SR = 16000
#: faster-whisper's default temperature schedule (``WhisperModel.transcribe(temperature=...)``).
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SIDES = ("sequential", "sequential_t0", "batched", "pipeline_clips", "pipeline_per_window")
SENTENCES = (
    "place your bets now at the online casino and win big money tonight",
    "the weather today is sunny with a light breeze from the west",
    "click the link in my profile to get your free red envelope bonus",
    "welcome back everyone to my live stream, today we are cooking pasta",
    "add me on wechat for a private chat and a special discount",
    "send me a rocket gift and I will read your name on stream",
    "this game is rigged, everybody deposit now before the odds change",
    "thank you so much for the follow, please share the stream with friends",
    "the train leaves at seven in the morning from the central station",
    "my cat is sleeping on the keyboard again, give me a second",
)


@cache
def _speech(sentence: str, wpm: int) -> np.ndarray:
    from moderation.samplegen import speak

    return speak(sentence, speed_wpm=wpm)


def make_windows(n: int, min_s: float, max_s: float, seed: int = 7) -> list[AudioWindow]:
    """``n`` windows of espeak speech (sentences, short pauses) from ``n`` different streams."""
    rng = random.Random(seed)
    windows = []
    for i in range(n):
        target = rng.uniform(min_s, max_s)
        parts = [np.zeros(int(SR * rng.uniform(0.2, 1.5)), np.float32)]
        total = parts[0].size
        while total < target * SR:
            pcm = _speech(rng.choice(SENTENCES), rng.choice((130, 150, 170)))
            gap = np.zeros(int(SR * rng.uniform(0.3, 1.0)), np.float32)
            parts += [pcm, gap]
            total += pcm.size + gap.size
        audio = np.concatenate(parts)[: int(target * SR)]
        windows.append(AudioWindow(f"stream-{i:03d}", round(rng.uniform(0, 3600), 2), audio))
    return windows


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def wer(refs: list[str], hyps: list[str]) -> float:
    """Corpus word error rate of ``hyps`` against ``refs`` (word-level Levenshtein)."""
    errors = total = 0
    for r_text, h_text in zip(refs, hyps, strict=True):
        ref, hyp = _words(r_text), _words(h_text)
        row = list(range(len(hyp) + 1))
        for i, r in enumerate(ref, 1):
            diag, row[0] = row[0], i
            for j, h in enumerate(hyp, 1):
                diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
        errors += row[len(hyp)]
        total += len(ref)
    return errors / max(1, total)


def run_case(
    model_id: str, language: str | None, args: argparse.Namespace, windows: list[AudioWindow]
) -> dict[str, Any]:
    """Sequential vs batched on ``windows`` for one model; both measured in this process."""
    from faster_whisper import WhisperModel

    path = Registry.load().resolve(model_id).path
    cores = os.cpu_count() or 1
    seq_threads = args.cpu_threads or cores
    seq_model = WhisperModel(
        str(path), device=args.device, compute_type=args.compute_type, cpu_threads=seq_threads, local_files_only=True
    )
    cfg = AsrConfig(model=model_id, language=language, beam_size=args.beam, compute_type=args.compute_type)
    batched = BatchedTranscriber(
        path,
        cfg,
        model_id=model_id,
        device=args.device,
        compute_type=args.compute_type,
        max_batch=args.max_batch,
        workers=args.workers or None,
        bucket_s=args.bucket_s,
        rest_bucket_s=args.rest_bucket_s,
    )

    def sequential(temperature: float | tuple[float, ...]) -> list[str]:
        out = []
        for w in windows:
            segs, _ = seq_model.transcribe(
                w.samples,
                language=language,
                beam_size=args.beam,
                vad_filter=True,
                condition_on_previous_text=False,
                temperature=temperature,
            )
            out.append(" ".join(s.text.strip() for s in segs))
        return out

    def batch() -> list[str]:
        results = batched.transcribe_batch(windows)
        bad = [r for r in results if isinstance(r, Exception)]
        if bad:
            raise RuntimeError(f"batched transcription failed: {bad[0]}")
        return [" ".join(s.text for s in r) for r in results if isinstance(r, list)]

    from faster_whisper import BatchedInferencePipeline

    pipe = BatchedInferencePipeline(seq_model)
    # The library batches the chunks of ONE audio. To batch across streams it is given all windows
    # back to back with one clip per window (clip_timestamps: no chunk mixes two streams; its VAD
    # is then off, so it decodes the windows' silence too). Its own defaults otherwise: text
    # tokens only (no timestamps), the first temperature only.
    starts = np.cumsum([0] + [w.samples.size for w in windows]) / SR
    concat = np.concatenate([w.samples for w in windows]).astype(np.float32)
    clips = [{"start": float(a), "end": float(b)} for a, b in itertools.pairwise(starts)]

    def pipeline_clips() -> list[str]:
        segs, _ = pipe.transcribe(
            concat,
            language=language,
            beam_size=args.beam,
            clip_timestamps=clips,
            batch_size=args.max_batch,
            temperature=0.0,
        )
        out: list[list[str]] = [[] for _ in windows]
        for s in segs:
            out[int(np.searchsorted(starts, s.start + 1e-3, side="right")) - 1].append(s.text.strip())
        return [" ".join(t) for t in out]

    def pipeline_per_window() -> list[str]:
        out = []
        for w in windows:
            segs, _ = pipe.transcribe(
                w.samples,
                language=language,
                beam_size=args.beam,
                vad_filter=True,
                batch_size=args.max_batch,
                temperature=0.0,
            )
            out.append(" ".join(s.text.strip() for s in segs))
        return out

    runners: dict[str, Callable[[], list[str]]] = {
        # faster-whisper's defaults: on a poor decode, re-decode at T = 0.2 ... 1.0 with best_of=5 sampling
        "sequential": lambda: sequential(FALLBACK_TEMPERATURES),
        # like-for-like with the batched path, which decodes once at T = 0 (greedy/beam, no fallback)
        "sequential_t0": lambda: sequential(0.0),
        "batched": batch,
        "pipeline_clips": pipeline_clips,
        "pipeline_per_window": pipeline_per_window,
    }
    if args.no_defaults:
        del runners["sequential"]
    if not args.smoke:  # warm-up: load both models, VAD, first allocations
        list(seq_model.transcribe(windows[0].samples, language=language, beam_size=args.beam, vad_filter=True)[0])
        batched.transcribe_batch(windows[: min(4, len(windows))])
    times: dict[str, list[float]] = {k: [] for k in runners}
    cpu: dict[str, list[float]] = {k: [] for k in runners}
    loads: list[float] = []
    texts: dict[str, list[str]] = {}
    names = list(runners)
    for r in range(args.repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:  # rotate the order: noise hits every side
            t0, c0 = time.perf_counter(), time.process_time()
            texts[name] = runners[name]()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            loads.append(os.getloadavg()[0])
        print(f"  {model_id} repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    audio_s = sum(w.samples.size for w in windows) / SR
    med = {k: statistics.median(v) for k, v in times.items()}

    def side(name: str, **extra: Any) -> dict[str, Any]:
        return {
            **extra,
            "median_s": round(med[name], 3),
            "times_s": [round(t, 3) for t in times[name]],
            "audio_s_per_s": round(audio_s / med[name], 2),
            "cpu_s": round(statistics.median(cpu[name]), 3),
        }

    st = batched.last_stats

    def vs(base: str, other: str) -> dict[str, Any]:
        """``base`` time / ``other`` time: the median, per repeat, and WER of ``other`` against ``base``."""
        return {
            "ratio": round(med[base] / med[other], 2),
            "per_repeat": [round(a / b, 2) for a, b in zip(times[base], times[other], strict=True)],
            "wer": round(wer(texts[base], texts[other]), 4),
        }

    has_defaults = "sequential" in runners
    return {
        "model": model_id,
        "language": language or "auto",
        "beam_size": args.beam,
        "compute_type": args.compute_type,
        "device": args.device,
        "windows": len(windows),
        "audio_s": round(audio_s, 1),
        "voiced_s": round(st.voiced_s, 1),
        **(
            {"sequential": side("sequential", cpu_threads=seq_threads, temperature=list(FALLBACK_TEMPERATURES))}
            if has_defaults
            else {}
        ),
        "sequential_t0": side("sequential_t0", cpu_threads=seq_threads, temperature=[0.0]),
        "batched": side(
            "batched",
            workers=batched.workers,
            cpu_threads_per_worker=batched.cpu_threads,
            max_batch=batched.max_batch,
            encode_batch=batched.encode_batch,
            bucket_s=batched.bucket_s,
            rest_bucket_s=batched.rest_bucket_s,
            min_rest_s=batched.min_rest_s,
            last_run={
                "decode_batches": st.decode_batches,
                "generate_calls": st.generate_calls,
                "rounds": st.rounds,
                "rests_decoded": st.rests,
                "rests_skipped": st.rests_skipped,
                "vad_s": round(st.vad_s, 3),
                "features_s": round(st.features_s, 3),
                "encode_thread_s": round(st.encode_s, 3),
                "generate_thread_s": round(st.generate_s, 3),
            },
        ),
        "pipeline_clips": side("pipeline_clips", batch_size=args.max_batch, vad=False, timestamps=False),
        "pipeline_per_window": side("pipeline_per_window", batch_size=args.max_batch, vad=True, timestamps=False),
        "batched_vs_t0": vs("sequential_t0", "batched"),
        "pipeline_clips_vs_t0": vs("sequential_t0", "pipeline_clips"),
        "pipeline_per_window_vs_t0": vs("sequential_t0", "pipeline_per_window"),
        "batched_vs_pipeline_clips": round(med["pipeline_clips"] / med["batched"], 2),
        "load_avg_1min_during": [round(min(loads), 2), round(max(loads), 2)],
        # kept under their old names, so older result files compare
        "ratio": round(med["sequential"] / med["batched"], 2) if has_defaults else None,
        "ratio_vs_t0": round(med["sequential_t0"] / med["batched"], 2),
        "wer_batched_vs_sequential": round(wer(texts["sequential"], texts["batched"]), 4) if has_defaults else None,
        "wer_batched_vs_sequential_t0": round(wer(texts["sequential_t0"], texts["batched"]), 4),
    }


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [
        "# ASR throughput: batched across streams vs sequential faster-whisper",
        "",
        f"{result['cases'][0]['windows']} windows of {result['window_s'][0]}-{result['window_s'][1]} s espeak-ng "
        f"speech, one per stream; VAD on; median of {result['repeats']} interleaved repeats"
        f"{'' if result.get('smoke') else ' after a warm-up'}. "
        "Throughput = audio seconds per wall second.",
        "",
        "| model | language | audio s | sequential, defaults | sequential, T=0 | **batched (ours)** "
        "| pipeline, clips | pipeline, per window | ours ÷ T=0 | clips ÷ T=0 | per window ÷ T=0 "
        "| ours ÷ clips | WER ours | WER clips | load (1 min) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in result["cases"]:
        seq = c.get("sequential")
        load = c["load_avg_1min_during"]
        lines.append(
            f"| {c['model']} | {c['language']} | {c['audio_s']} | {seq['audio_s_per_s'] if seq else '-'} "
            f"| {c['sequential_t0']['audio_s_per_s']} | **{c['batched']['audio_s_per_s']}** "
            f"| {c['pipeline_clips']['audio_s_per_s']} | {c['pipeline_per_window']['audio_s_per_s']} "
            f"| **{c['batched_vs_t0']['ratio']}×** {c['batched_vs_t0']['per_repeat']} "
            f"| {c['pipeline_clips_vs_t0']['ratio']}× | {c['pipeline_per_window_vs_t0']['ratio']}× "
            f"| {c['batched_vs_pipeline_clips']}× | {c['batched_vs_t0']['wer']:.2%} "
            f"| {c['pipeline_clips_vs_t0']['wer']:.2%} | {load[0]}-{load[1]} |"
        )
    for c in result["cases"]:
        b = c["batched"]
        lines.append(
            f"\n{c['model']}: beam {c['beam_size']}, {c['compute_type']} on {c['device']}; ours runs "
            f"{b['workers']} replicas × {b['cpu_threads_per_worker']} threads, the sequential loop and the "
            f"pipeline one model × {c['sequential_t0']['cpu_threads']} threads. CPU seconds (process, median): "
            + ", ".join(f"{k} {c[k]['cpu_s']}" for k in SIDES if k in c)
            + "."
        )
    lines += [
        "",
        "Sequential: `WhisperModel.transcribe` per window, one model with all cores as intra-op threads; "
        "*defaults* re-decodes a poor result at temperatures 0.2-1.0 with best_of=5 sampling (what a plain "
        "loop gets), *T=0 only* decodes once like the batched path, so **ratio vs T=0** is the like-for-like "
        "number. Batched (ours): `BatchedTranscriber.transcribe_batch` on all windows at once (VAD, "
        "timestamps, per-stream language). *Pipeline*: faster-whisper's own `BatchedInferencePipeline` on the "
        "same model, T=0, its defaults (text tokens only, no timestamps inside a chunk): *clips* gets all "
        "windows back to back with one `clip_timestamps` clip per window, so it batches across streams without "
        "mixing them (its VAD is then off); *per window* is one `transcribe(vad_filter=True)` call per window "
        "(it can batch only the chunks of one window). Ratios are median times; the list is per repeat. "
        "WER is against the sequential T=0 text. Load: the 1-minute load average seen between sides, lowest-"
        "highest (2 cores: above 2 the sides share the cores with other work, and wall-time ratios are noisy).",
        "",
        "Machine:",
        "",
        *machine_markdown(result["machine"]),
    ]
    cores = result["machine"].get("cores_usable") or os.cpu_count() or 1
    worst = max(c["load_avg_1min_during"][1] for c in result["cases"])
    if worst > cores:
        lines[1:1] = [
            "",
            f"**Measured under load**: the 1-minute load average reached {worst} on {cores} cores during the "
            "run, so every side shared the cores with other work; the ratios are noisy and not comparable "
            "with a quiet run.",
        ]
    if result.get("smoke"):
        lines += ["", "**Smoke run** (two short windows, a check that the benchmark works; not a measurement)."]
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny.en, two ~4 s windows, one repeat: seconds, for CI")
    ap.add_argument("--models", default="whisper-base,whisper-tiny-en", help="registry ids, comma-separated")
    ap.add_argument("--language", default=None, help="force a language (default: detect; 'en' for *.en models)")
    ap.add_argument("--windows", type=int, default=16, help="windows (= streams) per batch")
    ap.add_argument("--min-s", type=float, default=10.0)
    ap.add_argument("--max-s", type=float, default=30.0)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--cpu-threads", type=int, default=0, help="sequential baseline threads (0: all cores)")
    ap.add_argument("--workers", type=int, default=0, help="batched replicas (0: cores on CPU, 1 on CUDA)")
    ap.add_argument("--max-batch", type=int, default=64)
    ap.add_argument("--bucket-s", type=float, default=None, help="shorter encoder input (changes text; see docs)")
    ap.add_argument(
        "--rest-bucket-s", type=float, default=None, help="shorter encoder input for left-over rests only (see docs)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-defaults", action="store_true", help="skip the sequential run at default temperatures")
    ap.add_argument("--name", default="asr", help="result file name (without extension)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    if args.smoke:
        args.models, args.windows, args.min_s, args.max_s, args.repeats = "whisper-tiny-en", 2, 3.0, 5.0, 1
    host = machine(device=args.device)  # before the runs: its load average is what they started under
    windows = make_windows(args.windows, args.min_s, args.max_s)
    cases = []
    for model_id in [m.strip() for m in args.models.split(",") if m.strip()]:
        language = args.language or ("en" if model_id.endswith("-en") else None)
        print(f"{model_id}: {len(windows)} windows, {sum(w.samples.size for w in windows) / SR:.0f} s of audio")
        cases.append(run_case(model_id, language, args, windows))
    result = {
        "benchmark": "asr",
        "smoke": args.smoke,
        "window_s": [args.min_s, args.max_s],
        "repeats": args.repeats,
        "cases": cases,
        "machine": host,
    }
    path = write_results(args.name, result, markdown(result), args.out)
    for c in cases:
        print(
            f"{c['model']}: T=0 loop {c['sequential_t0']['audio_s_per_s']}, ours {c['batched']['audio_s_per_s']}, "
            f"pipeline clips {c['pipeline_clips']['audio_s_per_s']}, per window "
            f"{c['pipeline_per_window']['audio_s_per_s']} audio-s/s; ours {c['batched_vs_t0']['ratio']}× the loop "
            f"(WER {c['batched_vs_t0']['wer']:.2%}), {c['batched_vs_pipeline_clips']}× the pipeline"
        )
    print(json.dumps({"written": str(path)}))
    return result


if __name__ == "__main__":
    main()
