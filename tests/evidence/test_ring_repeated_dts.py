"""Regression: a live publisher that repeats a timestamp (ffmpeg -stream_loop at the wrap) must not
make every evidence clip across it fail with EINVAL from the MP4 muxer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
from media_factory import make_clip

from moderation.evidence.ring import EvidenceRing
from moderation.ingest.live_source import LiveSource
from moderation.ingest.packets import EncodedPacket
from moderation.ingest.source import Connected, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig


def test_clip_across_a_repeated_audio_timestamp(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "c.mp4", seconds=3.0, gop_s=0.5)
    ring = EvidenceRing(30)
    src = LiveSource(str(clip), "s", SourceConfig(guard=UrlGuardConfig(allow_file=True), audio=False))
    prev_audio: EncodedPacket | None = None
    repeated = 0
    for ev in src:
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            p = ev.packet
            if p.kind == "audio" and prev_audio is not None and 1.0 < p.t < 1.1 and not repeated:
                p = replace(p, pts=prev_audio.pts, dts=prev_audio.dts, t=prev_audio.t, t_dts=prev_audio.t_dts)
                repeated += 1
            if p.kind == "audio":
                prev_audio = p
            ring.push(p)
    assert repeated == 1
    info = ring.clip(0.5, 2.0, tmp_path / "out.mp4", 0.5, 0.5)
    with av.open(info.path) as c:
        assert c.streams.video and c.streams.audio and float(c.duration or 0) / 1e6 > 1.5
