"""A verdict about the room's metadata carries the flagged images themselves as its evidence."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from factories import signal
from PIL import Image

from moderation.evidence.room_images import MAX_IMAGES, RoomImageEvidence
from moderation.messages import Subject, Verdict


def _room_verdict(*urls: str | None) -> Verdict:
    sigs = tuple(
        signal(
            0.0, "gambling", kind="room.ocr.keyword", url=u, box=(5.0, 5.0, 20.0, 10.0), subject=Subject("room", "s1")
        )
        for u in urls
    )
    return Verdict("s1", "gambling", "high", 0.9, 0.0, 0.0, sigs, subject=Subject("room", "s1"))


def test_the_named_images_become_thumbnails_with_their_boxes(tmp_path: Path) -> None:
    ev = RoomImageEvidence(tmp_path)
    cover = np.full((90, 160, 3), 200, np.uint8)
    ev.remember({"https://cdn.example/cover.jpg": cover, "https://cdn.example/avatar.png": cover[:40, :40]})
    v = asyncio.run(ev.attach(_room_verdict("https://cdn.example/cover.jpg", "https://cdn.example/cover.jpg")))
    (thumb,) = v.thumbnails
    img = np.asarray(Image.open(thumb))
    assert img.shape[:2] == (90, 160) and img[5, 10, 0] > img[5, 10, 1]  # the red evidence box is drawn
    assert asyncio.run(ev.attach(_room_verdict(None))).thumbnails == ()  # a title: no image to show
    assert asyncio.run(ev.attach(_room_verdict("https://other.example/x.jpg"))).thumbnails == ()


def test_only_the_latest_images_are_kept(tmp_path: Path) -> None:
    ev = RoomImageEvidence(tmp_path)
    for i in range(MAX_IMAGES + 5):
        ev.remember({f"img{i}": np.zeros((8, 8, 3), np.uint8)})
    assert asyncio.run(ev.attach(_room_verdict("img0"))).thumbnails == ()
    assert len(asyncio.run(ev.attach(_room_verdict(f"img{MAX_IMAGES + 4}"))).thumbnails) == 1
