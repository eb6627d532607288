"""LiveSource on files and on simulated live connections (no network): events, pacing, faults."""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from media_factory import corrupt_copy, make_clip, truncate_copy

from moderation.ingest import live_connection
from moderation.ingest import live_source as live
from moderation.ingest.decode import MediaError, iter_frames
from moderation.ingest.live_source import LiveSource
from moderation.ingest.localfile import ffmpeg_file_url
from moderation.ingest.source import (
    AudioEvent,
    Connected,
    Disconnected,
    Ended,
    FrameEvent,
    Gap,
    LiveEvent,
    Opened,
    PacketEvent,
    SourceConfig,
    TransientError,
)
from moderation.ingest.urlguard import CheckedUrl, UrlGuard, UrlGuardConfig

FILES = UrlGuardConfig(allow_file=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s, 25 fps, keyframe every 1 s, 440 Hz tone."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=4.0)


@pytest.fixture(scope="module")
def ts_clip(clip: Path) -> Path:
    out = clip.with_suffix(".ts")
    cmd = ["ffmpeg", "-loglevel", "error", "-i", str(clip), "-c", "copy", "-f", "mpegts", str(out)]
    subprocess.run(cmd, check=True)
    return out


def _of(events: list[LiveEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_file_events(clip: Path) -> None:
    src = LiveSource(str(clip), "s1", SourceConfig(guard=FILES, audio_window_s=1.5))
    events = list(src)
    assert isinstance(events[0], Connected) and events[0].epoch == 0
    frames = _of(events, FrameEvent)
    assert [f.frame.t for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert [f.frame.index for f in frames] == [0, 1, 2, 3]
    assert frames[0].frame.image.shape == (240, 320, 3)
    assert [a.window.start for a in _of(events, AudioEvent)] == pytest.approx([0.0, 1.5, 3.0])
    packets = _of(events, PacketEvent)
    assert {p.packet.kind for p in packets} == {"video", "audio"}
    assert sum(p.packet.keyframe for p in packets if p.packet.kind == "video") == 4
    walls = [e.wall for e in frames]
    assert walls == sorted(walls) and walls[0].tzinfo is not None
    assert isinstance(events[-1], Ended) and events[-1].reason == "eof" and events[-1].error is None
    assert src.stats.connects == 1 and src.stats.frames_sampled == 4 and not src.stats.gaps


def test_skip_to_keyframe_samples_the_same_frames_from_fewer_decodes(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "gop1.mp4", seconds=8.0, gop_s=1.0)
    runs = {}
    for skip in (False, True):
        src = LiveSource(str(path), "s1", SourceConfig(guard=FILES, audio=False, skip_to_keyframe=skip))
        events = list(src)
        runs[skip] = (_of(events, FrameEvent), src.stats.frames_decoded, len(_of(events, PacketEvent)))
    (full, full_decoded, full_packets), (fewer, fewer_decoded, fewer_packets) = runs[False], runs[True]
    assert [f.frame.t for f in fewer] == pytest.approx([f.frame.t for f in full]) == list(range(8))
    assert fewer_decoded < 0.6 * full_decoded
    assert fewer_packets == full_packets  # the evidence ring still gets every packet


def test_audio_windows_can_be_retimed_while_following(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "tone.mp4", seconds=12.0)  # a steady tone: no pause ends a window
    src = LiveSource(str(path), "s1", SourceConfig(guard=FILES, audio_window_s=2.0, audio_pause_s=0.0))
    sizes = []
    for ev in src:
        if isinstance(ev, AudioEvent):
            sizes.append(round(ev.window.samples.size / 16000, 1))
            if len(sizes) == 1:
                src.set_audio_window(4.0, None, 0.0)  # from another thread in the pipeline
    assert sizes[:2] == [2.0, 4.0] and set(sizes[1:-1]) == {4.0}
    assert src.config.audio_window_s == 4.0  # a reconnect keeps the new windows


def test_refused_and_unusable_inputs(clip: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="local files not allowed"):
        next(iter(LiveSource(str(clip), "s1")))
    with pytest.raises(MediaError, match="pixel cap"):
        next(iter(LiveSource(str(clip), "s1", SourceConfig(guard=FILES, max_frame_pixels=1000))))
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 100)
    with pytest.raises(MediaError, match="not a"):
        next(iter(LiveSource(str(text), "s1", SourceConfig(guard=FILES))))


def test_realtime_pacing_and_wall_clock(clip: Path) -> None:
    t0 = time.monotonic()
    cfg = SourceConfig(guard=FILES, realtime=True, max_duration_s=1.5, audio=False)
    events = list(LiveSource(str(clip), "s1", cfg))
    took = time.monotonic() - t0
    assert 1.3 < took < 3.0
    frames = _of(events, FrameEvent)
    assert [f.frame.t for f in frames] == pytest.approx([0.0, 1.0])
    lag = (frames[1].wall - frames[0].wall).total_seconds()
    assert lag == pytest.approx(1.0, abs=0.25)  # wall clock follows media time
    assert isinstance(events[-1], Ended) and events[-1].reason == "max_duration"


def test_close_from_another_thread(clip: Path) -> None:
    src = LiveSource(str(clip), "s1", SourceConfig(guard=FILES, realtime=True))
    threading.Timer(0.5, src.close).start()
    events = list(src)
    assert isinstance(events[-1], Ended) and events[-1].reason == "closed"
    assert events[-1].t < 2.0


def test_corrupt_mpegts_is_skipped_and_counted(ts_clip: Path, tmp_path: Path) -> None:
    bad = corrupt_copy(ts_clip, tmp_path / "bad.ts", start_frac=0.3, n=20000)
    src = LiveSource(str(bad), "s1", SourceConfig(guard=FILES))
    events = list(src)
    assert isinstance(events[-1], Ended) and events[-1].reason == "eof"
    frames = _of(events, FrameEvent)
    assert frames and frames[-1].frame.t >= 3.0  # decoding went on after the damage
    clean = LiveSource(str(ts_clip), "s1", SourceConfig(guard=FILES))
    list(clean)
    # The damage cost packets/frames (dropped by the demuxer or decoder), never the stream.
    lost = clean.stats.frames_decoded - src.stats.frames_decoded
    assert lost > 0 or src.stats.corrupt_packets > 0


def test_truncated_mpegts_ends_cleanly(ts_clip: Path, tmp_path: Path) -> None:
    cut = truncate_copy(ts_clip, tmp_path / "cut.ts", 0.5)
    events = list(LiveSource(str(cut), "s1", SourceConfig(guard=FILES)))
    assert isinstance(events[-1], Ended) and events[-1].reason == "eof"
    assert 1 <= len(_of(events, FrameEvent)) <= 3


def test_backoff_is_exponential_capped_and_jittered() -> None:
    src = LiveSource("rtmp://x/live/k", "s", SourceConfig(), rng=random.Random(1))
    assert src.backoff(1) == 0.0  # first retry is immediate
    assert 0.375 <= src.backoff(2) <= 0.625
    assert 0.75 <= src.backoff(3) <= 1.25
    assert all(6.0 <= src.backoff(n) <= 10.0 for n in range(8, 20))
    delays = {round(src.backoff(4), 6) for _ in range(10)}
    assert len(delays) > 1  # jitter spreads reconnecting workers apart


class _FakeOrigin:
    """Plays a file as if it were an RTMP connection; ``script`` says what each open does."""

    def __init__(self, path: Path, script: list[str]) -> None:
        self.path = path
        self.script = script
        self.opens = 0

    def __call__(self, url: str, config: SourceConfig) -> Opened:
        step = self.script[min(self.opens, len(self.script) - 1)]
        self.opens += 1
        if step == "fail":
            raise TransientError(f"{url}: open failed (connection refused)")
        checked = CheckedUrl(url, url, "rtmp", "origin", 1935, ("192.0.2.1",))
        return Opened(av.open(ffmpeg_file_url(self.path)), checked, UrlGuard())


def test_live_eof_reconnects_records_gap_then_ends(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin = _FakeOrigin(clip, ["ok", "fail", "ok", "fail"])
    monkeypatch.setattr(live, "open_source", origin)
    delays: list[float] = []
    cfg = SourceConfig(max_attempts=3, eof_grace_s=100, audio_window_s=2.0)
    src = LiveSource("rtmp://origin/live/k", "s1", cfg, sleep=delays.append, rng=random.Random(0))
    events = list(src)
    gaps = _of(events, Gap)
    assert len(gaps) == 1 and gaps[0].attempts == 2
    gap = gaps[0]
    assert gap.start_media == pytest.approx(4.0, abs=0.1) and gap.end_media >= gap.start_media
    assert _of(events, Disconnected)[0].reason == "end of stream (publisher left)"
    assert [c.epoch for c in _of(events, Connected)] == [0, 1]
    ts = [f.frame.t for f in _of(events, FrameEvent)]
    assert ts == sorted(ts) and len(ts) == 8 and ts[4] >= gap.end_media  # one continuous timeline
    pk = [p.packet for p in _of(events, PacketEvent)]
    assert {p.epoch for p in pk} == {0, 1} and all(a.t_dts <= b.t_dts + 0.1 for a, b in itertools.pairwise(pk))
    end = events[-1]
    assert isinstance(end, Ended) and end.reason == "publisher_left" and "connection refused" in (end.error or "")
    assert delays[0] == 0.0 and 0.375 <= delays[1] <= 0.625
    assert src.stats.reconnects == 1 and src.stats.failed_attempts == 4 and src.stats.gaps == gaps


def test_network_drop_gives_up_after_limit(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "open_source", _FakeOrigin(clip, ["ok", "fail"]))

    def drop_midway(self: Any, packet: Any) -> bool:
        if self.src._t_last > 2.0:
            raise live_connection.Drop("read failed (TimeoutError)")
        return False

    monkeypatch.setattr(live_connection.Connection, "over_duration", drop_midway)
    cfg = SourceConfig(max_attempts=0, give_up_after_s=3.0, backoff_initial_s=1.0, backoff_jitter=0)
    src = LiveSource("rtmp://origin/live/k", "s1", cfg, sleep=lambda s: None)
    events = list(src)
    end = events[-1]
    assert isinstance(end, Ended) and end.reason == "gave_up" and "connection refused" in (end.error or "")
    assert _of(events, Disconnected)[0].reason == "read failed (TimeoutError)"
    assert src.stats.failed_attempts >= 1


class _NewStreamMidway:
    """A container whose demux raises PyAV's bare IndexError once (new stream mid-demux)."""

    def __init__(self, inner: av.container.InputContainer) -> None:
        self._inner = inner
        self._raised = False
        self._it: Iterator[av.Packet] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def demux(self) -> Iterator[av.Packet]:
        if self._it is None:
            self._it = self._inner.demux()
        for i, p in enumerate(self._it):
            if i == 10 and not self._raised:
                self._raised = True
                raise IndexError("list index out of range")
            yield p


def test_new_stream_indexerror_is_skipped(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_open(url: str, config: SourceConfig) -> Opened:
        checked = CheckedUrl(url, ffmpeg_file_url(clip), "file", None, None, ())
        return Opened(_NewStreamMidway(av.open(ffmpeg_file_url(clip))), checked, UrlGuard())  # type: ignore[arg-type]

    monkeypatch.setattr(live, "open_source", fake_open)
    src = LiveSource(str(clip), "s1", SourceConfig(guard=FILES))
    events = list(src)
    assert src.stats.unknown_stream_packets == 1
    assert len(_of(events, FrameEvent)) == 4 and isinstance(events[-1], Ended)


@pytest.mark.parametrize("name", ["concat:clip.mp4|clip.mp4", "http:127.0.0.1:9.mp4", "50%25 a?b#c.mp4"])
def test_protocol_like_file_names_are_read_as_that_file(clip: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(clip.read_bytes())
    src = LiveSource(str(path), "s1", SourceConfig(guard=FILES, audio=False))
    events = list(src)
    assert len(_of(events, FrameEvent)) == 4 and isinstance(events[-1], Ended) and events[-1].reason == "eof"


def _decoder_threads() -> int:
    names = [(Path("/proc/self/task") / t / "comm").read_text().strip() for t in os.listdir("/proc/self/task")]
    return sum(n.startswith("av:h264") for n in names)


def test_each_live_decoder_runs_on_one_thread_unless_asked_otherwise(clip: Path) -> None:
    def threads_while_decoding(n: int) -> int:
        src = iter(LiveSource(str(clip), "s1", SourceConfig(guard=FILES, decode_threads=n)))
        seen = 0
        for ev in src:
            if isinstance(ev, FrameEvent):
                seen = max(seen, _decoder_threads())
                if ev.frame.t >= 1.0:
                    break
        return seen

    assert threads_while_decoding(1) == 0  # libavcodec starts no threads of its own
    assert threads_while_decoding(0) > 0  # automatic: frame threads per core


def test_live_and_file_decoding_skip_the_same_work(tmp_path: Path) -> None:
    # Deblocking on (veryfast) and B-frames: every skip a live stream makes, a file scan makes too.
    path = make_clip(tmp_path / "deblock.mp4", seconds=4.0, gop_s=2.0, preset="veryfast")
    cfg = SourceConfig(guard=FILES, audio=False)
    live_frames = [e.frame for e in _of(list(LiveSource(str(path), "s1", cfg)), FrameEvent)]
    file_frames = list(
        iter_frames(
            path,
            "s1",
            cfg.fps,
            skip_nonref=cfg.skip_nonref,
            skip_to_keyframe=cfg.skip_to_keyframe,
            skip_loop_filter=cfg.skip_loop_filter,
        )
    )
    assert cfg.skip_loop_filter and [f.t for f in live_frames] == pytest.approx([f.t for f in file_frames])
    assert all(np.array_equal(a.image, b.image) for a, b in zip(live_frames, file_frames, strict=True))


def test_live_frames_are_turned_upright(tmp_path: Path) -> None:
    from media_factory import make_marked_clip, set_display_rotation

    path = set_display_rotation(make_marked_clip(tmp_path / "phone.mp4", width=160, height=96), 270)
    frames = _of(list(LiveSource(str(path), "s1", SourceConfig(guard=FILES))), FrameEvent)
    image = frames[0].frame.image
    assert image.shape[:2] == (160, 96)  # portrait, as shown
    assert image[:80, 48:].mean() > 200 and image[80:, :48].mean() < 50  # the block turned to the top right
