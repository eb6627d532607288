"""The planted-event sample: a clip whose violations are known by construction.

Nothing can be downloaded, so the end-to-end tests, the demo and the benchmarks need a clip in
which *we* put benign and gambling content at known times. The manifest returned beside it is the
ground truth a scan's verdicts are checked against (category, kind, start, end, text).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from moderation.samplegen.speech import speak
from moderation.samplegen.visuals import Background, centered_box, paste, qr_image, render_text
from moderation.samplegen.writer import SampleGenError, write_video

Box4 = tuple[int, int, int, int]


@dataclass(frozen=True)
class PlantedEvent:
    """One thing put into the sample on purpose.

    ``kind`` is ``speech`` (English via espeak-ng), ``overlay`` (on-screen text) or ``qr``
    (a QR code whose ``text`` is the URL). ``category`` is a canonical category or ``benign``.
    For speech, ``end`` in a *plan* is a hint; the generated manifest holds start + the actual
    speech duration. ``box`` is (x, y, w, h) on screen for visual events.
    """

    category: str
    kind: str
    start: float
    end: float
    text: str
    box: Box4 | None = None


@dataclass(frozen=True)
class SampleManifest:
    """Ground truth for one generated sample file."""

    path: str
    duration: float
    width: int
    height: int
    fps: int
    audio_rate: int
    seed: int
    events: tuple[PlantedEvent, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> SampleManifest:
        data = json.loads(text)
        events = tuple(
            PlantedEvent(**{**e, "box": tuple(e["box"]) if e.get("box") else None}) for e in data.pop("events")
        )
        return cls(**data, events=events)

    def at(self, t: float, kind: str | None = None) -> list[PlantedEvent]:
        """Events active at media time ``t`` (optionally of one kind)."""
        return [e for e in self.events if e.start <= t < e.end and (kind is None or e.kind == kind)]


BENIGN_SPEECH = "hello everyone welcome back to my cooking stream today we make noodles"
GAMBLING_SPEECH = "place your bets now, join our online casino and play baccarat, deposit now"
GAMBLING_OVERLAY = "百家乐 在线下注 返水"
GAMBLING_URL = "https://bet-casino-888.example/register?ref=live"
BENIGN_OVERLAY = "今日菜谱：番茄炒蛋"


def default_plan() -> list[PlantedEvent]:
    """The 60 s sample's plan (speech ends are placeholders until synthesized)."""
    return [
        PlantedEvent("benign", "speech", 3.0, 8.0, BENIGN_SPEECH),
        PlantedEvent("gambling", "speech", 14.0, 20.0, GAMBLING_SPEECH),
        PlantedEvent("gambling", "overlay", 26.0, 33.0, GAMBLING_OVERLAY),
        PlantedEvent("gambling", "qr", 40.0, 47.0, GAMBLING_URL),
        PlantedEvent("benign", "overlay", 50.0, 55.0, BENIGN_OVERLAY),
    ]


@dataclass
class _Visual:
    event: PlantedEvent
    image: np.ndarray
    xy: tuple[int, int]


def _layout(event: PlantedEvent, width: int, height: int) -> _Visual:
    """Render a visual event once and place it (text in the lower third, QR centred)."""
    if event.kind == "qr":
        image = qr_image(event.text, size=min(280, height - 40, width - 40))
        xy = centered_box(width, height, image.shape[1], image.shape[0], 0.5)
    else:
        size = max(16, height // 8)
        image = render_text(event.text, font_size=size)
        while image.shape[1] > width - 20 and size > 12:  # shrink until it fits the frame
            size = int(size * 0.85)
            image = render_text(event.text, font_size=size)
        xy = centered_box(width, height, image.shape[1], image.shape[0], 0.72)
    return _Visual(event, image, xy)


def generate_sample(
    out_path: str | Path,
    duration: float = 60.0,
    *,
    plan: Sequence[PlantedEvent] | None = None,
    seed: int = 0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    audio_rate: int = 48000,
    gop_s: float = 2.0,
    write_manifest: bool = True,
) -> SampleManifest:
    """Write the sample MP4 and return (and by default write beside it) its manifest.

    Events that do not fit in ``duration`` are dropped from the plan; the returned manifest lists
    only what is really in the file, with speech ends set to the synthesized speech's length.
    ``gop_s`` is the keyframe interval. Output is deterministic for a given plan, seed and tool versions.
    """
    if duration <= 0:
        raise SampleGenError(f"duration must be positive, got {duration}")
    events: list[PlantedEvent] = []
    audio = (np.random.default_rng(seed).standard_normal(round(duration * audio_rate)) * 1e-4).astype(np.float32)
    visuals: list[_Visual] = []
    for ev in plan if plan is not None else default_plan():
        if ev.start < 0 or ev.start >= duration:
            continue
        if ev.kind == "speech":
            pcm = speak(ev.text, sample_rate=audio_rate)
            end = ev.start + pcm.size / audio_rate
            if end > duration:
                continue
            i0 = round(ev.start * audio_rate)
            audio[i0 : i0 + pcm.size] += 0.8 * pcm / max(1e-6, float(np.abs(pcm).max()))
            events.append(replace(ev, end=round(end, 3)))
        elif ev.kind in ("overlay", "qr"):
            if ev.end > duration or ev.end <= ev.start:
                continue
            vis = _layout(ev, width, height)
            box = (vis.xy[0], vis.xy[1], vis.image.shape[1], vis.image.shape[0])
            vis.event = replace(ev, box=box)
            visuals.append(vis)
            events.append(vis.event)
        else:
            raise SampleGenError(f"unknown planted event kind {ev.kind!r}")
    background = Background(width, height, seed)

    def frames_fn(_: int, t: float) -> np.ndarray:
        img = background.frame(t)
        for vis in visuals:
            if vis.event.start <= t < vis.event.end:
                paste(img, vis.image, *vis.xy)
        return img

    path = write_video(
        out_path, frames_fn, duration, audio, fps=fps, width=width, height=height, audio_rate=audio_rate, gop_s=gop_s
    )
    manifest = SampleManifest(
        path=str(path),
        duration=duration,
        width=width,
        height=height,
        fps=fps,
        audio_rate=audio_rate,
        seed=seed,
        events=tuple(sorted(events, key=lambda e: e.start)),
    )
    if write_manifest:
        manifest_path(path).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def manifest_path(media_path: str | Path) -> Path:
    """Where a sample's manifest lives: ``clip.mp4`` → ``clip.manifest.json``."""
    return Path(media_path).with_suffix(".manifest.json")
