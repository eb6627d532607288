"""Both evidence strategies answer the same protocol: the file remux (offline) here, with a real
generated clip; the ring writer's own behaviour is in test_evidence_writer.py."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from factories import signal
from media_factory import make_clip

from moderation.config import PipelineConfig
from moderation.evidence.file_clips import RemuxFromFile
from moderation.evidence.ring import EvidenceRing
from moderation.evidence.strategy import EvidenceStrategy
from moderation.evidence.writer import EvidenceWriter, FrameKeeper
from moderation.messages import Verdict


def _verdict(start: float, end: float) -> Verdict:
    sigs = (signal(start, "vulgar", kind="image.nudenet", box=(10.0, 10.0, 40.0, 30.0)), signal(end, "vulgar"))
    return Verdict("s1", "vulgar", "high", 0.9, start, end, sigs)


def test_file_and_ring_strategies_share_one_protocol(tmp_path: Path) -> None:
    cfg = PipelineConfig()
    src = make_clip(tmp_path / "rec.mp4", seconds=4.0)
    strategies: list[EvidenceStrategy] = [
        RemuxFromFile(src, tmp_path / "clips", cfg),
        EvidenceWriter(EvidenceRing(), threading.Lock(), FrameKeeper(), cfg.evidence, tmp_path / "live", 0.0),
    ]
    assert all(callable(s.attach) and callable(s.thumbnail) for s in strategies)


def test_remux_from_file_cuts_a_clip_and_a_thumbnail_or_only_a_thumbnail(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "rec.mp4", seconds=4.0)
    remux = RemuxFromFile(src, tmp_path / "clips", PipelineConfig())
    done = asyncio.run(remux.attach(_verdict(1.0, 2.0)))
    assert done.clip is not None and Path(done.clip).stat().st_size > 0 and done.clip_error is None
    assert len(done.thumbnails) == 1 and Path(done.thumbnails[0]).is_file()
    early = asyncio.run(remux.thumbnail(_verdict(1.0, 2.0)))
    assert early.clip is None and len(early.thumbnails) == 1 and Path(early.thumbnails[0]).is_file()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 64)
    failed = asyncio.run(RemuxFromFile(bad, tmp_path / "clips", PipelineConfig()).attach(_verdict(1.0, 2.0)))
    assert failed.clip is None and failed.clip_error is not None  # the verdict is kept
