"""Batching across streams, per model family: the knobs of the performance core (DESIGN.md §7).

A batcher takes what is waiting up to ``max_batch`` items or ``max_wait_ms``, whichever comes
first; its input queue holds at most ``max_queue`` items, beyond which an item fails at once
(the stream counts it and moves on) instead of queueing without limit. ``gpu_share`` is the
fraction of one GPU a family's batcher actor asks Ray for on a GPU node.
"""

from __future__ import annotations

from pydantic import Field

from moderation.config._base import _Strict


class FamilyBatching(_Strict):
    """One model family's batcher."""

    max_batch: int = Field(16, ge=1, le=4096, description="Most items in one model call.")
    max_wait_ms: float = Field(
        20.0, ge=0, le=10_000, description="How long a batch waits to fill once its first item arrived."
    )
    max_queue: int = Field(256, ge=1, description="Items waiting at most; beyond, new items fail at once (counted).")
    gpu_share: float = Field(0.25, ge=0, le=1, description="Fraction of one GPU the batcher asks for on GPU nodes.")


class BatchingConfig(_Strict):
    """Per-family batchers shared by every stream (and every file of a scan) on a node."""

    vision: FamilyBatching = FamilyBatching(max_batch=16, max_wait_ms=20.0, gpu_share=0.4)
    ocr: FamilyBatching = FamilyBatching(max_batch=4, max_wait_ms=20.0, gpu_share=0.2)
    asr: FamilyBatching = FamilyBatching(max_batch=8, max_wait_ms=200.0, gpu_share=0.4)
    synthetic: FamilyBatching = FamilyBatching(max_batch=16, max_wait_ms=20.0, gpu_share=0.1)
    #: Chat lines through the intent classifier (CPU: a numpy encoder; no GPU share).
    intent: FamilyBatching = FamilyBatching(max_batch=64, max_wait_ms=50.0, max_queue=1024, gpu_share=0.0)
