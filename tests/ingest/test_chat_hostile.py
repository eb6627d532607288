"""Hostile chat lines: every value that could make parsing raise is a counted bad line, and the
lines after it are still read (one line must never end the feed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moderation.config import ChatConfig
from moderation.ingest.chat import ChatStats, iter_chat, parse_chat_line
from moderation.messages import ChatMessage

ORIGIN = 1_700_000_000.0  # Unix time of media time 0 in these tests


def _to_media(ts: float) -> float | None:
    """A live mapping through a real datetime, as the chat follower does."""
    return (datetime.fromtimestamp(ts, UTC) - datetime.fromtimestamp(ORIGIN, UTC)).total_seconds()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"ts": 1e18, "text": "x"}', "year 9999"),
        ('{"ts": 253402300800, "text": "x"}', "year 9999"),  # one second into the year 10000
        ('{"ts": 1e308, "text": "x"}', "year 9999"),
        ('{"ts": ' + "9" * 400 + ', "text": "x"}', "'ts'"),  # an int beyond a float
        ('{"t": ' + "9" * 400 + ', "text": "x"}', "'t'"),
        ('{"t": 1e400, "text": "x"}', "'t'"),  # parsed as inf
        ('{"t": NaN, "text": "x"}', "'t'"),
        ('{"t": Infinity, "text": "x"}', "'t'"),
        ('{"ts": -Infinity, "text": "x"}', "'ts'"),
        ('{"t": "1", "text": "x"}', "'t'"),
        ('{"t": [1], "text": "x"}', "'t'"),
        ('{"t": {"v": 1}, "text": "x"}', "'t'"),
        ('{"t": true, "text": "x"}', "'t'"),
        ('{"t": 1, "text": {"a": [1, 2]}}', "'text'"),
        ('{"t": 1, "text": "x", "user": {"id": 1}}', "'user'"),
        ('{"t": 1, "text": "x", "user": [1]}', "'user'"),
        ("[" * 5000 + "]" * 5000, "not JSON"),  # nesting deeper than the parser's recursion limit
        ('{"a":' * 5000 + "1" + "}" * 5000, "not JSON"),
        ("1" * 5000, "not JSON"),  # an int beyond Python's digit limit
        ('"just a string"', "not a JSON object"),
        ('{"t": 1, "text": "\\ud800 百家乐"}', "unpaired surrogate"),  # cannot be written as UTF-8
        ('{"t": 1, "text": "x", "user": "\\udfff"}', "unpaired surrogate"),
        ('{"t": 1, "text": "a\\u0000b"}', "NUL"),
    ],
)
def test_hostile_values_are_bad_lines_not_exceptions(line: str, reason: str) -> None:
    out = parse_chat_line(line, "s", _to_media)
    assert isinstance(out, str) and reason in out, (line[:60], out)


def test_a_ts_the_platform_cannot_represent_is_a_bad_line() -> None:
    def no_such_date(ts: float) -> float | None:
        raise OSError(75, "Value too large for defined data type")

    out = parse_chat_line('{"ts": 1e11, "text": "x"}', "s", no_such_date)
    assert out == "'ts' is not a representable time"


def test_times_past_the_allowed_limit_are_bad_lines() -> None:
    limit = lambda: 100.0  # noqa: E731
    assert parse_chat_line('{"t": 100, "text": "x"}', "s", max_t=limit) == ChatMessage("s", 100.0, "", "x")
    for line in ('{"t": 100.5, "text": "x"}', '{"t": 1e18, "text": "x"}', f'{{"ts": {ORIGIN + 1e6}, "text": "x"}}'):
        out = parse_chat_line(line, "s", _to_media, max_t=limit)
        assert isinstance(out, str) and "past the media" in out, (line, out)
    unbounded = lambda: None  # noqa: E731
    assert parse_chat_line('{"t": 1e18, "text": "x"}', "s", max_t=unbounded) == ChatMessage("s", 1e18, "", "x")


def test_poisoned_lines_are_counted_and_the_lines_after_them_are_read(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(ts: float) -> float | None:  # a mapping with a bug on one line
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("mapping bug")
        return _to_media(ts)

    lines = [
        {"ts": ORIGIN + 1, "text": "first"},
        {"ts": 1e18, "text": "far future"},
        {"ts": ORIGIN + 2, "text": "hits the mapping bug"},
        {"t": 1e18, "text": "beyond the limit"},
        {"ts": ORIGIN + 3, "text": "last"},
    ]
    p = tmp_path / "c.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n" + "[" * 3000 + "\n" + '{"t": 4, "text": "after"}\n')
    stats = ChatStats()
    got = list(iter_chat(str(p), "s", ChatConfig(), stats=stats, wall_to_media=flaky, max_t=lambda: 60.0))
    assert [m.text for m in got] == ["first", "last", "after"]
    assert [m.t for m in got] == [1.0, 3.0, 4.0]
    assert (stats.lines, stats.messages, stats.bad) == (7, 3, 4)
    assert stats.reasons["'ts' is beyond the year 9999"] == 1
    assert stats.reasons["unreadable line (RuntimeError)"] == 1
    assert stats.reasons["time is past the media (beyond the allowed slack)"] == 1
