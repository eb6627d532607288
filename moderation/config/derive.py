"""The one mapping from a loaded pipeline config onto the ingest layer's settings.

``watch``, ``serve``, the control API, publish hooks, chat feeds and the benchmarks all open
streams and check URLs through these two functions, so they open and refuse exactly alike.
"""

from __future__ import annotations

from moderation.config.ingest import SourceConfig, StreamOpenConfig, UrlGuardConfig
from moderation.config.media import SamplingConfig
from moderation.config.pipeline import LiveConfig, PipelineConfig

__all__ = ["guard_config", "source_config"]


def guard_config(
    live: LiveConfig, schemes: tuple[str, ...] | None = None, http_timeout_s: float | None = None
) -> UrlGuardConfig:
    """The URL guard of ``live`` (``schemes`` narrows the allowed schemes, e.g. to HTTP(S) for chat)."""
    extra: dict[str, object] = {}
    if schemes is not None:
        extra["allowed_schemes"] = schemes
    if http_timeout_s is not None:
        extra["http_timeout_s"] = http_timeout_s
    return UrlGuardConfig.model_validate(
        {
            "allow_file": live.allow_files,
            "allow_hosts": live.allow_hosts,
            "allow_networks": live.allow_networks,
            **extra,
        }
    )


def source_config(cfg: PipelineConfig) -> SourceConfig:
    """How a live stream is opened and sampled, from the pipeline config."""
    live = cfg.live
    opened = {name: getattr(live, name) for name in StreamOpenConfig.model_fields}
    sampling = {name: getattr(cfg.sampling, name) for name in SamplingConfig.model_fields}
    hop = live.audio_window_s - live.audio_overlap_s if live.audio_overlap_s > 0 else None
    return SourceConfig.model_validate(
        {
            **opened,
            **sampling,
            "realtime": live.realtime_files,
            "audio": cfg.asr.enabled,
            "audio_window_s": live.audio_window_s,
            "audio_hop_s": hop,
            "audio_pause_s": live.audio_pause_s,
            "audio_min_window_s": live.audio_min_window_s,
            "guard": guard_config(live),
        }
    )
