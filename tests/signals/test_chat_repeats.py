"""RepeatFilter: one observation per user and per line text within the window, memory bounded."""

from __future__ import annotations

from moderation.signals.chat import RepeatFilter


def test_repeats_by_user_or_by_line_are_one_observation() -> None:
    f = RepeatFilter(10.0)
    assert f.first("u1", "加我带你赢", ("gambling",), 0.0)
    assert not f.first("u1", "another line", ("gambling",), 3.0)  # same user, same evidence
    assert not f.first("u2", "加我带你赢", ("gambling",), 4.0)  # same line, another user
    assert f.first("u2", "加我带你赢", ("tipping_inducement",), 4.0)  # other evidence
    assert f.first("u3", "new line", ("gambling",), 5.0)
    assert f.first("u1", "later", ("gambling",), 13.5)  # the window (from the last report) passed


def test_memory_is_bounded_on_a_long_chat() -> None:
    f = RepeatFilter(10.0)
    for i in range(20_000):  # a new user and line every 0.1 s for ~33 minutes
        assert f.first(f"u{i}", f"line {i}", ("gambling",), i * 0.1)
    assert len(f._last) <= 2 * 2 * 100 + 2  # two keys per report, at most two windows of ~100 reports
