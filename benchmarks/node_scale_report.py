"""The Markdown report of ``node_scale.py`` (kept apart so the driver stays short)."""

from __future__ import annotations

from typing import Any

from common import machine_markdown, md_table, smoke_note


def _stage_rows(t: dict[str, Any]) -> list[list[object]]:
    total = t["cores_per_stream_total"] or 1.0
    return [
        [stage, f"{v:.4f}", f"{100 * v / total:.0f}%"] for stage, v in t["cores_per_stream"].items() if v >= 0.00005
    ]


def _verdict(r: dict[str, Any]) -> list[str]:
    base = r["by_resolution"].get("720p")
    if not base:
        return []
    t, target = base["trial"], r["target_cores_per_720p_stream"]
    top = list(t["cores_per_stream"].items())[:3]
    names = "; ".join(f"{k} {v:.4f}" for k, v in top)
    met = "**met**" if r.get("target_met") else "**not met**"
    ocr = (
        f"Not in these figures: OCR itself. The stand-in replaces it, but RapidOCR opens its sessions on "
        f"the CPU provider whatever the node has (moderation/pipeline/clients.py). The gate sent "
        f"{base['ocr_frames_per_stream_s']:.3f} frames per stream-second to OCR here; at "
        f"{r['ocr_cpu_s_per_frame']:g} CPU s per frame (benchmarks/results/ocr.md) that is "
        f"{base['cores_per_stream_with_cpu_ocr']:.4f} cores per stream in all, about "
        f"{base['streams_per_node_with_cpu_ocr']} streams per node, until OCR runs on the GPU. "
        "Nor is ASR's Silero VAD (CPU, inside the ASR batch call) counted."
    )
    return [
        f"**Target ≤ {target:g} cores per 720p stream at 1 fps vision (≥ {int(r['node_cores'] / target)} streams "
        f"per {r['node_cores']}-core node): {met}** — measured {base['cores_per_stream']:.4f} cores per stream "
        f"→ about {base['streams_per_node']} streams per {r['node_cores']}-core node (linear in cores). "
        f"Top stages (cores per stream): {names}.",
        "",
        f"One event loop (one process) carries {base['loop_cores_per_stream']:.4f} cores of loop-thread work per "
        f"stream, so one process saturates its loop at about {base['streams_per_event_loop']} streams; filling "
        f"{r['node_cores']} cores takes at least {base['processes_needed']} such processes (the pool's workers).",
        "",
        ocr,
    ]


def markdown(r: dict[str, Any]) -> list[str]:
    lm = r["latency_model_ms"]
    lines = [
        "# Node scale: CPU per live stream with a stand-in accelerator",
        "",
        f"The full live pipeline (real PyAV decode of generated H.264 + AAC files at real-time pace, "
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
            ["option", "N", "held", "cores / stream", f"streams / {r['node_cores']}-core node"],
            [
                [k, o["streams"], "yes" if o["held"] else "no", f"{o['cores_per_stream']:.4f}", o["streams_per_node"]]
                for k, o in r["options"].items()
            ],
            "lrlrr",
        )
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
                    ", ".join(k for k in ("single_thread_decode", "keyframes_only", "cpu_preprocess") if t.get(k))
                    or "—",
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
