"""The governance loop against a real nginx-rtmp origin (publish hooks to an in-process control
API over the local pool, ffmpeg as the broadcaster, an in-memory governance source): a banned
streamer's publish is refused and accepted again once the ban expires; a tier change re-samples
the running stream within seconds; a pending cut drops the publisher."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import FakeClients
from governance import MemoryGovernance
from origin import Broadcaster, Origin, free_port, hooked_origin, serving

from moderation.config import PipelineConfig
from moderation.pipeline.pool import LocalPool
from moderation.service.api import create_app

POLL_S = 0.5


def _until(fn: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := fn():
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Origin, MemoryGovernance]]:
    api_port = free_port()
    with hooked_origin(tmp_path_factory.mktemp("gov"), api_port) as origin:
        cfg = PipelineConfig.model_validate(
            {
                "ocr": {"gate": {"enabled": False}},
                "live": {
                    "allow_networks": ["127.0.0.0/8"],
                    "audio_window_s": 2.0,
                    "audio_overlap_s": 0.5,
                    "governance_poll_s": POLL_S,
                    "enforcement": {"control_url": origin.control_url},  # reviewers' cuts; no automatic ones
                },
            }
        )
        gov = MemoryGovernance()
        pool = LocalPool(cfg, FakeClients(ocr_span=(-2.0, -1.0)))  # no text: no verdicts of its own
        with serving(create_app(pool, cfg, governance=gov), api_port, lifespan="on") as api:
            yield api, origin, gov


def _status(api: str, sid: str) -> dict[str, Any] | None:
    r = httpx.get(f"{api}/streams/{sid}")
    return r.json() if r.status_code == 200 else None  # type: ignore[no-any-return]


def _gone(b: Broadcaster) -> bool:
    return b.proc is not None and b.proc.poll() is not None


def test_banned_publish_refused_then_accepted_after_expiry(
    stack: tuple[str, Origin, MemoryGovernance], broadcast_clip: Path
) -> None:
    api, origin, gov = stack
    until = time.time() + 4.0
    gov.ban("banned", until, "gambling promotion, third strike")
    b = Broadcaster(broadcast_clip, origin.url("banned")).start()
    try:
        _until(lambda: _gone(b), 20, "nginx to refuse the banned publisher")
        assert _status(api, "banned") is None  # nothing was started
    finally:
        b.kill()
    time.sleep(max(0.0, until - time.time()) + 0.2)
    b = Broadcaster(broadcast_clip, origin.url("banned")).start()
    try:
        st = _until(lambda: _status(api, "banned"), 20, "the publish after the ban's expiry to be watched")
        assert st["tier"] == 0 and st["profile"] == "default"
        time.sleep(1.0)
        assert not _gone(b)  # nginx let it publish
    finally:
        b.kill()


def test_tier_change_resamples_the_running_stream(
    stack: tuple[str, Origin, MemoryGovernance], broadcast_clip: Path
) -> None:
    api, origin, gov = stack
    b = Broadcaster(broadcast_clip, origin.url("tiered")).start()
    try:
        _until(lambda: (s := _status(api, "tiered")) and s["state"] == "live" and s["frames_in"] >= 2, 30, "live")
        before = _status(api, "tiered")
        assert before is not None and (before["tier"], before["vision_fps"], before["ocr_fps"]) == (0, 1.0, 0.5)
        time.sleep(3.0)
        rate_before = (_status(api, "tiered") or {})["frames_in"] - before["frames_in"]
        t0 = time.monotonic()
        gov.set_standing("tiered", tier=2, profile="strict", sampling=2.0)
        after = _until(lambda: (s := _status(api, "tiered")) and s["tier"] == 2 and s, 10, "the new standing")
        took = time.monotonic() - t0
        assert (after["profile"], after["vision_fps"], after["ocr_fps"]) == ("strict", 4.0, 2.0)
        assert after["steered_at"] is not None and after["state"] == "live" and took < 5.0
        n0 = after["frames_in"]
        time.sleep(3.0)
        rate_after = (_status(api, "tiered") or {})["frames_in"] - n0
        print(f"re-steered in {took:.2f} s; frames sampled in 3 s: {rate_before} before, {rate_after} after")
        assert rate_before <= 4 and rate_after >= 8  # 1 fps -> 4 fps, same stream, no restart
        assert (_status(api, "tiered") or {})["reconnects"] == 0
    finally:
        b.kill()


def test_pending_cut_drops_the_publisher(stack: tuple[str, Origin, MemoryGovernance], broadcast_clip: Path) -> None:
    api, origin, gov = stack
    b = Broadcaster(broadcast_clip, origin.url("cutme")).start()
    try:
        _until(lambda: (s := _status(api, "cutme")) and s["state"] == "live", 30, "live")
        aid = gov.add_action("cut", "cutme", reason="confirmed gambling")
        _until(lambda: _gone(b), 15, "the cut to drop ffmpeg")
        _until(lambda: [o for o in gov.outcomes if o.action_id == aid], 5, "the outcome")
        (outcome,) = [o for o in gov.outcomes if o.action_id == aid]
        assert outcome.ok and "drop/publisher?app=live&name=cutme" in outcome.detail
        assert aid not in gov.pending_ids()
        _until(lambda: _status(api, "cutme") is None, 20, "on_publish_done to stop watching")
    finally:
        b.kill()
