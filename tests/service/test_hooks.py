"""Publish hooks: nginx-rtmp form posts and the generic JSON hook, through the URL guard."""

from __future__ import annotations

import pytest

from moderation.config import LiveConfig
from moderation.service.hooks import HookError, parse_json, parse_nginx

LOOP = LiveConfig(allow_networks=("127.0.0.0/8",))
FORM = {
    "call": "publish",
    "app": "live",
    "name": "room42",
    "addr": "10.0.0.9",
    "clientid": "7",
    "tcurl": "rtmp://127.0.0.1:1935/live",
}


def test_nginx_publish_watches_tcurl_plus_name() -> None:
    ev = parse_nginx(FORM, LOOP, "publish")
    assert ev.event == "publish" and ev.addr == "10.0.0.9"
    assert (ev.spec.stream_id, ev.spec.url, ev.spec.app, ev.spec.name) == (
        "room42",
        "rtmp://127.0.0.1:1935/live/room42",
        "live",
        "room42",
    )


def test_nginx_tcUrl_spelling_and_template_and_other_app() -> None:
    form = {**FORM, "app": "show", "tcUrl": FORM["tcurl"]}
    del form["tcurl"]
    assert parse_nginx(form, LOOP, "publish").spec.url == "rtmp://127.0.0.1:1935/live/room42"
    cfg = LiveConfig(allow_networks=("127.0.0.0/8",), hook_source="rtmp://127.0.0.1:1936/{app}/{name}")
    ev = parse_nginx(form, cfg, "publish")
    assert ev.spec.url == "rtmp://127.0.0.1:1936/show/room42" and ev.spec.stream_id == "show-room42"


def test_hook_url_goes_through_the_guard() -> None:
    with pytest.raises(HookError, match="loopback"):
        parse_nginx(FORM, LiveConfig(), "publish")
    with pytest.raises(HookError, match="local files not allowed"):
        parse_nginx({**FORM, "tcurl": "file:///etc"}, LOOP, "publish")


@pytest.mark.parametrize("bad", ["../x", "a b", "", "k" * 200, "x/y"])
def test_bad_stream_keys_refused(bad: str) -> None:
    with pytest.raises(HookError, match="name"):
        parse_nginx({**FORM, "name": bad}, LOOP, "publish")


def test_publish_done_needs_no_url() -> None:
    ev = parse_nginx({"app": "live", "name": "room42"}, LiveConfig(), "publish_done")
    assert ev.event == "publish_done" and ev.spec.stream_id == "room42"
    with pytest.raises(HookError):
        parse_nginx({"name": "x"}, LOOP, "publish_done")


def test_json_hook() -> None:
    ev = parse_json({"event": "publish", "url": "rtmp://127.0.0.1:1935/live/abc"}, LOOP)
    assert (ev.spec.stream_id, ev.spec.app, ev.spec.name) == ("abc", "live", "abc")
    ev = parse_json({"event": "publish", "url": "http://127.0.0.1:8080/hls/a.m3u8", "stream": "cam1"}, LOOP)
    assert ev.spec.stream_id == "cam1" and ev.spec.app is None
    assert parse_json({"event": "publish_done", "stream": "cam1"}, LOOP).spec.stream_id == "cam1"
    with pytest.raises(HookError, match="event"):
        parse_json({"event": "nope", "url": "rtmp://127.0.0.1/live/a"}, LOOP)
    with pytest.raises(HookError, match=r"[Ee]xtra"):
        parse_json({"event": "publish", "url": "rtmp://127.0.0.1/live/a", "evil": 1}, LOOP)
    with pytest.raises(HookError, match="needs"):
        parse_json({"event": "publish"}, LOOP)
    with pytest.raises(HookError, match="loopback"):
        parse_json({"event": "publish", "url": "rtmp://127.0.0.1/live/a"}, LiveConfig())
