"""The hook secret through a real nginx-rtmp origin: nginx keeps the query string of the
``on_publish`` URL, so the secret reaches the control API; a wrong one makes nginx refuse the
publisher; the publisher's own URL arguments cannot rename the stream it is watched as."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from media_factory import make_clip
from origin import Broadcaster, Origin, free_port, hooked_origin, serving

from moderation.config import PipelineConfig
from moderation.pipeline.status import StreamSpec, StreamStatus
from moderation.service.api import create_app

SECRET = "s3cr-et_42"


class RecordingPool:
    """What the hooks asked the pool to watch and to stop (no decoding: the hook path is under test)."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamSpec] = {}
        self.removed: list[str] = []

    async def add(self, spec: StreamSpec) -> StreamStatus:
        self.streams[spec.stream_id] = spec
        return StreamStatus(stream=spec.stream_id, url=spec.url, state="starting")

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        self.removed.append(stream_id)
        spec = self.streams.pop(stream_id, None)
        return StreamStatus(stream=stream_id, url=spec.url, state="ended") if spec else None

    async def list_streams(self) -> list[StreamStatus]:
        return []

    async def status(self, stream_id: str) -> StreamStatus | None:
        return None

    async def metrics(self) -> bytes:
        return b""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("hook") / "c.mp4", seconds=2.0, gop_s=0.5)


@contextmanager
def stack(root: Path, hook_secret: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Origin, RecordingPool]]:
    import rtmp_origin  # on sys.path once origin is imported

    monkeypatch.delenv("MODERATION_API_TOKEN", raising=False)
    monkeypatch.delenv("MODERATION_HOOK_SECRET", raising=False)
    # the README's nginx lines: the secret rides in each hook URL's query string
    hooks = rtmp_origin.HOOKS
    for hook in ("on_publish", "on_publish_done"):
        hooks = hooks.replace(f"/{hook};", f"/{hook}?secret={hook_secret};")
    monkeypatch.setattr(rtmp_origin, "HOOKS", hooks)
    cfg = PipelineConfig.model_validate({"live": {"allow_networks": ["127.0.0.0/8"], "hook_secret": SECRET}})
    pool, api_port = RecordingPool(), free_port()
    with serving(create_app(pool, cfg), api_port), hooked_origin(root, api_port) as origin:
        yield origin, pool


def _until(cond: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_right_secret_watches_and_stops_the_published_key(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stack(tmp_path, SECRET, monkeypatch) as (origin, pool):
        b = Broadcaster(clip, origin.url("mine") + "?name=victim&app=other").start()
        try:
            _until(lambda: "mine" in pool.streams, 20, "on_publish with the secret")
            assert list(pool.streams) == ["mine"] and pool.streams["mine"].url.endswith("/live/mine")
            assert b.proc is not None and b.proc.poll() is None  # nginx let the publisher on
        finally:
            b.kill()
        _until(lambda: pool.removed, 20, "on_publish_done with the secret")
        assert pool.removed == ["mine"]


def test_wrong_secret_makes_nginx_refuse_the_publisher(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stack(tmp_path, "not-the-secret", monkeypatch) as (origin, pool):
        b = Broadcaster(clip, origin.url("mine")).start()
        try:
            _until(lambda: b.proc is not None and b.proc.poll() is not None, 20, "nginx to drop the publisher")
        finally:
            b.kill()
        assert pool.streams == {} and pool.removed == []
