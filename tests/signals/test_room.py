"""Room metadata: a gambling title or cover caption is a verdict about the room; bad images are refused."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from moderation.config import OcrConfig, PolicyConfig, UrlGuardConfig, project_root
from moderation.ingest.urlguard import UrlGuard
from moderation.messages import Detection, OcrResult, VideoFrame, VisionResult
from moderation.policy.fuse import fuse
from moderation.signals.room import (
    RoomMeta,
    RoomMetaError,
    RoomWatcher,
    load_room_images,
    parse_meta_file,
    room_signals,
)
from moderation.text.lexicon import Lexicon
from moderation.text.matcher import KeywordMatcher


@pytest.fixture(scope="module")
def match() -> KeywordMatcher:
    return KeywordMatcher(Lexicon.load())


def _png(path: Path, color: tuple[int, int, int] = (40, 90, 160), size: tuple[int, int] = (320, 180)) -> Path:
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


class CountingModels:
    """Stand-ins for the vision/OCR functions that count calls (the real OCR runs in the slow test)."""

    def __init__(self) -> None:
        self.calls = 0

    def ocr(self, frames: Sequence[VideoFrame]) -> list[OcrResult]:
        self.calls += 1
        return [OcrResult(f.stream, f.t, ()) for f in frames]

    def vision(self, frames: Sequence[VideoFrame]) -> list[VisionResult]:
        self.calls += 1
        box = Detection("FEMALE_BREAST_EXPOSED", 0.9, (10.0, 10.0, 50.0, 50.0))
        return [VisionResult(f.stream, f.t, (box,), (("open_nsfw", 0.8),)) for f in frames]


def test_gambling_title_is_a_room_verdict(match: KeywordMatcher) -> None:
    meta = RoomMeta("room1", title="今晚百家乐带你赢", introduction="可爱小猫日常", nickname="小猫")
    sigs = room_signals(meta, match, t=42.0)
    assert [(s.kind, s.category, s.term, s.label, s.t) for s in sigs] == [
        ("room.keyword", "gambling", "百家乐", "title", 42.0)
    ]
    assert sigs[0].subject is not None and sigs[0].subject.kind == "room"
    (verdict,) = fuse("room1", sigs, PolicyConfig())
    assert verdict.category == "gambling" and verdict.subject is not None
    assert verdict.to_record()["subject"] == {"kind": "room", "id": "room1"}
    assert room_signals(RoomMeta("room1", title="可爱小猫日常"), match) == []


def test_cover_image_goes_through_vision_with_the_image_as_evidence(tmp_path: Path, match: KeywordMatcher) -> None:
    cover = _png(tmp_path / "cover.png")
    models = CountingModels()
    sigs = room_signals(RoomMeta("r", cover=str(cover)), match, models.vision, models.ocr, t=5.0)
    kinds = sorted(s.kind for s in sigs)
    assert kinds == ["room.image.nsfw", "room.image.nudenet"]
    assert all(s.url == str(cover) and s.text == "cover" and s.subject and s.subject.kind == "room" for s in sigs)
    (verdict,) = fuse("r", sigs, PolicyConfig())
    assert verdict.category == "vulgar" and verdict.to_record()["subject"]["kind"] == "room"


def test_a_file_that_is_not_an_image_is_refused_with_the_reason(tmp_path: Path, match: KeywordMatcher) -> None:
    fake = tmp_path / "cover.jpg"
    fake.write_text("<html>not a picture</html>")
    models = CountingModels()
    with pytest.raises(RoomMetaError, match=r"cover .*cover\.jpg: not an image \(starts with 3c 68"):
        room_signals(RoomMeta("r", title="百家乐", cover=str(fake)), match, models.vision, models.ocr)
    assert models.calls == 0  # refused before any inference
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(RoomMetaError, match=r"avatar .*PNG that cannot be decoded"):
        load_room_images(RoomMeta("r", avatar=str(broken)))


def test_urls_go_through_the_url_guard(tmp_path: Path) -> None:
    with pytest.raises(RoomMetaError, match=r"cover http://127\.0\.0\.1.*refused \(destination 127\.0\.0\.1 is loop"):
        load_room_images(RoomMeta("r", cover="http://127.0.0.1:9/cover.png"))
    with pytest.raises(RoomMetaError, match=r"refused .*scheme 'ftp' not allowed"):
        load_room_images(RoomMeta("r", avatar="ftp://example.com/a.png"))
    with pytest.raises(RoomMetaError, match="local files not allowed"):  # with a guard, paths need allow_file
        load_room_images(RoomMeta("r", cover=str(_png(tmp_path / "c.png"))), UrlGuard())


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    _png(tmp_path / "cover.png", (200, 30, 30))
    (tmp_path / "page.html").write_text("<html></html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kw: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kw)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_allow_listed_url_is_fetched_and_checked(image_server: str) -> None:
    guard = UrlGuard(UrlGuardConfig(allow_networks=("127.0.0.0/8",)))
    (img,) = load_room_images(RoomMeta("r", cover=f"{image_server}/cover.png"), guard)
    assert img.format == "PNG" and img.image.shape == (180, 320, 3)
    assert tuple(img.image[0, 0]) == (30, 30, 200)  # BGR
    with pytest.raises(RoomMetaError, match=r"page\.html: not an image"):
        load_room_images(RoomMeta("r", avatar=f"{image_server}/page.html"), guard)


def test_watcher_rechecks_only_on_change(tmp_path: Path, match: KeywordMatcher) -> None:
    cover = _png(tmp_path / "cover.png")
    models = CountingModels()
    watcher = RoomWatcher(match, None, models.ocr)
    meta = RoomMeta("r", title="聊天", cover=str(cover))
    assert watcher.check(meta, 1.0) == []
    assert watcher.check(meta, 2.0) is None and models.calls == 1
    changed = watcher.check(RoomMeta("r", title="百家乐开局", cover=str(cover)), 3.0)
    assert changed is not None and [s.term for s in changed] == ["百家乐"]
    _png(cover, (0, 0, 0))  # same path, new picture
    assert watcher.check(RoomMeta("r", title="百家乐开局", cover=str(cover)), 4.0) is not None
    assert models.calls == 3 and watcher.checks == 3
    assert watcher.check(RoomMeta("other", title="聊天", cover=str(cover)), 1.0) == []  # per stream


def test_meta_file_parsing_and_clear_errors(tmp_path: Path) -> None:
    _png(tmp_path / "cover.png")
    good = tmp_path / "meta.json"
    good.write_text('{"title": "百家乐", "nickname": "n", "cover": "cover.png", "avatar": "https://cdn.example/a.png"}')
    meta = parse_meta_file(good, "room1")
    assert meta.cover == str(tmp_path / "cover.png") and meta.avatar == "https://cdn.example/a.png"
    assert (meta.stream, meta.title, meta.introduction) == ("room1", "百家乐", "")
    cases = {
        '{"title": "x",\n "cover": }': r"not valid JSON \(line 2",
        '["title"]': "must be a JSON object, got list",
        '{"titel": "x"}': r"unknown key\(s\) 'titel' \(allowed: title",
        '{"title": 5}': "title must be a string, got int",
        '{"cover": "missing.png"}': "cover missing.png: no such file",
    }
    for text, want in cases.items():
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(RoomMetaError, match=want):
            parse_meta_file(bad, "r")
    with pytest.raises(RoomMetaError, match="no such file"):
        parse_meta_file(tmp_path / "absent.json", "r")


@pytest.mark.slow
def test_generated_cover_with_gambling_caption_through_real_ocr(tmp_path: Path, match: KeywordMatcher) -> None:
    from moderation.infer.ocr import load_ocr
    from moderation.infer.registry import Registry
    from moderation.samplegen.visuals import paste, render_text

    canvas = np.full((360, 640, 3), (90, 60, 30), np.uint8)
    paste(canvas, render_text("线上百家乐 注册送彩金", font_size=40), 40, 150)
    cover = tmp_path / "cover.jpg"
    Image.fromarray(canvas[:, :, ::-1]).save(cover, quality=90)
    reg = Registry.load(project_root() / "models", cache_dir=tmp_path / "cache")
    engine = load_ocr(reg, OcrConfig(), intra_op_threads=2)
    sigs = room_signals(RoomMeta("room9", title="一起聊天", cover=str(cover)), match, None, engine.read, t=7.0)
    found = {(s.kind, s.category, s.term) for s in sigs}
    assert ("room.ocr.keyword", "gambling", "百家乐") in found, sigs
    assert all(s.url == str(cover) and s.label == "cover" for s in sigs)
    (verdict,) = fuse("room9", sigs, PolicyConfig())
    assert verdict.category == "gambling" and verdict.to_record()["subject"] == {"kind": "room", "id": "room9"}
