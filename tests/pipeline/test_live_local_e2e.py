"""In-process live pool (no Ray) against a real nginx-rtmp: a publish hook starts watching, a
verdict whose policy action is ``cut`` makes the pipeline drop the publisher through rtmp_control,
and the origin's on_publish_done stops the stream; plus ``moderation watch`` on a file."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fakes import FakeClients
from origin import Broadcaster, free_port, hooked_origin, serving
from typer.testing import CliRunner

from moderation.cli.main import app as cli_app
from moderation.config import PipelineConfig
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.sinks import JsonlSink
from moderation.samplegen import Background, paste, qr_image, write_video
from moderation.service.api import create_app


def _qr_sample(path: Path, seconds: float = 5.0) -> Path:
    code = qr_image("https://bet-casino-888.example/register", size=200)
    bg = Background(480, 270, 1)

    def frames(_: int, t: float) -> np.ndarray:
        img = bg.frame(t)
        if 1.0 <= t < 3.5:
            paste(img, code, 140, 35)
        return img

    return write_video(path, frames, seconds, None, width=480, height=270, gop_s=0.5)


@pytest.fixture(scope="module")
def qr_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _qr_sample(tmp_path_factory.mktemp("qr") / "qr.mp4")


#: How soon a verdict record must land once the stream's connection is gone: well below the clip
#: wait (live.clip_wait_s, 10 s) a clip would otherwise spend waiting for its post-roll.
#: A record cut short by its connection's end goes out within the read timeout (2 s) plus a few
#: seconds of a loaded machine; waiting for the post-roll, the clip wait or the end of ingest would
#: take 25 s or more with the drop test's settings.
RECORD_SOON_S = 12.0
#: How soon a record must land once its stream is stopped, even with its ingest thread blocked in a
#: network call: below the timeout it waited for before (the 10 s default read timeout after a cut,
#: the 30 s open in the hung-reconnect test) by more than a loaded machine's delay.
STOP_RECORD_S = 8.0


def _until(fn: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := fn():
            return got
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def local_stack(tmp_path: Path, qr_clip: Path) -> Iterator[dict[str, Any]]:
    api_port = free_port()
    with hooked_origin(tmp_path, api_port) as origin:
        cfg = PipelineConfig.model_validate(
            {
                "ocr": {"gate": {"enabled": False}},  # fake OCR: no text-likely gate
                "policy": {"categories": {"gambling": {"actions": {"high": "cut"}}}},
                "live": {
                    "allow_networks": ["127.0.0.0/8"],
                    "audio_window_s": 2.0,
                    "audio_overlap_s": 0.5,
                    "enforcement": {"enabled": True, "control_url": origin.control_url},
                },
            }
        )
        sink = JsonlSink(tmp_path / "live.jsonl")
        pool = LocalPool(cfg, FakeClients(ocr_span=(1.0, 30.0)), [sink], clips_dir=tmp_path / "clips")
        with serving(create_app(pool, cfg), api_port) as api:
            yield {"api": api, "origin": origin, "dir": tmp_path}
        sink.close()


def test_verdict_with_cut_action_drops_the_publisher(local_stack: dict[str, Any], qr_clip: Path) -> None:
    api, origin = local_stack["api"], local_stack["origin"]
    out = local_stack["dir"] / "live.jsonl"
    b = Broadcaster(qr_clip, origin.url("cutme")).start()
    try:
        _until(lambda: httpx.get(f"{api}/streams/cutme").status_code == 200, 20, "on_publish to start watching")
        _until(lambda: b.proc is not None and b.proc.poll() is not None, 40, "the cut to drop ffmpeg")
        cut = time.monotonic()
        _until(lambda: httpx.get(f"{api}/streams/cutme").status_code == 404, 30, "on_publish_done to stop watching")
        # the cut ended the stream's connection and the hook stopped the stream: its verdict record goes
        # out with the clip the ring holds, though the ingest thread still waits in a read (nginx keeps a
        # player connected after its publisher goes) or a reconnect attempt
        _until(lambda: out.is_file() and out.read_text().strip() != "", 30, "the verdict record")
        took = time.monotonic() - cut
    finally:
        b.kill()
    print(f"verdict record {took:.2f}s after the cut")
    assert took < STOP_RECORD_S, f"the record took {took:.1f}s after the cut (waited for a reconnect attempt?)"
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines and lines[0]["stream"] == "cutme" and lines[0]["category"] == "gambling"
    assert lines[0]["action"] == "cut"  # what the policy asked for, and what was done about it:
    enf = lines[0]["enforcement"]
    assert (enf["action"], enf["by"], enf["result"]) == ("cut", "policy", "ok") and enf["at"].endswith("Z")
    assert lines[0]["clip"] and Path(lines[0]["clip"]).is_file()


def _direct_cfg(live: dict[str, Any], **sections: Any) -> PipelineConfig:
    """A pipeline driven in-process against the local origin (no hooks): loopback allowed, short
    audio windows, a 2 s read timeout, one gambling verdict per burst; ``live`` and ``sections``
    add to that."""
    base_live = {
        "allow_networks": ["127.0.0.0/8"],
        "audio_window_s": 2.0,
        "audio_overlap_s": 0.5,
        "read_timeout_s": 2.0,
    }
    return PipelineConfig.model_validate(
        {
            "synthetic": {"enabled": False},
            "policy": {"categories": {"gambling": {"merge_gap_s": 1.0}}},
            **sections,
            "live": {**base_live, **live},
        }
    )


def test_publisher_drop_sends_a_verdict_waiting_for_its_post_roll_at_once(tmp_path: Path, qr_clip: Path) -> None:
    """No publish hooks here: nothing stops the stream, it waits for the publisher to come back
    (``eof_grace_s``). A verdict that closed while its clip's post-roll was still to come must not
    wait for the clip wait to run out once the publisher is gone. nginx-rtmp keeps a player
    connected when its publisher goes, so the drop shows as ``read_timeout_s`` without data."""
    import asyncio

    from moderation.pipeline.status import StreamSpec
    from moderation.pipeline.stream import StreamPipeline

    cfg = _direct_cfg(
        # long waits, so the old behaviour (wait for the post-roll, the clip wait or the end of
        # ingest) stands far apart from the new one on a loaded machine too
        {"clip_wait_s": 30.0, "eof_grace_s": 30.0},
        ocr={"gate": {"enabled": False}},
        evidence={"post_s": 8.0},  # a long post-roll: the verdict closes well before it is in
    )
    with hooked_origin(tmp_path, None) as origin:
        b = Broadcaster(qr_clip, origin.url("drop")).start()
        time.sleep(0.5)

        async def go() -> tuple[float, list[Any]]:
            fake = FakeClients(ocr_span=(1.0, 2.0))
            pipe = StreamPipeline(StreamSpec.from_url(origin.url("drop")), cfg, fake, clips_dir=tmp_path / "clips")
            task = asyncio.create_task(pipe.run())
            deadline = time.monotonic() + 40
            # the gambling verdict (media 1-2 s) has closed and waits for media up to ~10 s
            while not (pipe.ingest.ingested_t >= 6.0 and pipe.outlet.count == 0) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert pipe.ingest.ingested_t < 9.0 and pipe.outlet.count == 0, "missed the verdict's wait"
            b.kill()
            dropped = time.monotonic()
            while pipe.outlet.count == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            took = time.monotonic() - dropped
            pipe.stop()
            await task
            return took, pipe.verdicts

        try:
            took, verdicts = asyncio.run(go())
        finally:
            b.kill()
    print(f"verdict record {took:.2f}s after the publisher dropped")
    assert verdicts and verdicts[0].category == "gambling" and verdicts[0].clip
    assert took < RECORD_SOON_S, f"the record took {took:.1f}s after the drop (the clip wait?)"
    v = verdicts[0]
    assert v.clip_end is not None and v.clip_end < v.end + cfg.evidence.post_s  # cut short, and says so


def test_watch_command_prints_verdicts_from_a_file(qr_clip: Path, tmp_path: Path) -> None:
    preset = tmp_path / "qr_only.yaml"
    preset.write_text(
        "name: qr_only\nvision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\n"
        "synthetic: {enabled: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "w.jsonl"
    res = CliRunner().invoke(
        cli_app,
        [
            "watch",
            str(qr_clip),
            "--allow-files",
            "--pipeline",
            str(preset),
            "--out",
            str(out),
            "--clips",
            str(tmp_path / "clips"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "gambling" in res.output and "qr.url" in res.output
    assert "open  qr" in res.output and "from frames" in res.output  # the alert, before the verdict
    rec = json.loads(out.read_text().splitlines()[0])
    assert rec["category"] == "gambling" and rec["wallclock_start"] and Path(rec["clip"]).is_file()
    bad = CliRunner().invoke(cli_app, ["watch", "rtmp://10.0.0.1/live/x"])
    assert bad.exit_code == 2 and "refused" in bad.output


def test_broadcaster_restart_reconnects_and_verdicts_continue(tmp_path: Path, qr_clip: Path) -> None:
    import asyncio

    from moderation.pipeline.status import StreamSpec
    from moderation.pipeline.stream import StreamPipeline

    cfg = _direct_cfg({"clip_wait_s": 2.0}, ocr={"fps": 1.0, "gate": {"enabled": False}})
    with hooked_origin(tmp_path, None) as origin:
        b = Broadcaster(qr_clip, origin.url("restart")).start()
        time.sleep(0.5)

        async def go() -> tuple[Any, list[Any]]:
            fake = FakeClients(ocr_span=(0.0, 1.0), period=3.0)
            pipe = StreamPipeline(StreamSpec.from_url(origin.url("restart")), cfg, fake, clips_dir=tmp_path / "clips")
            task = asyncio.create_task(pipe.run())
            deadline = time.monotonic() + 40
            while pipe.status().verdicts < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.3)
            b.kill()
            await asyncio.sleep(1.0)
            b.start()
            while time.monotonic() < deadline:
                st = pipe.status()
                if st.gaps >= 1 and any(
                    v.start > pipe.ingest.gaps[0].end_media and v.category == "gambling" for v in pipe.verdicts
                ):
                    break
                await asyncio.sleep(0.3)
            pipe.stop()
            return await task, pipe.verdicts

        try:
            status, verdicts = asyncio.run(go())
        finally:
            b.kill()
    assert status.gaps >= 1 and status.reconnects >= 1 and status.state == "ended"
    gambling = [v for v in verdicts if v.category == "gambling"]
    assert len(gambling) >= 2 and gambling[0].clip
    assert gambling[-1].start > gambling[0].end  # the timeline went on after the restart


def test_stop_during_a_hung_reconnect_finalises_the_open_violation_at_once(tmp_path: Path) -> None:
    """The connection drops while a violation is open and the reconnect lands on an origin that
    accepts and never answers: FFmpeg's RTMP handshake then waits out the open timeout (or the read
    timeout, which it also applies to each handshake read; both are 30 s here). Stopping the stream
    then must write the open violation's record, with its clip cut from the ring, at once instead
    of when the blocked open gives up."""
    import asyncio

    from blackhole_proxy import BlackholeProxy

    from moderation.pipeline.status import StreamSpec
    from moderation.pipeline.stream import StreamPipeline

    cfg = _direct_cfg(
        # the proxy ends the first connection itself, so a long read timeout delays nothing else
        {"open_timeout_s": 30.0, "read_timeout_s": 30.0, "eof_grace_s": 60.0, "give_up_after_s": 60.0},
        ocr={"gate": {"enabled": False}},
        policy={"categories": {"gambling": {"merge_gap_s": 10.0}}},  # OCR every 2 s: one violation
    )
    bg = Background(480, 270, 1)
    plain = write_video(tmp_path / "plain.mp4", lambda _, t: bg.frame(t), 5.0, None, width=480, height=270, gop_s=0.5)
    with hooked_origin(tmp_path, None) as origin, BlackholeProxy(origin.rtmp_port) as proxy:
        b = Broadcaster(plain, origin.url("hang")).start()
        time.sleep(0.5)

        async def go() -> tuple[float, float, StreamPipeline]:
            fake = FakeClients(ocr_span=(1.0, 600.0))  # gambling text on screen from 1 s on: one violation
            url = proxy.url(origin.url("hang"))
            pipe = StreamPipeline(StreamSpec.from_url(url), cfg, fake, clips_dir=tmp_path / "clips")
            task = asyncio.create_task(pipe.run())
            deadline = time.monotonic() + 40
            while not (pipe.status().alerts and pipe.ingest.ingested_t >= 4.0) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert pipe.status().alerts == 1 and pipe.outlet.count == 0, "no open violation to finalise"
            proxy.drop()
            while not (proxy.held and pipe.ingest.state == "reconnecting") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert proxy.held and pipe.ingest.state == "reconnecting", "the reconnect did not reach the black hole"
            await asyncio.sleep(1.0)  # well inside the 30 s open
            stopped = time.monotonic()
            pipe.stop()
            while pipe.outlet.count == 0 and time.monotonic() < stopped + 45:
                await asyncio.sleep(0.05)
            took = time.monotonic() - stopped
            await task
            return took, time.monotonic() - stopped, pipe

        try:
            took, returned, pipe = asyncio.run(go())
        finally:
            b.kill()
    print(f"record {took:.2f}s, run() returned {returned:.2f}s after stop")
    assert took < STOP_RECORD_S, f"the record took {took:.1f}s after stop (waited for the blocked open?)"
    assert returned < STOP_RECORD_S
    v = pipe.verdicts[0]
    assert v.category == "gambling" and v.clip and Path(v.clip).is_file()
    assert v.clip_end is not None and v.clip_end < v.end + cfg.evidence.post_s  # cut short, and says so
    st = pipe.status()
    assert (st.state, st.end_reason, st.verdicts) == ("ended", "closed", 1) and pipe.ingest.detached
    # the thread left behind is not leaked: its open fails once the proxy has closed the held connection
    alive = lambda: any(t.name == "ingest-hang" for t in threading.enumerate())  # noqa: E731
    _until(lambda: not alive(), 35, "the detached ingest thread to end")
