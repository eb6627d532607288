"""Lexicon data: the shipped files validate, bad data names file and entry, mtime reload works."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from moderation.text.lexicon import DEFAULT_DIR, Lexicon, LexiconError


def test_shipped_lexicons(lexicon: Lexicon) -> None:
    counts = lexicon.counts()
    assert set(counts) == {"gambling", "vulgar", "tipping_inducement", "disclosure", "minors"}
    assert 150 <= sum(counts.values()) <= 650
    assert lexicon.variants["薇信"] == "微信"
    assert "拒绝赌博" in lexicon.category_context("gambling")
    assert {e.lang for e in lexicon.entries} == {"zh", "en"}


def _write(d: Path, name: str, body: str) -> None:
    (d / name).write_text(body, encoding="utf-8")


def test_unknown_key_names_file_and_term(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "x.yaml",
        "category: x\nterms:\n  - {term: 好词, lang: zh, weight: 0.5}\n"
        "  - {term: 坏词, lang: zh, weight: 0.5, wieght: 1}\n",
    )
    with pytest.raises(LexiconError, match=r"x\.yaml.*terms\.1.*坏词"):
        Lexicon.load(tmp_path)


def test_weight_range_and_lang(tmp_path: Path) -> None:
    _write(tmp_path, "x.yaml", "category: x\nterms:\n  - {term: 词, lang: fr, weight: 2}\n")
    with pytest.raises(LexiconError, match=r"x\.yaml") as exc:
        Lexicon.load(tmp_path)
    assert "lang" in str(exc.value) and "weight" in str(exc.value)


def test_allow_context_must_contain_term(tmp_path: Path) -> None:
    _write(tmp_path, "x.yaml", "category: x\nterms:\n  - {term: 下注, lang: zh, weight: 1, allow_context: [注意]}\n")
    with pytest.raises(LexiconError, match="does not contain"):
        Lexicon.load(tmp_path)


def test_reload_if_changed(tmp_path: Path) -> None:
    for f in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    lex = Lexicon.load(tmp_path)
    assert lex.reload_if_changed() is False
    p = tmp_path / "gambling.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "  - {term: 新赌法, lang: zh, weight: 0.9}\n", encoding="utf-8")
    os.utime(p, ns=(p.stat().st_mtime_ns + 10**9,) * 2)
    assert lex.reload_if_changed() is True
    assert any(e.term == "新赌法" for e in lex.entries)
    version = lex.version
    p.write_text("category: [broken\n", encoding="utf-8")  # a bad edit keeps the old data
    os.utime(p, ns=(p.stat().st_mtime_ns + 2 * 10**9,) * 2)
    assert lex.reload_if_changed() is False
    assert lex.version == version and lex.last_error and "gambling.yaml" in lex.last_error
    assert any(e.term == "新赌法" for e in lex.entries)


def test_no_pattern_anchor_is_rewritten_away(lexicon: Lexicon) -> None:
    # anchors are normalised like the text, variants included: an anchor that is a variant key
    # (qp → 棋牌) would look for its rewrite, so the rewrite must hold another anchor of its pattern
    keys = {k.lower(): v for k, v in lexicon.variants.items()}
    lost = [
        (p.name, a)
        for p in lexicon.patterns
        for a in p.anchors
        if a.lower() in keys and not any(b in keys[a.lower()] for b in p.anchors if b != a)
    ]
    assert lost == []
