"""A clip across a real publisher restart (nginx-rtmp origin, ffmpeg broadcaster): both sides in one
playable MP4, the outage named as a gap."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import av
from rtmp_origin import Broadcaster

from moderation.ingest.evidence_ring import EvidenceRing
from moderation.ingest.live import LiveSource
from moderation.ingest.source import Connected, Ended, FrameEvent, Gap, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig


def test_clip_spanning_a_publisher_restart(broadcaster: Broadcaster, tmp_path: Path) -> None:
    broadcaster.start()
    time.sleep(0.5)
    cfg = SourceConfig(guard=UrlGuardConfig(allow_networks=("127.0.0.0/8",)), audio_window_s=1.0,
                       open_timeout_s=3.0, read_timeout_s=1.5)  # fmt: skip
    src = LiveSource(broadcaster.url, "s1", cfg)
    ring = EvidenceRing(max_seconds=30)

    def restart() -> None:
        time.sleep(3.0)
        broadcaster.kill()
        time.sleep(1.0)
        broadcaster.start()

    threading.Thread(target=restart, daemon=True).start()
    gap: Gap | None = None
    frames_after = 0
    deadline = time.monotonic() + 30
    for ev in src:
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
        elif isinstance(ev, Gap):
            gap = ev
        elif isinstance(ev, FrameEvent) and gap is not None:
            frames_after += 1
        if isinstance(ev, Ended) or frames_after >= 3 or time.monotonic() > deadline:
            break
    src.close()
    assert gap is not None and frames_after >= 3
    start, end = gap.start_media - 1.0, gap.end_media + 1.0  # a violation on both sides of the outage
    info = ring.clip(start, end, tmp_path / "span.mp4", pre_s=0.5, post_s=0.5)
    assert info.start <= start and info.end >= end - 0.1
    assert len(info.gaps) == 1
    g0, g1 = info.gaps[0]
    assert gap.start_media - 0.6 <= g0 <= gap.start_media + 0.1 and gap.end_media - 0.1 <= g1 <= gap.end_media + 0.6
    with av.open(info.path) as c:
        times = [float(f.time) for f in c.decode(video=0) if f.time is not None]
    rel0, rel1 = g0 - info.start, g1 - info.start
    assert [t for t in times if t < rel0] and [t for t in times if t >= rel1 - 0.05]
    assert not [t for t in times if rel0 + 0.05 < t < rel1 - 0.05]
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", info.path, "-f", "null", "-"], capture_output=True,
                             text=True)  # fmt: skip
    assert decoded.returncode == 0 and decoded.stderr == ""
