"""Evidence across a publisher restart: both sides of the outage in one clip, the gap named."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import make_clip

from moderation.evidence.ring import EvidenceRing
from moderation.ingest.decode import MediaError
from moderation.ingest.live_source import LiveSource
from moderation.ingest.packets import EncodedPacket
from moderation.ingest.source import Connected, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig

FILES = SourceConfig(guard=UrlGuardConfig(allow_file=True), audio=False)


def _connection(path: Path) -> EvidenceRing:
    """One connection's packets (epoch 0, timeline from 0) in a ring of its own."""
    ring = EvidenceRing(max_seconds=600)
    for ev in LiveSource(str(path), "s1", FILES):
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
    return ring


def _restarted(first: Path, second: Path, shift: float, max_seconds: float = 600.0) -> EvidenceRing:
    """A stream whose publisher restarted: connection 1's own timestamps start again at 0, and the
    stream timeline goes on at ``shift`` (the live source adds the outage as an offset)."""
    ring = EvidenceRing(max_seconds=max_seconds)
    a, b = _connection(first), _connection(second)
    ring.set_templates(0, a._templates[0])
    for p in a._packets:
        ring.push(p)
    ring.set_templates(1, b._templates[0])
    for p in b._packets:
        assert p.t < 4.5  # the new publisher's own clock restarted
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
    return ring


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    return {
        "a": make_clip(d / "a.mp4", seconds=4.0, gop_s=1.0),
        "b": make_clip(d / "b.mp4", seconds=4.0, gop_s=1.0),
        "wide": make_clip(d / "wide.mp4", seconds=4.0, gop_s=1.0, size=(480, 240)),
    }


def _video_times(path: str) -> list[float]:
    with av.open(path) as c:
        return [float(f.time) for f in c.decode(video=0) if f.time is not None]


def test_clip_spanning_a_restart_holds_both_sides_and_names_the_gap(media: dict[str, Path], tmp_path: Path) -> None:
    ring = _restarted(media["a"], media["b"], shift=10.0)  # outage from 4 s to 10 s
    info = ring.clip(3.0, 11.0, tmp_path / "span.mp4", pre_s=0.5, post_s=0.5)
    assert info.start == pytest.approx(2.0)  # keyframe before 2.5 s, in the first connection
    assert info.end == pytest.approx(11.5, abs=0.1)
    (gap,) = info.gaps
    assert gap.start == pytest.approx(4.0, abs=0.05) and gap.end == pytest.approx(10.0)
    assert gap.clip_at == pytest.approx(2.0, abs=0.05)  # 2–4 s of the first side, then the second
    assert info.duration == pytest.approx(3.5, abs=0.1)
    times = _video_times(info.path)
    # Both sides, back to back: 50 frames of the first publisher, then about 38 of the second.
    assert len(times) == pytest.approx(88, abs=2) and times[0] == pytest.approx(0.0)
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.1
    with av.open(info.path) as c:
        assert c.streams.audio and float(c.duration or 0) / 1e6 == pytest.approx(3.5, abs=0.15)
        frames = list(c.decode(video=0))
    first_after = next(f for f in frames if f.time is not None and f.time >= gap.clip_at - 1e-3)
    assert first_after.key_frame  # the second side starts on its own keyframe
    # The pictures are the publishers': frame 50 of the first clip, then frame 0 of the second.
    assert abs(float(frames[0].to_ndarray(format="gray").mean()) - _mean_at(media["a"], 2.0)) < 3
    assert abs(float(first_after.to_ndarray(format="gray").mean()) - _mean_at(media["b"], 0.0)) < 3
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", info.path, "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.returncode == 0 and decoded.stderr == ""


def _mean_at(path: Path, t: float) -> float:
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            if f.time is not None and f.time >= t - 1e-3:
                return float(f.to_ndarray(format="gray").mean())
    raise AssertionError(f"no frame at {t}")


def test_outage_does_not_push_the_evidence_before_it_out(media: dict[str, Path], tmp_path: Path) -> None:
    """The ring bounds media held: a 30 s outage in a 10 s ring keeps the first publisher's end."""
    ring = _restarted(media["a"], media["b"], shift=34.0, max_seconds=10.0)
    span = ring.span
    assert span is not None and span[0] < 1.0  # 8 s of media held, not 38 s of timeline
    info = ring.clip(3.2, 35.0, tmp_path / "long.mp4")
    assert info.start == pytest.approx(3.0) and len(info.gaps) == 1
    assert info.gaps[0].end == pytest.approx(34.0) and info.duration == pytest.approx(2.0, abs=0.1)  # not 32 s


def test_first_side_without_keyframe_still_clips_the_second(media: dict[str, Path], tmp_path: Path) -> None:
    ring = _restarted(media["a"], media["b"], shift=10.0)
    while ring._packets[0].t < 3.5:  # the first connection's last keyframe (3.0 s) has left the ring
        ring._packets.popleft()
    info = ring.clip(3.6, 11.0, tmp_path / "second.mp4")
    assert info.start == pytest.approx(10.0) and info.gaps == ()
    assert _video_times(info.path)[0] == pytest.approx(0.0)


def test_different_codec_parameters_keep_the_side_with_most_of_the_violation(
    media: dict[str, Path], tmp_path: Path
) -> None:
    ring = _restarted(media["a"], media["wide"], shift=10.0)  # the publisher came back at 480x240
    info = ring.clip(3.5, 12.5, tmp_path / "wide.mp4")
    assert info.start == pytest.approx(10.0) and info.gaps == ()
    with av.open(info.path) as c:
        assert c.streams.video[0].codec_context.width == 480
    early = ring.clip(2.0, 10.5, tmp_path / "early.mp4")
    assert early.start == pytest.approx(2.0) and early.end == pytest.approx(4.0, abs=0.05)


def test_no_part_says_what_the_ring_holds(media: dict[str, Path], tmp_path: Path) -> None:
    ring = _restarted(media["a"], media["b"], shift=10.0)
    with pytest.raises(MediaError, match=r"no keyframe for \[20\.000, 21\.000\] \(it holds \[-?0\.0\d+, 13\.9\d+\]\)"):
        ring.clip(20.0, 21.0, tmp_path / "none.mp4")


def test_audio_only_stream_gets_an_audio_clip(tmp_path: Path) -> None:
    ring = EvidenceRing()
    for ev in LiveSource(str(make_clip(tmp_path / "a.m4a", seconds=3.0, with_video=False)), "s1", FILES):
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
    info = ring.clip(1.0, 1.5, tmp_path / "x.mp4", pre_s=0.5, post_s=0.5)
    assert info.video_codec is None and info.has_audio and not info.gaps
    assert info.start == pytest.approx(0.5, abs=0.03) and info.end == pytest.approx(2.0, abs=0.05)
    with av.open(str(tmp_path / "x.mp4")) as c:
        assert not c.streams.video and c.streams.audio
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert pcm.size / 48000 == pytest.approx(1.5, abs=0.1)  # the range, as sound
    assert float(np.abs(pcm).max()) > 0.1  # the tone, not silence
    with pytest.raises(MediaError, match="no keyframe"):
        ring.clip(9.0, 9.5, tmp_path / "late.mp4")  # past what the ring holds
