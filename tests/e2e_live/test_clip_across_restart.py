"""A clip across a real publisher restart (nginx-rtmp origin, ffmpeg broadcaster): both sides in one
playable MP4, the outage named as a gap."""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from pathlib import Path

import av
import pytest
from rtmp_origin import Broadcaster

from moderation.evidence.ring import EvidenceRing
from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import Connected, Ended, FrameEvent, Gap, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig


def test_clip_spanning_a_publisher_restart(broadcaster: Broadcaster, tmp_path: Path) -> None:
    broadcaster.start()
    time.sleep(0.5)
    cfg = SourceConfig(
        guard=UrlGuardConfig(allow_networks=("127.0.0.0/8",)),
        audio_window_s=1.0,
        open_timeout_s=3.0,
        read_timeout_s=1.5,
    )
    src = LiveSource(broadcaster.url, "s1", cfg)
    ring = EvidenceRing(max_seconds=30)

    def restart() -> None:
        broadcaster.kill()
        time.sleep(1.0)
        broadcaster.start()

    gap: Gap | None = None
    frames_before = frames_after = 0
    deadline = time.monotonic() + 30
    for ev in src:
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
        elif isinstance(ev, Gap):
            gap = ev
        elif isinstance(ev, FrameEvent) and gap is None:
            frames_before += 1
            if frames_before == 3:  # about 2.5 s of media held before the publisher goes away
                threading.Thread(target=restart, daemon=True).start()
        elif isinstance(ev, FrameEvent):
            frames_after += 1
        if isinstance(ev, Ended) or frames_after >= 3 or time.monotonic() > deadline:
            break
    src.close()
    assert gap is not None and frames_after >= 3
    start, end = gap.start_media - 1.0, gap.end_media + 1.0  # a violation on both sides of the outage
    info = ring.clip(start, end, tmp_path / "span.mp4", pre_s=0.5, post_s=0.5)
    assert info.start <= start and info.end >= end - 0.1, (info, gap)
    assert len(info.gaps) == 1, (info, gap)
    cut = info.gaps[0]
    assert gap.start_media - 1.0 <= cut.start <= gap.start_media + 0.1, (info, gap)
    assert gap.end_media - 0.1 <= cut.end <= gap.end_media + 1.0, (info, gap)
    assert cut.clip_at == pytest.approx(cut.start - info.start, abs=1e-6)
    assert info.duration == pytest.approx(info.end - info.start - (cut.end - cut.start), abs=1e-6)
    with av.open(info.path) as c:
        frames = [f for f in c.decode(video=0) if f.time is not None]
        length = float(c.duration or 0) / 1e6
    assert length == pytest.approx(info.duration, abs=0.15)
    times = [float(f.time) for f in frames]
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.1  # a cut, not a frozen picture
    assert next(f for f in frames if f.time >= cut.clip_at - 1e-3).key_frame  # the second side starts clean
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", info.path, "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.returncode == 0 and decoded.stderr == ""
