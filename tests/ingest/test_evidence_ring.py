"""Evidence ring: bounded packet copies, keyframe-aligned MP4 remux, thumbnails."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import make_clip

from moderation.evidence.ring import EvidenceRing, write_frame_thumbnail
from moderation.ingest.decode import MediaError, iter_frames, probe
from moderation.ingest.live_source import LiveSource
from moderation.ingest.packets import EncodedPacket
from moderation.ingest.source import Connected, FrameEvent, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig

FILES = SourceConfig(guard=UrlGuardConfig(allow_file=True), audio=False)


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s clip with a keyframe every 1 s."""
    return make_clip(tmp_path_factory.mktemp("media") / "src.mp4", seconds=6.0, gop_s=1.0)


def _fill(ring: EvidenceRing, path: Path) -> list[FrameEvent]:
    """Feed a whole file through LiveSource into the ring (the container is closed after)."""
    frames = []
    for ev in LiveSource(str(path), "s1", FILES):
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
        elif isinstance(ev, FrameEvent):
            frames.append(ev)
    return frames


def test_clip_from_ring_is_keyframe_aligned_browser_mp4(src: Path, tmp_path: Path) -> None:
    ring = EvidenceRing(max_seconds=30)
    _fill(ring, src)  # the source container is closed now: packets must be self-contained copies
    out = tmp_path / "c" / "clip.mp4"
    info = ring.clip(2.5, 3.2, out, pre_s=1.0, post_s=0.5)
    assert info.start == pytest.approx(1.0) and info.end == pytest.approx(3.7, abs=0.1)
    assert info.video_codec == "h264" and info.has_audio and out.is_file()
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: playable while downloading
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
        first = next(c.decode(video=0))
        assert first.time == pytest.approx(0.0) and first.key_frame
    assert probe(out).duration == pytest.approx(2.7, abs=0.15)
    src_img = next(f for f in iter_frames(src, "s", fps=1.0) if f.t == pytest.approx(2.0)).image
    clip_img = next(f for f in iter_frames(out, "s", fps=1.0) if f.t == pytest.approx(1.0)).image
    assert abs(float(src_img.mean()) - float(clip_img.mean())) < 2  # same picture, not re-encoded
    with av.open(str(src)) as a, av.open(str(out)) as b:
        src_pk = [bytes(p) for p in a.demux(video=0) if p.size]
        clip_pk = [bytes(p) for p in b.demux(video=0) if p.size]
    assert clip_pk[:5] == src_pk[25:30]  # byte-identical packets from the keyframe at 1.0 s


def test_ring_is_bounded_in_seconds_and_bytes(src: Path, tmp_path: Path) -> None:
    ring = EvidenceRing(max_seconds=2.0)
    _fill(ring, src)
    span = ring.span
    assert span is not None and span[1] - span[0] <= 2.0 and span[1] == pytest.approx(6.0, abs=0.1)
    assert ring.dropped > 0 and ring.covers(5.9) and not ring.covers(7.0)
    # Asking for older evidence than the ring holds starts at its first keyframe.
    info = ring.clip(0.5, 5.0, tmp_path / "late.mp4")
    assert info.start == pytest.approx(4.0) and info.start >= span[0]
    small = EvidenceRing(max_seconds=30, max_bytes=20_000)
    _fill(small, src)
    assert small.bytes <= 20_000 and len(small) > 0


def test_no_keyframe_in_range(tmp_path: Path) -> None:
    ring = EvidenceRing()
    with pytest.raises(MediaError, match="no keyframe"):
        ring.clip(1.0, 2.0, tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="invalid clip range"):
        ring.clip(2.0, 1.0, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_clip_after_reconnect_uses_new_connection(src: Path, tmp_path: Path) -> None:
    """Two connections on one timeline: a clip starting after the gap uses only the second."""
    ring = EvidenceRing(max_seconds=60)
    _fill(ring, src)
    second = EvidenceRing(max_seconds=60)
    _fill(second, src)
    shift = 10.0  # second connection starts at 10 s on the timeline (a 4 s gap)
    ring.set_templates(1, second._templates[0])
    for p in second._packets:
        ring.push(
            EncodedPacket(
                p.kind,
                p.data,
                p.pts,
                p.dts,
                p.duration,
                p.time_base,
                p.keyframe,
                p.t + shift,
                p.t_dts + shift,
                p.wall,
                1,
            )
        )
    info = ring.clip(11.2, 12.0, tmp_path / "after.mp4", pre_s=3.0)
    assert info.start == pytest.approx(10.0)  # not a keyframe of the first connection
    assert probe(tmp_path / "after.mp4").duration == pytest.approx(2.0, abs=0.15)
    inside = ring.clip(4.2, 4.5, tmp_path / "inside.mp4", post_s=1.0)
    assert inside.start == pytest.approx(4.0) and inside.end <= 6.1 and inside.gaps == ()


def test_thumbnail_from_frame(src: Path, tmp_path: Path) -> None:
    frames = _fill(EvidenceRing(), src)
    out = write_frame_thumbnail(frames[2].frame, tmp_path / "t" / "thumb.jpg", boxes=[(10, 10, 50, 40)])
    assert out.read_bytes()[:2] == b"\xff\xd8"


def test_packet_is_plain_data() -> None:
    p = EncodedPacket("video", b"\x00\x01", 0, 0, 40, Fraction(1, 1000), True, 0.0, 0.0, datetime.now(UTC), 0)
    with pytest.raises(AttributeError):
        p.t = 1.0  # type: ignore[misc]
    assert isinstance(p.data, bytes) and np.frombuffer(p.data, np.uint8).size == 2
