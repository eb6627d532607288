"""The one configuration tree: pipeline YAML validated by pydantic.

Defaults live here and nowhere else. Every model forbids unknown keys, so a misspelt option in a
pipeline file is an error naming the key and its line instead of a silently ignored setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


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


class OcrConfig(_Strict):
    enabled: bool = True
    fps: float = Field(0.5, gt=0, le=10, description="OCR rate; lower than vision (OCR is costly).")
    min_score: float = Field(0.5, ge=0, le=1, description="Text lines below this confidence are ignored.")


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


class CategoryPolicy(_Strict):
    threshold: float = Field(0.5, ge=0, le=1, description="Fused score needed to open a verdict.")
    merge_gap_s: float = Field(5.0, ge=0, description="Signals closer than this join one verdict.")
    min_signals: int = Field(1, ge=1, description="Signals needed before a verdict is emitted.")
    high_score: float = Field(0.9, ge=0, le=1, description="Fused score at or above is 'high' severity.")
    action: Literal["review", "warn", "cut"] = "review"


def _default_categories() -> dict[str, CategoryPolicy]:
    return {
        "vulgar": CategoryPolicy(threshold=0.6),
        "gambling": CategoryPolicy(),
        "synthetic_unlabeled": CategoryPolicy(min_signals=2),
        "tipping_inducement": CategoryPolicy(),
    }


class PolicyConfig(_Strict):
    categories: dict[str, CategoryPolicy] = Field(default_factory=_default_categories)


class EvidenceConfig(_Strict):
    clips: bool = True
    pre_s: float = Field(3.0, ge=0, le=60, description="Seconds of video kept before a verdict.")
    post_s: float = Field(2.0, ge=0, le=60, description="Seconds of video kept after a verdict.")


class PipelineConfig(_Strict):
    """A whole pipeline preset (``pipelines/*.yaml``)."""

    name: str = "default"
    sampling: SamplingConfig = SamplingConfig()
    vision: VisionConfig = VisionConfig()
    ocr: OcrConfig = OcrConfig()
    asr: AsrConfig = AsrConfig()
    qr: QrConfig = QrConfig()
    policy: PolicyConfig = PolicyConfig()
    evidence: EvidenceConfig = EvidenceConfig()
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
