"""Live capacity: how many concurrent real-time streams one machine holds, ours vs the plain loop.

N generated recordings (``samples.py``: 720p / 25 fps H.264 + AAC, speech, overlays, motion) are
read at real-time pace, as a live origin would deliver them, for ``--duration`` media seconds each
(stream starts staggered over one second). N grows until the side falls behind; the largest N
held is reported with frame-arrival → result latency (p50/p95/p99), drops, CPU and peak memory.
Each (side, N) runs in a fresh subprocess, so memory and warm state do not leak between trials.

**Ours** (``live_trials.run_ours``): one :class:`moderation.pipeline.stream.StreamPipeline` per stream (the
same object ``moderation watch`` runs: LiveSource ingest thread with the evidence ring, drop-oldest
queues, frame and audio tasks, QR / synthetic checks, fusion, verdicts with clips), all in one
event loop and sharing one :class:`moderation.pipeline.clients.LocalClients` — a
:class:`moderation.infer.batcher.DynamicBatcher` per model family, so vision (NudeNet + open_nsfw
at 1 fps), OCR (at ``ocr.fps``) and Whisper (batched across streams, VAD first: only voiced audio
costs) are batched across streams. Latency is a frame's arrival (its packet read) → its inference
result in the pipeline (vision and, when the gate let it through, OCR); ``alert`` is the evidence
that made a violation known complete → verdict open in the fuser, split by what that evidence was
(:class:`moderation.pipeline.alerts.Alert`: the earliest of the violation's signals in the feed
that opened it): visual (OCR, QR, vision: the frame's arrival) and speech (the end of the offending
words, estimated within their Whisper segment; the latency from the first offending word's start is
reported beside it). Runs before this split classed an alert by its *first* evidence and timed it
from there, so a weak word that opened nothing, tipped by a caption ten seconds later, counted as
a ten-second speech alert; that figure is still reported (``speech_first_alert_latency_s``). All of
it is measured through the pipelines' observer hook (``live_trials.CapacityObserver``).

**Baseline** (``live_trials.run_baseline``): one thread per stream doing ``baseline.run_live_stream`` — the
plain synchronous loop (every frame decoded, 1 fps full-size BGR → NudeDetector, open_nsfw,
RapidOCR one image at a time; faster-whisper ``transcribe`` per 10 s chunk), models shared.

A side *holds* N streams when: dropped + unfinished items ≤ 1 % of what was sampled; the ingest
lag (wall time minus media time since the stream started; median of the last quarter of the run)
ends ≤ ``--max-lag`` seconds and did not
grow by more than ``--max-lag-growth`` from the first to the last quarter of the run; and the same
holds for each stream's frame arrival → result latency (a queue that grows without dropping is
falling behind too). For ours, whose transcripts run beside the frames, also: a window's transcript
comes back within ``--max-asr-lag`` of the window's end and that lag does not grow by more than
``--max-asr-lag-growth`` (all voiced audio transcribed in real time).

    python benchmarks/live_capacity.py [--smoke] [--duration 45] [--max-streams 24] [--out DIR]

Writes ``benchmarks/results/live_capacity.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import (  # noqa: E402
    json_trial,
    machine,
    machine_markdown,
    md_table,
    parser,
    require,
    smoke_note,
    write_results,
)
from live_trials import alert_latencies, run_baseline, run_ours  # noqa: E402
from samples import recordings  # noqa: E402

from moderation.config import load_pipeline  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Driver


def held(trial: dict[str, Any], args: argparse.Namespace) -> bool:
    """Kept up: few drops, and neither the ingest lag nor the result latency ended high or grew."""
    res = trial["result_lag"]
    return (
        not trial.get("errors")
        and trial["drop_rate"] <= 0.01
        and trial["final_lag_s"] <= args.max_lag
        and trial["lag_growth_s"] <= args.max_lag_growth
        and res["final_lag_s"] <= args.max_lag
        and res["lag_growth_s"] <= args.max_lag_growth
        and _asr_ok(trial, args)
    )


def _asr_ok(trial: dict[str, Any], args: argparse.Namespace) -> bool:
    """Ours only (the baseline transcribes inline, so falling behind shows in its ingest lag):
    transcripts come back within ``--max-asr-lag`` of their window's end and that lag does not grow."""
    a = trial.get("asr_lag")
    if not a or a.get("p50") is None:
        return True
    return bool(a["final_lag_s"] <= args.max_asr_lag and a["lag_growth_s"] <= args.max_asr_lag_growth)


def trial_cmd(args: argparse.Namespace, side: str, n: int) -> list[str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--trial",
        side,
        "--streams",
        str(n),
        "--duration",
        str(args.duration),
        "--drain-s",
        str(args.drain_s),
    ]
    if args.smoke:
        cmd.append("--smoke")
    if args.pipeline:
        cmd += ["--pipeline", args.pipeline]
    return cmd


def run_trial(args: argparse.Namespace, side: str, n: int) -> dict[str, Any]:
    trial = json_trial(trial_cmd(args, side, n), f"{side} N={n}", args.duration + args.drain_s + 300)
    trial["held"] = held(trial, args)
    print(
        f"{side:8s} N={n:3d} held={trial['held']!s:5s} drop={trial['drop_rate']:.3f} "
        f"lag={trial['final_lag_s']:.2f}s growth={trial['lag_growth_s']:.2f}s "
        f"p95={trial['frame_latency_s']['p95']} cpu={trial['cpu_cores_busy']} rss={trial['peak_rss_mib']}MiB",
        file=sys.stderr,
        flush=True,
    )
    return trial


def ramp(args: argparse.Namespace, side: str, start: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """Largest N held: grow geometrically until a failure (or, if ``start`` fails, halve until one
    is held), then bisect between the largest held and the smallest failed N."""
    trials: list[dict[str, Any]] = []
    best, failed, n = 0, None, start
    while 1 <= n <= limit:
        t = run_trial(args, side, n)
        trials.append(t)
        if t["held"]:
            best = n
            if failed is not None:
                break
            n = max(n + 1, int(n * args.growth))
        else:
            failed = n if failed is None else min(failed, n)
            if best:
                break
            n = n // 2
    if failed is not None and best > 0:
        lo, hi = best, failed
        while hi - lo > max(1, lo // 8):
            mid = (lo + hi) // 2
            t = run_trial(args, side, mid)
            trials.append(t)
            lo, hi = (mid, hi) if t["held"] else (lo, mid)
        best = lo
    return best, trials


def pooled(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The alerts of every trial at one N, pooled: how many trials held, and alert latencies."""
    alerts = [a for t in trials for a in t.get("alerts", [])]
    return {
        "trials": len(trials),
        "held": sum(1 for t in trials if t["held"]),
        **alert_latencies(alerts),
    }


def _pooled_line(o: dict[str, Any]) -> list[str]:
    p = o.get("pooled_at_best")
    if not p or p["trials"] < 2:
        return []
    return [
        f"Pooled over the {p['trials']} trials at N={o['max_streams_held']} ({p['held']} held): speech alert "
        f"p50 / p95 / p99 {_trio(p['speech_alert_latency_s'])} s over {p['speech_alert_latency_s']['n']} alerts "
        f"(by first evidence: {_trio(p['speech_first_alert_latency_s'])} s); visual "
        f"{_trio(p['visual_alert_latency_s'])} s over {p['visual_alert_latency_s']['n']}.",
        "",
    ]


def _trio(p: dict[str, Any] | None) -> str:
    p = p or {}
    return " / ".join("—" if p.get(k) is None else str(p[k]) for k in ("p50", "p95", "p99"))


def _best_row(name: str, side: dict[str, Any]) -> list[object]:
    t = side.get("best_trial")
    if t is None:
        return [name, 0, None, None, None, None, None, None]
    lat = t["frame_latency_s"]
    return [
        name,
        f"**{side['max_streams_held']}**",
        lat["p50"],
        lat["p95"],
        lat["p99"],
        f"{t['drop_rate'] * 100:.2f}%",
        t["cpu_cores_busy"],
        f"{t['peak_rss_mib']:.0f}",
    ]


def _trial_row(t: dict[str, Any]) -> list[object]:
    al, rl, load = t.get("asr_lag") or {}, t["result_lag"], t.get("load_avg_after")
    asr = (
        f"{al.get('p50')} / {al.get('p95')}, {al.get('final_lag_s')} / {al.get('lag_growth_s')}"
        if al.get("p50") is not None
        else None
    )
    return [
        t["side"],
        t["streams"],
        "yes" if t["held"] else "no",
        f"{t['drop_rate'] * 100:.2f}",
        f"{t['final_lag_s']:.2f} / {t['lag_growth_s']:.2f}",
        f"{rl['final_lag_s']:.2f} / {rl['lag_growth_s']:.2f}",
        _trio(t["frame_latency_s"]),
        f"{_trio(t.get('visual_alert_latency_s'))} · {_trio(t.get('speech_alert_latency_s'))}"
        f" ({_trio(t.get('speech_alert_from_start_s'))}; by first evidence p95 "
        f"{(t.get('speech_first_alert_latency_s') or {}).get('p95', '—')})",
        asr,
        t["cpu_cores_busy"],
        f"{t['peak_rss_mib']:.0f}",
        f"{load[0]:.1f}" if load else None,
    ]


def _file_settings(pipeline: str | None) -> dict[str, Any] | None:
    """What a pipeline file given by path sets (None for a preset by name): a variant's result
    must say what it varied."""
    if not pipeline or not Path(pipeline).is_file():
        return None
    import yaml

    data = yaml.safe_load(Path(pipeline).read_text(encoding="utf-8")) or {}
    return {k: v for k, v in data.items() if k != "name"} if isinstance(data, dict) else None


def _pipeline_words(r: dict[str, Any]) -> str:
    """ "default pipeline", or the preset's name and what a file changed."""
    name = r.get("pipeline", "default")
    settings = r.get("pipeline_settings")
    words = f"{name} pipeline" if name else "pipeline"
    if settings:
        words += " (" + json.dumps(settings, ensure_ascii=False, separators=(", ", ": ")) + " over the defaults)"
    return words


def markdown(r: dict[str, Any]) -> list[str]:
    o = r["ours"]
    best = o.get("best_trial") or {}
    return [
        "# Live capacity: concurrent real-time streams held",
        "",
        f"Streams: generated {r['recordings']} recordings read at real-time pace, {r['duration_s']:g} media s each, "
        f"{_pipeline_words(r)} (vision {r['vision_fps']:g} fps, OCR gated ≤ {r['ocr_fps']:g} fps, ASR "
        f"{r['asr_model']} on voiced audio). Held = drops + unfinished ≤ 1 %, ingest lag ends ≤ {r['max_lag']:g} s "
        f"and grows ≤ {r['max_lag_growth']:g} s (also the frame → result latency); ours also: window end → "
        f"transcript ends ≤ {r.get('max_asr_lag', '—')} s and grows ≤ {r.get('max_asr_lag_growth', '—')} s. "
        "Each trial in a fresh process.",
        "",
        *md_table(
            ["side", "streams held", "frame→result p50 s", "p95 s", "p99 s", "drops", "CPU cores busy", "peak RSS MiB"],
            [
                _best_row("ours (shared batchers)", o),
                _best_row("baseline (thread per stream, plain loop)", r["baseline"]),
            ],
            "lrrrrrrr",
        ),
        "",
        f"**Ratio: {r['ratio']}×** streams held (target ≥ 3×); the plain loop at N=1 processed "
        f"{r.get('baseline_realtime_streams_at_1')} streams' worth of real time (ours held / that: "
        f"{r.get('ratio_vs_baseline_realtime')}×). Ours at its largest N: frame → vision result p95 "
        f"{best.get('frame_latency_s', {}).get('p95')} s; the visual evidence that made it known → violation "
        f"known (alert, from the preview fuser) p95 {(best.get('visual_alert_latency_s') or {}).get('p95')} s "
        "(target ≤ 2 s); end of "
        f"the offending words → speech violation known p95 {(best.get('speech_alert_latency_s') or {}).get('p95')} s "
        f"(target ≤ 8 s; from the first offending word's start: "
        f"{(best.get('speech_alert_from_start_s') or {}).get('p95')} s; alerts classed and timed by their first "
        f"evidence instead, as before: {(best.get('speech_first_alert_latency_s') or {}).get('p95')} s).",
        "",
        *_pooled_line(o),
        "All trials:",
        "",
        *md_table(
            [
                "side",
                "N",
                "held",
                "drop %",
                "ingest lag end / growth s",
                "result lag end / growth s",
                "frame→result p50 / p95 / p99 s",
                "alert p50 / p95 / p99 s, visual · speech (from the words' start; by first evidence)",
                "window end→transcript p50 / p95, end / growth s",
                "CPU cores",
                "RSS MiB",
                "load after",
            ],
            [_trial_row(t) for t in r["trials"]],
            "lrlrlllllrrr",
        ),
        "",
        "Machine:",
        "",
        *machine_markdown(r["machine"]),
        *smoke_note(bool(r.get("smoke"))),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, "live_capacity", "3 s of 320x180, N=1 and 2 (ours), N=1 (baseline)", pipeline=True)
    ap.add_argument("--duration", type=float, default=45.0, help="media seconds per stream per trial")
    ap.add_argument("--recordings", type=int, default=6, help="distinct generated files (streams cycle them)")
    ap.add_argument("--start", type=int, default=4, help="first N for ours (the baseline starts at 1)")
    ap.add_argument("--max-streams", type=int, default=48)
    ap.add_argument("--growth", type=float, default=1.5, help="N grows by this factor while held")
    ap.add_argument("--max-lag", type=float, default=3.0)
    ap.add_argument("--max-lag-growth", type=float, default=1.5)
    ap.add_argument("--max-asr-lag", type=float, default=10.0, help="ours: window end → transcript, s")
    ap.add_argument("--max-asr-lag-growth", type=float, default=3.0)
    ap.add_argument("--drain-s", type=float, default=15.0, help="grace after the last media second for results")
    ap.add_argument("--sides", default="ours,baseline")
    ap.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="ours: this many more trials at the largest N held, their alerts pooled with its own "
        "(a 45 s trial holds one spoken violation per stream: a p95 over a few alerts is their maximum)",
    )
    ap.add_argument("--trial", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--streams", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    require(ap, args, duration="positive", recordings="count", start="count", max_streams="count", streams="count")
    require(ap, args, growth="growth")
    if args.smoke:
        args.duration, args.recordings, args.drain_s = 3.0, 1, 10.0
    size = (320, 180) if args.smoke else (1280, 720)
    cfg = load_pipeline(args.pipeline)
    if args.smoke:
        cfg = cfg.model_copy(update={"asr": cfg.asr.model_copy(update={"model": "whisper-tiny-en"})})

    if args.trial:
        recs = recordings(
            args.recordings, duration=7.0 if args.smoke else 60.0, width=size[0], height=size[1], smoke=args.smoke
        )
        paths = [r.path for r in recs]
        trial = run_ours(args, cfg, paths) if args.trial == "ours" else run_baseline(args, cfg, paths)
        print(json.dumps(trial))
        return 0

    m = machine()
    recordings(
        args.recordings, duration=7.0 if args.smoke else 60.0, width=size[0], height=size[1], smoke=args.smoke
    )  # generate before any timing
    sides = args.sides.split(",")
    result: dict[str, Any] = {
        "benchmark": "live_capacity",
        "smoke": args.smoke,
        "machine": m,
        "duration_s": args.duration,
        "recordings": f"{args.recordings} × {size[0]}x{size[1]} 25 fps H.264 + AAC",
        "vision_fps": cfg.sampling.fps,
        "ocr_fps": cfg.ocr.fps,
        "asr_model": cfg.asr.model,
        "pipeline": cfg.name,
        "pipeline_settings": _file_settings(args.pipeline),
        "max_lag": args.max_lag,
        "max_lag_growth": args.max_lag_growth,
        "max_asr_lag": args.max_asr_lag,
        "max_asr_lag_growth": args.max_asr_lag_growth,
        "trials": [],
        "harness": "ours: moderation.live.StreamPipeline per stream, one LocalClients (DynamicBatcher per model "
        "family) shared by all; baseline: benchmarks/baseline.py run_live_stream, one thread per stream",
    }
    for side in ("baseline", "ours"):
        if side not in sides:
            result[side] = {"max_streams_held": None, "best_trial": None}
            continue
        if args.smoke:
            ns = [1, 2] if side == "ours" else [1]
            trials = [run_trial(args, side, n) for n in ns]
            best = max([t["streams"] for t in trials if t["held"]], default=0)
        else:
            best, trials = ramp(args, side, args.start if side == "ours" else 1, args.max_streams)
            if side == "ours" and best:
                trials += [run_trial(args, side, best) for _ in range(args.repeat)]
        result["trials"] += trials
        held_trials = [t for t in trials if t["held"] and t["streams"] == best]
        result[side] = {"max_streams_held": best, "best_trial": held_trials[-1] if held_trials else None}
        if side == "ours" and best:
            result[side]["pooled_at_best"] = pooled([t for t in trials if t["streams"] == best])
    ob, bb = result["ours"]["max_streams_held"], result["baseline"]["max_streams_held"]
    result["ratio"] = round(ob / bb, 2) if ob and bb else None
    # When the plain loop cannot hold even one stream, compare with the real time it did manage at N=1
    one = [t for t in result["trials"] if t["side"] == "baseline" and t["streams"] == 1]
    rt1 = one[0].get("realtime_streams") if one else None
    result["baseline_realtime_streams_at_1"] = rt1
    result["ratio_vs_baseline_realtime"] = round(ob / rt1, 2) if ob and rt1 else None
    path = write_results(args.name, result, markdown(result), args.out)
    print("\n".join(markdown(result)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
