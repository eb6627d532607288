"""Node scale: the CPU cost per live stream of everything but the models, and what a GPU node's CPUs feed.

The full live pipeline of ``live_capacity.py`` (``live_trials.run_ours``: one
:class:`moderation.pipeline.stream.StreamPipeline` per stream — real PyAV demux and decode of
generated H.264 + AAC files read at real-time pace, 1 fps vision sampling, the OCR gate, QR
decoding, captions, loop hashes, fusion, the evidence ring, verdicts — all streams in one event
loop sharing one :class:`moderation.pipeline.clients.LocalClients`) with the MODEL CALLS replaced by
a stand-in accelerator (``node_standin.py``): the pipeline's own batchers call a batch function
that sleeps as an accelerator call would (``fixed + per item``, per family, ``--latency``) and
returns empty results. Run at 720p and 1080p.

CPU per stage is measured with ``time.thread_time`` in the threads that do the work (exclusive
nesting; coroutines step by step) and, for libavcodec's own decoder threads, from
``/proc/self/task/<tid>/stat``: see ``node_standin.py``. Per stage, CPU seconds per stream-second
(= cores per stream). The largest N held in real time on this machine uses live_capacity's rule
(drops + unfinished ≤ 1 %, ingest and result lag end ≤ ``--max-lag`` and do not grow by more than
``--max-lag-growth``). The projection to a node is ``--node-cores`` / cores per stream.

    python benchmarks/node_scale.py [--smoke] [--duration 30] [--latency vision=3+0.45,...]

Writes ``benchmarks/results/node_scale.{json,md}`` (markdown: ``node_scale_report.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import cpu_s, json_trial, machine, parser, require, write_results  # noqa: E402
from live_capacity import held  # noqa: E402
from node_scale_report import markdown  # noqa: E402
from node_standin import (  # noqa: E402
    CALIBRATION,
    SETUP,
    StageMeter,
    TaskSampler,
    instrument,
    parse_latency,
    single_thread_decode,
    standin_families,
)
from samples import recordings  # noqa: E402

from moderation.config import load_pipeline  # noqa: E402

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
BENCH_ONLY = "benchmark observer (not product)"
OPTIONS = {"single_thread_decode": "st", "keyframes_only": "kf", "cpu_preprocess": "pre", "per_packet_reads": "pp"}


# ---------------------------------------------------------------------------------------------
# One trial (fresh process)


def run_trial(args: argparse.Namespace) -> dict[str, Any]:
    import live_trials

    import moderation.config as mconfig
    import moderation.pipeline.clients as mclients
    import moderation.pipeline.status
    import moderation.pipeline.stream  # noqa: F401  (imported before the CPU is counted)

    cfg = load_pipeline(args.pipeline)
    latency = parse_latency(args.latency)
    meter = StageMeter()
    instrument(meter)
    fams = standin_families(cfg, latency, meter, args.cpu_preprocess)

    class StandInClients(mclients.LocalClients):
        def __init__(self, c: Any, *a: Any, **k: Any) -> None:
            super().__init__(c, families=fams, **k)  # type: ignore[arg-type]

    mclients.LocalClients = StandInClients  # type: ignore[misc]
    if args.single_thread_decode:
        single_thread_decode()
    source_update: dict[str, Any] = {}
    if args.keyframes_only:
        source_update["keyframes_only"] = True
    if args.per_packet_reads:
        source_update["read_batch_s"] = 0.0
    if source_update:
        base = mconfig.source_config
        mconfig.source_config = lambda c: base(c).model_copy(update=source_update)  # type: ignore[assignment]

    class MeteredObserver(live_trials.CapacityObserver):
        pass

    for name in ("on_frame", "on_frame_batch", "on_audio_window", "on_verdict", "on_alert"):
        setattr(MeteredObserver, name, meter.wrap(getattr(live_trials.CapacityObserver, name), BENCH_ONLY))
    live_trials.CapacityObserver = MeteredObserver  # type: ignore[misc]

    w, h = (320, 180) if args.smoke else RESOLUTIONS[args.resolution]
    recs = recordings(args.recordings, duration=args.file_s, width=w, height=h, smoke=args.smoke, gop_s=args.gop_s)
    sampler = TaskSampler()
    sampler.start()
    c0, main0 = cpu_s(), time.thread_time()
    trial = live_trials.run_ours(args, cfg, [r.path for r in recs])
    main_total = time.thread_time() - main0
    process = cpu_s() - c0
    native = sampler.stop()
    stages = dict(meter.cpu)
    stages["event loop: scheduling, queues, ticks, status (rest of the loop thread)"] = main_total - sum(
        meter.main_cpu.values()
    )
    # libavcodec names its frame threads "av:<codec>:..." (FFmpeg ≥ 6.1); other native threads
    # (OpenCV's pool, older FFmpeg builds' unnamed threads, which inherit "python") by name
    decoder = sum(v for k, v in native.items() if k.startswith("av:"))
    stages["libavcodec decoder threads"] = decoder
    for k, v in native.items():
        if not k.startswith("av:"):
            stages[f"native threads named {k!r}"] = v
    others = {k: round(v, 3) for k, v in native.items()}
    # every thread's share: the loop thread whole, the stages charged elsewhere, the decoder threads
    accounted = main_total + sum(v - meter.main_cpu.get(k, 0.0) for k, v in meter.cpu.items()) + sum(native.values())
    stages["unattributed (other threads, meter overhead)"] = max(0.0, process - accounted)
    stream_s = args.streams * args.duration
    product = {k: v for k, v in stages.items() if k not in (BENCH_ONLY, SETUP)}
    trial.update(
        resolution=args.resolution,
        keyframes_only=args.keyframes_only,
        cpu_preprocess=args.cpu_preprocess,
        single_thread_decode=args.single_thread_decode,
        per_packet_reads=args.per_packet_reads,
        stream_s=stream_s,
        process_cpu_s=round(process, 3),
        main_thread_cpu_s=round(main_total, 3),
        stage_cpu_s={k: round(v, 3) for k, v in sorted(stages.items(), key=lambda kv: -kv[1])},
        cores_per_stream={k: round(v / stream_s, 5) for k, v in sorted(product.items(), key=lambda kv: -kv[1])},
        cores_per_stream_total=round(sum(product.values()) / stream_s, 5),
        loop_cores_per_stream=round(
            (main_total - meter.main_cpu.get(BENCH_ONLY, 0.0) - meter.main_cpu.get(SETUP, 0.0)) / stream_s, 5
        ),
        setup_cpu_s_per_stream=round(stages.get(SETUP, 0.0) / args.streams, 3),
        native_threads_cpu_s=others,
        latency_model=latency,
    )
    return trial


# ---------------------------------------------------------------------------------------------
# Driver


def trial_cmd(
    args: argparse.Namespace,
    res: str,
    n: int,
    *,
    kf: bool = False,
    pre: bool = False,
    st: bool = False,
    pp: bool = False,
) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--trial", "--resolution", res, "--streams", str(n)]
    cmd += ["--duration", str(args.duration), "--drain-s", str(args.drain_s), "--recordings", str(args.recordings)]
    cmd += ["--file-s", str(args.file_s), "--gop-s", str(args.gop_s)]
    if args.latency:
        cmd += ["--latency", args.latency]
    if args.pipeline:
        cmd += ["--pipeline", args.pipeline]
    cmd += (
        ["--smoke"] * args.smoke
        + ["--keyframes-only"] * kf
        + ["--cpu-preprocess"] * pre
        + ["--single-thread-decode"] * st
        + ["--per-packet-reads"] * pp
    )
    return cmd


def trial(args: argparse.Namespace, res: str, n: int, **kw: bool) -> dict[str, Any]:
    t = json_trial(trial_cmd(args, res, n, **kw), f"{res} N={n}", args.duration + args.drain_s + 300)
    t["held"] = held(t, args)
    print(
        f"{res} N={n:3d} {','.join(k for k, v in kw.items() if v) or '-'} held={t['held']!s:5s} "
        f"drop={t['drop_rate']:.3f} lag={t['final_lag_s']:.2f}s p95={t['frame_latency_s']['p95']} "
        f"cores/stream={t['cores_per_stream_total']} load={t['load_avg_after'][0]:.1f}",
        file=sys.stderr,
        flush=True,
    )
    return t


def ramp(args: argparse.Namespace, res: str) -> tuple[int, list[dict[str, Any]]]:
    """Largest N held: grow by ``--growth`` until a failure, then bisect (as live_capacity)."""
    trials: list[dict[str, Any]] = []
    best, failed, n = 0, None, args.start
    while 1 <= n <= args.max_streams:
        t = trial(args, res, n)
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
            n //= 2
    if failed is not None and best > 0:
        lo, hi = best, failed
        while hi - lo > max(1, lo // 8):
            mid = (lo + hi) // 2
            t = trial(args, res, mid)
            trials.append(t)
            lo, hi = (mid, hi) if t["held"] else (lo, mid)
        best = lo
    return best, trials


def project(t: dict[str, Any], cores: int, ocr_cpu_s: float = 0.0) -> dict[str, Any]:
    """Cores per stream → streams per node (linear in cores); ``ocr_cpu_s``: CPU seconds per OCR
    frame if OCR stays on the CPU provider, as RapidOCR's sessions are today."""
    per = t["cores_per_stream_total"]
    loop = t["loop_cores_per_stream"]
    ocr_rate = t["ocr_frames"] / t["stream_s"] if t.get("stream_s") else 0.0
    with_ocr = per + ocr_rate * ocr_cpu_s
    return {
        "ocr_frames_per_stream_s": round(ocr_rate, 4),
        "cores_per_stream_with_cpu_ocr": round(with_ocr, 5),
        "streams_per_node_with_cpu_ocr": int(cores / with_ocr) if with_ocr else None,
        "cores_per_stream": per,
        "streams_per_node": int(cores / per) if per else None,
        "loop_cores_per_stream": loop,
        "streams_per_event_loop": int(1 / loop) if loop else None,
        "processes_needed": round(cores / per * loop, 1) if per else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, "node_scale", "3 s of 320x180, N=1 and 2, 720p label only", pipeline=True)
    ap.add_argument("--duration", type=float, default=30.0, help="media seconds per stream per trial")
    ap.add_argument("--file-s", type=float, default=60.0, help="length of the generated files")
    ap.add_argument("--recordings", type=int, default=2, help="distinct generated files per resolution")
    ap.add_argument("--gop-s", type=float, default=2.0, help="keyframe interval of the generated files (seconds)")
    ap.add_argument("--resolutions", default="720p,1080p")
    ap.add_argument("--start", type=int, default=8, help="first N of the ramp")
    ap.add_argument("--max-streams", type=int, default=96)
    ap.add_argument("--growth", type=float, default=1.5)
    ap.add_argument("--max-lag", type=float, default=3.0)
    ap.add_argument("--max-lag-growth", type=float, default=1.5)
    ap.add_argument("--max-asr-lag", type=float, default=10.0)
    ap.add_argument("--max-asr-lag-growth", type=float, default=3.0)
    ap.add_argument("--drain-s", type=float, default=10.0)
    ap.add_argument("--node-cores", type=int, default=16, help="cores of the GPU node projected to")
    ap.add_argument("--target", type=float, default=0.03, help="target cores per 720p stream")
    ap.add_argument(
        "--ocr-cpu-s",
        type=float,
        default=1.1,
        help="CPU s per OCR'd frame on the CPU provider (benchmarks/results/ocr.md, batched-8: 1.10 / 0.97)",
    )
    ap.add_argument(
        "--latency", default=None, help="stand-in per-batch latency: family=fixed_ms+per_item_ms,... (see node_standin)"
    )
    ap.add_argument(
        "--options",
        default="per_packet_reads,keyframes_only,cpu_preprocess",
        help="extra 720p trials at the best N (ingest / preprocessing options)",
    )
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the .json, run nothing")
    ap.add_argument("--trial", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--resolution", choices=tuple(RESOLUTIONS), default="720p", help=argparse.SUPPRESS)
    ap.add_argument("--streams", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--keyframes-only", action="store_true", help="decode keyframes only (an option measured)")
    ap.add_argument("--cpu-preprocess", action="store_true", help="vision preprocessing on the CPU (unfused models)")
    ap.add_argument("--single-thread-decode", action="store_true", help="one decoder thread per stream (an option)")
    ap.add_argument(
        "--per-packet-reads",
        action="store_true",
        help="read_batch_s = 0: the ingest thread wakes per packet (the baseline of the burst reads)",
    )
    args = ap.parse_args(argv)
    require(
        ap,
        args,
        duration="positive",
        file_s="positive",
        gop_s="positive",
        recordings="count",
        start="count",
        max_streams="count",
        streams="count",
        growth="growth",
        node_cores="count",
        target="positive",
    )
    latency = parse_latency(args.latency)  # a bad --latency fails before anything runs
    if args.smoke:
        args.duration, args.drain_s, args.file_s, args.recordings = 3.0, 8.0, 7.0, 1
    if args.trial:
        print(json.dumps(run_trial(args)))
        return 0
    if args.report_only:  # rewrite the Markdown from the JSON (after a change to the report)
        result = json.loads((args.out / f"{args.name}.json").read_text())
        (args.out / f"{args.name}.md").write_text("\n".join(markdown(result)) + "\n")
        return 0

    m = machine()
    res_list = ["720p"] if args.smoke else [r for r in args.resolutions.split(",") if r]
    for r in res_list:
        if r not in RESOLUTIONS:
            raise SystemExit(f"--resolutions: unknown {r!r} (one of {', '.join(RESOLUTIONS)})")
        w, h = (320, 180) if args.smoke else RESOLUTIONS[r]
        recordings(
            args.recordings, duration=args.file_s, width=w, height=h, smoke=args.smoke, gop_s=args.gop_s
        )  # before timing
    result: dict[str, Any] = {
        "benchmark": "node_scale",
        "smoke": args.smoke,
        "machine": m,
        "duration_s": args.duration,
        "gop_s": args.gop_s,
        "latency_model_ms": {k: {"fixed": f, "per_item": p} for k, (f, p) in latency.items()},
        "calibration": CALIBRATION,
        "node_cores": args.node_cores,
        "ocr_cpu_s_per_frame": args.ocr_cpu_s,
        "target_cores_per_720p_stream": args.target,
        "held_rule": {k: getattr(args, k) for k in ("max_lag", "max_lag_growth", "max_asr_lag", "max_asr_lag_growth")},
        "trials": [],
        "by_resolution": {},
    }
    for r in res_list:
        if args.smoke:
            trials = [trial(args, r, n) for n in (1, 2)]
            best = max([t["streams"] for t in trials if t["held"]], default=0)
        else:
            best, trials = ramp(args, r)
        result["trials"] += trials
        pick = [t for t in trials if t["held"] and t["streams"] == best] or trials[-1:]
        result["by_resolution"][r] = {
            "max_streams_held": best,
            "trial": pick[-1],
            **project(pick[-1], args.node_cores, args.ocr_cpu_s),
        }
    base = result["by_resolution"].get("720p")
    if base and not args.smoke and args.options:
        n = max(1, base["max_streams_held"])
        for opt in args.options.split(","):
            if opt not in OPTIONS:
                raise SystemExit(f"--options: unknown {opt!r} (one of {', '.join(OPTIONS)})")
            t = trial(args, "720p", n, **{OPTIONS[opt]: True})
            result["trials"].append(t)
            result.setdefault("options", {})[opt] = {"streams": n, **project(t, args.node_cores), "held": t["held"]}
    if base:
        result["target_met"] = bool(base["cores_per_stream"] <= args.target)
    path = write_results(args.name, result, markdown(result), args.out)
    print("\n".join(markdown(result)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
