"""Generated recordings shared by ``rescan.py`` and ``live_capacity.py`` (nothing is downloaded).

Each is :func:`moderation.samplegen.generate_sample`'s planted-event clip: H.264 (x264 veryfast,
2 s GOP) + AAC, a moving background (drifting gradient, bouncing blob), espeak-ng speech and
on-screen text / QR overlays at known times, with its manifest (the ground truth). Files are
cached by their parameters (generation costs ~18 s per minute of 720p on 2 cores), so repeated
runs and the two benchmarks reuse them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from moderation.samplegen import PlantedEvent, SampleManifest, generate_sample, manifest_path
from moderation.samplegen.sample import GAMBLING_OVERLAY, GAMBLING_SPEECH, default_plan

DEFAULT_CACHE = Path(os.environ.get("MODERATION_BENCH_CACHE", Path(tempfile.gettempdir()) / "moderation-bench"))


@dataclass(frozen=True)
class Recording:
    path: Path
    manifest: SampleManifest

    @property
    def duration(self) -> float:
        return self.manifest.duration

    @property
    def planted_categories(self) -> list[str]:
        return sorted({e.category for e in self.manifest.events if e.category != "benign"})


def smoke_plan() -> list[PlantedEvent]:
    """A few seconds with one gambling phrase and one gambling overlay (for ``--smoke``)."""
    return [
        PlantedEvent("gambling", "speech", 0.3, 4.0, GAMBLING_SPEECH),
        PlantedEvent("gambling", "overlay", 1.0, 4.0, GAMBLING_OVERLAY),
    ]


def shifted_plan(seed: int, duration: float = 60.0) -> list[PlantedEvent]:
    """The default plan with its event times rotated by a per-seed offset, so concurrent streams do
    not all show a caption (and need OCR) or speak in the same second, as real streams do not."""
    span = duration - 10.0  # events start in [0, span): every planted event (≤ 7 s) still fits
    offset = (seed * 13.0) % span
    out = []
    for ev in default_plan():
        start = (ev.start + offset) % span
        out.append(replace(ev, start=round(start, 3), end=round(start + ev.end - ev.start, 3)))
    return sorted(out, key=lambda e: e.start)


def recordings(
    count: int,
    *,
    duration: float = 60.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    smoke: bool = False,
    cache: Path | None = None,
    gop_s: float = 2.0,
) -> list[Recording]:
    """``count`` recordings with seeds 0..count-1 (:func:`shifted_plan`, or :func:`smoke_plan`)."""
    folder = Path(cache or DEFAULT_CACHE)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in range(count):
        tag = "smoke" if smoke else "shifted"
        gop = "" if gop_s == 2.0 else f"-gop{gop_s:g}s"  # the 2 s default keeps its old cache name
        path = folder / f"{tag}-{width}x{height}-{fps}fps-{duration:g}s{gop}-seed{seed}.mp4"
        mpath = manifest_path(path)
        if path.is_file() and mpath.is_file():
            manifest = SampleManifest.from_json(mpath.read_text(encoding="utf-8"))
        else:
            manifest = generate_sample(
                path,
                duration,
                plan=smoke_plan() if smoke else shifted_plan(seed, duration),
                seed=seed,
                width=width,
                height=height,
                fps=fps,
                gop_s=gop_s,
            )
        out.append(Recording(path, manifest))
    return out
