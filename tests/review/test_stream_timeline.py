"""The stream page's timeline is scaled to the stream's length, not to its last verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_factories import Clock, verdict

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.records import RecordError
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


def _page(tmp_path: Path, records: list[dict]) -> str:  # type: ignore[type-arg]
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", default_lang="en")
    store = ReviewStore.open(settings, clock=Clock())
    auth = Auth(store.engine)
    auth.create_user("ann", "reviewer")
    token = auth.create_token("ann")
    for rec in records:
        store.upsert_verdict(rec, bases=[tmp_path])
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert csrf
        client.post("/login", data={"csrf_token": csrf.group(1), "token": token, "next": "/"})
        r = client.get("/stream?name=s1")
        assert r.status_code == 200
        return r.text


def _segments(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(r'data-l="([0-9.]+)" data-w="([0-9.]+)"', text)]


def test_timeline_uses_the_streams_duration(tmp_path: Path) -> None:
    text = _page(
        tmp_path,
        [
            verdict(start=14.0, end=20.0, stream_duration=60.0),
            verdict(start=40.0, end=46.0, stream_duration=60.0),
        ],
    )
    assert "0 to 60 s" in text
    assert _segments(text) == [
        (pytest.approx(100 * 14 / 60, abs=1e-3), pytest.approx(10.0, abs=1e-3)),
        (pytest.approx(100 * 40 / 60, abs=1e-3), pytest.approx(10.0, abs=1e-3)),
    ]


def test_without_a_duration_the_furthest_evidence_sets_the_scale(tmp_path: Path) -> None:
    rec = verdict(start=40.0, end=46.0)
    rec["signals"] = [{"kind": "qr.url", "t": 40.0, "end": 50.0, "score": 0.9, "url": "https://x.example/"}]
    assert "0 to 50 s" in _page(tmp_path, [rec])


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "long"])
def test_a_bad_stream_duration_is_refused_by_name(tmp_path: Path, bad: object) -> None:
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", default_lang="en")
    store = ReviewStore.open(settings, clock=Clock())
    with pytest.raises(RecordError, match="stream_duration"):
        store.upsert_verdict(verdict(stream_duration=bad), bases=[tmp_path])
    assert store.timeline("s1") == []
