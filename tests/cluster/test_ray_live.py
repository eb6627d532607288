"""``moderation serve`` on Ray against a real nginx-rtmp origin, real models, real review store.

One Ray (local, 2 CPUs), the pool ``serve`` runs without ``--checkpoint`` (the stream manager with
an in-memory checkpoint: vision, OCR and ASR batcher actors on the node, one StreamWorker actor per
stream, restarted by the manager), its control API under uvicorn, and an nginx-rtmp whose
on_publish/on_publish_done call that API. ffmpeg publishes a generated sample with planted gambling speech and caption:

1. publishing alone makes the pool watch the stream (no registration by hand), and a gambling
   verdict with an evidence clip lands in the SQLite review queue while the stream is live;
2. ``cut`` through nginx's rtmp_control drops the publisher, and the origin's on_publish_done
   makes the pool stop watching.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from origin import Broadcaster, Origin, free_port, hooked_origin, serving

from moderation.config import PipelineConfig
from moderation.messages import Verdict
from moderation.pipeline.enforce import Enforcer, Target
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore
from moderation.samplegen import Background, paste, render_text, speak, write_video
from moderation.samplegen.sample import GAMBLING_OVERLAY, GAMBLING_SPEECH

pytestmark = pytest.mark.slow

CFG = PipelineConfig.model_validate(
    {
        "sampling": {"fps": 1.0},
        "ocr": {"fps": 0.5},
        "asr": {"model": "whisper-tiny-en", "language": "en"},
        "evidence": {"pre_s": 1.0, "post_s": 1.0},
        "policy": {"categories": {"gambling": {"merge_gap_s": 2.0}}},
        "live": {
            "allow_networks": ["127.0.0.0/8"],
            "audio_window_s": 6.0,
            "audio_overlap_s": 1.0,
            "clip_wait_s": 5.0,
            "open_timeout_s": 5.0,
            "read_timeout_s": 3.0,
            "eof_grace_s": 2.0,
        },
    }
)


def make_live_sample(path: Path, duration: float = 10.0) -> Path:
    """Planted gambling speech (1 s) and caption (1-8 s) with a 0.5 s GOP, so a subscriber joining
    mid-stream sees a keyframe (and FFmpeg's short live probe finds the video) at once."""
    rate = 48000
    audio = (np.random.default_rng(0).standard_normal(round(duration * rate)) * 1e-4).astype(np.float32)
    pcm = speak(GAMBLING_SPEECH, sample_rate=rate)
    audio[rate : rate + pcm.size] += 0.8 * pcm[: audio.size - rate] / max(1e-6, float(np.abs(pcm).max()))
    caption = render_text(GAMBLING_OVERLAY, font_size=40)
    background = Background(640, 360, 0)

    def frames(_: int, t: float) -> np.ndarray:
        img = background.frame(t)
        if 1.0 <= t < 8.0:
            paste(img, caption, 40, 250)
        return img

    return write_video(path, frames, duration, audio, audio_rate=rate, gop_s=0.5)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_live_sample(tmp_path_factory.mktemp("raylive") / "sample.mp4")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from moderation.cluster.managed_pool import ManagedPool
    from moderation.config import ClusterConfig
    from moderation.service.api import create_app

    d = tmp_path_factory.mktemp("raypool")
    queue = f"sqlite:///{d / 'queue.db'}"
    pool = ManagedPool(ClusterConfig(queue_url=queue, poll_s=0.25), CFG, clips_dir=str(d / "clips"))
    assert pool.settings.in_memory
    t0 = time.monotonic()
    pool.start(num_cpus=2)
    started = time.monotonic() - t0
    api_port = free_port()
    try:
        with serving(create_app(pool, CFG), api_port) as api, hooked_origin(d, api_port) as origin:
            yield {"pool": pool, "api": api, "origin": origin, "queue": queue, "dir": d, "start_s": started}
    finally:
        pool.shutdown()


def _until(fn: Any, timeout: float, what: str, step: float = 0.5, diag: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {diag() if diag else ''}")


def test_publish_hook_watches_and_verdict_with_clip_lands_in_review_queue(stack: dict[str, Any], sample: Path) -> None:
    origin: Origin = stack["origin"]
    api: str = stack["api"]
    b = Broadcaster(sample, origin.url("room1")).start()
    try:
        st = _until(
            lambda: (
                (r := httpx.get(f"{api}/streams/room1")).status_code == 200 and r.json()["state"] == "live" and r.json()
            ),
            30,
            "the hook-started stream to go live",
        )
        assert st["url"].startswith("rtmp://127.0.0.1:")
        store = ReviewStore.open(ReviewSettings(queue_url=stack["queue"]))
        t0 = time.monotonic()
        items = _until(
            lambda: [i for i in store.list_items() if i.stream == "room1" and i.clip_path],
            120,
            "a verdict with a clip in the review queue",
            diag=lambda: (httpx.get(f"{api}/streams/room1").text, store.list_items()),
        )
        took = time.monotonic() - t0
        item = items[0]
        assert item.category == "gambling" and item.wallclock_start
        kinds = {s["kind"] for s in item.record["signals"]}
        assert kinds & {"asr.keyword", "ocr.keyword"}, item.record
        clip = store.media_dir / item.clip_path
        with av.open(str(clip)) as c:
            assert c.streams.video and float(c.duration or 0) / 1e6 >= 1.0
        live = httpx.get(f"{api}/streams/room1").json()
        assert live["state"] in ("live", "reconnecting") and live["verdicts"] >= 1 and b.proc and b.proc.poll() is None
        metrics = httpx.get(f"{api}/metrics").text
        assert "moderation_live_frames_total " in metrics and "stream=" not in metrics
        assert "moderation_live_alert_latency_seconds_count" in metrics
        import ray

        m = ray.get(stack["pool"].worker("room1").metrics.remote(), timeout=30)
        print(
            f"\nray pool start {stack['start_s']:.1f}s; first verdict in queue {took:.1f}s after going live; "
            f"frame latency p50 {m.frame_latency.percentile(50):.2f}s p95 {m.frame_latency.percentile(95):.2f}s; "
            f"alert latency {m.alert_latency.recent}; verdict latency {m.verdict_latency.recent}; {live}"
        )
    finally:
        b.kill()
    # the publisher left: nginx calls on_publish_done and the pool stops watching
    _until(lambda: httpx.get(f"{api}/streams/room1").status_code == 404, 30, "on_publish_done to remove room1")


def test_cut_drops_the_publisher_through_rtmp_control(stack: dict[str, Any], sample: Path) -> None:
    origin: Origin = stack["origin"]
    api: str = stack["api"]
    b = Broadcaster(sample, origin.url("room2")).start()
    try:
        _until(lambda: httpx.get(f"{api}/streams/room2").status_code == 200, 30, "room2 watched via on_publish")
        time.sleep(1.0)
        assert b.proc is not None and b.proc.poll() is None
        enf = Enforcer(CFG.live.enforcement.model_copy(update={"enabled": True, "control_url": origin.control_url}))
        v = Verdict("room2", "gambling", "high", 0.99, 1.0, 3.0, (), action="cut")
        res = enf.enforce_sync(v, Target("room2", "live", "room2"))
        assert res is not None and res.ok, res
        _until(lambda: b.proc is not None and b.proc.poll() is not None, 15, "ffmpeg to be dropped")
        _until(lambda: httpx.get(f"{api}/streams/room2").status_code == 404, 30, "on_publish_done to remove room2")
    finally:
        b.kill()


def test_batcher_actor_fails_only_the_bad_item(stack: dict[str, Any]) -> None:
    import ray

    from moderation.messages import VideoFrame

    (on_node,) = stack["pool"].batchers().values()  # one node: its batchers, started and warmed at start
    h = on_node["vision"]
    good = VideoFrame("x", 0.0, np.zeros((64, 64, 3), np.uint8))
    bad = VideoFrame("x", 1.0, np.zeros((64, 64), np.float32))
    res = ray.get(h.infer.remote([good, bad, good]), timeout=120)
    assert [isinstance(r, Exception) for r in res] == [False, True, False]
    assert res[0].stream == "x" and "frame x@1.000" in str(res[1])
    stats = ray.get(h.stats.remote(), timeout=30)
    assert stats["items"] >= 3 and stats["batches"] >= 1


def test_killed_stream_worker_is_restarted_and_resumes(stack: dict[str, Any], sample: Path) -> None:
    import ray

    origin: Origin = stack["origin"]
    api: str = stack["api"]
    b = Broadcaster(sample, origin.url("room3")).start()
    try:

        def frames() -> int:
            r = httpx.get(f"{api}/streams/room3")
            return int(r.json()["frames_in"]) if r.status_code == 200 else 0

        before = _until(lambda: frames() >= 4 and frames(), 30, "room3 to be followed")
        ray.kill(stack["pool"].worker("room3"), no_restart=False)  # the process dies; the manager restarts it
        # A fresh pipeline (counters from zero) follows the stream again after the restart backoff.
        _until(lambda: frames() < before, 60, "a restarted worker")
        _until(
            lambda: (r := httpx.get(f"{api}/streams/room3")).json()["state"] == "live" and r.json()["frames_in"] >= 2,
            60,
            "the restarted worker to resume",
        )
    finally:
        b.kill()
    _until(lambda: httpx.get(f"{api}/streams/room3").status_code == 404, 30, "on_publish_done to remove room3")


def test_running_worker_is_resteered_live_and_keeps_it_across_a_restart(stack: dict[str, Any], sample: Path) -> None:
    import asyncio

    import ray

    from moderation.pipeline.status import Steering

    origin: Origin = stack["origin"]
    api: str = stack["api"]
    b = Broadcaster(sample, origin.url("room4")).start()

    def status() -> dict[str, Any]:
        r = httpx.get(f"{api}/streams/room4")
        return r.json() if r.status_code == 200 else {}  # type: ignore[no-any-return]

    try:
        _until(lambda: status().get("state") == "live" and status()["frames_in"] >= 2, 30, "room4 live")
        assert (status()["vision_fps"], status()["tier"]) == (1.0, None)
        st = asyncio.run(stack["pool"].reconfigure("room4", Steering("strict", 2.0, 2, time.time())))
        assert st is not None and (st.tier, st.profile, st.vision_fps, st.ocr_fps) == (2, "strict", 4.0, 2.0)
        n0 = status()["frames_in"]
        time.sleep(3.0)
        assert status()["frames_in"] - n0 >= 8  # 4 fps on the same worker
        killed = stack["pool"].worker("room4")
        ray.kill(killed, no_restart=False)  # its replacement starts re-steered

        def replaced() -> bool:
            h = stack["pool"].worker("room4")
            return h is not None and h._actor_id != killed._actor_id

        _until(replaced, 60, "a replacement worker")
        live = _until(lambda: (s := status()).get("state") == "live" and s, 60, "the replacement to follow the stream")
        assert (live["tier"], live["vision_fps"]) == (2, 4.0)
    finally:
        b.kill()
