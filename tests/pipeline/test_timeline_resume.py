"""A restarted stream worker continues the stream's media timeline (no review-key collisions)."""

from __future__ import annotations

from moderation.ingest.live_source import LiveSource
from moderation.ingest.source import SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig
from moderation.pipeline.status import StreamSpec, is_file_url


def test_spec_origin_fixed_once_and_resume_for_live_urls_only() -> None:
    live = StreamSpec.from_url("rtmp://origin.example/live/room1")
    assert live.resume_at(1000.0) == 0.0  # no origin yet: a fresh stream starts at 0
    fixed = live.with_origin()
    assert fixed.timeline_origin is not None
    assert fixed.with_origin() is fixed  # never moved once set
    assert fixed.resume_at(fixed.timeline_origin + 42.5) == 42.5
    assert fixed.resume_at(fixed.timeline_origin - 5) == 0.0  # clock skew never gives negative time
    # A recording replays from its start after a restart, reproducing the same verdict keys.
    rec = StreamSpec.from_url("/data/rec.mp4", "rec").with_origin()
    assert rec.resume_at(rec.timeline_origin + 42.5) == 0.0  # type: ignore[operator]
    assert is_file_url("file:///data/rec.mp4") and is_file_url("rec.mp4")
    assert not is_file_url("https://cdn.example/live.m3u8")


def test_live_source_timeline_starts_at_start_at(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from media_factory import make_clip

    path = make_clip(tmp_path / "v.mp4", seconds=1.0)
    times = []
    for ev in LiveSource(str(path), "s", SourceConfig(guard=UrlGuardConfig(allow_file=True)), start_at=100.0):
        t = getattr(getattr(ev, "frame", None), "t", None)
        if t is not None:
            times.append(t)
    assert times and min(times) >= 100.0 and max(times) < 101.5
