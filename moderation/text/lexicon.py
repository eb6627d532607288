"""Keyword lexicons kept as data (``models/lexicons/*.yaml``) so moderators can edit them without a
release, and workers pick up edits through a cheap mtime check.

File format (one file per category; see ``models/lexicons/SCHEMA.md``)::

    category: gambling            # category id reported in KeywordHit.category
    description: free text
    allow_context: [拒绝赌博]      # optional, counter-speech that cancels any hit of this category inside it
    terms:
      - term: 下注
        lang: zh                  # zh | en
        weight: 0.8               # 0..1, becomes the signal score
        pinyin: true              # optional; default: on for all-Han terms of ≥2 characters
        allow_context: [以下注意]  # optional, phrases containing the term that cancel it

``variants.yaml`` is special: ``variants: {薇信: 微信, ...}`` feeds the normaliser's look-alike map.
Validation is strict (``extra="forbid"``): a typo in a key is an error that names the file and the
entry, not a silently ignored field.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

VARIANTS_FILE = "variants.yaml"
CONTEXT_FILE = "context.yaml"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "models" / "lexicons"


class LexiconError(ValueError):
    """Bad lexicon data; the message names the file and the entry."""


class TermModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str = Field(min_length=1)
    lang: Literal["zh", "en"]
    weight: float = Field(ge=0.0, le=1.0)
    pinyin: bool | None = None
    allow_context: list[str] = Field(default_factory=list)
    ambiguous: bool = False
    word: bool | None = None
    note: str | None = None


class PatternModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    regex: str = Field(min_length=1)
    weight: float = Field(ge=0.0, le=1.0)
    ambiguous: bool = False
    word: bool = False
    anchors: list[str] = Field(default_factory=list)
    note: str | None = None


class LexiconFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    allow_context: list[str] = Field(default_factory=list)
    terms: list[TermModel]
    patterns: list[PatternModel] = Field(default_factory=list)


class VariantsFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    variants: dict[str, str]
    emoji: dict[str, str] = Field(default_factory=dict)


class ContextFileModel(BaseModel):
    """Clause-level framing cues (see :mod:`moderation.text.context`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    frames: list[str] = Field(default_factory=list)
    frame_exceptions: list[str] = Field(default_factory=list)
    plea_frames: list[str] = Field(default_factory=list)
    frames_en: list[str] = Field(default_factory=list)
    negations: list[str] = Field(default_factory=list)
    negations_en: list[str] = Field(default_factory=list)
    negation_breakers: list[str] = Field(default_factory=list)
    post_negations: list[str] = Field(default_factory=list)
    thanks: list[str] = Field(default_factory=list)
    thanks_breakers: list[str] = Field(default_factory=list)
    nominal_suffixes: list[str] = Field(default_factory=list)
    describers: list[str] = Field(default_factory=list)
    refusals: list[str] = Field(default_factory=list)
    refusal_subjects: list[str] = Field(default_factory=list)
    refusal_concessions: list[str] = Field(default_factory=list)
    refusal_breakers: list[str] = Field(default_factory=list)
    gift_verbs: list[str] = Field(default_factory=list)
    own_gift_adverbs: list[str] = Field(default_factory=list)
    own_gift_breakers: list[str] = Field(default_factory=list)
    own_gift_reasons: list[str] = Field(default_factory=list)
    ruin: list[str] = Field(default_factory=list)
    habits: list[str] = Field(default_factory=list)
    third_parties: list[str] = Field(default_factory=list)
    witness_verbs: list[str] = Field(default_factory=list)
    play_games: list[str] = Field(default_factory=list)
    real_money: list[str] = Field(default_factory=list)
    state_lotteries: list[str] = Field(default_factory=list)
    lottery_pitches: list[str] = Field(default_factory=list)
    dismissals: list[str] = Field(default_factory=list)
    dismissal_tails: list[str] = Field(default_factory=list)
    lures: list[str] = Field(default_factory=list)
    reporters: list[str] = Field(default_factory=list)
    reporters_en: list[str] = Field(default_factory=list)
    report_verbs: list[str] = Field(default_factory=list)
    report_verbs_en: list[str] = Field(default_factory=list)
    report_warnings: list[str] = Field(default_factory=list)
    report_warnings_en: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class LexiconEntry:
    """One term of one category, as the matcher needs it."""

    term: str
    category: str
    lang: str
    weight: float
    pinyin: bool | None
    allow_context: tuple[str, ...]
    source: str
    ambiguous: bool = False
    word: bool | None = None


@dataclass(frozen=True)
class PatternEntry:
    """One regular-expression rule of one category, run on the normalised character view."""

    name: str
    category: str
    regex: re.Pattern[str]
    weight: float
    ambiguous: bool
    source: str
    word: bool = False
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Data:
    entries: tuple[LexiconEntry, ...]
    category_context: dict[str, tuple[str, ...]]
    variants: dict[str, str]
    patterns: tuple[PatternEntry, ...] = ()
    emoji: tuple[tuple[str, str], ...] = ()
    context: ContextFileModel = field(default_factory=ContextFileModel)


def _describe(exc: ValidationError, raw: object) -> str:
    msgs = []
    for err in exc.errors():
        loc = err["loc"]
        where = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] == "terms" and isinstance(loc[1], int) and isinstance(raw, dict):
            terms = raw.get("terms")
            if isinstance(terms, list) and loc[1] < len(terms) and isinstance(terms[loc[1]], dict):
                where += f" (term {terms[loc[1]].get('term')!r})"
        msgs.append(f"{where}: {err['msg']}")
    return "; ".join(msgs)


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: invalid YAML: {exc}") from exc


def _where(path: Path, needle: str) -> str:
    """``file:line`` of the first line mentioning ``needle`` (YAML loading drops line numbers)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return str(path)
    for i, line in enumerate(lines, 1):
        if needle and needle in line:
            return f"{path}:{i}"
    return str(path)


def _validate(model: type[BaseModel], path: Path, raw: object) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise LexiconError(f"{path}: {_describe(exc, raw)}") from exc


def _compile(path: Path, p: PatternModel) -> re.Pattern[str]:
    try:
        return re.compile(p.regex)
    except re.error as exc:
        raise LexiconError(f"{_where(path, p.name)}: pattern {p.name!r}: invalid regex: {exc}") from exc


def _load_dir(directory: Path) -> _Data:
    entries: list[LexiconEntry] = []
    patterns: list[PatternEntry] = []
    category_context: dict[str, tuple[str, ...]] = {}
    variants: dict[str, str] = {}
    emoji: dict[str, str] = {}
    context = ContextFileModel()
    seen: dict[tuple[str, str], str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise LexiconError(f"{directory}: no *.yaml lexicon files")
    for path in files:
        raw = _read(path)
        if path.name == VARIANTS_FILE:
            vmodel = _validate(VariantsFileModel, path, raw)
            variants.update(vmodel.variants)
            emoji.update(vmodel.emoji)
            continue
        if path.name == CONTEXT_FILE:
            context = _validate(ContextFileModel, path, raw)
            continue
        model = _validate(LexiconFileModel, path, raw)
        ctx = category_context.get(model.category, ()) + tuple(model.allow_context)
        category_context[model.category] = ctx
        for t in model.terms:
            key = (model.category, t.term.casefold())
            if key in seen:
                raise LexiconError(f"{_where(path, t.term)}: term {t.term!r} duplicated (also in {seen[key]})")
            seen[key] = path.name
            for phrase in t.allow_context:
                if t.term.casefold() not in phrase.casefold():
                    raise LexiconError(
                        f"{_where(path, phrase)}: term {t.term!r}: allow_context {phrase!r} does not contain "
                        "the term (it could never cancel a hit)"
                    )
            entries.append(
                LexiconEntry(
                    term=t.term,
                    category=model.category,
                    lang=t.lang,
                    weight=t.weight,
                    pinyin=t.pinyin,
                    allow_context=tuple(t.allow_context),
                    source=path.name,
                    ambiguous=t.ambiguous,
                    word=t.word,
                )
            )
        for p in model.patterns:
            # a hit names its pattern: two patterns of one name would be one term to a reviewer,
            # to the de-duplication of repeated hits and to corroboration
            key = (model.category, "pattern:" + p.name.casefold())
            if key in seen:
                raise LexiconError(f"{_where(path, p.name)}: pattern {p.name!r} duplicated (also in {seen[key]})")
            seen[key] = path.name
            rx = _compile(path, p)
            patterns.append(
                PatternEntry(p.name, model.category, rx, p.weight, p.ambiguous, path.name, p.word, tuple(p.anchors))
            )
    for k in emoji:
        if len(k) != 1:
            raise LexiconError(f"{directory / VARIANTS_FILE}: emoji key {k!r} must be one character")
    return _Data(tuple(entries), category_context, variants, tuple(patterns), tuple(emoji.items()), context)


def _snapshot(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime_ns, size) of every YAML file: one ``scandir``, no reads."""
    out = []
    with os.scandir(directory) as it:
        for e in it:
            if e.name.endswith(".yaml") and e.is_file():
                st = e.stat()
                out.append((e.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


class Lexicon:
    """All categories' terms plus the variant map, loaded from one folder.

    ``version`` increases on every successful (re)load so a matcher can tell it must rebuild.
    """

    def __init__(self, directory: Path, data: _Data, snapshot: tuple[tuple[str, int, int], ...]) -> None:
        self.directory = directory
        self._data = data
        self._snapshot = snapshot
        self.version = 1
        self.last_error: str | None = None

    @classmethod
    def load(cls, directory: str | os.PathLike[str] | None = None) -> Lexicon:
        """Load and validate every ``*.yaml`` in ``directory`` (default ``models/lexicons``)."""
        d = Path(directory) if directory is not None else DEFAULT_DIR
        snap = _snapshot(d)
        return cls(d, _load_dir(d), snap)

    @property
    def entries(self) -> tuple[LexiconEntry, ...]:
        return self._data.entries

    @property
    def variants(self) -> dict[str, str]:
        return dict(self._data.variants)

    @property
    def emoji(self) -> dict[str, str]:
        """Gift and contact emoji → the word they stand for (🚀 → 火箭), applied while normalising."""
        return dict(self._data.emoji)

    @property
    def patterns(self) -> tuple[PatternEntry, ...]:
        return self._data.patterns

    @property
    def context(self) -> ContextFileModel:
        return self._data.context

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({e.category for e in self._data.entries}))

    def category_context(self, category: str) -> tuple[str, ...]:
        """Category-wide counter-speech phrases."""
        return self._data.category_context.get(category, ())

    def counts(self) -> dict[str, int]:
        """Number of terms per category."""
        out: dict[str, int] = {}
        for e in self._data.entries:
            out[e.category] = out.get(e.category, 0) + 1
        return out

    def reload_if_changed(self) -> bool:
        """Reload when any file's mtime/size changed or files were added/removed.

        Costs one directory scan when nothing changed, so workers can call it every few seconds.
        A bad edit does not take a worker down: the old data stays, the error is logged and kept in
        ``last_error``, and the next call retries.
        """
        snap = _snapshot(self.directory)
        if snap == self._snapshot:
            return False
        try:
            data = _load_dir(self.directory)
        except LexiconError as exc:
            if self.last_error != str(exc):
                log.error("lexicon reload failed, keeping previous version: %s", exc)
            self.last_error = str(exc)
            return False
        self._data, self._snapshot = data, snap
        self.version += 1
        self.last_error = None
        return True
