"""The live evidence writer: a verdict across a publisher restart gets a clip with its gap named,
and a verdict whose clip cannot be made says why in its record."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from media_factory import make_clip

from moderation.config import EvidenceConfig
from moderation.evidence.ring import EvidenceRing
from moderation.evidence.writer import EvidenceWriter, FrameKeeper
from moderation.ingest.live_source import LiveSource
from moderation.ingest.packets import EncodedPacket
from moderation.ingest.source import Connected, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig
from moderation.messages import Signal, Verdict

FILES = SourceConfig(guard=UrlGuardConfig(allow_file=True), audio=False)


def _ring_across_restart(path: Path, shift: float) -> EvidenceRing:
    """Two connections of the same publisher; the second's own clock restarts at 0."""
    ring = EvidenceRing(max_seconds=30)
    for epoch, offset in ((0, 0.0), (1, shift)):
        for ev in LiveSource(str(path), "s1", FILES):
            if isinstance(ev, Connected):
                ring.set_templates(epoch, ev.templates)
            elif isinstance(ev, PacketEvent):
                p = ev.packet
                ring.push(
                    EncodedPacket(
                        p.kind,
                        p.data,
                        p.pts,
                        p.dts,
                        p.duration,
                        p.time_base,
                        p.keyframe,
                        p.t + offset,
                        p.t_dts + offset,
                        p.wall,
                        epoch,
                    )
                )
    return ring


def _verdict(start: float, end: float) -> Verdict:
    sig = Signal("asr.keyword", "s1", start, 0.9, "gambling", term="bet")
    return Verdict("s1", "gambling", "high", 0.9, start, end, (sig,))


def _attach(ring: EvidenceRing, v: Verdict, clips: Path) -> Verdict:
    cfg = EvidenceConfig(pre_s=0.5, post_s=0.5)
    writer = EvidenceWriter(ring, threading.Lock(), FrameKeeper(), cfg, clips, wait_s=0.0)
    writer.ingest_done = lambda: True
    return asyncio.run(writer.attach(v))


def test_verdict_across_a_restart_gets_one_clip_with_the_gap(tmp_path: Path) -> None:
    ring = _ring_across_restart(make_clip(tmp_path / "a.mp4", seconds=4.0, gop_s=1.0), shift=10.0)
    v = _attach(ring, _verdict(3.0, 11.0), tmp_path / "clips")
    assert v.clip is not None and Path(v.clip).is_file() and v.clip_error is None
    rec = json.loads(json.dumps(v.to_record()))
    assert rec["clip"] == v.clip
    assert rec["clip_start"] == pytest.approx(2.0)
    assert rec["clip_gaps"] == [[pytest.approx(4.0, abs=0.05), pytest.approx(10.0)]]
    assert "clip_error" not in rec


def test_clip_that_cannot_be_made_leaves_a_reason(tmp_path: Path) -> None:
    v = _attach(EvidenceRing(), _verdict(3.0, 4.0), tmp_path / "clips")
    rec = v.to_record()
    assert rec["clip"] is None and "no keyframe" in rec["clip_error"] and "\n" not in rec["clip_error"]
    assert "clip_gaps" not in rec and "clip_start" not in rec


def test_record_without_gaps_or_errors_is_unchanged() -> None:
    rec = _verdict(1.0, 2.0).to_record()
    assert not {"clip_gaps", "clip_start", "clip_error"} & set(rec)
