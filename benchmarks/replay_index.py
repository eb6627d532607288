"""Cost per stream-frame and memory per stream-hour of the pool-wide replay index.

Why: every keyframe of every stream on the pool is looked up among the recent fingerprints of all
streams (``moderation/signals/replay_index.py``). A linear scan would cost O(pool) per frame; the
multi-index band tables should keep a lookup nearly flat as the index grows, and the memory must
stay small enough to hold ``horizon_h`` hours of a whole pool in one process.

The index is filled with the fingerprints a pool would hold (one keyframe per ``every_s`` of each
stream-hour), in two distributions: *uniform* random 64-bit hashes (the best case for the band
tables) and *clustered* ones (scenes of ~10 keyframes differing by 0-3 bits, plus 5% of keyframes
sharing a few common pictures such as a black intro or a logo card — real footage is like this,
and near-duplicate buckets are what makes lookups slow). Then new keyframes are timed through
``observe_hash`` (lookup + index), and separately the pHash of a 1280x720 frame.

    python benchmarks/replay_index.py [--smoke]

Writes ``benchmarks/results/replay_index.{json,md}``.
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from benchmarks.common import machine, machine_markdown, md_table, parser, smoke_note, write_results  # noqa: E402
from moderation.config import ReplayIndexConfig  # noqa: E402
from moderation.signals.loop import frame_hash  # noqa: E402
from moderation.signals.replay_index import ReplayIndex, pack_hash  # noqa: E402


def hashes(n: int, clustered: bool, rng: random.Random) -> list[int]:
    if not clustered:
        return [rng.getrandbits(64) for _ in range(n)]
    common = [rng.getrandbits(64) for _ in range(8)]
    out: list[int] = []
    scene = rng.getrandbits(64)
    for i in range(n):
        if i % 10 == 0:
            scene = rng.getrandbits(64)
        if rng.random() < 0.05:
            out.append(common[rng.randrange(len(common))])
            continue
        h = scene
        for _ in range(rng.randrange(4)):
            h ^= 1 << rng.randrange(64)
        out.append(h)
    return out


def run_size(stream_hours: int, clustered: bool, probes: int, cfg: ReplayIndexConfig) -> dict[str, object]:
    rng = random.Random(stream_hours * 2 + clustered)
    per_hour = int(3600 / cfg.every_s)
    n = stream_hours * per_hour
    fill = hashes(n, clustered, rng)
    tracemalloc.start()
    ix = ReplayIndex(cfg)
    t0 = time.perf_counter()
    for i, h in enumerate(fill):
        ix.add(f"s{i // per_hour}", (i % per_hour) * cfg.every_s, h, 0.0)
    build_s = time.perf_counter() - t0
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    probe = hashes(probes, clustered, random.Random(99))
    ix.lookups = ix.candidates = 0
    times = []
    for k, h in enumerate(probe):
        t0 = time.perf_counter()
        ix.observe_hash("probe", k * cfg.every_s, h, 1.0)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "stream_hours": stream_hours,
        "fingerprints": n,
        "distribution": "clustered" if clustered else "uniform",
        "add_us": round(build_s / n * 1e6, 2),
        "observe_us_per_frame": round(times[len(times) // 2] * 1e6, 1),  # median: the machine is shared
        "observe_us_p95": round(times[int(len(times) * 0.95)] * 1e6, 1),
        "candidates_per_lookup": round(ix.candidates / max(1, ix.lookups), 1),
        "memory_bytes_per_fingerprint": round(traced / n, 1),
        "memory_mib_per_stream_hour": round(traced / stream_hours / 2**20, 3),
    }


def main() -> None:
    ap = parser(__doc__, "replay_index", "one small index")
    args = ap.parse_args()
    cfg = ReplayIndexConfig()
    sizes = [2] if args.smoke else [10, 100, 500]
    probes = 200 if args.smoke else 3000
    rows = [run_size(s, c, probes, cfg) for s in sizes for c in (False, True)]
    frame = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    reps = 20 if args.smoke else 200
    t0 = time.perf_counter()
    for _ in range(reps):
        pack_hash(frame_hash(frame, 8))
    hash_ms = (time.perf_counter() - t0) / reps * 1e3
    result = {
        "machine": machine(),
        "config": cfg.model_dump(),
        "keyframes_per_stream_hour": int(3600 / cfg.every_s),
        "phash_720p_ms": round(hash_ms, 3),
        "sizes": rows,
        "smoke": args.smoke,
    }
    md = [
        "# Replay index: cost per stream-frame, memory per stream-hour",
        "",
        *machine_markdown(result["machine"]),
        "",
        f"One keyframe every {cfg.every_s:g} s ({result['keyframes_per_stream_hour']} per stream-hour), "
        f"match within {cfg.match_bits} bits; pHash of a 1280x720 frame: {hash_ms:.2f} ms (one core).",
        "`observe` = lookup among all streams + indexing the new fingerprint (the per-keyframe cost on top of "
        "the pHash); memory measured with tracemalloc while filling the index.",
        "",
        *md_table(
            [
                "stream-hours",
                "fingerprints",
                "hashes",
                "observe µs/frame (median)",
                "p95 µs",
                "candidates/lookup",
                "add µs",
                "bytes/fingerprint",
                "MiB/stream-hour",
            ],
            [
                [
                    r["stream_hours"],
                    r["fingerprints"],
                    r["distribution"],
                    r["observe_us_per_frame"],
                    r["observe_us_p95"],
                    r["candidates_per_lookup"],
                    r["add_us"],
                    r["memory_bytes_per_fingerprint"],
                    r["memory_mib_per_stream_hour"],
                ]
                for r in rows
            ],
            "rrlrrrrrr",
        ),
        *smoke_note(args.smoke),
    ]
    print("\n".join(md))
    write_results(args.name, result, md, args.out)


if __name__ == "__main__":
    main()
