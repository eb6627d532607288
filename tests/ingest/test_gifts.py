"""Gift feeds: JSONL beside chat; bad, negative, NaN and absurd values skipped and counted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from moderation.config import GiftsConfig
from moderation.errors import InputError
from moderation.ingest.gifts import GiftStats, check_gift_source, iter_gifts, parse_gift_line
from moderation.messages import GiftEvent


def test_parse_good_lines_convert_to_the_base_unit() -> None:
    cfg = GiftsConfig(rates={"CNY": 1.0, "coin": 0.1})
    got = parse_gift_line('{"t": 3, "user": 7, "gift": "火箭", "value": 500, "currency": "coin"}', "s", cfg)
    assert got == GiftEvent("s", 3.0, "7", "火箭", 500.0, "coin", 50.0)
    got = parse_gift_line('{"t": 1.5, "user": "u", "value": 2}', "s", cfg)
    assert isinstance(got, GiftEvent) and got.currency == "CNY" and got.amount == 2.0 and got.gift == ""
    to_media = lambda ts: ts - 1000.0  # noqa: E731
    got = parse_gift_line('{"ts": 1010, "user": "u", "gift": "g", "value": 1}', "s", cfg, to_media)
    assert isinstance(got, GiftEvent) and got.t == 10.0


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("nope", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"user": "u", "value": 1}', "'t'"),
        ('{"t": 1, "value": 1}', "'user'"),
        ('{"t": 1, "user": "", "value": 1}', "'user'"),
        ('{"t": 1, "user": "u", "value": -5}', "'value'"),
        ('{"t": 1, "user": "u", "value": 0}', "'value'"),
        ('{"t": 1, "user": "u", "value": NaN}', "'value'"),
        ('{"t": 1, "user": "u", "value": Infinity}', "'value'"),
        ('{"t": 1, "user": "u", "value": "100"}', "'value'"),
        ('{"t": 1, "user": "u", "value": true}', "'value'"),
        ('{"t": 1, "user": "u", "value": 1e300}', "absurd"),
        ('{"t": 1, "user": "u", "value": 5, "currency": "BTC"}', "unknown currency"),
        ('{"t": 1, "user": "u", "value": 5, "gift": {"x": 1}}', "'gift'"),
        ('{"t": 1, "user": "u\\u0000", "value": 5}', "'user'"),
    ],
)
def test_bad_lines_give_their_reason(line: str, reason: str) -> None:
    out = parse_gift_line(line, "s")
    assert isinstance(out, str) and reason in out, out


def test_file_with_bad_lines_keeps_the_good_ones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = tmp_path / "gifts.jsonl"
    rows = [
        json.dumps({"t": 1, "user": "a", "gift": "玫瑰", "value": 1}),
        '{"t": 2, "user": "b", "value": -1}',
        "",
        "garbage",
        json.dumps({"t": 3, "user": "a", "gift": "火箭", "value": 500}),
        "x" * 5000,
        json.dumps({"t": 4, "user": "c", "gift": "g", "value": 10**9}),
    ]
    feed.write_text("\n".join(rows), encoding="utf-8")
    stats = GiftStats()
    with caplog.at_level(logging.WARNING, logger="moderation.ingest.gifts"):
        got = list(iter_gifts(str(feed), "s", stats=stats))
    assert [(g.user, g.amount) for g in got] == [("a", 1.0), ("a", 500.0)]
    assert (stats.lines, stats.messages, stats.bad) == (6, 2, 4)
    assert any("line longer than" in r for r in stats.reasons)
    assert any("gift feed" in r.getMessage() and "line 2 skipped" in r.getMessage() for r in caplog.records)


def test_missing_file_and_private_url_are_refused_with_one_line() -> None:
    with pytest.raises(InputError, match=r"gift feed /no/such\.jsonl: no such file"):
        check_gift_source("/no/such.jsonl")
    with pytest.raises(InputError, match="gift feed"):
        check_gift_source("http://127.0.0.1:9/gifts.jsonl")


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate of 'coin'"):
        GiftsConfig(rates={"coin": 0.0})
