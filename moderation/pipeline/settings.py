"""Live settings derived from the pipeline config, for the pipeline and the benchmarks.

The mapping itself lives in :mod:`moderation.config.derive` (the one place that maps
``PipelineConfig`` onto the ingest layer's :class:`SourceConfig` and URL guard); this module only
names it where the pipeline looks for it.
"""

from __future__ import annotations

from moderation.config.derive import guard_config, source_config

__all__ = ["guard_config", "source_config"]
