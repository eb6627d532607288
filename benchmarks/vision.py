"""Images/s of the batched vision models (NudeNet 320n, open_nsfw) at batch 1, 8, 32, 64.

Why: the vision batcher's value is that one call of N frames costs much less than N calls of one
(DESIGN.md §7). Batch 1 *is* the plain per-stream baseline, so each row compares against it.
Two numbers per batch size:

* end to end: ``NudeNetDetector.detect`` / ``OpenNsfwClassifier.score`` on decoded BGR frames,
  i.e. vectorised preprocessing + ``session.run`` + postprocessing — what a batcher actor pays;
* model only: ``session.run`` on an already-preprocessed blob — what the accelerator does.

    python benchmarks/vision.py [--smoke] [--batches 1,8,32,64] [--providers CUDAExecutionProvider]

Writes ``benchmarks/results/vision.{json,md}`` (``--out DIR`` to change the folder).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import RESULTS, machine, machine_markdown, timed, write_results  # noqa: E402

from moderation.infer.registry import Registry  # noqa: E402
from moderation.infer.vision import NudeNetDetector, OpenNsfwClassifier  # noqa: E402


def frames(n: int, width: int = 640, height: int = 360, seed: int = 0) -> list[np.ndarray]:
    """Decoded-video-like BGR frames: smooth gradients plus noise and a few blocks (not all black,
    which some preprocessors shortcut)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    out = []
    for i in range(n):
        base = np.stack([(x + 7 * i) % 256, (y + 13 * i) % 256, (x + y + 3 * i) % 256], axis=-1)
        img = (base + rng.integers(0, 40, (height, width, 3))).clip(0, 255).astype(np.uint8)
        bx, by = rng.integers(0, width - 120), rng.integers(0, height - 120)
        img[by : by + 100, bx : bx + 100] = rng.integers(0, 256, 3, dtype=np.uint8)
        out.append(img)
    return out


def bench_model(
    name: str, model: Any, images: list[np.ndarray], batches: list[int], repeats: int, per_batch: int
) -> list[dict[str, Any]]:
    """Rows ``{batch, images_per_s, model_images_per_s, ...}`` for one model."""
    rows: list[dict[str, Any]] = []
    for b in batches:
        model.batch_size = b
        n = max(b, per_batch) // b * b  # whole batches only, so every run is a batch of ``b``
        imgs = (images * (n // len(images) + 1))[:n]
        run = model.detect if name == "nudenet" else model.score

        def end_to_end(run: Any = run, imgs: list[np.ndarray] = imgs) -> Any:
            return run(imgs)

        e2e_s, e2e_all, _ = timed(end_to_end, repeats=repeats)
        blob = model.preprocess(imgs[:b])
        if isinstance(blob, tuple):  # NudeNet returns (blob, scales)
            blob = blob[0]
        feed = {model.input_name: blob}

        def model_only(feed: dict[str, np.ndarray] = feed, calls: int = n // b) -> Any:
            return [model.session.run(None, feed) for _ in range(calls)]

        model_s, model_all, _ = timed(model_only, repeats=repeats)
        rows.append(
            {
                "model": name,
                "batch": b,
                "images": n,
                "images_per_s": round(n / e2e_s, 1),
                "model_images_per_s": round(n / model_s, 1),
                "e2e_times_s": [round(t, 4) for t in e2e_all],
                "model_times_s": [round(t, 4) for t in model_all],
            }
        )
        print(f"{name:8s} batch {b:3d}: {n / e2e_s:8.1f} img/s end to end, {n / model_s:8.1f} img/s model only")
    for row in rows:
        row["speedup_vs_batch1"] = (
            round(row["images_per_s"] / rows[0]["images_per_s"], 2) if rows[0]["batch"] == 1 else None
        )
    return rows


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [
        "# Vision throughput (images/s)",
        "",
        f"Providers: {', '.join(result['providers_used'])}; frames {result['frame_size']} BGR; median of "
        f"{result['repeats']} runs after a warm-up; batch 1 is the per-stream baseline.",
        "",
        "| model | batch | images/s end to end | × batch 1 | images/s model only |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['images_per_s']} | {r['speedup_vs_batch1'] or ''} "
            f"| {r['model_images_per_s']} |"
        )
    lines += ["", "Machine:", "", *machine_markdown(result["machine"])]
    if result.get("smoke"):
        lines += ["", "**Smoke run** (tiny sizes, a check that the benchmark works; not a measurement)."]
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="a few images, batch 1 and 2: seconds, for CI")
    ap.add_argument("--batches", default="1,8,32,64", help="comma-separated batch sizes")
    ap.add_argument("--providers", default="CPUExecutionProvider", help="onnxruntime providers, best first")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--images", type=int, default=64, help="images per timed run (rounded to whole batches)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    batches = [1, 2] if args.smoke else [int(b) for b in args.batches.split(",")]
    repeats, per_batch = (1, 2) if args.smoke else (args.repeats, args.images)
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    host = machine(intra_op_threads=args.threads)  # before the runs: the load average they started under
    reg = Registry.load()
    images = frames(8 if args.smoke else 64)
    nudenet = NudeNetDetector(reg.resolve("nudenet-320n").path, providers, intra_op_threads=args.threads)
    open_nsfw = OpenNsfwClassifier(reg.resolve("open-nsfw").path, providers, intra_op_threads=args.threads)
    rows = bench_model("nudenet", nudenet, images, batches, repeats, per_batch)
    rows += bench_model("open_nsfw", open_nsfw, images, batches, repeats, per_batch)
    used = nudenet.session.get_providers()
    result = {
        "benchmark": "vision",
        "smoke": args.smoke,
        "providers_requested": providers,
        "providers_used": used,
        "frame_size": "640x360",
        "repeats": repeats,
        "rows": rows,
        "machine": {**host, "providers": used},
    }
    path = write_results("vision", result, markdown(result), args.out)
    print(json.dumps({"written": str(path)}))
    return result


if __name__ == "__main__":
    main()
