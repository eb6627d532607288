"""Room metadata and records of live streams through the control API over the in-process pool."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fakes import FakeClients
from fastapi.testclient import TestClient
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.sinks import CallbackSink
from moderation.service.api import create_app


def _cfg(records: Path) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "live": {"allow_files": True, "max_streams": 2, "open_timeout_s": 1.0, "meta_poll_s": 0.5},
            "records": {"enabled": True, "dir": str(records), "image_every_s": 2.0},
        }
    )


def _state(client: TestClient, sid: str, states: set[str], timeout: float = 30) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.get(f"/streams/{sid}").json()
        if st["state"] in states:
            return st  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"{sid} never reached {states}: {st}")


@pytest.mark.slow
def test_room_meta_is_checked_at_start_and_again_when_put(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "room.mp4", seconds=6.0, size=(160, 120), gop_s=0.5)
    chat = tmp_path / "chat.jsonl"
    chat.write_text("\n".join(json.dumps({"t": 0.2 + i, "user": f"u{i}", "text": "主播好"}) for i in range(3)))
    (tmp_path / "fake.png").write_text("<html>no</html>")
    records = tmp_path / "records"
    cfg = _cfg(records)
    got: list[Verdict] = []
    pool = LocalPool(cfg, FakeClients(ocr_span=(100.0, 101.0)), [CallbackSink(got.append)], clips_dir=tmp_path / "c")
    with TestClient(create_app(pool, cfg)) as client:
        bad = {"url": str(clip), "meta": {"title": "x", "cover": str(tmp_path / "fake.png")}}
        r = client.post("/streams", json=bad)
        assert r.status_code == 400 and "not an image" in r.json()["detail"], r.text
        r = client.post("/streams", json={"url": str(clip), "meta": {"title": "x", "colour": "red"}})
        assert r.status_code == 400 and "unknown key" in r.json()["detail"], r.text
        body = {"url": str(clip), "chat": str(chat), "meta": {"title": "今晚百家乐在线下注"}}
        r = client.post("/streams", json=body)
        assert r.status_code == 201, r.text
        _state(client, "room", {"live"})
        assert client.put("/streams/nope/meta", json={"title": "a"}).status_code == 404
        assert client.put("/streams/room/meta", json=["a"]).status_code == 400
        r = client.put("/streams/room/meta", json={"title": "家人们刷火箭冲榜"})
        assert r.status_code == 200, r.text
        _state(client, "room", {"ended"})
    room = sorted((v for v in got if v.subject is not None and v.subject.kind == "room"), key=lambda v: v.category)
    assert [v.category for v in room] == ["gambling", "tipping_inducement"]
    for v in room:
        assert v.clip is None and not v.thumbnails  # the title is the evidence, there is no footage
        assert {s.kind for s in v.signals} == {"room.keyword"} and {s.label for s in v.signals} == {"title"}
    # records kept while the stream ran: its chat lines and a low-rate image record
    (day,) = (records / "room").iterdir()
    lines = [json.loads(x) for p in sorted(day.glob("chat-*.jsonl")) for x in p.read_text().splitlines()]
    assert [x["user"] for x in lines] == ["u0", "u1", "u2"]
    assert 2 <= len(list(day.glob("img-*.jpg"))) <= 4  # one every 2 media s over 6 s
