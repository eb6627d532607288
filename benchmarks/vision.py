"""Images/s of the batched vision models (NudeNet 320n, open_nsfw), on the CPU or a GPU.

Why: the vision batcher's value is that one call of N frames costs much less than N calls of one
(DESIGN.md §7), and on a GPU node the question is how many decoded frames per second one device
turns into detections. Batch 1 *is* the plain per-stream baseline, so each row compares against it.
Per configuration (model × preprocessing × precision × IOBinding × batch):

* end to end: ``NudeNetDetector.detect`` / ``OpenNsfwClassifier.score`` on decoded BGR ``uint8``
  frames (``--frame``, e.g. 1280x720), i.e. preprocessing + ``run`` + postprocessing — what a
  batcher actor pays. ``--preprocess cpu`` is cv2/PIL on the CPU; ``fused`` is the preprocessing
  graph in front of the model (:mod:`moderation.infer.fused`), frames stacked as they are;
* model only: the runner on an input already prepared in host memory (the float blob for ``cpu``,
  the stacked uint8 frames for ``fused``), host↔device copies included;
* on the device (CUDA with IOBinding only): input already on the GPU, output left there — what the
  accelerator alone does.

Each timed repeat calls the model until ``--min-time`` seconds have passed; the median of
``--repeats`` is reported. ``--workers 1,4`` adds rows at the largest batch where that many threads
share the model (sessions run concurrently; CPU stacking and copies overlap the device).

    python benchmarks/vision.py [--smoke] [--batches 1,8,32,64] [--providers CUDAExecutionProvider]
        [--frame 1280x720] [--preprocess cpu,fused] [--precisions fp32,fp16] [--io-binding on,off]

Writes ``benchmarks/results/<--name>.{json,md}`` (default ``vision``; ``--out DIR`` for the folder).
Impossible settings (batch < 1, an unknown provider, a bad frame size) exit with status 2 and the
reason; a GPU provider that this machine lacks falls back to the CPU with one warning line.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import RESULTS, machine, machine_markdown, write_results  # noqa: E402

from moderation.infer.fused import fused_weights  # noqa: E402
from moderation.infer.onnx import available_providers, choose_providers  # noqa: E402
from moderation.infer.registry import Registry  # noqa: E402
from moderation.infer.runner import GPU_PROVIDERS, RunnerOptions  # noqa: E402
from moderation.infer.vision import NudeNetDetector, OpenNsfwClassifier  # noqa: E402

MODELS = ("nudenet", "open_nsfw")


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


def rate(fn: Callable[[], int], min_s: float, repeats: int, warmup: int = 2) -> tuple[float, list[float]]:
    """Median items/s of ``fn`` (returns the items it did) over ``repeats`` timed spans of at least
    ``min_s`` seconds each, after ``warmup`` untimed calls (first calls of a shape tune kernels)."""
    for _ in range(warmup):
        fn()
    rates = []
    for _ in range(max(1, repeats)):
        done, t0 = 0, time.perf_counter()
        while True:
            done += fn()
            elapsed = time.perf_counter() - t0
            if elapsed >= min_s:
                break
        rates.append(done / elapsed)
    return statistics.median(rates), [round(r, 1) for r in rates]


def concurrent_rate(fn: Callable[[], int], workers: int, min_s: float, repeats: int) -> tuple[float, list[float]]:
    """Like :func:`rate` with ``workers`` threads calling ``fn`` at once (items/s of all together)."""

    def span() -> int:
        counts = [0] * workers
        stop = time.perf_counter() + min_s

        def loop(k: int) -> None:
            while time.perf_counter() < stop:
                counts[k] += fn()

        threads = [threading.Thread(target=loop, args=(k,)) for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts)

    fn()
    rates = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        done = span()
        rates.append(done / (time.perf_counter() - t0))
    return statistics.median(rates), [round(r, 1) for r in rates]


def device_only(model: Any, feed: dict[str, np.ndarray], min_s: float, repeats: int) -> float | None:
    """Images/s with the inputs already on the GPU and the output left there (IOBinding); None
    where the session does not run on CUDA."""
    runner = model.runner
    if runner.device != "cuda":
        return None
    import onnxruntime as ort

    binding = model.session.io_binding()
    for name, value in feed.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value), "cuda", 0))
    binding.bind_output(runner.output_name, "cuda")
    n = int(next(iter(feed.values())).shape[0])

    def call() -> int:
        model.session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        return n

    return round(rate(call, min_s, repeats)[0], 1)


def bench_config(
    name: str, model: Any, images: list[np.ndarray], cfg: dict[str, Any], args: argparse.Namespace, batches: list[int]
) -> list[dict[str, Any]]:
    """Rows for one loaded model (one preprocessing and precision) at each batch and IOBinding."""
    rows: list[dict[str, Any]] = []
    run = model.detect if name == "nudenet" else model.score
    kind = "nudenet" if name == "nudenet" else "open_nsfw"
    for io in cfg["io_bindings"]:
        model.runner.io_binding = io
        for b in batches:
            model.batch_size = b
            imgs = (images * (b // len(images) + 1))[:b]

            def end_to_end(imgs: list[np.ndarray] = imgs) -> int:
                run(imgs)
                return len(imgs)

            if cfg["preprocess"] == "fused":
                h, w = imgs[0].shape[:2]
                feed = {model.input_name: np.stack(imgs), **fused_weights(kind, "bgr", h, w)}
            elif cfg["preprocess"] == "fused_i420":
                h, w = imgs[0].shape[0] * 2 // 3, imgs[0].shape[1]
                feed = {model.input_name: np.stack(imgs), **fused_weights(kind, "i420", h, w)}
            else:
                blob = model.preprocess(imgs)
                feed = {model.input_name: blob[0] if isinstance(blob, tuple) else blob}
            main, extra = feed[model.input_name], {k: v for k, v in feed.items() if k != model.input_name}

            def model_only(main: np.ndarray = main, extra: dict[str, np.ndarray] = extra) -> int:
                model.runner.run(main, extra)
                return int(main.shape[0])

            timed_e2e = cfg["preprocess"] != "cpu" or b in args.cpu_e2e_batches
            e2e, e2e_all = rate(end_to_end, args.min_time, args.repeats) if timed_e2e else (None, [])

            def cpu_side(imgs: list[np.ndarray] = imgs, pre: str = cfg["preprocess"]) -> int:
                # What the CPU does per batch before the session: cv2/PIL preprocessing, or
                # (fused) only stacking the frames into one array.
                model.preprocess(imgs) if pre == "cpu" else np.stack(imgs)
                return len(imgs)

            cpu_rate, _ = rate(cpu_side, args.min_time, args.repeats, warmup=1)
            mo, mo_all = rate(model_only, args.min_time, args.repeats)
            dev = device_only(model, feed, args.min_time, args.repeats) if io else None
            row = {
                "model": name,
                **{k: cfg[k] for k in ("preprocess", "precision")},
                "io_binding": io,
                "batch": b,
                "workers": 1,
                "images_per_s": None if e2e is None else round(e2e, 1),
                "model_images_per_s": round(mo, 1),
                "cpu_side_images_per_s": round(cpu_rate, 1),
                "device_images_per_s": dev,
                "e2e_rates": e2e_all,
                "model_rates": mo_all,
            }
            rows.append(row)
            print(
                f"{name:9s} {cfg['preprocess']:5s} {cfg['precision']} io={int(io)} batch {b:3d}: "
                f"{e2e or 0:8.1f} img/s end to end, {mo:8.1f} model only, device {dev}",
                flush=True,
            )
            if b == batches[-1] and timed_e2e:
                for w in (w for w in args.workers if w > 1):
                    cw, cw_all = concurrent_rate(end_to_end, w, args.min_time, args.repeats)
                    rows.append({**row, "workers": w, "images_per_s": round(cw, 1), "e2e_rates": cw_all})
                    print(f"{'':9s} {w} workers: {cw:8.1f} img/s end to end", flush=True)
    base = {(r["preprocess"], r["precision"], r["io_binding"]): r["images_per_s"] for r in rows if r["batch"] == 1}
    for r in rows:
        b1 = base.get((r["preprocess"], r["precision"], r["io_binding"]))
        r["speedup_vs_batch1"] = round(r["images_per_s"] / b1, 2) if b1 and r["images_per_s"] else None
    return rows


def h2d_gb_per_s(frame: np.ndarray, batch: int, min_s: float, repeats: int) -> float | None:
    """Host→GPU copy rate (GB/s) of a stacked batch of frames from ordinary (pageable) memory:
    the ceiling for any path that ships decoded frames to the GPU."""
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in available_providers():
        return None
    stack = np.ascontiguousarray(np.broadcast_to(frame, (batch, *frame.shape)))

    def copy() -> int:
        ort.OrtValue.ortvalue_from_numpy(stack, "cuda", 0)
        return stack.nbytes

    try:
        return round(rate(copy, min_s, repeats)[0] / 1e9, 2)
    except Exception as exc:  # no device behind an installed CUDA provider
        print(f"h2d copy not measured: {exc}".splitlines()[0], file=sys.stderr)
        return None


def cuda_versions() -> dict[str, str]:
    """Driver and CUDA versions from ``nvidia-smi``'s banner (empty without one)."""
    try:
        out = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {}
    for key, label in (("driver", "Driver Version:"), ("cuda", "CUDA Version:")):
        if label in out:
            found[key] = out.split(label, 1)[1].split()[0]
    return found


def markdown(result: dict[str, Any]) -> list[str]:
    m = result["machine"]
    lines = [
        "# Vision throughput (images/s)",
        "",
        f"Providers used: {', '.join(result['providers_used'])}; frames {result['frame_size']} BGR uint8 in "
        f"memory, detections/scores out; median of {result['repeats']} spans of ≥ {result['min_time_s']} s "
        "after a warm-up; batch 1 is the per-stream baseline.",
        "",
        "`preprocess`: `cpu` = cv2/PIL on the CPU then the model; `fused` = BGR uint8 frames into the session, "
        "preprocessing as a graph in front of the model; `fused_i420` = the same with the decoder's I420 planes "
        "(half the bytes, colour conversion in the graph). `model only` = the session on a ready input in host "
        "memory (copies included); `on device` = input already on the GPU, output left there; `CPU side alone` "
        "= what one thread does before the session (cv2/PIL preprocessing for `cpu`, stacking the frames "
        "into one array for the fused modes).",
    ]
    if result.get("h2d_gb_per_s"):
        lines += ["", f"Host→GPU copy of stacked frames (pageable memory): {result['h2d_gb_per_s']} GB/s."]
    lines += [
        "",
        "| model | preprocess | precision | IOBinding | batch | workers | images/s end to end | × batch 1 "
        "| images/s model only | images/s on device | CPU side alone, images/s |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['model']} | {r['preprocess']} | {r['precision']} | {'on' if r['io_binding'] else 'off'} "
            f"| {r['batch']} | {r['workers']} | {r['images_per_s'] or '–'} | {r['speedup_vs_batch1'] or ''} "
            f"| {r['model_images_per_s']} | {r['device_images_per_s'] or ''} | {r.get('cpu_side_images_per_s', '')} |"
        )
    cuda = m.get("cuda") or {}
    lines += ["", "Machine:", "", *machine_markdown(m)]
    if cuda:
        lines.append(f"- NVIDIA driver {cuda.get('driver')}, CUDA {cuda.get('cuda')} (nvidia-smi)")
    if result.get("smoke"):
        lines += ["", "**Smoke run** (tiny sizes, a check that the benchmark works; not a measurement)."]
    return lines


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"{what} must be comma-separated integers, got {text!r}") from None
    return values


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="a few images, batch 1 and 2: seconds, for CI")
    ap.add_argument("--batches", default="1,8,32,64", help="comma-separated batch sizes")
    ap.add_argument(
        "--cpu-e2e-batches",
        default=None,
        help="batch sizes at which --preprocess cpu is timed end to end (default: all; slow at 720p)",
    )
    ap.add_argument("--providers", default="CPUExecutionProvider", help="onnxruntime providers, best first")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--frame", default="640x360", help="WIDTHxHEIGHT of the decoded frames")
    ap.add_argument(
        "--preprocess", default=None, help="cpu,fused,fused_i420 (default: cpu; cpu,fused,fused_i420 on a GPU)"
    )
    ap.add_argument("--precisions", default="fp32,fp16", help="fp32,fp16 (fp16 applies on GPU providers only)")
    ap.add_argument("--io-binding", default="auto", help="on,off or auto (on exactly on GPU providers)")
    ap.add_argument("--workers", default="1", help="thread counts for extra rows at the largest batch, e.g. 1,4")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per timed span")
    ap.add_argument("--name", default="vision", help="result file name (benchmarks/results/NAME.json)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    bad = lambda reason: ap.error(reason)  # noqa: E731 - exits 2 with the usage line and the reason
    try:
        args.batches = [1, 2] if args.smoke else _ints(args.batches, "--batches")
        cpu = args.cpu_e2e_batches
        args.cpu_e2e_batches = args.batches if args.smoke or not cpu else _ints(cpu, "--cpu-e2e-batches")
        args.workers = _ints(args.workers, "--workers")
    except SystemExit as exc:
        bad(str(exc))
    try:
        w, h = (int(v) for v in args.frame.lower().split("x"))
    except ValueError:
        bad(f"--frame must be WIDTHxHEIGHT, e.g. 1280x720, got {args.frame!r}")
    if not args.batches or min(args.batches + args.cpu_e2e_batches) < 1:
        bad(f"batch sizes must be >= 1, got {args.batches}")
    if not args.workers or min(args.workers) < 1:
        bad(f"--workers must be >= 1, got {args.workers}")
    if w < 8 or h < 8 or w % 2 or h % 2:
        bad(f"--frame must be at least 8x8 with even sides (I420), got {args.frame!r}")
    if args.repeats < 1 or args.min_time < 0 or args.threads < 0:
        bad("--repeats must be >= 1, --min-time and --threads >= 0")
    args.size = (w, h)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.models or set(args.models) - set(MODELS):
        bad(f"--models must be among {MODELS}, got {args.models}")
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    args.providers_requested = providers
    try:
        args.providers = choose_providers(providers)  # unknown → error; missing GPU → CPU, one warning
    except ValueError as exc:
        bad(str(exc))
    on_gpu = any(p in GPU_PROVIDERS for p in args.providers)
    args.preprocess = (args.preprocess or ("cpu,fused,fused_i420" if on_gpu else "cpu")).split(",")
    if set(args.preprocess) - {"cpu", "fused", "fused_i420"}:
        bad(f"--preprocess must be among cpu,fused,fused_i420, got {args.preprocess}")
    args.precisions = args.precisions.split(",") if on_gpu else ["fp32"]
    if set(args.precisions) - {"fp32", "fp16"}:
        bad(f"--precisions must be among fp32,fp16, got {args.precisions}")
    io = args.io_binding
    args.io_bindings = [on_gpu] if io == "auto" else [{"on": True, "off": False}.get(v) for v in io.split(",")]
    if None in args.io_bindings:
        bad(f"--io-binding must be auto or among on,off, got {io!r}")
    if args.smoke:
        args.repeats, args.min_time = 1, 0.0
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse(argv)
    host = machine(intra_op_threads=args.threads, cuda=cuda_versions())  # load average before the runs
    reg = Registry.load()
    w, h = args.size
    images = frames(4 if args.smoke else 32, w, h)
    # What a decoder hands over without converting to BGR: the yuv420p planes (PyAV to_ndarray()).
    i420_images = [cv2.cvtColor(im, cv2.COLOR_BGR2YUV_I420) for im in images] if "fused_i420" in args.preprocess else []
    h2d = None if args.smoke else h2d_gb_per_s(images[0], max(args.batches), args.min_time, args.repeats)
    print(f"host->GPU copy of stacked {w}x{h} frames: {h2d} GB/s", flush=True)
    classes = {"nudenet": (NudeNetDetector, "nudenet-320n"), "open_nsfw": (OpenNsfwClassifier, "open-nsfw")}
    rows: list[dict[str, Any]] = []
    used: list[str] = []
    for name in args.models:
        cls, model_id = classes[name]
        path = reg.resolve(model_id).path
        for pre in args.preprocess:
            for precision in args.precisions:
                opts = RunnerOptions(
                    buckets=tuple(sorted(set(args.batches))),
                    fp16=precision == "fp16",
                    fused_preprocess=pre != "cpu",
                    fused_input="i420" if pre == "fused_i420" else "bgr",
                )
                model = cls(path, args.providers, intra_op_threads=args.threads, runner=opts)
                used = model.session.get_providers()
                cfg = {"preprocess": pre, "precision": precision, "io_bindings": args.io_bindings}
                inputs = i420_images if pre == "fused_i420" else images
                rows += bench_config(name, model, inputs, cfg, args, args.batches)
                del model
                partial = {"benchmark": "vision", "partial": True, "rows": rows, "machine": host}
                (args.out / f"{args.name}.partial.json").parent.mkdir(parents=True, exist_ok=True)
                (args.out / f"{args.name}.partial.json").write_text(json.dumps(partial, indent=1))
    result = {
        "benchmark": "vision",
        "smoke": args.smoke,
        "providers_requested": args.providers_requested,
        "providers_used": used,
        "frame_size": f"{w}x{h}",
        "repeats": args.repeats,
        "min_time_s": args.min_time,
        "h2d_gb_per_s": h2d,
        "rows": rows,
        "machine": {**host, "providers": used},
    }
    path = write_results(args.name, result, markdown(result), args.out)
    (args.out / f"{args.name}.partial.json").unlink(missing_ok=True)
    print(json.dumps({"written": str(path)}))
    return result


if __name__ == "__main__":
    main()
