"""Synthetic-content, evidence and live settings; the root :class:`PipelineConfig` and its loader."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator

from moderation.config._base import _Strict
from moderation.config.batching import BatchingConfig
from moderation.config.ingest import (
    AUDIO_MIN_WINDOW_S,
    AUDIO_PAUSE_S,
    AUDIO_WINDOW_S,
    AllowList,
    StreamOpenConfig,
    check_cidrs,
)
from moderation.config.intent import IntentConfig
from moderation.config.media import AsrConfig, ChatConfig, OcrConfig, QrConfig, SamplingConfig, VisionConfig
from moderation.config.policy import PolicyConfig
from moderation.config.records import RecordsConfig
from moderation.config.viewers import AgeConfig, GiftsConfig, ReplayIndexConfig


class LoopConfig(_Strict):
    """Loop/replay detection: perceptual hashes of sampled frames against the stream's own history."""

    enabled: bool = True
    hash_size: int = Field(8, ge=4, le=32, description="pHash side; the hash has hash_size² bits.")
    match_bits: int = Field(8, ge=0, description="Hamming distance at or below which two frames are the same picture.")
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
        0.003,
        ge=0,
        le=1,
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
    """Acting on a live verdict back at the origin (moderation/pipeline/enforce.py).

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


class LiveConfig(StreamOpenConfig, AllowList):
    """Following live streams (``moderation watch`` / ``serve``; ``moderation/pipeline/``).

    Open timeouts and the allow-list are declared in :mod:`moderation.config.ingest` (inherited here),
    so a stream source and the URL guard built from this config have the same defaults as the file.
    """

    frame_queue: int = Field(
        16, ge=1, description="Sampled frames waiting for inference per stream; beyond it the oldest is dropped."
    )
    audio_queue: int = Field(4, ge=1, description="Audio windows waiting for ASR per stream (drop-oldest beyond).")
    frame_batch: int = Field(8, ge=1, description="Most frames one stream sends to the vision batcher at once.")
    audio_window_s: float = Field(
        AUDIO_WINDOW_S,
        gt=1,
        le=30,
        description="Live ASR window length: words wait at most this long for Whisper (less after a pause, "
        "audio_pause_s). On a 2-core machine with whisper-base and these defaults, speech alerts came at p95 "
        "6.1 s with 4 streams, 7.1 s with 6, 8.4 s with 9 and 9.7 s with 12, the most held "
        "(benchmarks/results/live_capacity_context.md): past a few streams the wait is for Whisper, not the "
        "window. Longer windows cost fewer Whisper calls per minute of speech.",
    )
    audio_overlap_s: float = Field(
        2.0, ge=0, description="Overlap of consecutive ASR windows; words at the seam are stitched, not doubled."
    )
    audio_pause_s: float = Field(
        AUDIO_PAUSE_S,
        ge=0,
        le=5,
        description="End an ASR window early once speech in it is followed by this much quiet (an energy test "
        "on 20 ms frames), so words reach Whisper a pause after they are said instead of when the window "
        "fills; audio that never goes quiet keeps fixed windows. 0 = fixed windows only. Shorter windows "
        "cost more Whisper calls per minute of speech.",
    )
    audio_window_busy_s: float = Field(
        10.0,
        gt=1,
        le=30,
        description="ASR window a stream switches to (without the pause cut) while its transcripts lag more than "
        "audio_backlog_s behind their windows: fewer Whisper calls when the ASR batchers are saturated, short "
        "windows again once they keep up. Not longer than audio_window_s: never switch.",
    )
    audio_backlog_s: float = Field(
        4.0, gt=0, description="Transcript lag (window end → transcript) that switches to audio_window_busy_s."
    )
    asr_context_s: float | None = Field(
        10.0,
        ge=1,
        le=30,
        description="Whisper's encoder input for live audio, padded only up to a multiple of this many seconds "
        "instead of the 30 s Whisper was trained on (None: 30 s, as an offline scan always is). A live window is "
        "6-10 s, so a 30 s pass spends most of its time on padding. With whisper-base on 2 CPU cores, 10 s "
        "transcribed live-size windows 5.7x (Mandarin) and 5.1x (English) faster and spotted as many lexicon "
        "categories: whole lines 24 vs 25 of 72 and 22 vs 20 of 47; streams cut into overlapping live windows "
        "15 vs 13 of 42 and 12 vs 12 of 20. Individual windows differ both ways (benchmarks/results/asr_context.md).",
    )
    asr_context_from: int = Field(
        3,
        ge=1,
        description="The shorter encoder input (asr_context_s) is used only in a Whisper batch of at least this "
        "many windows. A batcher that keeps up sends one or two windows at a time and gets the 30 s input; a "
        "saturated one collects more per batch and trades it for speed. On the live benchmark's speech, the "
        "short input on every batch spotted the gambling utterances a window later at low load (speech alert "
        "p95 9.1 s at 4 streams; 6.1 s with this default; benchmarks/results/live_capacity_context_always.md, "
        "live_capacity_context.md). 1: always.",
    )
    audio_min_window_s: float = Field(
        AUDIO_MIN_WINDOW_S,
        gt=1,
        le=30,
        description="Shortest ASR window a pause may end (fewer, longer windows cost less).",
    )
    ring_s: float = Field(60.0, gt=0, description="Seconds of encoded packets kept per stream for evidence clips.")
    ring_mb: float = Field(64.0, gt=0, description="Byte cap of that ring (MiB).")
    clip_wait_s: float = Field(10.0, ge=0, description="How long a verdict waits for the ring to hold its post-roll.")
    provisional_refresh_s: float = Field(
        5.0,
        ge=0,
        description="Rewrite an open violation's provisional review item this often, with its latest evidence "
        "frame and extent (0: write it once, at first sighting).",
    )
    realtime_files: bool = Field(True, description="Read files at real-time pace (simulate a live stream).")
    opencv_threads: int = Field(
        1,
        ge=0,
        le=64,
        description="OpenCV worker threads in a live pool's process; 0 = OpenCV's choice (one per core). A pool "
        "runs many streams' small image operations (QR decoding, hashes, thumbnails) side by side, so "
        "splitting each across threads only adds hand-offs: one thread is ~25 % less CPU per QR decode.",
    )
    max_streams: int = Field(64, ge=1, description="Streams one pool (or one watch process) follows at most.")
    max_streams_per_node: int = Field(32, ge=1, description="Stream worker actors per Ray node at most.")
    allow_files: bool = Field(False, description="Allow local files as stream inputs (tests, simulations).")
    hook_source: str | None = Field(
        None,
        description="Template of the URL to watch for a publish hook, e.g. 'rtmp://127.0.0.1:1935/{app}/{name}'; "
        "None = the publisher's tcUrl + '/' + name.",
    )
    chat_source: str | None = Field(
        None,
        description="Template of each stream's chat / danmaku feed (JSONL over HTTP(S), lines with 'ts' Unix "
        "seconds or 't' media seconds, 'user', 'text'), e.g. 'https://chat.internal/{app}/{name}.jsonl'; "
        "placeholders {stream}, {app}, {name}. A stream's own 'chat' wins. None = no chat.",
    )
    gift_source: str | None = Field(
        None,
        description="Template of each stream's gift / tip feed (JSONL over HTTP(S), lines with 'ts' Unix seconds "
        "or 't' media seconds, 'user', 'gift', 'value', 'currency'), e.g. 'https://gifts.internal/{app}/{name}.jsonl';"
        " placeholders {stream}, {app}, {name}. A stream's own 'gifts' wins. None = no gifts.",
    )
    meta_poll_s: float = Field(
        5.0,
        gt=0,
        description="How often a stream's room metadata file (watch --meta) is looked at; when its contents "
        "change, title, introduction, nickname, cover and avatar are checked again (the control API's "
        "PUT /streams/{id}/meta re-checks at once).",
    )
    hooks_fail_closed: bool = Field(
        False, description="Refuse a publish (non-2xx to the origin) when the pool cannot watch it."
    )
    api_token: str | None = Field(
        None, description="Bearer token for the control API (env MODERATION_API_TOKEN overrides); None = open."
    )
    hook_secret: str | None = Field(
        None,
        description="Secret the origin's publish hooks carry in their URL query ('?secret=...'; env "
        "MODERATION_HOOK_SECRET overrides); None = the API token. With neither, hooks are open (loopback only).",
    )
    hook_allow_from: tuple[str, ...] = Field(
        (), description="CIDRs publish hooks may come from (the origin's addresses); empty = any address."
    )
    enforcement: EnforcementConfig = Field(default_factory=EnforcementConfig, description="warn / cut at the origin.")
    governance_poll_s: float = Field(
        3.0,
        gt=0,
        le=300,
        description="How often serve asks the governance source (the review store) for changed standings "
        "and pending warn/cut actions; a tier change reaches running streams within about this.",
    )

    @field_validator("hook_allow_from")
    @classmethod
    def _cidrs_ok(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        """A bad CIDR fails when the config loads, not as a 500 on the first hook."""
        return check_cidrs(v)

    @field_validator("hook_source", "chat_source", "gift_source")
    @classmethod
    def _template_ok(cls, v: str | None, info: ValidationInfo) -> str | None:
        """A typo in a placeholder fails when the config loads, not when the first stream starts."""
        if v is None:
            return v
        allowed = (
            {"app": "a", "name": "n"} if info.field_name == "hook_source" else {"stream": "s", "app": "a", "name": "n"}
        )
        try:
            v.format(**allowed)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"bad template {v!r} ({type(exc).__name__}: {exc}); placeholders: "
                f"{', '.join('{' + k + '}' for k in allowed)}"
            ) from exc
        return v


class PipelineConfig(_Strict):
    """A whole pipeline preset (``pipelines/*.yaml``)."""

    name: str = "default"
    sampling: SamplingConfig = SamplingConfig()
    vision: VisionConfig = VisionConfig()
    ocr: OcrConfig = OcrConfig()
    asr: AsrConfig = AsrConfig()
    qr: QrConfig = QrConfig()
    chat: ChatConfig = ChatConfig()
    intent: IntentConfig = IntentConfig()
    gifts: GiftsConfig = GiftsConfig()
    age: AgeConfig = AgeConfig()
    replay_index: ReplayIndexConfig = ReplayIndexConfig()
    synthetic: SyntheticConfig = SyntheticConfig()
    policy: PolicyConfig = PolicyConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    live: LiveConfig = LiveConfig()
    batching: BatchingConfig = BatchingConfig()
    records: RecordsConfig = RecordsConfig()
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
    return Path(__file__).resolve().parents[2]


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
