"""Local batcher clients: cross-stream batching, per-item errors, bounded queue rejects at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from moderation.config import PipelineConfig
from moderation.infer.batcher import DynamicBatcher, QueueFull
from moderation.messages import VideoFrame, VisionResult
from moderation.pipeline.clients import BatchFamily, LocalClients, per_item, submit_all


def _frames(stream: str, n: int) -> list[VideoFrame]:
    return [VideoFrame(stream, float(i), np.zeros((8, 8, 3), np.uint8)) for i in range(n)]


def test_two_streams_share_one_batch_and_bad_items_fail_alone() -> None:
    sizes: list[int] = []

    def analyse(frames: Sequence[VideoFrame]) -> list[VisionResult]:
        if any(f.t == 99 for f in frames):
            raise ValueError("bad frame")
        sizes.append(len(frames))
        return [VisionResult(f.stream, f.t) for f in frames]

    fam = BatchFamily("vision", per_item(analyse), lambda: None, max_batch=16, max_wait_ms=50)
    clients = LocalClients(PipelineConfig(), {"vision": fam})

    async def go() -> tuple[Sequence[object], Sequence[object]]:
        await asyncio.gather(clients.vision(_frames("a", 3)), clients.vision(_frames("b", 2)))
        a, b = await asyncio.gather(
            clients.vision(_frames("a", 3)),
            clients.vision([*_frames("b", 2), VideoFrame("b", 99, np.zeros((8, 8, 3)))]),
        )
        await clients.close()
        return a, b

    a, b = asyncio.run(go())
    assert sizes[0] == 5  # 3 + 2 frames of two streams in ONE call
    assert [r.stream for r in a if isinstance(r, VisionResult)] == ["a"] * 3
    assert isinstance(b[2], ValueError) and not isinstance(b[0], Exception)  # the failed call was split per item


def test_submit_all_rejects_beyond_the_bounded_queue() -> None:
    async def slow(items: Sequence[int]) -> list[int]:
        await asyncio.sleep(0.05)
        return list(items)

    async def go() -> list[object]:
        b: DynamicBatcher[int, int] = DynamicBatcher(slow, max_batch=2, max_wait_ms=1, max_queue=3)
        out = await submit_all(b, list(range(6)))
        await b.close()
        return out

    out = asyncio.run(go())
    assert out[:3] == [0, 1, 2] and all(isinstance(x, QueueFull) for x in out[3:])


def test_live_asr_pads_the_encoder_input_to_the_live_context_and_scans_to_30_s() -> None:
    """A live process's Whisper gets ``live.asr_context_s`` inputs (its windows are short); an offline
    scan keeps the 30 s input Whisper was trained on. Models are resolved, not loaded."""
    from moderation.infer.asr_batch import BatchedTranscriber
    from moderation.pipeline.clients import build_family

    cfg = PipelineConfig.model_validate({"live": {"asr_context_s": 8, "asr_context_from": 4}})
    live, scan = build_family("asr", cfg, background=True), build_family("asr", cfg, background=False)
    for fam, want in ((live, 8.0), (scan, None)):
        bt = getattr(fam.fn, "__self__", None)
        assert isinstance(bt, BatchedTranscriber) and not bt.loaded
        assert bt.bucket_s == want and bt.bucket_from == 4
    off = build_family("asr", PipelineConfig.model_validate({"live": {"asr_context_s": None}}), background=True)
    off_bt = getattr(off.fn, "__self__", None)
    assert isinstance(off_bt, BatchedTranscriber) and off_bt.bucket_s is None
