"""Control API over the in-process LocalPool with fake inference (no Ray, no models)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from fakes import FakeClients
from fastapi.testclient import TestClient
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.pipeline.pool import LocalPool
from moderation.service.api import create_app

# The fake OCR "reads" text on text-less frames: the text-likely gate would skip them.
CFG = PipelineConfig.model_validate(
    {
        "ocr": {"gate": {"enabled": False}},
        "live": {
            "allow_files": True,
            "allow_networks": ["127.0.0.0/8"],
            "max_streams": 2,
            "audio_window_s": 2.0,
            "audio_overlap_s": 0.5,
            "open_timeout_s": 1.0,
        },
    }
)
AUTH = {"Authorization": "Bearer s3cret"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("svc") / "room.mp4", seconds=4.0, gop_s=0.5)


def _wait(client: TestClient, sid: str, states: set[str], timeout: float = 15) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = client.get(f"/streams/{sid}", headers=AUTH).json()
        if st["state"] in states:
            return st  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"{sid} never reached {states}: {st}")


def test_streams_crud_metrics_and_token(clip: Path) -> None:
    app = create_app(LocalPool(CFG, FakeClients(ocr_span=(0.0, 3.0))), CFG, token="s3cret")
    with TestClient(app) as client:
        assert client.get("/streams").status_code == 401
        assert client.get("/streams", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/healthz").json() == {"status": "ok"}
        r = client.post("/streams", json={"url": str(clip)}, headers=AUTH)
        assert r.status_code == 201, r.text
        assert r.json()["stream"] == "room"
        assert client.post("/streams", json={"url": str(clip)}, headers=AUTH).status_code == 409
        assert client.post("/streams", json={"url": "rtmp://10.1.2.3/live/x"}, headers=AUTH).status_code == 400
        for chat in ("http://169.254.169.254/latest", "rtmp://chat.example/x"):  # metadata host; not http(s)
            r = client.post("/streams", json={"url": str(clip), "stream": "c2", "chat": chat}, headers=AUTH)
            assert r.status_code == 400 and "refused" in r.text.lower(), r.text
            r = client.post("/streams", json={"url": str(clip), "stream": "c2", "gifts": chat}, headers=AUTH)
            assert r.status_code == 400 and "refused" in r.text.lower(), r.text
        assert client.post("/streams", json={"url": str(clip), "bad": 1}, headers=AUTH).status_code == 422
        st = _wait(client, "room", {"live"})
        assert st["url"].endswith("room.mp4")
        assert [s["stream"] for s in client.get("/streams", headers=AUTH).json()] == ["room"]
        st = _wait(client, "room", {"ended"})
        assert st["end_reason"] == "eof" and st["frames_in"] >= 3 and st["verdicts"] == 1
        assert st["last_verdict"]["category"] == "gambling"
        text = client.get("/metrics", headers=AUTH).text
        sev = st["last_verdict"]["severity"]
        assert f'moderation_live_verdicts_total{{category="gambling",severity="{sev}"}} 1.0' in text
        assert client.delete("/streams/room", headers=AUTH).json()["state"] == "ended"
        assert client.get("/streams/room", headers=AUTH).status_code == 404
        assert client.delete("/streams/room", headers=AUTH).status_code == 404


def test_hooks_start_and_stop_watching(clip: Path) -> None:
    app = create_app(LocalPool(CFG, FakeClients()), CFG)
    with TestClient(app) as client:
        form = {"call": "publish", "app": "live", "name": "k1", "tcurl": "rtmp://127.0.0.1:9/live"}
        assert client.post("/hooks/nginx/on_publish", data=form).status_code == 200
        assert client.get("/streams/k1").json()["state"] in ("starting", "live")
        assert client.post("/hooks/nginx/on_publish", data=form).text == "already watched"
        assert client.post("/hooks/nginx/on_publish_done", data={"app": "live", "name": "k1"}).status_code == 200
        assert client.get("/streams/k1").status_code == 404
        # refused URL: fail-open by default (2xx so the origin lets the publisher go on), nothing watched
        r = client.post("/hooks/nginx/on_publish", data={**form, "tcurl": "rtmp://10.9.9.9/live"})
        assert r.status_code == 200 and "refused" in r.text and client.get("/streams").json() == []
        r = client.post("/hooks/publish", json={"event": "publish", "url": str(clip), "stream": "j1"})
        assert r.status_code == 200 and client.get("/streams/j1").status_code == 200
        assert client.post("/hooks/publish", json={"event": "publish"}).status_code == 400
        r = client.post("/hooks/publish", json={"event": "publish_done", "stream": "j1"})
        assert r.status_code == 200 and client.get("/streams/j1").status_code == 404


def test_pool_cap_and_fail_closed() -> None:
    cfg = CFG.model_copy(update={"live": CFG.live.model_copy(update={"max_streams": 1, "hooks_fail_closed": True})})
    app = create_app(LocalPool(cfg, FakeClients()), cfg)
    with TestClient(app) as client:
        form = {"app": "live", "name": "a", "tcurl": "rtmp://127.0.0.1:9/live"}
        assert client.post("/hooks/nginx/on_publish", data=form).status_code == 200
        assert client.post("/hooks/nginx/on_publish", data={**form, "name": "b"}).status_code == 503
        assert client.post("/streams", json={"url": "rtmp://127.0.0.1:9/live/c"}).status_code == 503
        assert client.post("/hooks/nginx/on_publish", data={**form, "tcurl": "rtmp://10.0.0.1/x"}).status_code == 403


def test_serve_command_local(tmp_path: Path) -> None:
    import signal
    import socket
    import subprocess

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("moderation")
    proc = subprocess.Popen(
        [str(exe), "serve", "--local", "--port", str(port), "--allow-network", "127.0.0.0/8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.post(f"{base}/streams", json={"url": "rtmp://10.0.0.1/live/x"}).status_code == 400
        assert httpx.get(f"{base}/streams").json() == []
        assert httpx.get(f"{base}/metrics").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
