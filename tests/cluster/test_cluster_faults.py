"""Fault tests on a real multi-node Ray cluster on this machine (``ray.cluster_utils.Cluster``).

One cluster for the whole module (a head with ``moderation_head`` and two worker nodes with
``stream_slots``, 1 CPU each), tiny generated media and a light pipeline (open_nsfw through the
per-node vision batcher, QR codes, no OCR/ASR), so it fits a 2-core CI machine:

* a 3-node cluster scan of 20 generated files gives the same report as a single-node scan;
* a worker node removed while streams are live: its streams resume on the other node within a
  bounded time, and the review queue ends with the same verdict set as a fault-free run;
* a batcher actor SIGKILLed mid-traffic: Ray restarts it and the callers' calls still succeed;
* the manager killed: Ray restarts it and it re-attaches to the running workers from its checkpoint.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import ray
from ray.cluster_utils import Cluster

from moderation.cluster.manager import (
    NAMESPACE,
    batcher_name,
    get_or_create_manager,
    worker_name,
)
from moderation.cluster.placement import Assignment, StreamRequest
from moderation.cluster.rescan import RescanOptions, run_rescan
from moderation.config import ClusterConfig, PipelineConfig
from moderation.messages import VideoFrame
from moderation.review.settings import ReviewSettings
from moderation.review.store import ReviewStore
from moderation.samplegen import generate_sample
from moderation.samplegen.sample import GAMBLING_URL, PlantedEvent

pytestmark = pytest.mark.slow

LIGHT_YAML = """\
sampling: {fps: 2}
vision: {nudenet: false}
ocr: {enabled: false}
asr: {enabled: false}
live: {allow_files: true, realtime_files: true, eof_grace_s: 0, clip_wait_s: 0, read_timeout_s: 5}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={
            "num_cpus": 1,
            "resources": {"moderation_head": 1},
            "include_dashboard": False,
            "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
        },
    )
    workers = [c.add_node(num_cpus=1, resources={"stream_slots": 4}) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address, namespace=NAMESPACE, log_to_driver=False, logging_level="WARNING")
    d = tmp_path_factory.mktemp("cluster")
    (d / "light.yaml").write_text(LIGHT_YAML)
    yield {"cluster": c, "workers": workers, "dir": d, "pipeline": str(d / "light.yaml")}
    ray.shutdown()
    c.shutdown()


def _media(d: Path, name: str, seconds: float, qr_at: float | None, seed: int) -> Path:
    plan = [PlantedEvent("gambling", "qr", qr_at, qr_at + 2.0, GAMBLING_URL)] if qr_at is not None else []
    p = d / f"{name}.mp4"
    generate_sample(p, duration=seconds, plan=plan, width=320, height=240, fps=10, seed=seed, write_manifest=False)
    return p


def _until(pred: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _verdicts(queue: str) -> set[tuple[str, str, float, float]]:
    store = ReviewStore.open(ReviewSettings(queue_url=queue))
    items = store.list_items(limit=1000)
    found = {(i.stream, i.category, round(i.t_start, 1), round(i.t_end, 1)) for i in items}
    assert len(found) == len(items), items  # a replayed verdict updated its item, never added one
    return found


def _run_streams(
    env: dict[str, Any],
    tag: str,
    files: dict[str, Path],
    during: Callable[[Any, dict[str, Assignment]], None] | None = None,
) -> tuple[str, Any]:
    d: Path = env["dir"]
    queue = f"sqlite:///{d / f'{tag}.db'}"
    mgr = get_or_create_manager(
        ClusterConfig(
            checkpoint=str(d / f"{tag}.ckpt.sqlite"),
            name=f"mgr-{tag}",
            pipeline=env["pipeline"],
            queue_url=queue,
            poll_s=0.25,
        )
    )
    for sid, path in files.items():
        ray.get(mgr.add_stream.remote(StreamRequest(sid, str(path))))
    running = _until(
        lambda: (lambda a: a if all(x.state == "running" for x in a.values()) else None)(
            ray.get(mgr.assignments.remote())
        ),
        60,
        "streams running",
    )
    if during is not None:
        during(mgr, running)

    def ended() -> bool:
        now = ray.get(mgr.assignments.remote())
        assert not [a for a in now.values() if a.state == "failed"], now
        return all(a.state == "ended" for a in now.values())

    _until(ended, 120, "streams ended")
    return queue, mgr


def test_three_node_scan_equals_single_node_scan(cluster: dict[str, Any]) -> None:
    d = cluster["dir"] / "scan"
    d.mkdir()
    for i in range(20):
        _media(d, f"r{i:02d}", 3.0, 0.5 + (i % 3) * 0.5 if i % 2 == 0 else None, seed=i)
    cfg = PipelineConfig.model_validate(
        {"sampling": {"fps": 2}, "vision": {"nudenet": False}, "ocr": {"enabled": False}, "asr": {"enabled": False}}
    )
    t0 = time.monotonic()
    multi = run_rescan([str(d)], cfg, cluster["dir"] / "multi.jsonl", None, RescanOptions())
    took = time.monotonic() - t0
    single = run_rescan([str(d)], cfg, cluster["dir"] / "single.jsonl", None, RescanOptions(actors=0))
    assert multi.used_ray and multi.actors == 3 and multi.scanned == 20 and not multi.failures, took
    assert not single.used_ray and single.scanned == 20  # its own ledger: nothing skipped
    print(
        f"3-node scan of 20 files: {took:.1f} s ({multi.media_s / took:.1f} media-s/s); "
        f"in-process: {single.wall_s:.1f} s"
    )
    assert (cluster["dir"] / "multi.jsonl").read_bytes() == (cluster["dir"] / "single.jsonl").read_bytes()
    flagged = {r["stream"] for r in multi.records}
    assert len(flagged) >= 5 and flagged <= {f"r{i:02d}" for i in range(0, 20, 2)}  # only files with a QR code


def test_node_loss_streams_resume_elsewhere_with_same_verdicts(cluster: dict[str, Any]) -> None:
    d = cluster["dir"]
    files = {f"live{i}": _media(d, f"live{i}", 8.0, 1.0 + i, seed=100 + i) for i in range(3)}
    clean_queue, clean_mgr = _run_streams(cluster, "clean", files)
    expected = _verdicts(clean_queue)
    assert {v[0] for v in expected} == set(files), expected
    ray.get(clean_mgr.close.remote())

    moved: dict[str, float] = {}

    def kill_a_node(mgr: Any, running: dict[str, Assignment]) -> None:
        time.sleep(2.5)  # streams are live and some verdicts are open or written
        c: Cluster = cluster["cluster"]
        by_node: dict[str, int] = {}
        for a in running.values():
            by_node[str(a.node_id)] = by_node.get(str(a.node_id), 0) + 1
        victim_id = max(by_node, key=lambda n: by_node[n])
        victim = next(n for n in cluster["workers"] if n.node_id == victim_id)
        t0 = time.monotonic()
        c.remove_node(victim, allow_graceful=False)  # the node's raylet is killed, as in a crash
        cluster["workers"].remove(victim)
        lost = [sid for sid, a in running.items() if a.node_id == victim_id]

        def resumed() -> bool:
            now = ray.get(mgr.assignments.remote())
            return all(
                now[s].node_id != victim_id and now[s].state in ("running", "ended") and now[s].moves >= 1 for s in lost
            )

        _until(resumed, 30, "streams to resume on another node")
        moved["s"] = time.monotonic() - t0
        print(f"node removed: {len(lost)} stream(s) resumed on another node in {moved['s']:.1f} s")
        cluster["workers"].append(c.add_node(num_cpus=1, resources={"stream_slots": 4}))  # for the next tests

    fault_queue, mgr = _run_streams(cluster, "fault", files, during=kill_a_node)
    assert moved["s"] < 20, moved  # 2-3 s here: health checks every 0.5 s, manager polls every 0.25 s
    assert _verdicts(fault_queue) == expected
    ray.get(mgr.close.remote())


def test_sigkilled_batcher_restarts_and_callers_retry(cluster: dict[str, Any]) -> None:
    node = cluster["workers"][0].node_id
    handle = ray.get_actor(batcher_name("vision", node), namespace=NAMESPACE)

    def pid() -> int:
        return int(ray.get(handle.__ray_call__.remote(lambda self: os.getpid()), timeout=60))

    before = pid()
    frame = VideoFrame("probe", 0.0, np.full((120, 160, 3), 90, np.uint8))
    results: list[Any] = []
    errors: list[BaseException] = []

    def caller() -> None:
        for _ in range(12):
            try:
                results.append(ray.get(handle.infer.remote([frame]), timeout=120)[0])
            except BaseException as exc:  # the test reports whatever escaped
                errors.append(exc)
            time.sleep(0.1)

    t = threading.Thread(target=caller)
    t.start()
    time.sleep(0.3)
    os.kill(before, signal.SIGKILL)
    t.join(timeout=180)
    assert not errors, errors
    assert len(results) == 12 and all(not isinstance(r, Exception) for r in results), results
    assert pid() != before


def test_killed_manager_recovers_its_assignments(cluster: dict[str, Any]) -> None:
    d = cluster["dir"]
    # 24 s streams: both must still be running when the restarted manager comes back (a loaded CI
    # machine can take several seconds to restart an actor, and a stream that reached its end
    # finishes at once: its last clip no longer waits for a post-roll)
    files = {f"mk{i}": _media(d, f"mk{i}", 24.0, 2.0, seed=200 + i) for i in range(2)}
    seen: dict[str, Any] = {}

    def kill_manager(mgr: Any, running: dict[str, Assignment]) -> None:
        before = ray.get(mgr.ping.remote())
        ray.kill(mgr, no_restart=False)  # Ray restarts it (max_restarts=-1); state from the checkpoint
        after = _until(
            lambda: (lambda p: p if p and p["pid"] != before["pid"] else None)(
                _try(lambda: ray.get(mgr.ping.remote(), timeout=5))
            ),
            60,
            "a new manager process",
        )
        seen["before"], seen["after"] = before, after
        seen["assign"] = ray.get(mgr.assignments.remote())
        seen["running"] = running

    queue, mgr = _run_streams(cluster, "mgrkill", files, during=kill_manager)
    assert seen["after"]["recovered"] == 2, seen["assign"]  # re-attached to both running workers
    for sid, a in seen["running"].items():  # same node, same worker generation: nothing restarted
        b = seen["assign"][sid]
        assert (b.node_id, b.generation, b.restarts) == (a.node_id, a.generation, a.restarts)
    assert {v[0] for v in _verdicts(queue)} == set(files)
    ray.get(mgr.close.remote())


def test_crashed_worker_is_restarted_with_backoff(cluster: dict[str, Any]) -> None:
    d = cluster["dir"]
    files = {"crash0": _media(d, "crash0", 6.0, 1.0, seed=300)}
    seen: dict[str, Any] = {}

    def crash(mgr: Any, running: dict[str, Assignment]) -> None:
        time.sleep(1.5)
        a = running["crash0"]
        worker = ray.get_actor(worker_name("mgr-crash", a), namespace=NAMESPACE)
        ray.kill(worker, no_restart=True)  # the process dies; the manager, not Ray, restarts the stream
        seen["after"] = _until(
            lambda: (lambda b: b if b.restarts == 1 and b.state == "running" else None)(
                ray.get(mgr.assignments.remote())["crash0"]
            ),
            30,
            "restart after the crash",
        )

    queue, mgr = _run_streams(cluster, "crash", files, during=crash)
    assert "worker died" in (seen["after"].last_error or "")
    assert {v[0] for v in _verdicts(queue)} == {"crash0"}
    ray.get(mgr.close.remote())


def test_control_api_over_the_manager_outlives_the_service(cluster: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from moderation.cluster.managed_pool import ManagedPool
    from moderation.config import load_pipeline
    from moderation.service.api import create_app

    d = cluster["dir"]
    a0, a1 = _media(d, "api0", 8.0, 1.0, seed=400), _media(d, "api1", 8.0, 1.0, seed=401)
    settings = ClusterConfig(
        checkpoint=str(d / "api.ckpt.sqlite"),
        name="mgr-api",
        pipeline=cluster["pipeline"],
        queue_url=f"sqlite:///{d / 'api.db'}",
        poll_s=0.25,
    )
    pool = ManagedPool(settings)
    pool.start()
    with TestClient(create_app(pool, load_pipeline(cluster["pipeline"]))) as api:
        assert api.post("/streams", json={"url": str(a0), "stream": "api0"}).status_code == 201
        assert api.post("/streams", json={"url": str(a1), "stream": "api1"}).status_code == 201
        assert api.post("/streams", json={"url": str(a0), "stream": "api0"}).status_code == 409
        _until(lambda: api.get("/streams/api0").json()["state"] == "live", 60, "api0 live")
        assert {s["stream"] for s in api.get("/streams").json()} == {"api0", "api1"}
        assert api.get("/metrics").status_code == 200
        assert api.delete("/streams/api0").status_code == 200
        assert api.get("/streams/nope").status_code == 404
    # the service is gone; the manager still follows api1 to its end
    mgr = ray.get_actor("mgr-api", namespace=NAMESPACE)
    now = ray.get(mgr.assignments.remote())
    assert now["api0"].state == "stopped" and now["api1"].state in ("running", "ended")
    _until(lambda: ray.get(mgr.assignments.remote())["api1"].state == "ended", 60, "api1 ended")
    ray.get(mgr.close.remote())


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None
