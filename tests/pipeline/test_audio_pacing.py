"""AudioPacing: short ASR windows while Whisper keeps up, long ones while transcripts lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moderation.config import LiveConfig
from moderation.pipeline.audio_pacing import AudioPacing


def _pacing() -> AudioPacing:
    p = AudioPacing.from_config(LiveConfig(audio_window_s=6.0, audio_overlap_s=2.0, audio_window_busy_s=10.0))
    assert p is not None
    return p


def test_settings_come_from_the_live_config() -> None:
    p = _pacing()
    assert p.quick == (6.0, 4.0, LiveConfig().audio_pause_s)
    assert p.busy == (10.0, 8.0, 0.0)  # long windows, no early cut
    assert AudioPacing.from_config(LiveConfig(audio_window_s=10.0, audio_window_busy_s=10.0)) is None


def test_switches_to_long_windows_after_lagging_ones_and_back_once_caught_up() -> None:
    p = _pacing()
    assert p.observe(5.0) is None  # one slow window is not a backlog
    assert p.observe(1.0) is None  # and the streak restarts
    assert p.observe(5.0) is None
    assert p.observe(6.0) == p.busy
    assert p.observe(9.0) is None  # already long
    for _ in range(3):
        assert p.observe(1.0) is None  # under half the backlog, but not yet for long enough
    assert p.observe(1.0) == p.quick
    assert not p.busy_now


def test_transcribed_applies_a_switch_and_skips_unknown_arrival() -> None:
    p = _pacing()
    applied: list[tuple[float, float | None, float]] = []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    p.transcribed(None, now, lambda *a: applied.append(a))
    for _ in range(2):
        p.transcribed(now - timedelta(seconds=7), now, lambda *a: applied.append(a))
    assert applied == [p.busy]
