"""Per-stream records: chat/gift logs rotate by size, time and day; images are sparse, small JPEGs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moderation.config import PipelineConfig, RecordsConfig
from moderation.evidence.records import RecordKeeper, RecordsError, parse_record_name, stream_folder
from moderation.messages import ChatMessage, GiftEvent, VideoFrame

T0 = datetime(2026, 3, 1, 23, 50, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_chat_and_gifts_go_to_their_logs_with_wall_and_media_time(tmp_path: Path) -> None:
    clock = Clock()
    with RecordKeeper("live/room1", RecordsConfig(), root=tmp_path, clock=clock) as keeper:
        keeper.chat(ChatMessage("live/room1", 12.5, "u1", "我才13岁"))
        keeper.gift(GiftEvent("live/room1", 13.0, "u1", "rocket", 500.0, "coin", 50.0))
    day = tmp_path / stream_folder("live/room1") / "2026-03-01"
    (chat,) = day.glob("chat-*.jsonl")
    (gifts,) = day.glob("gifts-*.jsonl")
    assert _lines(chat) == [{"wall": "2026-03-01T23:50:00.000Z", "t": 12.5, "user": "u1", "text": "我才13岁"}]
    rec = _lines(gifts)[0]
    assert (rec["gift"], rec["value"], rec["currency"], rec["amount"], rec["t"]) == (
        "rocket",
        500.0,
        "coin",
        50.0,
        13.0,
    )
    assert parse_record_name("2026-03-01", chat.name) == ("chat", T0)
    assert keeper.written == {"chat": 1, "gifts": 1, "images": 0}


def test_logs_rotate_by_size_time_and_midnight(tmp_path: Path) -> None:
    clock = Clock()
    cfg = RecordsConfig(rotate_mb=200 / (1024 * 1024), rotate_s=120)
    keeper = RecordKeeper("s", cfg, root=tmp_path, clock=clock)
    for i in range(4):  # ~70 bytes a line: 200 bytes hold two
        keeper.chat(ChatMessage("s", float(i), "u", f"hello {i}"))
    day = tmp_path / "s" / "2026-03-01"
    assert len(list(day.glob("chat-*.jsonl"))) == 2  # same second: the second file is chat-HHMMSS-1
    clock.t += 130  # past rotate_s
    keeper.chat(ChatMessage("s", 5.0, "u", "later"))
    assert len(list(day.glob("chat-*.jsonl"))) == 3
    clock.t += 600  # past midnight UTC
    keeper.chat(ChatMessage("s", 6.0, "u", "next day"))
    keeper.close()
    (nxt,) = (tmp_path / "s" / "2026-03-02").glob("chat-*.jsonl")
    assert _lines(nxt)[0]["text"] == "next day"
    texts = [r["text"] for p in sorted(day.glob("chat-*.jsonl")) for r in _lines(p)]
    assert sorted(texts) == ["hello 0", "hello 1", "hello 2", "hello 3", "later"]  # nothing lost in rotation


def test_one_small_jpeg_every_n_media_seconds(tmp_path: Path) -> None:
    clock = Clock()
    keeper = RecordKeeper("s", RecordsConfig(image_every_s=10, max_side=320), root=tmp_path, clock=clock)
    rng = np.random.default_rng(0)
    kept = []
    for i in range(25):  # 2 fps for 12.5 s of media time, then a restart at t=0
        clock.t += 0.5
        img = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
        if keeper.frame(VideoFrame("s", i * 0.5, img)) is not None:
            kept.append(i * 0.5)
    assert kept == [0.0, 10.0]
    assert keeper.frame(VideoFrame("s", 0.0, np.zeros((720, 1280, 3), np.uint8))) is not None  # time went back
    files = sorted((tmp_path / "s" / "2026-03-01").glob("img-*.jpg"))
    assert len(files) == 3 and keeper.written["images"] == 3
    with Image.open(files[0]) as im:
        assert im.format == "JPEG" and im.size == (320, 180)
    kind, wall = parse_record_name("2026-03-01", files[0].name) or ("", 0.0)
    assert kind == "images" and wall == pytest.approx(T0 + 0.5)


def test_bad_frame_and_unwritable_folder_are_counted_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    keeper = RecordKeeper("s", RecordsConfig(), root=blocker, clock=Clock())
    keeper.chat(ChatMessage("s", 0.0, "u", "hi"))
    assert keeper.frame(VideoFrame("s", 0.0, np.zeros((4, 4), np.uint8))) is None
    assert keeper.errors == 2 and keeper.written["chat"] == 0


def test_stream_folder_is_path_safe_and_distinct() -> None:
    assert stream_folder("room1") == "room1"
    names = {stream_folder(s) for s in ("a/b", "a_b", "../etc", "a\\b", "x" * 130, "x" * 131)}
    assert len(names) == 6 and all(len(n) <= 120 for n in names)
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_needs_a_folder_and_is_part_of_the_pipeline_config() -> None:
    with pytest.raises(RecordsError, match="no folder"):
        RecordKeeper("s", RecordsConfig())
    cfg = PipelineConfig.model_validate(
        {"records": {"enabled": True, "dir": "/r", "retention_overrides": {"gifts": 180}}}
    )
    assert cfg.records.days_for("gifts") == 180 and cfg.records.days_for("chat") == 60
    with pytest.raises(ValueError, match="retention_overrides"):
        RecordsConfig(retention_overrides={"Bad Key": 1})
