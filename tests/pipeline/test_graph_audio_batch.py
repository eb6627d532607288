"""A scan transcribes its audio windows in batches through the ASR batcher (the batched transcriber)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from moderation.config import PipelineConfig
from moderation.messages import AudioWindow, TranscriptSegment
from moderation.pipeline.clients import BatchFamily
from moderation.pipeline.graph import Engines, FileScan, scan_file
from moderation.samplegen import write_video


class FakeBatched:
    def __init__(self, fail_at: float | None = None) -> None:
        self.calls: list[list[float]] = []
        self.fail_at = fail_at

    def transcribe_batch(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment] | Exception]:
        self.calls.append([w.start for w in windows])
        out: list[list[TranscriptSegment] | Exception] = []
        for w in windows:
            if self.fail_at is not None and w.start == self.fail_at:
                out.append(RuntimeError("decoder broke"))
            else:
                seg = TranscriptSegment(w.stream, w.start, w.start + 1, "place your bets now online casino", "en")
                out.append([seg])
        return out


def _scan(tmp_path: Path, fake: FakeBatched) -> tuple[FileScan, list[float]]:
    path = write_video(tmp_path / "a.mp4", None, 20.0, np.zeros(20 * 16000, np.float32), audio_rate=16000)
    cfg = PipelineConfig.model_validate({"asr": {"window_s": 2.0}})
    engines = Engines(cfg)
    engines.families["asr"] = BatchFamily("asr", fake.transcribe_batch, lambda: None, 8, 0.0)
    scan = scan_file(path, "a", engines)
    times = [s.t for s in scan.signals]
    return scan, times


def test_windows_go_to_the_batched_transcriber_in_batches(tmp_path: Path) -> None:
    fake = FakeBatched()
    scan, times = _scan(tmp_path, fake)
    assert [len(c) for c in fake.calls] == [8, 2]  # batching.asr.max_batch
    assert times == sorted(times) and len(times) >= 10  # every window's keyword hits, in media order
    assert scan.audio_s == pytest.approx(20.0, abs=0.1)


def test_a_failed_window_fails_the_scan(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="decoder broke"):
        _scan(tmp_path, FakeBatched(fail_at=4.0))


def test_scan_runs_the_audio_branch_beside_the_video_branch(tmp_path: Path) -> None:
    import threading

    threads: list[str] = []

    class Recording(FakeBatched):
        def transcribe_batch(self, windows: Sequence[AudioWindow]) -> list[list[TranscriptSegment] | Exception]:
            threads.append(threading.current_thread().name)
            return super().transcribe_batch(windows)

    def frames(_: int, t: float) -> np.ndarray:
        return np.full((64, 96, 3), int(40 + 10 * t), np.uint8)

    path = write_video(
        tmp_path / "av.mp4", frames, 6.0, np.zeros(6 * 16000, np.float32), width=96, height=64, audio_rate=16000
    )
    cfg = PipelineConfig.model_validate(
        {
            "asr": {"window_s": 2.0},
            "vision": {"enabled": False},
            "ocr": {"enabled": False},
            "synthetic": {"enabled": False},
        }
    )
    engines = Engines(cfg)
    rec = Recording()
    engines.families["asr"] = BatchFamily("asr", rec.transcribe_batch, lambda: None, 8, 0.0)
    seen: list[float] = []
    scan = scan_file(path, "av", engines, progress=seen.append)
    assert threads and threading.main_thread().name not in threads  # off the loop, beside the video branch
    assert scan.frames >= 5 and scan.audio_s == pytest.approx(6.0, abs=0.1)
    assert [v.category for v in scan.verdicts] == ["gambling"]
    assert sum(seen) == pytest.approx(6.0 + 5.0, abs=1.1)  # video (last frame time) + audio seconds
