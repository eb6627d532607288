"""The item page says where a clip has no media (a publisher outage), where it ends when its
post-roll was cut short, and why a verdict has no clip."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from review_factories import Clock, make_evidence, verdict

from moderation.review.api import create_app
from moderation.review.auth import Auth
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore


def test_item_page_names_clip_gaps_and_clip_errors(tmp_path: Path) -> None:
    settings = ReviewSettings(queue_url=f"sqlite:///{tmp_path / 'q.db'}", default_lang="en")
    store = ReviewStore.open(settings, clock=Clock())
    auth = Auth(store.engine)
    auth.create_user("ann", "reviewer")
    token = auth.create_token("ann")
    clip, thumbs = make_evidence(tmp_path / "scan", "s1/000012")
    gapped = verdict(clip=clip, thumbnails=thumbs, clip_start=10.5, clip_gaps=[[14.0, 20.0], [22.0, 30.0]])
    with_gaps = store.upsert_verdict(gapped, bases=[tmp_path / "scan"]).item_id
    failed = verdict(start=40.0, end=41.0, clip_error="evidence ring holds no keyframe for [37.000, 43.000]")
    no_clip = store.upsert_verdict(failed, bases=[tmp_path / "scan"]).item_id
    short = verdict(start=50.0, end=52.0, clip=clip, thumbnails=thumbs, clip_start=47.0, clip_end=52.4)
    cut_short = store.upsert_verdict(short, bases=[tmp_path / "scan"]).item_id
    with TestClient(create_app(settings, store=store), follow_redirects=False) as client:
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        client.post("/login", data={"csrf_token": csrf.group(1), "token": token, "next": "/"})
        text = client.get(f"/items/{with_gaps}").text
        assert "At 3.5 s the clip cuts across a publisher outage (no media from 14.0 to 20.0 s" in text
        assert "At 5.5 s the clip cuts across a publisher outage (no media from 22.0 to 30.0 s" in text
        text = client.get(f"/items/{no_clip}").text
        assert "No clip: evidence ring holds no keyframe for [37.000, 43.000]" in text
        assert "clip ends at" not in text and "clip ends at" not in client.get(f"/items/{with_gaps}").text
        text = client.get(f"/items/{cut_short}").text
        assert "The clip ends at 52.4 s of stream time, before its post-roll" in text
