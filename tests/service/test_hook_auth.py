"""Publish hooks authenticated by a secret in the hook URL and an optional origin allow-list; the
control API's bind check and its OpenAPI document (a recording pool stands in for the workers)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from moderation.config import ConfigError, PipelineConfig
from moderation.pipeline.pool import PoolFull
from moderation.pipeline.status import StreamSpec, StreamStatus
from moderation.service.access import check_bind
from moderation.service.api import create_app

FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
FORM = {"call": "publish", "app": "live", "name": "k1", "tcurl": "rtmp://127.0.0.1:9/live", "addr": "127.0.0.1"}


class RecordingPool:
    """Remembers which streams the hooks started and stopped; ``capacity`` streams at most."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self.streams: dict[str, StreamSpec] = {}
        self.removed: list[str] = []

    async def add(self, spec: StreamSpec) -> StreamStatus:
        if len(self.streams) >= self.capacity:
            raise PoolFull("pool full")
        self.streams[spec.stream_id] = spec
        return StreamStatus(stream=spec.stream_id, url=spec.url, state="starting")

    async def remove(self, stream_id: str, timeout: float = 15.0) -> StreamStatus | None:
        self.removed.append(stream_id)
        spec = self.streams.pop(stream_id, None)
        return StreamStatus(stream=stream_id, url=spec.url, state="ended") if spec else None

    async def list_streams(self) -> list[StreamStatus]:
        return [StreamStatus(stream=s, url=p.url, state="live") for s, p in self.streams.items()]

    async def status(self, stream_id: str) -> StreamStatus | None:
        p = self.streams.get(stream_id)
        return StreamStatus(stream=stream_id, url=p.url, state="live") if p else None

    async def metrics(self) -> bytes:
        return b""


def _cfg(**live: object) -> PipelineConfig:
    return PipelineConfig.model_validate({"live": {"allow_networks": ["127.0.0.0/8"], **live}})


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODERATION_API_TOKEN", raising=False)
    monkeypatch.delenv("MODERATION_HOOK_SECRET", raising=False)


def test_nginx_hooks_need_the_secret_in_their_query() -> None:
    pool = RecordingPool()
    with TestClient(create_app(pool, _cfg(hook_secret="h00k"), token="t0ken")) as client:
        for url in (
            "/hooks/nginx/on_publish",
            "/hooks/nginx/on_publish?secret=wrong",
            "/hooks/nginx/on_publish?secret=t0ken",
            "/hooks/nginx/on_publish?secret=h00k&secret=h00k",
            "/hooks/nginx/on_publish?secret=h00k0",
        ):
            r = client.post(url, data=FORM)
            assert r.status_code == 403 and "secret" in r.text, (url, r.text)
        assert pool.streams == {}
        assert client.post("/hooks/nginx/on_publish?secret=h00k", data=FORM).status_code == 200
        assert list(pool.streams) == ["k1"]
        # a forged publish_done cannot stop moderation of a live stream
        r = client.post("/hooks/nginx/on_publish_done", data={"app": "live", "name": "k1"})
        assert r.status_code == 403 and list(pool.streams) == ["k1"] and pool.removed == []
        r = client.post("/hooks/nginx/on_publish_done?secret=h00k", data={"app": "live", "name": "k1"})
        assert r.status_code == 200 and pool.streams == {} and pool.removed == ["k1"]


def test_hook_secret_defaults_to_the_api_token_and_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = RecordingPool()
    monkeypatch.setenv("MODERATION_API_TOKEN", "envtok")
    with TestClient(create_app(pool, _cfg(api_token="cfgtok"))) as client:
        assert client.post("/hooks/nginx/on_publish?secret=cfgtok", data=FORM).status_code == 403
        assert client.post("/hooks/nginx/on_publish?secret=envtok", data=FORM).status_code == 200
    monkeypatch.setenv("MODERATION_HOOK_SECRET", "envhook")
    with TestClient(create_app(RecordingPool(), _cfg(hook_secret="cfghook"))) as client:
        assert client.post("/hooks/nginx/on_publish?secret=cfghook", data=FORM).status_code == 403
        assert client.post("/hooks/nginx/on_publish?secret=envtok", data=FORM).status_code == 403
        assert client.post("/hooks/nginx/on_publish?secret=envhook", data=FORM).status_code == 200


def test_json_hook_takes_the_bearer_token_or_the_hook_secret() -> None:
    pool = RecordingPool()
    body = {"event": "publish", "url": "rtmp://127.0.0.1:9/live/j1"}
    with TestClient(create_app(pool, _cfg(hook_secret="h00k"), token="t0ken")) as client:
        assert client.post("/hooks/publish", json=body).status_code == 401
        assert client.post("/hooks/publish?secret=nope", json=body).status_code == 403
        assert client.post("/hooks/publish", json=body, headers={"Authorization": "Bearer t0ken"}).status_code == 200
        r = client.post("/hooks/publish?secret=h00k", json={"event": "publish_done", "stream": "j1"})
        assert r.status_code == 200 and pool.removed == ["j1"]


def test_hooks_only_from_allowed_addresses() -> None:
    cfg = _cfg(hook_secret="h00k", hook_allow_from=["10.1.0.0/16"])
    pool = RecordingPool()
    with TestClient(create_app(pool, cfg), client=("10.2.0.7", 4000)) as outsider:
        r = outsider.post("/hooks/nginx/on_publish?secret=h00k", data=FORM)
        assert r.status_code == 403 and "address" in r.text and pool.streams == {}
    with TestClient(create_app(pool, cfg), client=("::ffff:10.2.0.7", 4000)) as outsider:
        assert outsider.post("/hooks/nginx/on_publish?secret=h00k", data=FORM).status_code == 403
    with TestClient(create_app(pool, cfg), client=("::ffff:10.1.3.4", 4000)) as dual_stack:
        r = dual_stack.post("/hooks/nginx/on_publish?secret=h00k", data={**FORM, "name": "k0"})
        assert r.status_code == 200 and pool.streams.pop("k0")
    with TestClient(create_app(pool, cfg), client=("10.1.3.4", 4000)) as origin:
        assert origin.post("/hooks/nginx/on_publish?secret=wrong", data=FORM).status_code == 403
        assert origin.post("/hooks/nginx/on_publish?secret=h00k", data=FORM).status_code == 200
        assert list(pool.streams) == ["k1"]


def test_publisher_arguments_cannot_rename_the_stream() -> None:
    """nginx-rtmp appends the publisher's URL arguments after its own fields."""
    pool = RecordingPool()
    with TestClient(create_app(pool, _cfg())) as client:
        spoof = [*FORM.items(), ("name", "victim"), ("app", "other"), ("call", "publish_done")]
        r = client.post("/hooks/nginx/on_publish", content=_urlencode(spoof), headers=FORM_TYPE)
        assert r.status_code == 200
        assert list(pool.streams) == ["k1"] and pool.streams["k1"].url.endswith("/live/k1")
        pool.streams["victim"] = StreamSpec("victim", "rtmp://127.0.0.1:9/live/victim")
        done = [("app", "live"), ("name", "k1"), ("name", "victim")]
        client.post("/hooks/nginx/on_publish_done", content=_urlencode(done), headers=FORM_TYPE)
        assert pool.removed == ["k1"] and "victim" in pool.streams


def _urlencode(pairs: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    return urlencode(pairs)


@pytest.mark.parametrize("fail_closed", [False, True])
def test_full_pool_answer_is_configurable(fail_closed: bool) -> None:
    pool = RecordingPool(capacity=1)
    with TestClient(create_app(pool, _cfg(hooks_fail_closed=fail_closed))) as client:
        assert client.post("/hooks/nginx/on_publish", data=FORM).status_code == 200
        r = client.post("/hooks/nginx/on_publish", data={**FORM, "name": "k2"})
        assert r.status_code == (503 if fail_closed else 200), r.text
        assert "k2" not in pool.streams


def test_openapi_document_is_behind_the_token_and_docs_page_is_off() -> None:
    with TestClient(create_app(RecordingPool(), _cfg(), token="t0ken")) as client:
        assert client.get("/openapi.json").status_code == 401
        doc = client.get("/openapi.json", headers={"Authorization": "Bearer t0ken"}).json()
        assert "/streams" in doc["paths"] and "/hooks/nginx/on_publish" in doc["paths"]
        assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.3.0.1"])
def test_loopback_bind_needs_no_token(host: str) -> None:
    check_bind(host, _cfg().live)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "origin.internal"])
def test_non_loopback_bind_needs_a_token(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"not a loopback address.*MODERATION_API_TOKEN"):
        check_bind(host, _cfg().live)
    check_bind(host, _cfg(api_token="t").live)
    monkeypatch.setenv("MODERATION_API_TOKEN", "e")
    check_bind(host, _cfg().live)


def test_access_log_does_not_show_the_hook_secret(caplog: pytest.LogCaptureFixture) -> None:
    create_app(RecordingPool(), _cfg(hook_secret="h00k"))
    logger = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", "/hooks/nginx/on_publish?secret=h00k&x=1", "1.1", 200
        )
    assert "h00k" not in caplog.text and "secret=***&x=1" in caplog.text
