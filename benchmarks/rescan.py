"""Offline re-scan throughput: cross-file batching vs per-file loops (old and new) vs the plain loop.

Throughput is media seconds processed per wall second over sets of generated recordings (720p /
25 fps H.264 + AAC, moving background, espeak speech, on-screen text and QR at known times; see
``samples.py``):

* ``long`` — 3 recordings of 60 s;
* ``short`` — 11 recordings of 30–54 s (446 media-s), where per-file overheads show.

Sides, all with their models loaded and warmed up before timing, run on the same files in the
same process run, interleaved round by round so machine noise hits every side:

* ``multi`` — this tree: :func:`moderation.pipeline.graph.scan_files`, every file of the set in
  flight ``--concurrency`` at a time over ONE set of in-process batchers (what a scan worker runs);
* ``loop`` — this tree: :func:`~moderation.pipeline.graph.scan_file` one file after another;
* ``old-loop`` — the per-file ``scan_file`` of ``--old`` (a git revision checked out with
  ``git worktree`` under /tmp and imported in a subprocess): the path before this change;
* ``baseline`` — ``baseline.scan_file_baseline`` (PyAV decode, NudeDetector / open_nsfw / RapidOCR
  one frame at a time, faster-whisper per 10 s chunk): the plain per-file loop.

``--cold`` adds ``moderation scan DIR`` timed from outside (start-up, model loads, Ray or not) for
this tree and ``--old``. The categories each side found are compared with what was planted.

    python benchmarks/rescan.py [--smoke] [--sets long,short] [--rounds 2] [--old REV] [--cold]

Writes ``benchmarks/results/rescan.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from baseline import BaselineModels, scan_file_baseline  # noqa: E402
from common import RESULTS, machine, machine_markdown, write_results  # noqa: E402
from samples import DEFAULT_CACHE, Recording, recordings, shifted_plan  # noqa: E402

from moderation.config import PipelineConfig, load_pipeline  # noqa: E402
from moderation.pipeline.graph import Engines, FileTask, scan_file, scan_files  # noqa: E402
from moderation.samplegen import SampleManifest, generate_sample, manifest_path  # noqa: E402

SHORT_DURATIONS = (30.0, 33.0, 36.0, 39.0, 40.0, 40.0, 41.0, 42.0, 44.0, 47.0, 54.0)  # 446 s

#: Run in a subprocess on the old tree: warm up, then scan the files one by one; prints JSON.
OLD_WORKER = r"""
import json, sys, time
from pathlib import Path
import moderation
from moderation.config import load_pipeline
from moderation.pipeline.graph import Engines, scan_file
args = json.loads(sys.argv[1])
cfg = load_pipeline(args["pipeline"])
if args["asr_model"]:
    cfg = cfg.model_copy(update={"asr": cfg.asr.model_copy(update={"model": args["asr_model"]})})
engines = Engines(cfg)
scan_file(Path(args["warm"]), "warmup", engines)
rows = []
for p in args["files"]:
    t = time.perf_counter()
    scan = scan_file(Path(p), Path(p).stem, engines)
    rows.append({"file": Path(p).name, "wall_s": time.perf_counter() - t,
                 "categories": sorted({v.category for v in scan.verdicts})})
print("RESULT " + json.dumps({"module": moderation.__file__, "files": rows}))
"""


def short_set(width: int, height: int) -> list[Recording]:
    out = []
    for i, d in enumerate(SHORT_DURATIONS):
        path = Path(DEFAULT_CACHE) / f"short-{width}x{height}-25fps-{d:g}s-seed{100 + i}.mp4"
        mpath = manifest_path(path)
        if path.is_file() and mpath.is_file():
            manifest = SampleManifest.from_json(mpath.read_text(encoding="utf-8"))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            plan = shifted_plan(100 + i, d)
            manifest = generate_sample(path, d, plan=plan, seed=100 + i, width=width, height=height, fps=25)
        out.append(Recording(path, manifest))
    return out


def old_tree(rev: str) -> Path:
    """A worktree of ``rev`` under /tmp (made once, reused)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True)
    where = Path(tempfile.gettempdir()) / f"rescan-old-{sha.stdout.strip()}"
    if not (where / "moderation").is_dir():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(where), rev], cwd=ROOT, check=True, capture_output=True
        )
    return where


def old_env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "MODERATION_HOME": str(tree), "HF_HUB_OFFLINE": "1"}


def run_old_loop(
    tree: Path, recs: list[Recording], warm: Recording, args: argparse.Namespace, asr_model: str | None
) -> dict[str, Any]:
    payload = json.dumps(
        {
            "pipeline": args.pipeline,
            "asr_model": asr_model,
            "warm": str(warm.path),
            "files": [str(r.path) for r in recs],
        }
    )
    res = subprocess.run(
        [sys.executable, "-c", OLD_WORKER, payload],
        cwd=tree,
        env=old_env(tree),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    line = [x for x in res.stdout.splitlines() if x.startswith("RESULT ")]
    if res.returncode != 0 or not line:
        raise RuntimeError(f"old worker failed: {res.stderr[-2000:]}")
    data: dict[str, Any] = json.loads(line[0][len("RESULT ") :])
    if not data["module"].startswith(str(tree)):
        raise RuntimeError(f"old worker imported {data['module']}, not the old tree")
    return data


def cold_scan(tree: Path, folder: Path, args: argparse.Namespace, out: Path) -> float:
    """``moderation scan DIR`` from outside: the whole command, start-up and model loads included."""
    cmd = [sys.executable, "-m", "moderation", "scan", str(folder), "--out", str(out), "--no-resume"]
    if args.pipeline:
        cmd += ["--pipeline", args.pipeline]
    env = old_env(tree) if tree != ROOT else {**os.environ, "HF_HUB_OFFLINE": "1"}
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t
    if res.returncode not in (0, 1):
        raise RuntimeError(f"cold scan in {tree} failed ({res.returncode}): {res.stderr[-2000:]}")
    return wall


def side_total(rows: list[dict[str, Any]], media: float) -> dict[str, Any]:
    wall = sum(r["wall_s"] for r in rows)
    return {"wall_s": round(wall, 2), "media_s_per_s": round(media / wall, 2) if wall else None}


def found(rows: list[dict[str, Any]], recs: list[Recording]) -> str:
    by = {r.path.name: set(r.planted_categories) for r in recs}
    hit = sum(len(by[row["file"]] & set(row["categories"])) for row in rows)
    extra = sum(len(set(row["categories"]) - by[row["file"]]) for row in rows)
    return f"{hit}/{sum(len(v) for v in by.values())} (+{extra})"


def run_set(
    name: str,
    recs: list[Recording],
    warm: Recording,
    engines: Engines,
    base: BaselineModels | None,
    tree: Path | None,
    args: argparse.Namespace,
    asr_model: str | None,
) -> dict[str, Any]:
    media = sum(r.duration for r in recs)
    rounds: list[dict[str, Any]] = []
    for rnd in range(args.rounds):
        sides: dict[str, Any] = {}
        order = ["multi", "old-loop", "loop"] if rnd % 2 == 0 else ["old-loop", "loop", "multi"]
        if base is not None and rnd == 0:
            order.insert(1, "baseline")
        for side in order:
            load = os.getloadavg()[0]
            rows: list[dict[str, Any]]
            if side == "multi":
                t = time.perf_counter()
                tasks = [FileTask(r.path, r.path.stem) for r in recs]
                res = asyncio.run(scan_files(tasks, engines, concurrency=args.concurrency))
                wall = time.perf_counter() - t
                bad = [x for x in res if isinstance(x, Exception)]
                if bad:
                    raise bad[0]
                rows = [
                    {"file": r.path.name, "categories": sorted({v.category for v in s.verdicts})}
                    for r, s in zip(recs, res, strict=True)
                    if not isinstance(s, Exception)
                ]
                sides[side] = {"wall_s": round(wall, 2), "media_s_per_s": round(media / wall, 2)}
            elif side == "loop":
                rows = []
                for r in recs:
                    t = time.perf_counter()
                    scan = scan_file(r.path, r.path.stem, engines)
                    rows.append(
                        {
                            "file": r.path.name,
                            "wall_s": time.perf_counter() - t,
                            "categories": sorted({v.category for v in scan.verdicts}),
                        }
                    )
                sides[side] = side_total(rows, media)
            elif side == "old-loop":
                if tree is None:
                    continue
                rows = run_old_loop(tree, recs, warm, args, asr_model)["files"]
                sides[side] = side_total(rows, media)
            else:
                assert base is not None
                rows = []
                for r in recs:
                    t = time.perf_counter()
                    b = scan_file_baseline(r.path, base)
                    rows.append({"file": r.path.name, "wall_s": time.perf_counter() - t, "categories": b.categories})
                sides[side] = side_total(rows, media)
            sides[side]["found"] = found(rows, recs)
            sides[side]["load_1min"] = round(load, 2)
            print(f"{name} round {rnd} {side}: {sides[side]}", flush=True)
        rounds.append(sides)
    out: dict[str, Any] = {"files": len(recs), "media_s": media, "rounds": rounds}
    if args.cold:
        folder = Path(tempfile.mkdtemp(prefix=f"rescan-{name}-"))
        for r in recs:
            (folder / r.path.name).symlink_to(r.path)
        cold: dict[str, float] = {}
        for label, where in (("new", ROOT), ("old", tree), ("new", ROOT), ("old", tree)):
            if where is None:
                continue
            wall = cold_scan(where, folder, args, folder / f"{label}.jsonl")
            cold[label] = min(cold.get(label, wall), wall)
            print(f"{name} cold {label}: {wall:.1f} s", flush=True)
        out["cold_s"] = {k: round(v, 2) for k, v in cold.items()}
    return out


def best(rounds: list[dict[str, Any]], side: str) -> float | None:
    """Median over the rounds of a side's media-s per s (two rounds: their mean)."""
    vals = sorted(r[side]["media_s_per_s"] for r in rounds if side in r)
    if not vals:
        return None
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2


def run(args: argparse.Namespace) -> dict[str, Any]:
    m = machine()
    cfg: PipelineConfig = load_pipeline(args.pipeline)
    asr_model = "whisper-tiny-en" if args.smoke else None
    if asr_model:  # keep CI fast: tiny English Whisper on every side
        cfg = cfg.model_copy(update={"asr": cfg.asr.model_copy(update={"model": asr_model})})
    sets: dict[str, list[Recording]] = {}
    for name in args.sets.split(","):
        if name == "long":
            sets[name] = recordings(
                args.files, duration=args.duration, width=args.width, height=args.height, smoke=args.smoke
            )
        elif name == "short":
            sets[name] = (
                recordings(3, duration=7.0, width=320, height=180, smoke=True)
                if args.smoke
                else short_set(args.width, args.height)
            )
        else:
            raise SystemExit(f"unknown set {name!r} (long, short)")
    engines = Engines(cfg)
    base = (
        None
        if args.no_baseline
        else BaselineModels(cfg.asr.model, beam_size=cfg.asr.beam_size, compute_type=cfg.asr.compute_type)
    )
    tree = old_tree(args.old) if args.old else None
    warm = recordings(1, duration=7.0, width=320, height=180, smoke=True)[0]
    t0 = time.perf_counter()
    scan_file(warm.path, "warmup", engines)
    if base is not None:
        scan_file_baseline(warm.path, base)
    warmup_s = time.perf_counter() - t0
    results = {name: run_set(name, recs, warm, engines, base, tree, args, asr_model) for name, recs in sets.items()}
    for r in results.values():
        rates = {side: best(r["rounds"], side) for side in ("multi", "loop", "old-loop", "baseline")}
        r["media_s_per_s"] = rates
        b = rates["baseline"]
        r["ratio_vs_baseline"] = {k: round(v / b, 2) for k, v in rates.items() if v and b}
        if rates["old-loop"] and rates["multi"]:
            r["multi_vs_old_loop"] = round(rates["multi"] / rates["old-loop"], 2)
    return {
        "benchmark": "rescan",
        "smoke": args.smoke,
        "machine": m,
        "pipeline": args.pipeline or "default",
        "asr_model": cfg.asr.model,
        "old": args.old,
        "concurrency": args.concurrency,
        "recordings": {
            "size": f"{args.width}x{args.height}",
            "fps": 25,
            "codec": "H.264 (x264 veryfast, 2 s GOP) + AAC 48 kHz mono",
        },
        "warmup_s": round(warmup_s, 2),
        "sets": results,
    }


def markdown(r: dict[str, Any]) -> list[str]:
    rec = r["recordings"]
    lines = [
        "# Offline re-scan: media seconds per wall second",
        "",
        f"Generated recordings {rec['size']} {rec['fps']} fps {rec['codec']}; speech, overlays, QR, motion. "
        f"ASR model {r['asr_model']}. Every side warm (models loaded) before timing; sides interleaved per "
        f"round. `multi` = this tree, all files of the set over one set of batchers, {r['concurrency']} in "
        f"flight; `loop` = this tree, one file after another; `old-loop` = `scan_file` per file at "
        f"`{r['old']}`; `baseline` = the plain per-frame / per-chunk loop. Load = 1-min load average when "
        "the side started (other engineers share this 2-core machine).",
        "",
        "| set | files | media s | side | round | wall s | media-s / s | planted found (+extra) | load |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for name, s in r["sets"].items():
        for i, rnd in enumerate(s["rounds"]):
            for side, v in rnd.items():
                lines.append(
                    f"| {name} | {s['files']} | {s['media_s']:g} | {side} | {i} | {v['wall_s']:.1f} | "
                    f"{v['media_s_per_s']:.2f} | {v['found']} | {v['load_1min']:.1f} |"
                )
    lines += [
        "",
        "| set | multi | loop | old-loop | baseline | multi / baseline | old-loop / baseline | "
        "multi / old-loop | cold `moderation scan DIR` s (new / old) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in r["sets"].items():
        rate, ratio = s["media_s_per_s"], s["ratio_vs_baseline"]
        cold = s.get("cold_s", {})

        def f(x: float | None) -> str:
            return f"{x:.2f}" if x else "—"

        lines.append(
            f"| {name} | {f(rate['multi'])} | {f(rate['loop'])} | {f(rate['old-loop'])} | "
            f"{f(rate['baseline'])} | {f(ratio.get('multi'))}× | {f(ratio.get('old-loop'))}× | "
            f"{f(s.get('multi_vs_old_loop'))}× | {f(cold.get('new'))} / {f(cold.get('old'))} |"
        )
    lines += ["", "Machine:", "", *machine_markdown(r["machine"])]
    end = r["machine"].get("load_avg_end")
    if end:
        lines.append(f"- load average at end: {', '.join(f'{x:.2f}' for x in end)}")
    if r.get("smoke"):
        lines += ["", "**Smoke run** (tiny inputs, for CI): the numbers mean nothing."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny files, whisper-tiny-en, no old tree: for CI")
    ap.add_argument("--sets", default="long,short")
    ap.add_argument("--files", type=int, default=3, help="files of the long set")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per file of the long set")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=3, help="files in flight for the multi side")
    ap.add_argument("--old", default=None, help="git revision of the old path (e.g. HEAD~3); none: not measured")
    ap.add_argument("--cold", action="store_true", help="also time `moderation scan DIR` from outside")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--pipeline", default=None, help="pipeline YAML (default: built-in defaults)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--name", default="rescan")
    args = ap.parse_args(argv)
    if args.smoke:
        args.files, args.duration, args.width, args.height, args.rounds = 1, 7.0, 320, 180, 1
    result = run(args)
    path = write_results(args.name, result, markdown(result), args.out)
    print("\n".join(markdown(result)))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
