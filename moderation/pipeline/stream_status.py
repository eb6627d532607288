"""Status and metrics of one :class:`~moderation.pipeline.stream.StreamPipeline`, read off its parts.

Kept apart from the pipeline so the host module holds only the flow of frames, windows and
signals; these read counters and never change the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moderation.pipeline.metrics import StreamMetrics
from moderation.pipeline.status import StreamStatus, VerdictBrief

if TYPE_CHECKING:
    from moderation.pipeline.stream import StreamPipeline


def stream_status(self: StreamPipeline) -> StreamStatus:
    """The stream's status now (control API, ``watch``); any time, from the pipeline's loop."""
    last = self.verdicts[-1] if self.verdicts else None
    ing, steer = self.ingest, self.steering
    return StreamStatus(
        stream=self.spec.stream_id,
        url=StreamStatus.starting("", self.spec.url).url,
        state=ing.state,
        media_t=ing.ingested_t,
        frames_in=self.frames.put_count,
        frames_processed=self._frame_an.counts.frames,
        frames_dropped=self.frames.dropped,
        audio_windows=self.audio.put_count,
        audio_dropped=self.audio.dropped,
        corrupt_packets=ing.corrupt_packets,
        reconnects=ing.reconnects,
        gaps=len(ing.gaps),
        gap_s=sum(g.end_media - g.start_media for g in ing.gaps),
        verdicts=self.outlet.count,
        lag_s=max(0.0, ing.ingested_t - self._frames_done_t) if len(self.frames) or self._frame_busy else 0.0,
        last_verdict=VerdictBrief.of(last),
        end_reason=ing.end_reason,
        error=ing.error,
        chat_messages=self._chat.status.messages if self._chat else 0,
        chat_error=self._chat.status.error if self._chat else None,
        gift_events=self._gifts.status.messages if self._gifts else 0,
        gift_error=self._gifts.status.error if self._gifts else None,
        alerts=self._alerts.count,
        last_alert=self.alerts[-1] if self.alerts else None,
        task_errors=self.failures.errors,
        task_restarts=self.failures.restarts,
        task_failure=self.failures.failure,
        app=self.spec.app,
        name=self.spec.name,
        tier=steer.tier if steer is not None else None,
        profile=steer.profile if steer is not None and steer.profile else self.cfg.name,
        vision_fps=ing.source_cfg.fps,
        ocr_fps=self._frame_an.ocr_gate.cfg.fps if self._frame_an.cfg.ocr.enabled else 0.0,
        steered_at=steer.changed_at if steer is not None else None,
        deferred=self.deferred,
    )


def stream_metrics(self: StreamPipeline) -> StreamMetrics:
    """Counters and latency histograms for ``/metrics``."""
    errors = self._frame_an.counts.errors + self._audio_an.counts.errors
    enforcements = tuple((a, o, n) for (a, o), n in sorted(self.outlet.enforced.items()))
    bad_chat = self._chat.stats.bad if self._chat else 0
    bad_gifts = self._gifts.stats.bad if self._gifts else 0
    return StreamMetrics.of(
        self.status(),
        self.latency,
        inference_errors=errors,
        chat_bad_lines=bad_chat,
        gift_bad_lines=bad_gifts,
        enforcements=enforcements,
    )
