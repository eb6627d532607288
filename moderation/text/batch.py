r"""Batch matching: conversion and the line screen run once per batch.

A chat poll brings dozens of short lines at once, and most have no candidate at all. Matching them
one by one pays the Python overhead of every step (OpenCC call, translations, automaton scans) per
line. Here the lines with non-ASCII characters are joined with :data:`JOINER`; OpenCC, the
screen's translations and scans (:meth:`LineScreen.flag_joined
<moderation.text.prefilter.LineScreen.flag_joined>`) run once over the joined string, and only the
lines the screen flags are normalised and matched one by one, by the same code as
:meth:`KeywordMatcher.match`. Every other line provably has no candidate (see
:mod:`moderation.text.prefilter` for why):

* OpenCC converts phrase by phrase and no phrase contains the joiner, so each line's part of the
  joined conversion is the line's own conversion; a line whose conversion changes its length takes
  the per-line path (which converts it character by character);
* the screen's translations work character by character and keep the joiner, so each line's part
  of them is what the line's own screen computes.

Lines holding the joiner, lines with an emoji spelled as a word, lines with a quoted homophone of a
lexicon word (see :class:`~moderation.text.quotes.QuotedSounds`) and ASCII lines take the per-line
path (ASCII lines have no conversion to share, and their screen looks at the view itself).
``tests/text`` compares every line's hits with :meth:`KeywordMatcher.match` over the benchmark
corpora in several batch sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

from moderation.messages import KeywordHit
from moderation.text.matcher import KeywordMatcher
from moderation.text.normalize import convert_phrases
from moderation.text.prefilter import JOINER

__all__ = ["JOINER", "match_many"]


def match_many(matcher: KeywordMatcher, texts: Sequence[str]) -> list[list[KeywordHit]]:
    """``[matcher.match(t) for t in texts]``: lines in the matcher's line cache from there, each
    other distinct line once, by :func:`_match_lines` (a spam burst repeats one line)."""
    cache = matcher.line_cache
    stamp = cache.stamp()
    out: list[list[KeywordHit] | None] = [None] * len(texts)
    todo: dict[str, list[int]] = {}
    for i, (t, hits) in enumerate(zip(texts, cache.get_many(list(texts)), strict=True)):
        if hits is not None:
            out[i] = list(hits)
        else:
            todo.setdefault(t, []).append(i)
    if todo:
        lines = list(todo)
        results = _match_lines(matcher, lines)
        cache.put_many(lines, results, stamp)
        for t, found in zip(lines, results, strict=True):
            first, *more = todo[t]
            out[first] = found
            for i in more:
                out[i] = list(found)
    return [hits if hits is not None else [] for hits in out]


def _match_lines(matcher: KeywordMatcher, texts: Sequence[str]) -> list[list[KeywordHit]]:
    """``[matcher._match(t) for t in texts]`` (no line cache); see the module docstring for how."""
    out: list[list[KeywordHit]] = [[] for _ in texts]
    nz = matcher.normalizer
    screen = matcher.screen
    rows = [] if screen.keys.everything else [i for i, t in enumerate(texts) if not t.isascii() and JOINER not in t]
    if rows and nz.spells_emoji(JOINER.join(texts[i] for i in rows)):
        rows = [i for i in rows if not nz.spells_emoji(texts[i])]
    sounds = matcher.sounds  # a quoted homophone read as its word: the per-line path respells it
    if rows and sounds.may_respell(JOINER.join(texts[i] for i in rows)):
        rows = [i for i in rows if sounds.respell(texts[i]) == texts[i]]
    lines = [texts[i] for i in rows]
    pieces = convert_phrases(JOINER.join(lines)).split(JOINER) if lines else []
    if len(pieces) != len(lines):  # the joiner itself converted: no line boundaries left
        rows, lines, pieces = [], [], []
    # a line whose conversion changed its length is converted character by character on its own
    keep = {k for k, (p, t) in enumerate(zip(pieces, lines, strict=True)) if len(p) == len(t)}
    if len(keep) < len(lines):
        rows = [r for k, r in enumerate(rows) if k in keep]
        lines = [t for k, t in enumerate(lines) if k in keep]
        pieces = [p for k, p in enumerate(pieces) if k in keep]
    for i in set(range(len(texts))).difference(rows):
        if texts[i]:
            out[i] = matcher._match(texts[i])
    if not rows:
        return out
    full, anchored, with_pinyin = screen.flag_joined(JOINER.join(pieces))
    for k in sorted(full.union(anchored)):
        text = lines[k]
        nt = nz.from_converted(text, pieces[k])
        if not nt.text:
            continue
        # flagged by anchors alone: nothing unless one of the patterns they may anchor matches
        if k not in full and not screen.anchored_match(nt.text, anchored[k]):
            continue
        cands, ctxs = matcher._candidates(nt, pinyin=k in with_pinyin)
        if cands:
            out[rows[k]] = matcher._resolve(text, nt, cands, ctxs)
    return out
