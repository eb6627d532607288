"""Candidates of the pinyin view: lexicon terms heard (白家乐, "baijiale") and patterns typed in pinyin.

Split from :mod:`moderation.text.matcher`, which owns the character view and resolution; this
module only finds where a pinyin key or a pinyin-read pattern lies on syllable boundaries, within
one clause, and maps it back to character-view spans. The rules a candidate must pass are in the
matcher's module docstring.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from typing import Any

from moderation.text.clauses import clause_bounds
from moderation.text.lexicon_index import _HAS_LATIN, LexiconIndex
from moderation.text.normalize import HARD, NormalizedText, is_han

__all__ = ["Cand", "PinyinSearch", "run_clauses"]

#: A candidate before resolution: (view start, view end, rule index, via, homophone). Spans are in
#: the character view; the original span is looked up only for the lines that reach resolution.
Cand = tuple[int, int, int, str, bool]


def run_clauses(nt: NormalizedText, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pinyin-view spans of the clauses of ``nt`` that hold one of the latin words ``runs`` (view
    spans), in order: a pinyin-read pattern must take in such a word and stay in one clause, so
    each such clause is scanned on its own and the rest of a long text not at all."""
    view, pmap = nt.text, nt.pinyin_map
    out: list[tuple[int, int]] = []
    end = -1
    for s, e in sorted(runs):
        if e <= end:  # in the clause just found
            continue
        a, end = clause_bounds(view, s, e)
        ps, pe = bisect_left(pmap, a), bisect_left(pmap, end)
        if pe > ps:
            out.append((ps, pe))
    return out


class PinyinSearch:
    """The pinyin automatons of one compiled lexicon; read-only, so threads may share it."""

    def __init__(self, ix: LexiconIndex, min_homophone_syllables: int) -> None:
        self.ix = ix
        self.min_homophone_syllables = min_homophone_syllables

    def patterns(self, nt: NormalizedText, cands: list[Cand], runs: list[tuple[int, int]] | None = None) -> None:
        """Pattern candidates of a line typed as a pinyin sentence, or (``runs``: view spans of the
        pinyin words written into a Han line) those that take in one of those words (see
        :mod:`moderation.text.pinyin_patterns`): on syllable boundaries, within one clause."""
        py = nt.pinyin
        windows = [(0, len(py))] if runs is None else run_clauses(nt, runs)
        for k, rx in self.ix.pinyin_patterns:
            for ws, we in windows:
                for m in rx.finditer(py, ws, we):
                    s, e = m.span()
                    if e <= s or not (nt.pinyin_boundary(s) and nt.pinyin_boundary(e)):
                        continue
                    pmap = nt.pinyin_map
                    vs, ve = pmap[s], pmap[e - 1] + 1
                    if runs is not None and not any(a < ve and vs < b for a, b in runs):
                        continue
                    if clause_bounds(nt.text, vs, vs + 1) != clause_bounds(nt.text, ve - 1, ve):
                        continue
                    cands.append((vs, ve, self.ix.pattern_base + k, "pinyin", False))

    def terms(self, nt: NormalizedText, cands: list[Cand]) -> None:
        """Candidates of the pinyin view, mapped to character-view spans."""
        py = nt.pinyin
        if not py:
            return
        text = nt.text
        latin = _HAS_LATIN.search(text) is not None
        self._scan(nt, self.ix.pinyin if latin else self.ix.pinyin_han, cands, not latin, False)

    def short_homophones(self, nt: NormalizedText) -> list[Cand]:
        """Short homophone candidates (下住 for 下注), looked for only once the other candidates of a
        text resolved to a hit that counts (see :meth:`KeywordMatcher._resolve`)."""
        out: list[Cand] = []
        py = nt.pinyin
        if not py:
            return out
        found = [v for _, v in self.ix.pinyin_han_short.iter(py)]
        if not found:
            return out
        # The commonest hit is the term written as itself (打赏 read as dashang), which is no
        # homophone: when every hit of every key is one, skip building the pinyin map. A key of one
        # term that the text spells as often as the key is heard has only those hits.
        text = nt.text
        heard = Counter(key for key, _, _ in found)
        keys = self.ix.keys
        if all(
            len({keys[i] for i, _ in vals}) == 1 and text.count(keys[vals[0][0]]) == heard[key]
            for key, vals, _ in found
        ):
            return out
        self._scan(nt, self.ix.pinyin_han_short, out, _HAS_LATIN.search(text) is None, True)
        return out

    def _scan(self, nt: NormalizedText, automaton: Any, cands: list[Cand], han_only: bool, short: bool) -> None:
        """The candidates one pinyin automaton finds in ``nt``'s pinyin view (``han_only``: the view
        has no latin letter, so every syllable comes from a Han character). Han-only candidates of
        fewer than ``min_homophone_syllables`` syllables are kept when ``short`` and only then."""
        if automaton is None:
            return
        py = nt.pinyin
        text = nt.text
        keys = self.ix.keys
        for end, (key, vals, _) in automaton.iter(py):
            s, e = end - len(key) + 1, end + 1
            pmap = nt.pinyin_map
            vs, ve = pmap[s], pmap[e - 1] + 1
            # the term written as itself: the character view has the same candidate, which resolution
            # prefers (text before pinyin), so the pinyin one could never be kept
            written = text[vs:ve]
            todo = [v for v in vals if keys[v[0]] != written]
            if not todo:
                continue
            bs = nt.pinyin_boundary(s)
            be = nt.pinyin_boundary(e) if bs else 0
            if not (bs and be) or nt.pinyin_crosses_clause(s, e):
                continue
            all_han = han_only or all(is_han(c) for c in nt.pinyin_sources(s, e))
            for idx, nsyl in todo:
                if all_han and nsyl < self.min_homophone_syllables and not short:
                    continue
                if short and not (all_han and nsyl < self.min_homophone_syllables):
                    continue
                # two-syllable keys inside run-on pinyin ("zhaowoxiazhu") need a run that segments
                # into syllables at both ends; ambiguous terms need hard edges
                if nsyl < 3 and not (
                    (bs == HARD or nt.pinyin_cut_required(s)) and (be == HARD or nt.pinyin_cut_required(e))
                ):
                    continue
                cands.append((vs, ve, idx, "pinyin", all_han))
