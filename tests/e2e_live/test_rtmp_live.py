"""LiveSource against a real nginx-rtmp origin with ffmpeg as the broadcaster."""

from __future__ import annotations

import itertools
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rtmp_origin import Broadcaster

from moderation.evidence.ring import EvidenceRing
from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import (
    AudioEvent,
    Connected,
    Disconnected,
    Ended,
    FrameEvent,
    Gap,
    LiveEvent,
    PacketEvent,
    SourceConfig,
)
from moderation.ingest.urlguard import UrlGuardConfig, UrlRefused

LOOPBACK = UrlGuardConfig(allow_networks=("127.0.0.0/8",))


def _cfg(**kw: Any) -> SourceConfig:
    # The broadcaster's keyframes are 0.5 s apart, so a 1 s probe opens video too; the 4 s default
    # (for publishers with long GOPs) would buffer a burst that hides the live pace checked here.
    base: dict[str, Any] = {
        "guard": LOOPBACK,
        "audio_window_s": 1.0,
        "open_timeout_s": 3.0,
        "read_timeout_s": 1.5,
        "analyzeduration_s": 1.0,
    }
    return SourceConfig(**{**base, **kw})


def _collect(src: LiveSource, until: Any, timeout: float = 30.0) -> list[tuple[float, LiveEvent]]:
    """Events with their arrival (monotonic), until ``until(events)`` or Ended."""
    out: list[tuple[float, LiveEvent]] = []
    deadline = time.monotonic() + timeout
    for ev in src:
        out.append((time.monotonic(), ev))
        if isinstance(ev, Ended) or until([e for _, e in out]) or time.monotonic() > deadline:
            break
    return out


def _of(events: list[tuple[float, LiveEvent]], kind: type) -> list[Any]:
    return [e for _, e in events if isinstance(e, kind)]


def test_refused_without_allow_list(rtmp_server: Any) -> None:
    with pytest.raises(UrlRefused, match=r"127\.0\.0\.1 is loopback"):
        next(iter(LiveSource(rtmp_server.url("x"), "s", SourceConfig())))


def test_frames_audio_and_ring_clip(broadcaster: Broadcaster, tmp_path: Path) -> None:
    broadcaster.start()
    time.sleep(0.5)
    ring = EvidenceRing(max_seconds=10)
    src = LiveSource(broadcaster.url, "s1", _cfg())
    events = []
    for arrived, ev in _collect(src, lambda evs: len(_of([(0, e) for e in evs], FrameEvent)) >= 4):
        events.append((arrived, ev))
        if isinstance(ev, Connected):
            ring.set_templates(ev.epoch, ev.templates)
        elif isinstance(ev, PacketEvent):
            ring.push(ev.packet)
    frames = _of(events, FrameEvent)
    ts = [f.frame.t for f in frames]
    # one frame per 1 s bucket of media time: the first lands wherever the subscription joined
    assert len(ts) == 4 and 0 < ts[1] - ts[0] < 1.1 and all(0.9 < b - a < 1.1 for a, b in itertools.pairwise(ts[1:]))
    assert frames[0].frame.image.shape == (240, 320, 3)
    walls = [f.wall.timestamp() for f in frames]
    assert walls[-1] - walls[1] == pytest.approx(ts[-1] - ts[1], abs=0.5)  # live pace
    audio = _of(events, AudioEvent)
    assert audio and audio[0].window.samples.size == 16000 and audio[0].wall >= audio[0].wall_start
    span = ring.span
    assert span is not None
    info = ring.clip(ts[1], ts[2], tmp_path / "live.mp4", pre_s=0.5, post_s=0.5)
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "csv=p=0",
            str(tmp_path / "live.mp4"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert probe[:2] == ["h264", "aac"]
    assert float(probe[2]) == pytest.approx(info.duration, abs=0.2) and 1.0 < info.duration < 3.0
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(tmp_path / "live.mp4"), "-f", "null", "-"], capture_output=True, text=True
    )
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert src.stats.corrupt_packets == 0


def test_publisher_restart_reconnects_and_records_gap(broadcaster: Broadcaster) -> None:
    broadcaster.start()
    time.sleep(0.5)
    src = LiveSource(broadcaster.url, "s1", _cfg())
    killed: dict[str, float] = {}

    def restart() -> None:
        time.sleep(2.5)
        broadcaster.kill()
        killed["at"] = time.monotonic()
        time.sleep(1.0)
        broadcaster.start()
        killed["back"] = time.monotonic()

    threading.Thread(target=restart, daemon=True).start()

    def enough(evs: list[LiveEvent]) -> bool:
        gaps = [i for i, e in enumerate(evs) if isinstance(e, Gap)]
        return bool(gaps) and sum(isinstance(e, FrameEvent) for e in evs[gaps[0] :]) >= 2

    events = _collect(src, enough, timeout=25)
    gaps = _of(events, Gap)
    assert len(gaps) == 1, [e for _, e in events if not isinstance(e, PacketEvent | AudioEvent)]
    gap = gaps[0]
    assert gap.end_media > gap.start_media and gap.wall_s > 0.5
    assert len(_of(events, Disconnected)) == 1 and [c.epoch for c in _of(events, Connected)] == [0, 1]
    ts = [f.frame.t for f in _of(events, FrameEvent)]
    assert ts == sorted(ts)  # one timeline across the restart
    after = [t for t in ts if t >= gap.end_media]
    assert len(after) >= 2
    gap_arrival = next(arrived for arrived, e in events if isinstance(e, Gap))
    reconnect_s = gap_arrival - killed["back"]
    print(
        f"gap {gap.start_media:.2f}->{gap.end_media:.2f} s ({gap.wall_s:.2f} s wall), "
        f"reconnected {reconnect_s:.2f} s after the publisher returned: {gap.reason}"
    )
    assert reconnect_s < 6.0
    assert src.stats.reconnects == 1 and src.stats.gaps == [gap]


def test_publisher_gone_for_good_gives_up(broadcaster: Broadcaster) -> None:
    broadcaster.start()
    time.sleep(0.5)
    src = LiveSource(broadcaster.url, "s1", _cfg(give_up_after_s=3.0, open_timeout_s=1.5))
    threading.Timer(2.0, broadcaster.kill).start()
    t0 = time.monotonic()
    events = _collect(src, lambda evs: False, timeout=30)
    took = time.monotonic() - t0
    end = events[-1][1]
    assert isinstance(end, Ended) and end.reason in ("gave_up", "publisher_left"), end
    assert end.error and _of(events, FrameEvent)
    assert took < 2.0 + 1.5 + 3.0 + 3.0  # kill + read timeout + give-up window + one open timeout


@pytest.mark.parametrize("batch_s", [0.0, 0.25])
def test_caught_up_stream_is_read_in_bursts(broadcaster: Broadcaster, batch_s: float) -> None:
    """At the live edge the reader waits for a burst of packets instead of waking per packet; the
    events carry when their data arrived, so the added wait shows in measured latency."""
    broadcaster.start()
    src = LiveSource(broadcaster.url, "s1", _cfg(read_batch_s=batch_s))
    events = _collect(src, lambda evs: len(_of([(0.0, e) for e in evs], FrameEvent)) >= 6)
    src.close()
    frames = [(seen, e) for seen, e in events if isinstance(e, FrameEvent)]
    assert len(frames) >= 6
    if batch_s == 0:
        assert src.stats.read_bursts == 0
        return
    assert src.stats.read_bursts >= 8  # ~4 a second over 5+ s of live media (1 fps sampling)
    # delivered up to one burst (plus scheduling) after the data arrived, and stamped with the arrival
    offset = time.monotonic() - time.time()  # monotonic seen → epoch
    delays = [seen - offset - e.wall.timestamp() for seen, e in frames[1:]]
    assert max(delays) <= batch_s + 0.5 and min(delays) >= -0.05
