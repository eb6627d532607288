"""WallClock: media time ↔ arrival wall time, both ways, across a reconnect gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderation.pipeline.clock import WallClock

T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def clock() -> WallClock:
    c = WallClock()
    for t in range(0, 6):  # media 0..5 s arrived at wall 100..105 s
        c.observe(float(t), at(100 + t))
    for t in range(6, 9):  # the publisher was away 20 s; media resumes at 6 s at wall 126 s
        c.observe(float(t), at(120 + t))
    return c


def test_empty_clock_knows_nothing() -> None:
    assert WallClock().media_at(T0) is None and WallClock().wall_at(1.0) is None


def test_wall_at_is_the_arrival_of_the_media() -> None:
    c = clock()
    assert c.wall_at(2.0) == at(102) and c.wall_at(2.5) == at(102.5)  # between steady points
    assert c.wall_at(5.5) == at(126)  # across the outage: complete once media resumed
    assert c.wall_at(10.0) == at(130)  # beyond the last point: extrapolated
    stalled = WallClock()
    stalled.observe(0.0, at(100))
    stalled.observe(1.0, at(103))  # the origin stalled 2 s: media 0.5 was complete only at 103
    assert stalled.wall_at(0.5) == at(103) and stalled.wall_at(-1.0) == at(100)


def test_media_at_maps_send_times_onto_the_timeline() -> None:
    c = clock()
    assert c.media_at(at(102.5)) == pytest.approx(2.5)
    assert c.media_at(at(98)) == 0.0  # before the first frame: floored at the start
    assert c.media_at(at(112)) == 6.0  # during the outage: where media resumed, not past it
    assert c.media_at(at(127.25)) == pytest.approx(7.25)
    assert c.media_at(at(140)) == pytest.approx(20.0)  # after the last point: extrapolated
    assert all(c.media_at(at(w)) <= c.media_at(at(w + 0.5)) for w in range(95, 140))  # type: ignore[operator]
