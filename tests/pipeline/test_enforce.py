"""Enforcement against a tiny local HTTP server: cut = GET rtmp_control, warn = POST JSON webhook."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from factories import signal

from moderation.config import EnforcementConfig
from moderation.messages import Verdict
from moderation.pipeline.enforce import Enforcer, Target

SEEN: list[tuple[str, str, bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    def _reply(self, body: bytes = b"1") -> None:
        n = int(self.headers.get("content-length") or 0)
        SEEN.append((self.command, self.path, self.rfile.read(n) if n else b""))
        code = 500 if "fail" in self.path else 200
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    SEEN.clear()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()


def _verdict(action: str) -> Verdict:
    return Verdict("s1", "gambling", "high", 0.97, 12.0, 18.5, (signal(13.0),), action=action)


def test_cut_calls_rtmp_control_drop_publisher(server: str, caplog: pytest.LogCaptureFixture) -> None:
    enf = Enforcer(EnforcementConfig(enabled=True, control_url=f"{server}/control"))
    with caplog.at_level(logging.WARNING):
        res = enf.enforce_sync(_verdict("cut"), Target("s1", "live", "room 1"))
    assert res is not None and res.ok and res.action == "cut"
    assert SEEN == [("GET", "/control/drop/publisher?app=live&name=room+1", b"")]
    assert enf.counts[("cut", "ok")] == 1
    assert "enforced cut on s1" in caplog.text and '"category": "gambling"' in caplog.text  # logged with its verdict


def test_warn_posts_the_verdict_record(server: str) -> None:
    enf = Enforcer(EnforcementConfig(enabled=True, warn_webhook=f"{server}/warn"))
    res = enf.enforce_sync(_verdict("warn"), Target("s1", "live", "k"))
    assert res is not None and res.ok
    method, path, body = SEEN[0]
    payload = json.loads(body)
    assert (method, path, payload["action"], payload["name"]) == ("POST", "/warn", "warn", "k")
    assert payload["verdict"]["start"] == 12.0 and payload["verdict"]["signals"][0]["kind"] == "asr.keyword"


def test_failures_are_counted_never_raised(server: str) -> None:
    enf = Enforcer(
        EnforcementConfig(enabled=True, control_url=f"{server}/fail", warn_webhook="http://127.0.0.1:9/x", timeout_s=1)
    )
    cut = enf.enforce_sync(_verdict("cut"), Target("s1", "live", "k"))
    warn = enf.enforce_sync(_verdict("warn"), Target("s1", "live", "k"))
    no_target = enf.enforce_sync(_verdict("cut"), Target("s1"))
    assert cut is not None and not cut.ok and cut.status == 500
    assert warn is not None and not warn.ok and no_target is not None and "unknown" in no_target.detail
    assert enf.counts == {("cut", "failed"): 2, ("warn", "failed"): 1}


def test_review_action_and_disabled_do_nothing(server: str) -> None:
    assert (
        Enforcer(EnforcementConfig(enabled=True, control_url=server)).enforce_sync(_verdict("review"), Target("s"))
        is None
    )
    assert Enforcer(EnforcementConfig(control_url=server)).enforce_sync(_verdict("cut"), Target("s", "a", "b")) is None
    assert SEEN == []
