"""Retention of records, clips and thumbnails: periods per kind/category, and holds that always win."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from review_factories import Clock, verdict
from typer.testing import CliRunner

from moderation.config import RecordsConfig
from moderation.evidence.records import RecordKeeper, stream_folder
from moderation.messages import ChatMessage, GiftEvent, VideoFrame
from moderation.review.cli import review_app
from moderation.review.retention import apply_retention
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore

DAY = 86400.0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(root: Path, stream: str, wall: float) -> list[Path]:
    """Chat, gift and image records of ``stream`` written at wall time ``wall`` (mtime set to it)."""
    folder = root / stream_folder(stream)
    before = set(folder.rglob("*"))
    keeper = RecordKeeper(stream, RecordsConfig(), root=root, clock=lambda: wall)
    keeper.chat(ChatMessage(stream, 1.0, "u", "hi"))
    keeper.gift(GiftEvent(stream, 1.0, "u", "rose", 1.0, "coin", 1.0))
    keeper.frame(VideoFrame(stream, 1.0, np.zeros((90, 160, 3), np.uint8)))
    keeper.close()
    out = sorted(p for p in set(folder.rglob("*")) - before if p.is_file())
    for p in out:
        os.utime(p, (wall, wall))
    return out


def _item(store: ReviewStore, stream: str, wall: float, category: str = "gambling", start: float = 100.0) -> int:
    rec = verdict(stream=stream, category=category, severity="medium", start=start, end=start + 30.0)
    rec |= {"wallclock_start": _iso(wall), "clip": None, "thumbnails": []}
    return store.upsert_verdict(rec).item_id


def test_records_past_retention_go_unless_a_hold_covers_them(store: ReviewStore, clock: Clock, tmp_path: Path) -> None:
    root = tmp_path / "records"
    old = clock.t - 90 * DAY
    under_review = _record(root, "s1", old)  # an open item covers these
    confirmed = _record(root, "s1", old + 3600)  # a confirmed item covers these
    expired = _record(root, "s1", old + 7200)  # only a dismissed item: no hold
    other_stream = _record(root, "live/s2", old)  # same time, other stream: no hold
    recent = _record(root, "live/s2", clock.t - 10 * DAY)  # within 60 days
    no_wallclock = _record(root, "s3", old)  # an item without wall clock holds its whole stream
    assert all(len(g) == 3 for g in (under_review, confirmed, expired, other_stream, recent, no_wallclock))
    _item(store, "s1", old)
    store.decide(_item(store, "s1", old + 3600, start=200.0), "ann", "confirm")
    store.decide(_item(store, "s1", old + 7200, start=300.0), "ann", "dismiss", note="not gambling")
    rec = verdict(stream="s3", severity="medium") | {"wallclock_start": None, "clip": None, "thumbnails": []}
    store.upsert_verdict(rec)

    res = apply_retention(store, RecordsConfig(hold_margin_s=120), root)
    assert all(p.exists() for p in under_review + confirmed + recent + no_wallclock)
    assert not any(p.exists() for p in expired + other_stream)
    assert (res.records, res.held) == (6, 9)
    assert res.record_bytes > 0
    assert (
        not (root / stream_folder("live/s2")).joinpath(datetime.fromtimestamp(old, UTC).strftime("%Y-%m-%d")).exists()
    )

    # Without the legal hold on confirmed items their records go too; open items still hold.
    res = apply_retention(store, RecordsConfig(hold_margin_s=120, hold_confirmed=False), root)
    assert not any(p.exists() for p in confirmed) and all(p.exists() for p in under_review)
    assert res.records == 3


def test_period_per_record_kind(store: ReviewStore, clock: Clock, tmp_path: Path) -> None:
    root = tmp_path / "records"
    files = _record(root, "s1", clock.t - 90 * DAY)
    apply_retention(store, RecordsConfig(retention_overrides={"gifts": 180, "images": 365}), root)
    assert sorted(p.name.split("-")[0] for p in files if p.exists()) == ["gifts", "img"]


def test_clips_per_category_and_confirmed_items_held(
    store: ReviewStore, clock: Clock, evidence: Callable[..., tuple[str, list[str]]], tmp_path: Path
) -> None:
    base = [tmp_path / "scan"]

    def item(category: str, start: float, action: str) -> int:
        clip, thumbs = evidence(f"s1/{int(start)}")
        rec = verdict(category=category, severity="medium", start=start, end=start + 5, clip=clip, thumbnails=thumbs)
        item_id = store.upsert_verdict(rec, bases=base).item_id
        store.decide(item_id, "ann", action, note="checked")
        return item_id

    confirmed = item("gambling", 10.0, "confirm")
    vulgar = item("vulgar", 20.0, "dismiss")
    gambling = item("gambling", 30.0, "dismiss")
    clock.advance(20 * DAY)
    res = apply_retention(store, RecordsConfig(retention_overrides={"vulgar": 10}))
    assert (res.items, res.files) == (1, 2)
    assert store.get(vulgar).clip_path is None and store.get(gambling).clip_path is not None
    clock.advance(100 * DAY)
    assert apply_retention(store, RecordsConfig()).items == 1  # the dismissed gambling item
    assert store.get(confirmed).clip_path is not None  # legal hold
    assert apply_retention(store, RecordsConfig(hold_confirmed=False)).items == 1
    assert store.get(confirmed).clip_path is None and store.get(confirmed).status == "confirmed"


def test_purge_command_applies_retention_to_records(tmp_path: Path) -> None:
    queue = f"sqlite:///{tmp_path / 'q.db'}"
    ReviewStore.open(ReviewSettings(queue_url=queue)).engine.dispose()
    root = tmp_path / "records"
    now = datetime.now(UTC).timestamp()
    old = _record(root, "s1", now - 90 * DAY)
    new = _record(root, "s1", now - 30 * DAY)
    runner = CliRunner()
    res = runner.invoke(review_app, ["purge", "--queue", queue, "--records", str(root), "--days", "45"])
    assert res.exit_code == 0, res.output
    assert "records in" in res.output and "3 file(s) deleted" in res.output
    assert not any(p.exists() for p in old) and all(p.exists() for p in new)
    bad = runner.invoke(review_app, ["purge", "--queue", queue, "--records", str(tmp_path / "nope")])
    assert bad.exit_code == 2 and "not a folder" in bad.output
    neg = runner.invoke(review_app, ["purge", "--queue", queue, "--days", "-1"])
    assert neg.exit_code == 2 and "must be >= 0" in neg.output
