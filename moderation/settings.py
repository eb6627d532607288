"""The one settings root: pipeline, cluster and review under one validated model.

Why here and not in :mod:`moderation.config`: the review service's settings
(:class:`moderation.review.settings.ReviewSettings`) belong to the review package, and the
config package must not import any package above it. This module sits above both, so the root
can hold all three without an import cycle; nothing below the faces (``moderation/cli/``)
imports it. Each part is handed to the code that needs it — ``pipeline`` to the stream host,
``cluster`` to the stream manager, ``review`` to the review store and web app.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from moderation.config import ClusterConfig, PipelineConfig, load_pipeline
from moderation.config._base import _Strict
from moderation.review.settings import ReviewSettings

__all__ = ["Settings"]


class Settings(_Strict):
    """Everything one deployment is configured with; unknown keys are errors at every level."""

    pipeline: PipelineConfig = Field(default_factory=PipelineConfig, description="Stages, live, batching.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="The stream manager on Ray.")
    review: ReviewSettings = Field(default_factory=ReviewSettings, description="The review queue and its service.")

    @field_validator("pipeline", mode="before")
    @classmethod
    def _preset(cls, v: Any) -> Any:
        """A string names a preset (``strict``) or a pipeline YAML path, loaded like ``--pipeline``."""
        return load_pipeline(v) if isinstance(v, str) else v
