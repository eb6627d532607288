"""The one configuration tree: pipeline YAML validated by pydantic.

Defaults live here and nowhere else. Every model forbids unknown keys, so a misspelt option in a
pipeline file is an error naming the key and its line instead of a silently ignored setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplingConfig(_Strict):
    fps: float = Field(1.0, gt=0, le=60, description="Frames per second sent to the vision models.")
    max_side: int = Field(
        1280, ge=64, description="Frames are downscaled so their longer side is at most this."
    )
    max_frame_pixels: int = Field(
        4096 * 4096, description="Frames larger than this are refused (decompression-bomb guard)."
    )


class VisionConfig(_Strict):
    enabled: bool = True
    nudenet: bool = Field(True, description="Run the NudeNet 320n detector.")
    open_nsfw: bool = Field(True, description="Run the Yahoo open_nsfw classifier.")
    nudenet_min_score: float = Field(
        0.5, ge=0, le=1, description="Exposed-body detections below this are not signals."
    )
    nudenet_labels: tuple[str, ...] = Field(
        (
            "FEMALE_GENITALIA_EXPOSED",
            "MALE_GENITALIA_EXPOSED",
            "FEMALE_BREAST_EXPOSED",
            "ANUS_EXPOSED",
            "BUTTOCKS_EXPOSED",
        ),
        description="NudeNet classes that count as vulgar evidence.",
    )
    nsfw_min_score: float = Field(0.8, ge=0, le=1, description="open_nsfw score that is a signal.")
    batch_size: int = Field(16, ge=1, le=256, description="Frames per ONNX Runtime call.")
    batch_buckets: tuple[int, ...] = Field(
        (1, 8, 16, 32, 64),
        description="Batch shapes a session ever sees: a batch is zero-padded to the next bucket so "
        "TensorRT engines and tuned CUDA kernels are reused instead of rebuilt per batch size.",
    )
    providers: tuple[str, ...] | None = Field(
        None,
        description="ONNX Runtime providers in order (e.g. ['CUDAExecutionProvider']); None = best "
        "installed: TensorRT, then CUDA, then CPU.",
    )
    fp16: bool = Field(True, description="fp16 on GPU providers where the model allows; ignored on CPU.")


class OcrGateConfig(_Strict):
    """Which sampled frames are worth OCR (``moderation/sample/ocr_gate.py``): text-like and changed."""

    enabled: bool = Field(True, description="False: every frame due at the OCR rate is read.")
    side: int = Field(320, ge=32, le=1280, description="Longer side of the grey copy the gate looks at.")
    cell: int = Field(16, ge=4, le=64, description="Grid cell (pixels of the grey copy) for text density.")
    edge_threshold: int = Field(
        40, ge=1, le=255, description="Grey step between neighbouring pixels that counts as a glyph edge."
    )
    min_cell_density: float = Field(
        0.08, gt=0, le=1, description="Share of edge pixels that makes a cell text-like."
    )
    min_text_cells: int = Field(2, ge=1, description="Text-like cells a frame needs to be worth OCR.")
    change_grid: int = Field(
        32, ge=4, le=128, description="Side of the block-mean thumbnail (of the glyph-edge map) compared for change."
    )
    change_delta: int = Field(
        12, ge=1, le=255, description="Change of a thumbnail cell (edge share × 255) that counts as changed."
    )
    min_changed_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Share of changed thumbnail cells (of the glyph-edge map, where text is) that makes a frame "
        "new since the last OCR.",
    )
    refresh_s: float | None = Field(
        10.0, gt=0, description="Re-read an unchanged text-like frame after this long; None = never."
    )


class OcrConfig(_Strict):
    enabled: bool = True
    fps: float = Field(0.5, gt=0, le=10, description="OCR rate; lower than vision (OCR is costly).")
    min_score: float = Field(0.5, ge=0, le=1, description="Text lines below this confidence are ignored.")
    gate: OcrGateConfig = Field(default_factory=OcrGateConfig, description="Text-likely / change gate.")


class AsrConfig(_Strict):
    enabled: bool = True
    model: str = Field("whisper-base", description="Model id from models/*.yaml (kind: whisper).")
    language: str | None = Field(None, description="Force a language ('zh', 'en'); None = detect.")
    vad: bool = Field(True, description="Skip silence with Silero VAD before decoding.")
    window_s: float = Field(30.0, gt=1, le=30, description="Audio window sent to Whisper.")
    beam_size: int = Field(1, ge=1, le=10)
    compute_type: str = Field("int8", description="CTranslate2 compute type on CPU.")
    cpu_threads: int = Field(0, ge=0, description="0 lets CTranslate2 choose.")


class QrConfig(_Strict):
    enabled: bool = True
    blocked_domains: tuple[str, ...] = Field(
        (), description="Domains (and their subdomains) whose URLs are gambling evidence."
    )
    url_keywords: bool = Field(True, description="Also match lexicon terms inside decoded URLs.")
    url_patterns: tuple[str, ...] = Field(
        (), description="Regular expressions (case-insensitive, searched in the whole URL) that make a "
        "decoded URL gambling evidence, e.g. '/(bet|casino)/register'."
    )
    gap_s: float = Field(
        10.0, gt=0, description="A code seen again within this many seconds is the same appearance (one signal)."
    )

    @field_validator("url_patterns")
    @classmethod
    def _patterns_compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for p in v:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"url_patterns: {p!r} is not a valid regular expression: {exc}") from exc
        return v


class ChatConfig(_Strict):
    """Chat / danmaku input (``moderation/ingest/chat.py``): JSONL ``{"t", "user", "text"}`` lines."""

    dedup_window_s: float = Field(
        10.0, gt=0, description="The same message (per user, and across users) is one signal per window."
    )
    max_line_bytes: int = Field(16384, ge=64, description="Longer lines are skipped as bad input.")
    max_bad_lines_logged: int = Field(20, ge=0, description="Bad lines logged one by one; the rest only counted.")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of an HTTP(S) chat feed.")


class SignalRule(_Strict):
    """How one signal kind counts towards a category (``policy.categories.<c>.signals.<kind>``)."""

    weight: float = Field(
        1.0, ge=0, le=1, description="Multiplies the signal score: a weak source counts for less than a strong one."
    )
    min_score: float = Field(0.0, ge=0, le=1, description="Signals of this kind scoring below are ignored.")


class KOfN(_Strict):
    """Temporal smoothing: a verdict may open only when evidence is present in ``k`` of the last ``n``
    time bins of ``bin_s`` seconds, so a single-frame fluke cannot open one."""

    k: int = Field(2, ge=1, description="Bins with evidence needed.")
    n: int = Field(3, ge=1, description="Bins looked at (the current one and the n-1 before it).")
    bin_s: float = Field(1.0, gt=0, description="Bin length in media seconds.")
    min_score: float = Field(
        0.0, ge=0, le=1, description="A bin counts when the noisy-OR of its weighted scores is at least this."
    )

    @model_validator(mode="after")
    def _k_le_n(self) -> KOfN:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed n ({self.n})")
        return self


Action = Literal["review", "warn", "cut"]


class CategoryPolicy(_Strict):
    """Rules turning the signals of one category into verdicts (see moderation/policy/fuse.py).

    The fused score at time t is the noisy-OR of the weighted scores of the category's signals in
    ``(t - window_s, t]``. A verdict opens when it reaches ``threshold`` (and ``k_of_n`` holds),
    stays open while the score keeps reaching ``close_threshold`` with gaps of at most
    ``merge_gap_s`` (hysteresis), and is kept when it lasted ``min_duration_s`` with at least
    ``min_signals`` signals and no suppressing signal was seen around it.
    """

    enabled: bool = Field(True, description="False: this category never produces verdicts.")
    signals: dict[str, SignalRule] = Field(
        default_factory=dict,
        description="Signal kinds that count (fnmatch patterns such as 'image.model.*') with weights; "
        "empty = every kind carrying this category counts at weight 1.",
    )
    threshold: float = Field(0.5, ge=0, le=1, description="Fused score needed to open a verdict.")
    close_threshold: float | None = Field(
        None, ge=0, le=1, description="Score that keeps an open verdict alive (hysteresis); None = threshold."
    )
    window_s: float = Field(10.0, gt=0, description="Sliding window over which signal scores are fused.")
    k_of_n: KOfN | None = Field(None, description="Temporal smoothing before opening; None = off.")
    merge_gap_s: float = Field(5.0, ge=0, description="Signals closer than this join one verdict.")
    min_duration_s: float = Field(0.0, ge=0, description="Verdicts shorter than this are dropped.")
    min_signals: int = Field(1, ge=1, description="Signals needed before a verdict is emitted.")
    high_score: float = Field(
        0.9, ge=0, le=1, description="Fused score at or above is 'high' severity (when severity is not given)."
    )
    severity: dict[str, float] | None = Field(
        None,
        description="Severity levels as name → lowest fused score, e.g. {low: 0, medium: 0.75, high: 0.9}; "
        "None = low / medium (halfway from threshold to high_score) / high (high_score).",
    )
    action: Action = Field("review", description="Suggested action for this category's verdicts.")
    actions: dict[str, Action] = Field(
        default_factory=dict, description="Per-severity action overriding `action`, e.g. {high: cut}."
    )
    suppressed_by: tuple[str, ...] = Field(
        (), description="Signal kinds (patterns) whose presence near a verdict cancels it, e.g. disclosure.label."
    )
    suppress_window_s: float = Field(
        60.0, ge=0, description="A suppressing signal counts within this many seconds of the verdict."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CategoryPolicy:
        if self.close_threshold is not None and self.close_threshold > self.threshold:
            raise ValueError(f"close_threshold ({self.close_threshold}) must not exceed threshold ({self.threshold})")
        if self.severity is not None:
            if not self.severity:
                raise ValueError("severity needs at least one level")
            for name, score in self.severity.items():
                if not 0 <= score <= 1:
                    raise ValueError(f"severity level {name!r}: score {score} is not within 0..1")
        unknown = set(self.actions) - {name for name, _ in self.severity_levels()}
        if unknown:
            raise ValueError(f"actions for unknown severity levels {sorted(unknown)}")
        return self

    @property
    def open_threshold(self) -> float:
        return self.threshold

    @property
    def keep_threshold(self) -> float:
        return self.threshold if self.close_threshold is None else self.close_threshold

    def severity_levels(self) -> list[tuple[str, float]]:
        """Levels sorted by their lowest score, ascending."""
        if self.severity is not None:
            return sorted(self.severity.items(), key=lambda kv: kv[1])
        mid = (self.threshold + self.high_score) / 2
        return [("low", 0.0), ("medium", mid), ("high", self.high_score)]


_KEYWORDS = {"asr.keyword": SignalRule(), "ocr.keyword": SignalRule(), "chat.keyword": SignalRule()}


def _default_categories() -> dict[str, CategoryPolicy]:
    return {
        "vulgar": CategoryPolicy(
            threshold=0.6,
            signals={"image.nudenet": SignalRule(), "image.nsfw": SignalRule(), "image.model.*": SignalRule(),
                     **_KEYWORDS},
        ),
        "gambling": CategoryPolicy(
            signals={**_KEYWORDS, "qr.url": SignalRule(), "image.model.*": SignalRule()},
        ),
        "synthetic_unlabeled": CategoryPolicy(
            signals={"synthetic.loop": SignalRule(), "synthetic.model.*": SignalRule()},
            min_signals=2,
            merge_gap_s=10.0,
            window_s=20.0,
            suppressed_by=("disclosure.label",),
        ),
        "tipping_inducement": CategoryPolicy(signals=dict(_KEYWORDS)),
    }


class RiskTier(_Strict):
    """One streamer risk tier and what it buys: sampling density and pipeline preset."""

    name: str = Field(description="Tier id stored with the review data, e.g. 'elevated'.")
    min_score: float = Field(
        ge=0, description="Lowest risk score (confirmed weight minus dismissed weight) in this tier."
    )
    fps: float = Field(gt=0, le=60, description="Frames per second sampled from this streamer's streams.")
    preset: str = Field("default", description="Pipeline preset (pipelines/<preset>.yaml) used for them.")


def _default_tiers() -> tuple[RiskTier, ...]:
    return (
        RiskTier(name="low", min_score=0.0, fps=0.5, preset="default"),
        RiskTier(name="normal", min_score=1.0, fps=1.0, preset="default"),
        RiskTier(name="elevated", min_score=3.0, fps=2.0, preset="strict"),
        RiskTier(name="high", min_score=6.0, fps=4.0, preset="strict"),
    )


class RiskConfig(_Strict):
    """Graded streamer management (POLICY.md 分类分级管理): review decisions → tier → sampling."""

    confirmed_weight: float = Field(1.0, ge=0, description="Risk added by each confirmed violation.")
    dismissed_weight: float = Field(
        0.25, ge=0, description="Risk removed by each dismissed flag (a false positive for this streamer)."
    )
    new_streamer_score: float = Field(
        1.0, ge=0, description="Risk score of a streamer with no decisions (lands in the 'normal' tier)."
    )
    tiers: tuple[RiskTier, ...] = Field(default_factory=_default_tiers, description="Ordered by min_score.")

    @model_validator(mode="after")
    def _tiers_ok(self) -> RiskConfig:
        if not self.tiers:
            raise ValueError("at least one risk tier is needed")
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        if [t.min_score for t in self.tiers] != sorted(t.min_score for t in self.tiers):
            raise ValueError("tiers must be ordered by min_score")
        if self.tiers[0].min_score != 0:
            raise ValueError("the first tier must start at min_score 0")
        return self


class PolicyConfig(_Strict):
    """Fusion rules per category. A category given in YAML is merged key by key onto its built-in
    default, so ``gambling: {threshold: 0.4}`` keeps the default signal table; give ``signals`` to
    replace that table as a whole."""

    categories: dict[str, CategoryPolicy] = Field(
        default_factory=_default_categories, description="Category id → rules (merged onto the defaults)."
    )
    default: CategoryPolicy = Field(
        default_factory=CategoryPolicy,
        description="Rules for categories not listed (extra lexicon categories).",
    )
    non_verdict_categories: tuple[str, ...] = Field(
        ("disclosure",), description="Categories whose signals only suppress others and never become verdicts."
    )
    risk: RiskConfig = Field(default_factory=RiskConfig, description="Streamer risk tiers.")

    @field_validator("categories", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        merged: dict[str, object] = {k: v.model_dump(exclude_unset=True) for k, v in _default_categories().items()}
        for name, given in value.items():
            base = merged.get(name)
            if isinstance(given, dict) and isinstance(base, dict):
                merged[name] = {**base, **given}
            else:
                merged[name] = given
        return merged

    def category(self, name: str) -> CategoryPolicy:
        return self.categories.get(name) or self.default


class LoopConfig(_Strict):
    """Loop/replay detection: perceptual hashes of sampled frames against the stream's own history."""

    enabled: bool = True
    hash_size: int = Field(8, ge=4, le=32, description="pHash side; the hash has hash_size² bits.")
    match_bits: int = Field(
        8, ge=0, description="Hamming distance at or below which two frames are the same picture."
    )
    min_lag_s: float = Field(
        2.0, gt=0, description="Matches closer in time than this are ordinary continuity, not a replay."
    )
    history_s: float = Field(300.0, gt=0, description="How far back a replay is looked for.")
    confirm_s: float = Field(6.0, gt=0, description="Span of recent frames that must replay consistently.")
    min_matched: float = Field(
        0.7, gt=0, le=1, description="Share of frames in confirm_s that must match at one consistent lag."
    )
    lag_tolerance_s: float = Field(1.0, ge=0, description="How far matched lags may differ and still agree.")
    min_distinct: int = Field(
        3, ge=2, description="Distinct pictures the replayed span must hold: a static scene is not a loop."
    )
    signal_every_s: float = Field(5.0, gt=0, description="One synthetic.loop signal per this many seconds of loop.")


class DisclosureConfig(_Strict):
    """Disclosure labels (AI生成, 数字人, 虚拟主播…) read by OCR; they suppress synthetic_unlabeled."""

    enabled: bool = True
    min_share: float = Field(
        0.003, ge=0, le=1,
        description="Smallest share of the frame area the label's text box must cover to count as prominent.",
    )
    min_score: float = Field(0.5, ge=0, le=1, description="Label hits (weight × OCR confidence) below are ignored.")


class SyntheticConfig(_Strict):
    """Synthetic-content evidence (POLICY.md: deep-learning content must be labelled prominently)."""

    enabled: bool = True
    loop: LoopConfig = LoopConfig()
    disclosure: DisclosureConfig = DisclosureConfig()
    classifiers: tuple[str, ...] = Field(
        (), description="Model ids (models/<id>.yaml, kind onnx-classifier) scoring frames as synthetic."
    )
    classifier_min_score: float = Field(
        0.8, ge=0, le=1, description="Classifier score at or above which a synthetic.model.<id> signal is made."
    )


class EvidenceConfig(_Strict):
    clips: bool = True
    pre_s: float = Field(3.0, ge=0, le=60, description="Seconds of video kept before a verdict.")
    post_s: float = Field(2.0, ge=0, le=60, description="Seconds of video kept after a verdict.")


class EnforcementConfig(_Strict):
    """Acting on a live verdict back at the origin (moderation/live/enforce.py).

    ``cut`` drops the publisher through nginx-rtmp's ``rtmp_control``; ``warn`` posts the verdict
    as JSON to a webhook. A verdict's ``action`` (from the policy) picks which; failures are logged
    and counted, never fatal to the stream.
    """

    enabled: bool = Field(False, description="Act on warn/cut verdicts; False = only record them.")
    control_url: str | None = Field(
        None, description="nginx-rtmp rtmp_control base, e.g. http://127.0.0.1:8080/control (None: cut disabled)."
    )
    warn_webhook: str | None = Field(None, description="URL a warn verdict is POSTed to as JSON (None: warn disabled).")
    timeout_s: float = Field(5.0, gt=0, description="HTTP timeout of one enforcement call.")
    on_active: bool = Field(
        True, description="Enforce as soon as a violation is detected (still open), not only when its verdict closes."
    )


class LiveConfig(_Strict):
    """Following live streams (``moderation watch`` / ``serve``; moderation/live/)."""

    frame_queue: int = Field(
        16, ge=1, description="Sampled frames waiting for inference per stream; beyond it the oldest is dropped."
    )
    audio_queue: int = Field(4, ge=1, description="Audio windows waiting for ASR per stream (drop-oldest beyond).")
    frame_batch: int = Field(8, ge=1, description="Most frames one stream sends to the vision batcher at once.")
    audio_window_s: float = Field(10.0, gt=1, le=30, description="Live ASR window length (shorter = lower latency).")
    audio_overlap_s: float = Field(
        2.0, ge=0, description="Overlap of consecutive ASR windows; words at the seam are stitched, not doubled."
    )
    ring_s: float = Field(60.0, gt=0, description="Seconds of encoded packets kept per stream for evidence clips.")
    ring_mb: float = Field(64.0, gt=0, description="Byte cap of that ring (MiB).")
    clip_wait_s: float = Field(10.0, ge=0, description="How long a verdict waits for the ring to hold its post-roll.")
    realtime_files: bool = Field(True, description="Read files at real-time pace (simulate a live stream).")
    max_streams: int = Field(64, ge=1, description="Streams one pool (or one watch process) follows at most.")
    max_streams_per_node: int = Field(32, ge=1, description="Stream worker actors per Ray node at most.")
    open_timeout_s: float = Field(10.0, gt=0, description="Seconds an open (connect + probe) may take.")
    read_timeout_s: float = Field(10.0, gt=0, description="Seconds without data before a stream counts as dropped.")
    analyzeduration_s: float = Field(
        4.0, gt=0, description="Seconds of live input probed on open; must exceed the publisher's keyframe interval "
        "(RTMP subscribers get video from the next keyframe; probed too briefly, the stream opens audio-only).",
    )
    give_up_after_s: float = Field(60.0, gt=0, description="Seconds of continuous outage before a stream is given up.")
    eof_grace_s: float = Field(10.0, ge=0, description="Seconds a publisher that left cleanly may take to return.")
    allow_networks: tuple[str, ...] = Field(
        (), description="Non-public CIDRs streams may come from (e.g. the origin's '10.0.0.0/8'; loopback in tests)."
    )
    allow_hosts: tuple[str, ...] = Field(
        (), description="Host names allowed even when they resolve to private addresses."
    )
    allow_files: bool = Field(False, description="Allow local files as stream inputs (tests, simulations).")
    hook_source: str | None = Field(
        None,
        description="Template of the URL to watch for a publish hook, e.g. 'rtmp://127.0.0.1:1935/{app}/{name}'; "
        "None = the publisher's tcUrl + '/' + name.",
    )
    hooks_fail_closed: bool = Field(
        False, description="Refuse a publish (non-2xx to the origin) when the pool cannot watch it."
    )
    api_token: str | None = Field(
        None, description="Bearer token for the control API (env MODERATION_API_TOKEN overrides); None = open."
    )
    enforcement: EnforcementConfig = Field(default_factory=EnforcementConfig, description="warn / cut at the origin.")


class PipelineConfig(_Strict):
    """A whole pipeline preset (``pipelines/*.yaml``)."""

    name: str = "default"
    sampling: SamplingConfig = SamplingConfig()
    vision: VisionConfig = VisionConfig()
    ocr: OcrConfig = OcrConfig()
    asr: AsrConfig = AsrConfig()
    qr: QrConfig = QrConfig()
    chat: ChatConfig = ChatConfig()
    synthetic: SyntheticConfig = SyntheticConfig()
    policy: PolicyConfig = PolicyConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    live: LiveConfig = LiveConfig()
    lexicon_dir: str | None = Field(None, description="Lexicon folder; None = models/lexicons.")


class ConfigError(ValueError):
    """A pipeline file that cannot be used; the message names the file, key and line."""


def project_root() -> Path:
    """Folder holding ``models/`` and ``pipelines/``.

    ``MODERATION_HOME`` overrides; otherwise the source checkout the package was installed from
    (the README installs it editable).
    """
    env = os.environ.get("MODERATION_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent


def resolve_pipeline_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return project_root() / "pipelines" / f"{name_or_path}.yaml"


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best-effort line number of a key path in YAML source, for error messages."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    node = v
                    break
            else:
                return node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def load_pipeline(name_or_path: str | None = None) -> PipelineConfig:
    """Load and validate a pipeline preset by name (``default``) or path."""
    if name_or_path is None:
        name_or_path = "default"
    path = resolve_pipeline_path(name_or_path)
    if not path.is_file():
        raise ConfigError(f"pipeline not found: {name_or_path} (looked for {path})")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(text, loc)
        where = ".".join(str(x) for x in loc) or "(top level)"
        at = f" (line {line})" if line else ""
        more = f" and {len(exc.errors()) - 1} more" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: {where}{at}: {err['msg']}{more}") from exc
