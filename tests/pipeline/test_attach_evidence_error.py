"""Offline evidence: a verdict whose clip cannot be cut keeps its record, with the reason."""

from __future__ import annotations

from pathlib import Path

from moderation.config import PipelineConfig
from moderation.evidence.file_clips import attach_evidence
from moderation.messages import Signal, Verdict


def test_failed_clip_is_named_in_the_record(tmp_path: Path) -> None:
    bad = tmp_path / "rec.mp4"
    bad.write_bytes(b"\x00" * 64)  # not media: the cut fails
    v = Verdict("s", "vulgar", "high", 0.9, 1.0, 2.0, (Signal("image.nudenet", "s", 1.0, 0.9, "vulgar"),))
    out = attach_evidence(v, bad, tmp_path / "clips", PipelineConfig())
    rec = out.to_record()
    assert rec["clip"] is None and rec["clip_error"].startswith(str(bad)) and "\n" not in rec["clip_error"]
