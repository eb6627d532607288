"""Observers of a running :class:`~moderation.pipeline.stream.StreamPipeline`: what happened, when.

Why a hook: metrics, benchmarks and tests all want the same moments — a frame arrived, a frame
batch's inference came back, an audio window was transcribed, a verdict was written, a violation
was first known — with their wall-clock times. The pipeline reports each moment to every
observer it was given instead of each consumer patching the pipeline's internals. The latency
histograms behind ``/metrics`` are one such observer (:class:`moderation.pipeline.metrics.LatencyObserver`).

An observer may also have ``on_signals(stream, signals)``: the signals given to the stream's fuser
(every kind, in media-time order), for counting them; it is optional, so observers written
before it need not change.

Callbacks run on the pipeline's event loop (``on_frame`` on its ingest thread) and must be quick;
one that raises is counted in the stream's ``task_errors`` (task ``observer``) and never stops it.
Each payload names its stream, so one observer can watch every stream of a pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from moderation.messages import Signal, Verdict
from moderation.pipeline.alerts import Alert

__all__ = [
    "AudioWindowDone",
    "FrameArrived",
    "FrameBatchDone",
    "NullObserver",
    "Observers",
    "PipelineObserver",
    "VerdictWritten",
]


@dataclass(frozen=True)
class FrameArrived:
    """A sampled frame was queued for inference (its packet was read at ``arrived``)."""

    stream: str
    t: float  # media time
    arrived: datetime


@dataclass(frozen=True)
class FrameBatchDone:
    """One batch of a stream's frames went through the frame stages (vision, OCR, QR, synthetic)."""

    stream: str
    t: tuple[float, ...]  # media time of each frame
    arrived: tuple[datetime, ...]  # when each frame's packet was read
    done: datetime  # when the batch's results were back
    ocr_frames: int = 0  # frames of the batch the OCR gate let through
    failed: bool = False  # the batch raised: its frames produced nothing

    def latencies(self) -> list[float]:
        """Arrival → result of each frame, in seconds."""
        return [(self.done - a).total_seconds() for a in self.arrived]


@dataclass(frozen=True)
class AudioWindowDone:
    """One audio window was transcribed (or failed to be)."""

    stream: str
    start: float  # media time
    end: float
    arrived: datetime | None  # when the window's first sample arrived (None when unknown)
    done: datetime
    failed: bool = False

    @property
    def lag_s(self) -> float | None:
        """Window end → transcript back, in seconds (None when the arrival is unknown)."""
        if self.arrived is None:
            return None
        return (self.done - self.arrived).total_seconds() - (self.end - self.start)


@dataclass(frozen=True)
class VerdictWritten:
    """A closed verdict was stamped, got its evidence and went to every sink."""

    stream: str
    verdict: Verdict
    evidence_arrived: datetime | None  # when its last evidence arrived (None when unknown)
    written: datetime

    @property
    def latency_s(self) -> float | None:
        """Last evidence arrival → written, in seconds (None when the arrival is unknown)."""
        if self.evidence_arrived is None:
            return None
        return max(0.0, (self.written - self.evidence_arrived).total_seconds())


class PipelineObserver(Protocol):
    """What a pipeline reports; implement the callbacks you need (or subclass :class:`NullObserver`)."""

    def on_frame(self, ev: FrameArrived) -> None: ...

    def on_frame_batch(self, ev: FrameBatchDone) -> None: ...

    def on_audio_window(self, ev: AudioWindowDone) -> None: ...

    def on_verdict(self, ev: VerdictWritten) -> None: ...

    def on_alert(self, stream: str, alert: Alert) -> None: ...


class NullObserver:
    """Every callback does nothing: a base for observers that need only some of them."""

    def on_frame(self, ev: FrameArrived) -> None:
        """A frame was queued."""

    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        """A frame batch's inference is back."""

    def on_audio_window(self, ev: AudioWindowDone) -> None:
        """An audio window was transcribed."""

    def on_verdict(self, ev: VerdictWritten) -> None:
        """A verdict was written to the sinks."""

    def on_alert(self, stream: str, alert: Alert) -> None:
        """A violation was first known."""

    def on_signals(self, stream: str, signals: Sequence[Signal]) -> None:
        """Signals went to the fuser (optional callback; see the module docstring)."""


class Observers:
    """Every observer of one pipeline behind one :class:`PipelineObserver`: each call reaches all of
    them, and one that raises is reported to ``failed`` (counted by the stream) without stopping
    the others or the pipeline."""

    def __init__(self, observers: Sequence[PipelineObserver], failed: Callable[[Exception], None]) -> None:
        self.observers = list(observers)
        self._failed = failed

    def _each(self, call: Callable[[PipelineObserver], None]) -> None:
        for obs in self.observers:
            try:
                call(obs)
            except Exception as exc:
                self._failed(exc)

    def on_frame(self, ev: FrameArrived) -> None:
        self._each(lambda o: o.on_frame(ev))

    def on_frame_batch(self, ev: FrameBatchDone) -> None:
        self._each(lambda o: o.on_frame_batch(ev))

    def on_audio_window(self, ev: AudioWindowDone) -> None:
        self._each(lambda o: o.on_audio_window(ev))

    def on_verdict(self, ev: VerdictWritten) -> None:
        self._each(lambda o: o.on_verdict(ev))

    def on_alert(self, stream: str, alert: Alert) -> None:
        self._each(lambda o: o.on_alert(stream, alert))

    def on_signals(self, stream: str, signals: Sequence[Signal]) -> None:
        for obs in self.observers:
            call = getattr(obs, "on_signals", None)  # optional: older observers lack it
            if call is None:
                continue
            try:
                call(stream, signals)
            except Exception as exc:
                self._failed(exc)
