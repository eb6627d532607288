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
from dataclasses import dataclass
from pathlib import Path

from moderation.samplegen import PlantedEvent, SampleManifest, generate_sample, manifest_path
from moderation.samplegen.sample import GAMBLING_OVERLAY, GAMBLING_SPEECH

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


def recordings(
    count: int,
    *,
    duration: float = 60.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    smoke: bool = False,
    cache: Path | None = None,
) -> list[Recording]:
    """``count`` recordings with seeds 0..count-1 (the default 60 s plan, or :func:`smoke_plan`)."""
    folder = Path(cache or DEFAULT_CACHE)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in range(count):
        tag = "smoke" if smoke else "plan"
        path = folder / f"{tag}-{width}x{height}-{fps}fps-{duration:g}s-seed{seed}.mp4"
        mpath = manifest_path(path)
        if path.is_file() and mpath.is_file():
            manifest = SampleManifest.from_json(mpath.read_text(encoding="utf-8"))
        else:
            manifest = generate_sample(
                path, duration, plan=smoke_plan() if smoke else None, seed=seed, width=width, height=height, fps=fps
            )
        out.append(Recording(path, manifest))
    return out
