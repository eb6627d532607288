"""The verdict record says what the policy asked for (``action``) and what was done about it
(``enforcement``): an open violation's enforcement reaches its final record, a closed one is
enforced before it is written, a failed call is recorded as failed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from factories import signal
from outlets import Records, bare_outlet

from moderation.config import EnforcementConfig
from moderation.messages import Verdict
from moderation.pipeline.enforce import Enforcer
from moderation.pipeline.outlet import VerdictOutlet
from moderation.pipeline.sinks import VerdictSink
from moderation.pipeline.status import StreamSpec

CALLS: list[str] = []


class _Control(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        CALLS.append(self.path)
        self.send_response(200)
        self.send_header("content-length", "1")
        self.end_headers()
        self.wfile.write(b"1")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def control() -> Iterator[str]:
    CALLS.clear()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Control)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/control"
    finally:
        srv.shutdown()


def _outlet(sink: VerdictSink, control_url: str) -> VerdictOutlet:
    return bare_outlet(
        StreamSpec.from_url("rtmp://127.0.0.1/live/s1", "s1"),
        [sink],
        enforcer=Enforcer(EnforcementConfig(enabled=True, control_url=control_url, timeout_s=2.0)),
    )


def _v(start: float, end: float, action: str, category: str = "gambling") -> Verdict:
    return Verdict("s1", category, "high", 0.9, start, end, (signal(start),), action=action)


def test_open_violation_enforced_once_and_its_final_record_says_so(control: str) -> None:
    sink = Records()
    outlet = _outlet(sink, control)

    async def go() -> None:
        outlet.maybe_enforce(_v(3.0, 3.5, "cut"))  # open: cut at once
        outlet.maybe_enforce(_v(3.0, 4.0, "cut"))  # the same violation: not again
        outlet.emit([_v(2.5, 5.0, "cut"), _v(20.0, 21.0, "review", "vulgar")])
        await outlet.drain()

    asyncio.run(go())
    assert CALLS == ["/control/drop/publisher?app=live&name=s1"]
    cut = next(r for r in sink.records if r["category"] == "gambling")
    assert cut["action"] == "cut"
    assert {k: cut["enforcement"][k] for k in ("action", "by", "result", "ok")} == {
        "action": "cut",
        "by": "policy",
        "result": "ok",
        "ok": True,
    }
    other = next(r for r in sink.records if r["category"] == "vulgar")
    assert other["action"] == "review" and "enforcement" not in other


def test_closed_verdict_is_enforced_before_it_is_written_and_a_failure_recorded() -> None:
    sink = Records()
    outlet = _outlet(sink, "http://127.0.0.1:9/control")  # nothing listens: the cut fails

    async def go() -> None:
        outlet.emit([_v(1.0, 2.0, "cut")])
        await outlet.drain()

    asyncio.run(go())
    (rec,) = sink.records
    assert rec["enforcement"]["result"] == "failed" and rec["enforcement"]["ok"] is False
    assert "detail" in rec["enforcement"] and outlet.enforced[("cut", "failed")] == 1


class LiveRecords(Records):
    takes_provisional = True


def test_live_item_is_rewritten_with_its_enforcement_before_the_final_record(control: str) -> None:
    sink = LiveRecords()
    outlet = _outlet(sink, control)

    async def go() -> None:
        v = _v(3.0, 3.5, "cut")
        outlet.opened(v)  # as the pipeline does for an open violation: live item, then enforce
        outlet.maybe_enforce(v)
        await asyncio.sleep(0.5)
        outlet.emit([_v(2.5, 5.0, "cut")])
        await outlet.drain()

    asyncio.run(go())
    shape = [(r.get("provisional", False), r.get("enforcement", {}).get("result")) for r in sink.records]
    assert shape == [(True, None), (True, "ok"), (False, "ok")]
    assert len({r["violation_id"] for r in sink.records}) == 1 and CALLS == ["/control/drop/publisher?app=live&name=s1"]


def test_review_queue_item_shows_the_action_and_its_enforcement(control: str, tmp_path: Path) -> None:
    from moderation.review.sink import ReviewSink

    sink = ReviewSink(f"sqlite:///{tmp_path / 'q.db'}")
    outlet = _outlet(sink, control)

    async def go() -> list[dict[str, Any]]:
        v = _v(3.0, 3.5, "cut")
        outlet.opened(v)
        outlet.maybe_enforce(v)
        await asyncio.sleep(0.5)
        await outlet.drain()
        live = [it.record for it in sink.store.list_items()]  # still open: the live item shows the cut
        outlet.emit([_v(2.5, 5.0, "cut")])
        await outlet.drain()
        return live

    try:
        (live,) = asyncio.run(go())
        assert live.get("provisional") and live["enforcement"]["result"] == "ok"
        (item,) = sink.store.list_items()
        assert item.record["action"] == "cut" and not item.record.get("provisional")
        assert (item.record["enforcement"]["by"], item.record["enforcement"]["action"]) == ("policy", "cut")
    finally:
        sink.close()
