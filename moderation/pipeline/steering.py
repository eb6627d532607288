"""Re-steering a running stream when its streamer's standing changes (POLICY.md 分类分级管理):
a riskier streamer is sampled denser and judged by a stricter profile within seconds, without
restarting the stream (a restart would lose the evidence ring and the open violations).

What changes live, on the running :class:`~moderation.pipeline.stream.StreamPipeline`:

* the **vision sampling rate** — the source's frame sampler is re-timed (next frame on);
* the **OCR rate** — the stream's OCR gate is re-timed;
* the **vision score thresholds** (what NudeNet / open_nsfw score counts as a signal);
* the **policy** (thresholds, severities, actions) of both fusers, when the new profile's
  categories have the same windows, k-of-n and suppression as the old (then the evidence they
  hold is still the right look-back); otherwise the policy waits for the next publish.

Everything else a profile sets per stream (QR, synthetic loop, chat, gifts, the OCR gate's
thresholds…) is built into the stream's stages when it starts, so it applies at the next
publish; the status lists those sections in ``deferred``. The models themselves (the ASR model,
which vision models run, batching) belong to the pool's shared batchers and are the pool's for
every stream (:func:`moderation.config.with_profile`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moderation.config import PipelineConfig, steered, with_profile
from moderation.pipeline.status import Steering

if TYPE_CHECKING:
    from moderation.pipeline.stream import StreamPipeline

__all__ = ["PER_STREAM", "apply", "follow", "stream_config"]

#: Sections a profile sets for one stream when it starts (compared to say what is deferred).
PER_STREAM = ("ocr", "qr", "chat", "intent", "gifts", "age", "replay_index", "synthetic", "evidence", "records")


def stream_config(base: PipelineConfig, steering: Steering | None) -> PipelineConfig:
    """The config a stream runs by: ``base`` (the pool's), or the steering's profile with the
    pool's live settings, its vision and OCR rates times the sampling multiplier.
    Raises :class:`~moderation.config.ConfigError` for an unknown profile."""
    if steering is None:
        return base
    return steered(with_profile(base, steering.profile), steering.sampling)


def follow(current: Steering | None, new: Steering) -> Steering:
    """``new`` for a stream steered by ``current``: a profile pinned at publish stays."""
    if current is not None and current.pinned:
        return Steering(current.profile, new.sampling, new.tier, new.changed_at, pinned=True)
    return new


def _differs(a: PipelineConfig, b: PipelineConfig, section: str) -> bool:
    return bool(getattr(a, section) != getattr(b, section))


def apply(pipe: StreamPipeline, steering: Steering, cfg: PipelineConfig) -> tuple[str, ...]:
    """Re-steer ``pipe`` (on its event loop) to ``cfg`` (from :func:`stream_config`); returns the
    sections that could not change live and apply at the next publish."""
    pipe.ingest.set_fps(cfg.sampling.fps)
    frames = pipe._frame_an
    frames.ocr_gate.retime(cfg.ocr.fps)
    # Vision score thresholds are read per batch; which models run is the pool's (never differs).
    frames.cfg = frames.cfg.model_copy(update={"vision": cfg.vision})
    started = pipe.cfg
    deferred = [s for s in PER_STREAM if _differs(started, cfg, s) and s != "ocr"]
    if started.ocr.model_copy(update={"fps": cfg.ocr.fps}) != cfg.ocr:
        deferred.append("ocr")  # the gate's thresholds; its rate did change
    if cfg.policy != pipe.fuser.policy:
        if pipe.fuser.retune(cfg.policy):
            pipe.preview.retune(cfg.policy)  # same shape as the authoritative one: always accepted
        else:
            deferred.append("policy")
    pipe.steering = steering
    pipe.deferred = tuple(sorted(deferred))
    return pipe.deferred
