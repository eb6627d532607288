"""The Markdown report of ``node_scale.py`` (kept apart so the driver stays short)."""

from __future__ import annotations

from typing import Any

from common import machine_markdown, md_table, smoke_note


def _stage_rows(t: dict[str, Any]) -> list[list[object]]:
    total = t["cores_per_stream_total"] or 1.0
    return [
        [stage, f"{v:.4f}", f"{100 * v / total:.0f}%"] for stage, v in t["cores_per_stream"].items() if v >= 0.00005
    ]


#: Stage groups for the summary: a stage goes to the first group whose key it contains.
GROUPS = (
    ("video decode (libavcodec threads + decode calls, sampling, BGR conversion)", ("decoder threads", "video decode")),
    ("audio decode + resample (ingest thread)", ("audio decode",)),
    ("QR decode", ("QR decode",)),
    ("ingest thread rest (demux, pacing, queues) + evidence ring push", ("ingest thread", "evidence ring")),
    (
        "event loop (scheduling, OCR gate, analysis, fusion, batcher round trips, outlet)",
        ("(loop)", "loop thread", "fusion", "outlet", "duties", "audio branch", "frame analysis"),
    ),
    ("loop hashes / synthetic tracker", ("loop hashes",)),
)


def grouped(t: dict[str, Any]) -> dict[str, float]:
    """Cores per stream by :data:`GROUPS` (the rest: other threads, evidence clips, stand-in calls)."""
    out = {name: 0.0 for name, _ in GROUPS}
    out["other (native threads, evidence clips, stand-in calls, unattributed)"] = 0.0
    for stage, v in t["cores_per_stream"].items():
        name = next((n for n, keys in GROUPS if any(k in stage for k in keys)), None)
        out[name or "other (native threads, evidence clips, stand-in calls, unattributed)"] += v
    return {k: round(v, 4) for k, v in out.items()}


def _decode(t: dict[str, Any]) -> float:
    return grouped(t)[GROUPS[0][0]]


def _verdict(r: dict[str, Any]) -> list[str]:
    base = r["by_resolution"].get("720p")
    if not base:
        return []
    t, target = base["trial"], r["target_cores_per_720p_stream"]
    g = grouped(t)
    names = "; ".join(f"{k} {v:.4f}" for k, v in sorted(g.items(), key=lambda kv: -kv[1])[:4])
    rest = t["cores_per_stream_total"] - g[GROUPS[0][0]]
    met = "met" if r.get("target_met") else "not met"
    ocr = (
        f"Not in these figures: OCR itself. The stand-in replaces it; in the product OCR's three models run on "
        f"the node's best ONNX Runtime provider (`ocr.providers`, CUDA on a GPU node; not measured here), and "
        f"RapidOCR's resizing and box post-processing stay on the CPU. The gate sent "
        f"{base['ocr_frames_per_stream_s']:.3f} frames per stream-second to OCR here; on the CPU provider, at "
        f"{r['ocr_cpu_s_per_frame']:g} CPU s per frame (benchmarks/results/ocr.md), that is "
        f"{base['cores_per_stream_with_cpu_ocr']:.4f} cores per stream in all, about "
        f"{base['streams_per_node_with_cpu_ocr']} streams per node without a GPU for OCR. "
        "Nor is ASR's Silero VAD (CPU, inside the ASR batch call) counted."
    )
    return [
        f"**Target ≤ {target:g} cores per 720p stream at 1 fps vision (≥ {int(r['node_cores'] / target)} streams "
        f"per {r['node_cores']}-core node): {met}** — measured {base['cores_per_stream']:.4f} cores per stream "
        f"→ about {base['streams_per_node']} streams per {r['node_cores']}-core node (linear in cores). "
        f"Top stage groups (cores per stream): {names}. Everything but video decoding is "
        f"{rest:.4f} cores per stream. The generated files have a {r.get('gop_s', 2.0):g} s GOP: with "
        "`sampling.skip_to_keyframe` (the default) a GOP is decoded only up to its last sampled frame, so "
        "the decode share depends on the publisher's keyframe interval (see the GOP comparison, if run).",
        "",
        f"One event loop (one process) carries {base['loop_cores_per_stream']:.4f} cores of loop-thread work per "
        f"stream, so one process saturates its loop at about {base['streams_per_event_loop']} streams; filling "
        f"{r['node_cores']} cores takes at least {base['processes_needed']} such processes (the pool's workers).",
        "",
        ocr,
    ]


FLAGS = ("single_thread_decode", "keyframes_only", "cpu_preprocess", "per_packet_reads")
OPTION_NOTES = (
    "single_thread_decode: each video decoder on one thread, set by the benchmark on the codec context "
    "(live streams already default to one, `live.decode_threads`). keyframes_only: the `keyframes_only` "
    "source setting; with a GOP longer than 1/fps it samples below 1 fps (fine only where 1/fps ≥ the GOP). "
    "cpu_preprocess: vision models taking preprocessed tensors (the unfused path) instead of uint8 frames, "
    "the letterbox and the open_nsfw resize + JPEG round trip then run on the node's CPU. Trials share the "
    "machine with other work, so the per-stage figures of two trials differ by up to ~25 % for the same stage. "
    "per_packet_reads: `read_batch_s` 0, each stream's ingest thread woken per packet as before burst reads "
    "(moderation/ingest/pacing.py), the baseline of that cut in the same run."
)


def _option_row(name: str, t: dict[str, Any], per_node: object) -> list[object]:
    pre = t["cores_per_stream"].get("vision preprocessing on the CPU (--cpu-preprocess)")
    return [
        name,
        t["streams"],
        "yes" if t["held"] else "no",
        f"{t['cores_per_stream_total']:.4f}",
        f"{_decode(t):.4f}",
        f"{pre:.4f}" if pre else "—",
        f"{t['frames_sampled'] / t['stream_s']:.2f}",
        per_node,
    ]


def _option_rows(r: dict[str, Any]) -> list[list[object]]:
    """The plain 720p trial, then each option's trial (the one with only that option on)."""
    flags = FLAGS
    base = r["by_resolution"]["720p"]
    rows = [_option_row("none (product defaults)", base["trial"], base["streams_per_node"])]
    for k, o in r["options"].items():
        t = next(x for x in r["trials"] if x.get(k) and not any(x.get(f) for f in flags if f != k))
        rows.append(_option_row(k, t, o["streams_per_node"]))
    return rows


def markdown(r: dict[str, Any]) -> list[str]:
    lm = r["latency_model_ms"]
    lines = [
        "# Node scale: CPU per live stream with a stand-in accelerator",
        "",
        f"The full live pipeline (real PyAV decode of generated H.264 + AAC files with a "
        f"{r.get('gop_s', 2.0):g} s GOP at real-time pace, "
        f"{r['duration_s']:g} media s per stream; default pipeline: 1 fps vision, OCR gate, QR, captions, loop "
        "hashes, fusion, evidence ring, verdicts; every stream in one event loop sharing the pipeline's "
        "LocalClients batchers) with the model calls replaced by a stand-in that sleeps per batch and "
        "returns empty results. Stand-in latency per batch call (ms, fixed + per item): "
        + ", ".join(f"{k} {v['fixed']:g} + {v['per_item']:g}" for k, v in lm.items())
        + ".",
        "",
        f"**Calibration: {r['calibration']}**",
        "",
        "CPU is `time.thread_time()` of the thread doing each stage (exclusive of nested stages; coroutines "
        "charged per step, never while suspended) plus libavcodec's decoder threads from "
        "`/proc/self/task/<tid>/stat`; cores per stream = CPU seconds / (streams × media seconds). The benchmark's "
        "own observer is measured and left out. Held = live_capacity's rule: drops + unfinished ≤ 1 %, ingest "
        f"and frame→result lag end ≤ {r['held_rule']['max_lag']:g} s and grow ≤ "
        f"{r['held_rule']['max_lag_growth']:g} s. Each trial in a fresh process.",
        "",
        *md_table(
            [
                "resolution",
                "streams held here",
                "cores / stream",
                f"streams / {r['node_cores']}-core node",
                "loop cores / stream",
                "streams / event loop",
                "frame→result p95 s",
                "load after",
            ],
            [
                [
                    res,
                    f"**{b['max_streams_held']}**",
                    f"{b['cores_per_stream']:.4f}",
                    b["streams_per_node"],
                    f"{b['loop_cores_per_stream']:.4f}",
                    b["streams_per_event_loop"],
                    b["trial"]["frame_latency_s"]["p95"],
                    f"{b['trial']['load_avg_after'][0]:.1f}",
                ]
                for res, b in r["by_resolution"].items()
            ],
            "lrrrrrrr",
        ),
        "",
        "Projection: streams per node = node cores / cores per stream, i.e. linear in cores, node cores as "
        "fast as this machine's, every core free for stream work (no OCR or VAD on the CPU, no other services, "
        "no hyper-threading discount). Streams held here is the live rule on this 2-core machine, which was "
        "shared with other work during the ramp (load average in the table and trials: up to several times the "
        "core count), so it sits below 2 / cores-per-stream; the CPU per stream is thread CPU time and moves far "
        "less with that load than the held count does.",
        "",
        *_verdict(r),
    ]
    for res, b in r["by_resolution"].items():
        t = b["trial"]
        lines += [
            "",
            f"Per stage, {res}, N = {t['streams']} (cores per stream = CPU s per stream-second):",
            "",
            *md_table(["stage", "cores / stream", "share"], _stage_rows(t), "lrr"),
        ]
    if r.get("options"):
        lines += ["", "Ingest options, 720p at the same N (benchmark settings only; product defaults unchanged):", ""]
        lines += md_table(
            [
                "option",
                "N",
                "held",
                "cores / stream",
                "of which video decode",
                "vision preprocessing",
                "frames sampled / stream-s",
                f"streams / {r['node_cores']}-core node",
            ],
            _option_rows(r),
            "lrlrrrrr",
        )
        lines += ["", OPTION_NOTES]
    lines += [
        "",
        "All trials:",
        "",
        *md_table(
            [
                "resolution",
                "N",
                "options",
                "held",
                "drop %",
                "ingest lag end / growth s",
                "frame→result p95 s",
                "cores / stream",
                "process CPU cores",
                "load after",
            ],
            [
                [
                    t["resolution"],
                    t["streams"],
                    ", ".join(k for k in FLAGS if t.get(k)) or "—",
                    "yes" if t["held"] else "no",
                    f"{t['drop_rate'] * 100:.2f}",
                    f"{t['final_lag_s']:.2f} / {t['lag_growth_s']:.2f}",
                    t["frame_latency_s"]["p95"],
                    f"{t['cores_per_stream_total']:.4f}",
                    t["cpu_cores_busy"],
                    f"{t['load_avg_after'][0]:.1f}",
                ]
                for t in r["trials"]
            ],
            "lrllrlrrrr",
        ),
        "",
        "Machine (shared with other work: see the load averages):",
        "",
        *machine_markdown(r["machine"]),
        *smoke_note(bool(r.get("smoke"))),
    ]
    return lines
