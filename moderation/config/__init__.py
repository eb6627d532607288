"""The one configuration tree: pipeline YAML validated by pydantic.

Defaults live here and nowhere else. Every model forbids unknown keys, so a misspelt option in a
pipeline file is an error naming the key and its line instead of a silently ignored setting.
Split by subsystem — :mod:`.media` (sampling and the models each stage runs), :mod:`.ingest`
(opening streams, the URL guard; :mod:`.derive` maps a pipeline onto them), :mod:`.policy`
(categories, fusion rules, risk tiers; :mod:`.penalties`, the penalties a confirmation may
carry), :mod:`.batching` (per-family batchers), :mod:`.cluster` (the stream manager on Ray),
:mod:`.pipeline`
(synthetic, evidence, live, the root :class:`PipelineConfig` and :func:`load_pipeline`) — but
imported from here as one tree.
"""

from moderation.config.batching import BatchingConfig, FamilyBatching
from moderation.config.cluster import ClusterConfig
from moderation.config.derive import guard_config, source_config
from moderation.config.ingest import AllowList, SourceConfig, StreamOpenConfig, UrlGuardConfig
from moderation.config.intent import IntentConfig
from moderation.config.media import (
    AsrConfig,
    ChatConfig,
    OcrConfig,
    OcrGateConfig,
    QrConfig,
    SamplingConfig,
    VisionConfig,
)
from moderation.config.overrides import with_overrides
from moderation.config.patrol import PatrolConfig
from moderation.config.penalties import PenaltyChoice, PenaltyConfig
from moderation.config.pipeline import (
    ConfigError,
    DisclosureConfig,
    EnforcementConfig,
    EvidenceConfig,
    LiveConfig,
    LoopConfig,
    PipelineConfig,
    SyntheticConfig,
    load_pipeline,
    project_root,
    resolve_pipeline_path,
)
from moderation.config.policy import (
    CategoryPolicy,
    KOfN,
    PolicyConfig,
    RiskConfig,
    RiskTier,
    SignalRule,
)
from moderation.config.profiles import profile_names, steered, with_profile
from moderation.config.records import RecordsConfig
from moderation.config.viewers import AgeConfig, GiftsConfig, ReplayIndexConfig

__all__ = [
    "AgeConfig",
    "AllowList",
    "AsrConfig",
    "BatchingConfig",
    "CategoryPolicy",
    "ChatConfig",
    "ClusterConfig",
    "ConfigError",
    "DisclosureConfig",
    "EnforcementConfig",
    "EvidenceConfig",
    "FamilyBatching",
    "GiftsConfig",
    "IntentConfig",
    "KOfN",
    "LiveConfig",
    "LoopConfig",
    "OcrConfig",
    "OcrGateConfig",
    "PatrolConfig",
    "PenaltyChoice",
    "PenaltyConfig",
    "PipelineConfig",
    "PolicyConfig",
    "QrConfig",
    "RecordsConfig",
    "ReplayIndexConfig",
    "RiskConfig",
    "RiskTier",
    "SamplingConfig",
    "SignalRule",
    "SourceConfig",
    "StreamOpenConfig",
    "SyntheticConfig",
    "UrlGuardConfig",
    "VisionConfig",
    "guard_config",
    "load_pipeline",
    "profile_names",
    "project_root",
    "resolve_pipeline_path",
    "source_config",
    "steered",
    "with_overrides",
    "with_profile",
]
