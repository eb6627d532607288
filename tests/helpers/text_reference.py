"""The matcher's straightforward resolution path, kept only as a reference for the optimised one.

:class:`ReferenceMatcher` shares the optimised matcher's build (automatons, rules) but matches every
line the simple way: every view scanned with the full automatons, original spans looked up for
every candidate, pinyin candidates kept until resolution, no shortcut. The equivalence test runs both
over the corpora; any shortcut that changes a hit (term, category, weight, span, via, context) fails it.
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.messages import KeywordHit
from moderation.text import segment
from moderation.text.clauses import clause_bounds
from moderation.text.context import AMBIGUOUS, COUNTER, PLAIN
from moderation.text.lexicon_index import _ANCHOR, _CTX, _DIGITISH, _MIXED_HINT, _TERM, _edges_ok, _fold_leet
from moderation.text.matcher import _VIA_RANK, KeywordMatcher
from moderation.text.normalize import HARD, NormalizedText, is_han
from moderation.text.pinyin_patterns import pinyin_runs, reads_as_pinyin, to_pinyin_regex
from moderation.text.quotes import inside, quoted_spans, scare_quoted


def _edges_word(clause: str, start: int, end: int) -> bool:
    """``segment.is_word`` from the clause's segmentation alone (no forced-edge shortcut, no cache)."""
    edges = segment.word_edges.__wrapped__(clause)
    if start in edges and end in edges:
        return True
    if end == len(clause) - 1 and clause[end] in segment._FINAL_PARTICLES:
        return _edges_word(clause[:end], start, end)
    return False


@dataclass(frozen=True)
class _Cand:
    start: int  # original span
    end: int
    vs: int  # character-view span
    ve: int
    rule: int
    via: str
    homophone: bool = False


class ReferenceMatcher(KeywordMatcher):
    """Same lexicon and rules as :class:`KeywordMatcher`, resolved without any shortcut."""

    def match(self, text: str) -> list[KeywordHit]:
        """All hits in ``text``, found and resolved the simple way."""
        if not text:
            return []
        nt = self.normalizer.normalize(self.sounds.respell(text))  # quoted homophones read as their word
        view = nt.text
        if not view:
            return []
        cands: list[_Cand] = []
        ctxs: list[tuple[int, int, str, str | None]] = []
        anchored: set[int] = set()
        self._ref_match_chars(nt, view, cands, ctxs, anchored)
        if _DIGITISH.search(view) and _MIXED_HINT.search(view):
            folded = _fold_leet(view)
            if folded != view:
                self._ref_match_chars(nt, folded, cands, None, anchored)
                if self._pinyin is not None:  # "b0cai"
                    fnt = NormalizedText(nt.original, folded, offsets=nt.offsets)
                    self._ref_match_pinyin(fnt, cands)
                    self._ref_pinyin_patterns(fnt, pinyin_runs(folded), cands)
        for k in sorted(anchored.union(self._always)) if anchored or self._always else ():
            for m in self.patterns[k].regex.finditer(view):
                if m.end() > m.start():
                    os_, oe = nt.span(m.start(), m.end())
                    cands.append(_Cand(os_, oe, m.start(), m.end(), self._pattern_base + k, "pattern"))
        if self._pinyin is not None:
            self._ref_match_pinyin(nt, cands)
        runs = pinyin_runs(view) if text.isascii() or pinyin_runs(text.lower()) else []
        if view.isascii() and reads_as_pinyin(view):
            self._ref_pinyin_patterns(nt, None, cands)
        elif runs:
            self._ref_pinyin_patterns(nt, runs, cands)
        # short homophones are looked for only in a text whose other candidates give a hit that counts
        short = [c for c in cands if self._ref_short_word(c)]
        rest = [c for c in cands if not self._ref_short_word(c)]
        if not rest:
            return []
        hits = self._ref_resolve(text, nt, rest, ctxs)
        return self._ref_resolve(text, nt, cands, ctxs) if short and any(h.weight > 0 for h in hits) else hits

    def _ref_pinyin_patterns(self, nt: NormalizedText, runs: list[tuple[int, int]] | None, cands: list[_Cand]) -> None:
        """Every pattern read in pinyin over the whole pinyin view; with ``runs`` (a Han line),
        over each clause holding one of those latin words, and only hits that take one in."""
        if runs is not None and not runs:
            return
        view = nt.text
        py, pmap = nt.pinyin, nt.pinyin_map
        if runs is None:
            windows = [(0, len(py))]
        else:  # each clause that holds a pinyin word, on its own
            clauses = sorted({clause_bounds(view, a, b) for a, b in runs})
            windows = [(sum(1 for v in pmap if v < a), sum(1 for v in pmap if v < b)) for a, b in clauses]
        for k, p in enumerate(self.patterns):
            rx = to_pinyin_regex(p.regex.pattern)
            for ws, we in windows:
                for m in rx.finditer(py, ws, we) if rx is not None else ():
                    s, e = m.span()
                    if e > s and nt.pinyin_boundary(s) and nt.pinyin_boundary(e):
                        vs, ve = pmap[s], pmap[e - 1] + 1
                        if runs is not None and not any(a < ve and vs < b for a, b in runs):
                            continue  # in a Han line, a hit must take in a pinyin word
                        if clause_bounds(view, vs, vs + 1) == clause_bounds(view, ve - 1, ve):
                            os_, oe = nt.pinyin_span(s, e)
                            cands.append(_Cand(os_, oe, vs, ve, self._pattern_base + k, "pinyin"))

    def _ref_match_chars(
        self,
        nt: NormalizedText,
        view: str,
        cands: list[_Cand],
        ctxs: list[tuple[int, int, str, str | None]] | None,
        anchored: set[int],
    ) -> None:
        automaton = self._char_ascii if view.isascii() else self._char
        if automaton is None:
            return
        for end, (key, vals, _) in automaton.iter(view):
            s, e = end - len(key) + 1, end + 1
            if vals[-1][0] == _ANCHOR:
                anchored.update(v[1] for v in vals if v[0] == _ANCHOR)
            edges = _edges_ok(view, s, e)
            for v in vals:
                if not edges and not (v[0] == _TERM and v[2]):
                    continue
                if v[0] == _TERM:
                    os_, oe = nt.span(s, e)
                    cands.append(_Cand(os_, oe, s, e, v[1], "text"))
                elif v[0] == _CTX and ctxs is not None:
                    os_, oe = nt.span(s, e)
                    ctxs.append((os_, oe, v[1], v[2]))

    def _ref_match_pinyin(self, nt: NormalizedText, cands: list[_Cand]) -> None:
        py = nt.pinyin
        if not py:
            return
        for end, (key, vals, _) in self._pinyin.iter(py):
            s, e = end - len(key) + 1, end + 1
            bs = nt.pinyin_boundary(s)
            be = nt.pinyin_boundary(e) if bs else 0
            if not (bs and be) or nt.pinyin_crosses_clause(s, e):
                continue
            all_han = all(is_han(c) for c in nt.pinyin_sources(s, e))
            os_, oe = nt.pinyin_span(s, e)
            pmap = nt.pinyin_map
            vs, ve = pmap[s], pmap[e - 1] + 1
            for idx, nsyl in vals:
                if all_han and nsyl < self.min_han_key_syllables:  # kept apart by match()
                    continue
                # two-syllable keys inside run-on pinyin ("zhaowoxiazhu") need a run that segments
                # into syllables at both ends; ambiguous terms need hard edges
                if nsyl < 3 and not (
                    (bs == HARD or nt.pinyin_cut_required(s)) and (be == HARD or nt.pinyin_cut_required(e))
                ):
                    continue
                cands.append(_Cand(os_, oe, vs, ve, idx, "pinyin", homophone=all_han))

    def _ref_is_word(self, view: str, c: _Cand) -> bool:
        """Whether a Han candidate is a word of its clause (not part of 快三点), and a homophone
        reads better as the term than as what is written (白家乐, not 实时菜价)."""
        a, b = clause_bounds(view, c.vs, c.ve)
        clause = view[a:b]
        if c.homophone:
            term = self.normalizer(self.rules[c.rule].term).text
            if len(term) < self.min_homophone_syllables:
                return segment.reads_as_short(clause, c.vs - a, c.ve - a, term)
            return segment.reads_as(clause, c.vs - a, c.ve - a, term)
        return _edges_word(clause, c.vs - a, c.ve - a)

    def _ref_resolve(
        self,
        text: str,
        nt: NormalizedText,
        cands: list[_Cand],
        ctxs: list[tuple[int, int, str, str | None]],
    ) -> list[KeywordHit]:
        rules = self.rules
        view = nt.text
        kept: list[_Cand] = []
        order = sorted(
            set(cands),
            key=lambda c: (-(c.end - c.start), _VIA_RANK[c.via], c.start, c.rule, c.vs, c.ve, c.via, c.homophone),
        )
        firm: list[_Cand] = []  # ambiguous hits strictly longer than an unambiguous one they hold
        for c in order:
            r = rules[c.rule]
            if any(
                cs <= c.start and c.end <= ce and ccat == r.category and (cterm is None or cterm == r.term)
                for cs, ce, ccat, cterm in ctxs
            ):
                continue  # a known benign phrase around the hit
            over = [
                k
                for k in kept
                if rules[k.rule].category == r.category
                and c.start < k.end
                and k.start < c.end
                and (r.ambiguous or not rules[k.rule].ambiguous or (k.start <= c.start and c.end <= k.end))
            ]
            is_word = not ((r.word and c.via != "pinyin") or c.homophone) or self._ref_is_word(view, c)
            if over:  # same category, overlaps a longer (or text-view) hit, unless that one is
                # ambiguous and only runs into this unambiguous one
                k = over[0]
                if (
                    is_word
                    and rules[k.rule].ambiguous
                    and not r.ambiguous
                    and not self._ref_short_word(c)
                    and k.end - k.start > c.end - c.start
                ):
                    firm.append(k)
                continue
            if not is_word:
                continue
            kept.append(c)
        quoted = quoted_spans(text)
        # a lure inside quotes is quoted: look for lures in the view with every quoted character blanked
        lure_view = "".join(" " if inside(quoted, *nt.span(i, i + 1)) else ch for i, ch in enumerate(view))
        lure = self.context.has_lure(lure_view)
        framed = {
            id(c): COUNTER
            if not lure
            and inside(quoted, c.start, c.end)
            and not scare_quoted(text, quoted, c.start, c.end, rules[c.rule].term, c.via)
            else self.context.classify(
                view, c.vs, c.ve, lure=lure, category=rules[c.rule].category, pattern=c.via == "pattern"
            )
            for c in kept
        }
        evidence = [c for c in kept if framed[id(c)] == PLAIN]
        hits = []
        for c in sorted(kept, key=lambda c: (c.start, c.end, c.rule)):
            r = rules[c.rule]
            weight = r.weight * (self.pinyin_weight if c.via == "pinyin" and c.homophone else 1.0)
            context = framed[id(c)]
            if context != PLAIN:
                weight = 0.0
            elif (
                (r.ambiguous or self._ref_short_word(c))
                and not any(c is k for k in firm)
                and not lure
                and not self._ref_corroborated(c, evidence, view)
            ):
                context, weight = AMBIGUOUS, weight * self.ambiguous_weight
            hits.append(
                KeywordHit(
                    r.term, r.category, round(weight, 4), (c.start, c.end), text[c.start : c.end], c.via, context
                )
            )
        return hits

    def _ref_short_word(self, c: _Cand) -> bool:
        """A short homophone counts only with corroboration."""
        return c.homophone and len(self.normalizer(self.rules[c.rule].term).text) < self.min_homophone_syllables

    def _ref_corroborated(self, c: _Cand, evidence: list[_Cand], view: str) -> bool:
        """Another plain hit in the text: any unambiguous one, or a different ambiguous term of the
        same category (上分 with 下分)."""
        r = self.rules[c.rule]
        for o in evidence:
            if o is c:
                continue
            ro = self.rules[o.rule]
            weak = ro.ambiguous or self._ref_short_word(o)
            if not weak or (ro.category == r.category and self._ref_said(o, view) != self._ref_said(c, view)):
                return True
        return False

    def _ref_said(self, k: _Cand, view: str) -> str:
        return self.rules[k.rule].term if k.rule < self._pattern_base else view[k.vs : k.ve]
