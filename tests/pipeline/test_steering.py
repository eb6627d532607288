"""Per-stream profiles and live re-steering on the in-process pool: a stream starts at its
steering's profile and sampling, and a new standing changes its vision and OCR rates (and the
policy, where that is safe) while it runs, without a restart."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest
from fakes import FakeClients
from media_factory import make_clip

from moderation.config import ConfigError, PipelineConfig, load_pipeline
from moderation.pipeline.pool import LocalPool
from moderation.pipeline.status import Steering, StreamSpec, StreamStatus
from moderation.pipeline.steering import follow, stream_config

CFG = PipelineConfig.model_validate(
    {
        "ocr": {"gate": {"enabled": False}},
        "live": {"allow_files": True, "audio_window_s": 2.0, "audio_overlap_s": 0.5, "open_timeout_s": 1.0},
    }
)


def test_stream_config_profile_sampling_and_live_settings() -> None:
    assert stream_config(CFG, None) is CFG and stream_config(CFG, Steering()) is CFG
    strict = stream_config(CFG, Steering("strict", 2.0))
    assert (strict.sampling.fps, strict.ocr.fps) == (4.0, 2.0)  # strict's 2 and 1 fps, doubled
    assert strict.policy == load_pipeline("strict").policy and strict.live == CFG.live  # the pool's live settings
    # the profile's score thresholds; the pool's models (its shared batchers)
    assert strict.vision.nudenet_min_score == 0.4 and strict.vision.enabled == CFG.vision.enabled
    assert strict.asr == CFG.asr and strict.batching == CFG.batching
    assert (
        stream_config(
            CFG.model_copy(update={"asr": CFG.asr.model_copy(update={"enabled": False})}), Steering("strict")
        ).asr.enabled
        is False
    )
    capped = stream_config(CFG, Steering(None, 100.0))
    assert (capped.sampling.fps, capped.ocr.fps) == (60.0, 10.0)
    with pytest.raises(ConfigError, match=r"unknown profile '\.\./etc'.*known profiles: .*strict"):
        stream_config(CFG, Steering("../etc"))


def test_follow_keeps_a_pinned_profile() -> None:
    new = Steering("strict", 2.0, 2, 5.0)
    assert follow(None, new) == new and follow(Steering("default"), new) == new
    assert follow(Steering("fast_en", pinned=True), new) == Steering("fast_en", 2.0, 2, 5.0, pinned=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("steer") / "room.mp4", seconds=9.0, gop_s=0.5)


def test_running_stream_resampled_and_retuned_without_restart(clip: Path) -> None:
    fake = FakeClients(ocr_span=(0.0, 0.0))

    async def go() -> tuple[StreamStatus, StreamStatus]:
        pool = LocalPool(CFG, fake)
        await pool.add(StreamSpec("room", str(clip), steering=Steering(tier=0, changed_at=1.0)))
        st = await pool.status("room")
        assert st is not None and (st.tier, st.profile, st.vision_fps, st.ocr_fps) == (0, "default", 1.0, 0.5)
        deadline = time.monotonic() + 20
        while not [t for t in fake.frames_seen if t >= 3.0] and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        changed_at = time.time()
        new = await pool.reconfigure("room", Steering("strict", 2.0, 2, changed_at))
        assert new is not None and new.state == "live"
        pipe = pool.pipeline("room")
        assert pipe is not None and pipe.fuser.policy == load_pipeline("strict").policy  # swapped live
        assert pipe._frame_an.cfg.vision.nudenet_min_score == 0.4  # strict's vision thresholds, live
        (end,) = await pool.wait_all()
        assert await pool.reconfigure("room", Steering()) is None  # ended: nothing to steer
        await pool.close()
        return new, end

    new, end = asyncio.run(go())
    assert (new.tier, new.profile, new.vision_fps, new.ocr_fps) == (2, "strict", 4.0, 2.0)
    assert new.steered_at is not None and "synthetic" in new.deferred and "policy" not in new.deferred
    assert end.end_reason == "eof" and end.reconnects == 0  # one run, no restart
    seen = sorted(fake.frames_seen)
    early = [t for t in seen if t < 2.5]
    late = [t for t in seen if t >= 6.0]
    assert early and all(b - a >= 0.9 for a, b in itertools.pairwise(early))  # 1 fps before
    assert late and all(b - a <= 0.3 for a, b in itertools.pairwise(late)) and len(late) >= 8  # 4 fps after
