"""Pipeline profiles for single streams: a preset chosen per stream (at publish, or by the
streamer's risk tier) on top of the pool's own pipeline.

A profile decides how a stream is sampled and judged (``sampling``, ``ocr``, ``policy``, the vision
score thresholds and the other per-stream stages). What belongs to the pool stays the pool's:
the service settings (``live``: hooks, tokens, allow-lists, enforcement), so a profile can never
open a stream the pool's guard refuses; and the models behind its shared batchers (``asr``,
``batching``, which vision models run, the synthetic classifiers), which every stream shares.
"""

from __future__ import annotations

from moderation.config.pipeline import ConfigError, PipelineConfig, load_pipeline, project_root

__all__ = ["MODEL_SIDE_VISION", "profile_names", "steered", "with_profile"]

#: Vision settings of the shared batchers (which models run, how they batch): the pool's, always.
MODEL_SIDE_VISION = ("enabled", "nudenet", "open_nsfw", "batch_size")


def profile_names() -> list[str]:
    """Names of the presets under ``pipelines/`` (what a publish may ask for), sorted."""
    return sorted(p.stem for p in (project_root() / "pipelines").glob("*.yaml"))


def with_profile(base: PipelineConfig, profile: str | None) -> PipelineConfig:
    """The preset ``profile`` with ``base``'s live settings; ``base`` itself when None or its name.

    Only names from :func:`profile_names` are accepted (a name, never a path: it comes from the
    network); anything else is a :class:`ConfigError` listing the known ones.
    """
    if profile is None or profile == base.name:
        return base
    known = profile_names()
    if profile not in known:
        raise ConfigError(f"unknown profile {profile!r}; known profiles: {', '.join(known)}")
    cfg = load_pipeline(profile)
    models = {name: getattr(base.vision, name) for name in MODEL_SIDE_VISION}
    return cfg.model_copy(
        update={
            "live": base.live,
            "asr": base.asr,
            "batching": base.batching,
            "vision": cfg.vision.model_copy(update=models),
            "synthetic": cfg.synthetic.model_copy(update={"classifiers": base.synthetic.classifiers}),
        }
    )


def _capped(cfg: PipelineConfig, section: str, value: float) -> float:
    field = type(getattr(cfg, section)).model_fields["fps"]
    top = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), value)
    return float(min(value, top))


def steered(cfg: PipelineConfig, sampling: float) -> PipelineConfig:
    """``cfg`` with its vision and OCR rates multiplied by ``sampling`` (capped at their maxima)."""
    if sampling == 1.0:
        return cfg
    if not sampling > 0:
        raise ConfigError(f"sampling multiplier must be positive, got {sampling!r}")
    fps = _capped(cfg, "sampling", cfg.sampling.fps * sampling)
    ocr = _capped(cfg, "ocr", cfg.ocr.fps * sampling)
    return cfg.model_copy(
        update={
            "sampling": cfg.sampling.model_copy(update={"fps": fps}),
            "ocr": cfg.ocr.model_copy(update={"fps": ocr}),
        }
    )
