"""Live settings derived from the pipeline config (one place maps ``PipelineConfig`` onto the
ingest layer's :class:`SourceConfig`, so the pipeline and benchmarks open streams identically)."""

from __future__ import annotations

from moderation.config import PipelineConfig
from moderation.ingest.source import SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig

__all__ = ["source_config"]


def source_config(cfg: PipelineConfig) -> SourceConfig:
    """How a live stream is opened and sampled, from the pipeline config."""
    live = cfg.live
    hop = live.audio_window_s - live.audio_overlap_s if live.audio_overlap_s > 0 else None
    return SourceConfig(
        open_timeout_s=live.open_timeout_s, read_timeout_s=live.read_timeout_s,
        analyzeduration_s=live.analyzeduration_s, give_up_after_s=live.give_up_after_s,
        eof_grace_s=live.eof_grace_s, realtime=live.realtime_files, fps=cfg.sampling.fps,
        max_side=cfg.sampling.max_side, max_frame_pixels=cfg.sampling.max_frame_pixels, audio=cfg.asr.enabled,
        audio_window_s=live.audio_window_s, audio_hop_s=hop,
        guard=UrlGuardConfig(allow_file=live.allow_files, allow_hosts=live.allow_hosts,
                             allow_networks=live.allow_networks),
    )  # fmt: skip
