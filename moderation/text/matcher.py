"""Lexicon matching on the normalised views, with spans in the original text.

Two Aho–Corasick automatons: one over the character view (every term and allow-context phrase,
normalised the same way as the text), one over the pinyin view (all-Han terms with pinyin enabled).
Pinyin is where false positives come from, so a pinyin candidate must:

* start and end on syllable boundaries (no "le" inside "lei", no key inside an English word);
* not cross a clause boundary next to Han text;
* if every character behind it is Han (a homophone, e.g. 白家乐 for 百家乐) read better as the term
  than as written (jieba's unigram model); a *short* homophone (fewer than
  ``min_homophone_syllables`` syllables: 下住 for 下注, 落聊 for 裸聊) must also begin and end on
  word edges of its clause (一下主播 holds no 下注), is looked for only in a text that has another
  hit of weight above 0, and counts like an ambiguous term, only with corroboration (another hit, a lure) —
  two-syllable readings are everywhere in normal Chinese (夏竹 is a name, 大赏 an award);
* if it has two syllables, start and end on *hard* boundaries (a word edge, not a guessed syllable cut).

Hits are de-duplicated: within one category, overlapping hits keep the longest (text before pinyin on
ties), so the same term found through both views is reported once. Hits of different categories may
overlap and are all kept, because each feeds a different verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

from moderation.messages import KeywordHit, LineReading
from moderation.text import segment
from moderation.text.clauses import clause_bounds
from moderation.text.context import AMBIGUOUS, COUNTER, DESCRIBED, NOMINAL, PLAIN, PLAYED
from moderation.text.homophones import word_homophone_variants
from moderation.text.initials import initial_variants, word_initial_variants
from moderation.text.lexicon import Lexicon
from moderation.text.lexicon_index import (
    _ANCHOR,
    _CTX,
    _DIGITISH,
    _MIXED_HINT,
    _TERM,
    _edges_ok,
    _fold_leet,
    build_index,
)
from moderation.text.line_cache import LineCache
from moderation.text.needles import literal_words
from moderation.text.normalize import NormalizedText, Normalizer
from moderation.text.pinyin_patterns import pinyin_runs, reads_as_pinyin
from moderation.text.pinyin_scan import Cand, PinyinSearch
from moderation.text.prefilter import LineScreen
from moderation.text.quotes import QuotedSounds, inside, quoted_spans, scare_quoted

#: A candidate in resolution: (start, end) in the original text first, then the :data:`Cand` fields.
_Kept = tuple[int, int, int, int, int, str, bool]
#: Ties between overlapping candidates of equal length: what is written (a term, then a pattern)
#: before what is heard (a pinyin key), so a pattern for 煞比 is not displaced by a homophone of 傻逼.
_VIA_RANK = {"text": 0, "pattern": 1, "pinyin": 2}


class KeywordMatcher:
    """Finds lexicon terms in text.

    One instance serves every stream of a process, so ``match`` and ``match_many`` run in several
    threads at once (chat followers, the event loop): they only read the compiled index, and the
    one cache on the instance (the context rules' last answer) is replaced whole. ``reload_if_changed``
    swaps the index and must not run while another thread matches.

    Ambiguous terms (``ambiguous: true`` in the lexicon) keep their weight only when something else
    in the same text corroborates them (another hit, a lure) or they hold, and are longer than, an
    unambiguous hit of their category (the shorter one is not reported apart); alone they are
    reported with ``context="ambiguous"`` and ``weight * ambiguous_weight``.

    A term read through pinyin counts at its weight when the pinyin was written in latin letters
    (the writer spelled the word: "baijiale", a pinyin sentence) and at ``weight * pinyin_weight``
    when Han characters only sound like it (白家乐): that reading is a guess.
    """

    def __init__(
        self,
        lexicon: Lexicon,
        *,
        min_homophone_syllables: int = 3,
        pinyin_weight: float = 0.9,
        ambiguous_weight: float = 0.05,
        line_cache: int = 4096,
    ) -> None:
        self.lexicon = lexicon
        #: how many recently matched lines keep their hits (0: none; see :mod:`~moderation.text.line_cache`)
        self.line_cache_size = line_cache
        self.min_homophone_syllables = min_homophone_syllables
        self.pinyin_weight = pinyin_weight
        self.ambiguous_weight = ambiguous_weight
        #: the shortest pinyin key a Han-only (homophone) candidate may have
        self.min_han_key_syllables = min(2, min_homophone_syllables)
        self._build()

    def _build(self) -> None:
        lex = self.lexicon
        self._version = lex.version
        freq = segment.tokenizer().FREQ
        pattern_words = sorted(set().union(*(literal_words(p.regex) for p in lex.patterns)))
        # a pattern word's initial spelling is a weaker guess than a term's (see Normalizer)
        terms = {e.term.lower() for e in lex.entries}  # a spelling that is a term stays that term
        # a pattern's anchor words typed by sound (下博, 飞鸡), with stand-ins the lexicon already
        # writes, so the line screen's alphabet stays as it is; a term's homophones are read by
        # sound under the term's own rules (see _short_homophone)
        anchors = sorted({a for p in lex.patterns for a in p.anchors} - terms)
        chars = frozenset("".join(terms) + "".join(pattern_words) + "".join(lex.variants))
        sounds = word_homophone_variants(anchors, freq, chars)
        weak = {k: v for k, v in {**sounds, **word_initial_variants(pattern_words, freq)}.items() if k not in terms}
        self.normalizer = Normalizer({**initial_variants(lex.entries), **lex.variants}, lex.emoji, weak)
        ix = build_index(lex, self.normalizer, self.min_homophone_syllables, self.min_han_key_syllables)
        self.index = ix
        self.entries, self.context, self.rules, self.patterns = ix.entries, ix.context, ix.rules, ix.patterns
        self._keys, self._pattern_base, self._always = ix.keys, ix.pattern_base, ix.always
        self._pinyin_patterns = ix.pinyin_patterns
        self._char, self._char_ascii, self._pinyin = ix.char, ix.char_ascii, ix.pinyin
        self._pinyin_han_short = ix.pinyin_han_short
        self.pinyin_term_count = ix.pinyin_term_count
        self.screen = LineScreen(ix, self.normalizer, freq)
        self._py = PinyinSearch(ix, self.min_homophone_syllables)
        words = [e.term for e in lex.entries] + [a for p in lex.patterns for a in p.anchors] + pattern_words
        self.sounds = QuotedSounds(words + list(lex.variants.values()) + list(lex.emoji.values()), freq)
        self.line_cache = LineCache(self.line_cache_size, segment.generation)  # answers of the old lexicon go

    def reload_if_changed(self) -> bool:
        """Reload the lexicon from disk if it changed and rebuild the automatons."""
        changed = self.lexicon.reload_if_changed()
        if changed or self.lexicon.version != self._version:
            self._build()
            return True
        return False

    def __call__(self, text: str) -> list[KeywordHit]:
        return self.match(text)

    def match(self, text: str) -> list[KeywordHit]:
        """All lexicon hits in ``text``, spans in ``text``'s own indices, sorted by start.

        Hits in a counter-speech or nominal frame are kept with weight 0 and their ``context``, so a
        caller can show why nothing was flagged; only ``weight > 0`` hits are evidence.

        A short text matched recently is answered from :attr:`line_cache`. Most lines provably have
        no candidate: :attr:`screen` clears them without normalising them (see
        :mod:`~moderation.text.prefilter`). Otherwise the automatons decide how much more work a
        line costs: a line with no candidate never builds its offset maps, segments nothing and
        classifies no clause; the pinyin view of a line without latin letters is scanned only for
        homophone-length keys.
        """
        return self.line_cache.answer(text, self._match)

    def _match(self, text: str) -> list[KeywordHit]:
        """:meth:`match` without the line cache."""
        if not text:
            return []
        # a homophone alone in quotes is read as the lexicon word it sounds like (same length)
        nt = self.screen.screen(self.sounds.respell(text))  # None: no candidate is possible
        if nt is None or not nt.text:
            return []
        cands, ctxs = self._candidates(nt)
        if not cands:
            return []
        return self._resolve(text, nt, cands, ctxs)

    def read_line(self, text: str) -> LineReading:
        """What the rules read in ``text`` for another channel: the categories it names only as a
        mention (a hit in a counter-speech, news, rules or nominal frame, or a candidate inside a
        known benign phrase of its term or category, an allow-context such as 谢谢榜一大哥), which
        another channel should not read as evidence; and the categories it has evidence of (a hit of
        weight above 0, ambiguous ones included), which another channel may corroborate. A line
        about a game played for no money (a ranked match, a gacha pull, a board game: "今天抽卡又
        非酋了") mentions gambling even with no gambling hit, and one saying giving is unneeded or
        free ("不用为我冲", "投票是免费的") mentions tipping, unless it has evidence of it."""
        nt = self.normalizer.normalize(self.sounds.respell(text)) if text else None
        if nt is None or not nt.text:
            return LineReading()
        cands, ctxs = self._candidates(nt)
        hits = self._resolve(text, nt, cands, ctxs) if cands else []
        out = {h.category for h in hits if h.context in (COUNTER, NOMINAL)}
        rules = self.rules
        for vs, ve, ri, _, _ in cands if ctxs else ():
            r = rules[ri]
            if any(a <= vs and ve <= b and cat == r.category and term in (None, r.term) for a, b, cat, term in ctxs):
                out.add(r.category)
        named = frozenset(h.category for h in hits if h.weight > 0)
        ctx, view = self.context, nt.text
        framed = [PLAYED] if PLAYED not in named and ctx.game_for_nothing(view) else []
        if DESCRIBED not in named and ctx.free_support(view):
            framed.append(DESCRIBED)
        if framed and not ctx.has_lure(view):  # a lure anywhere turns either reading back
            out.update(framed)
        return LineReading(frozenset(out), named)

    def match_many(self, texts: Sequence[str]) -> list[list[KeywordHit]]:
        """``[match(t) for t in texts]``, computed for the whole batch at once.

        Lines in the line cache are answered from it and a line repeated in the batch is matched
        once; for the rest, normalisation and the automaton scans run once over the joined batch,
        so the per-line Python overhead is paid only by the lines with a candidate (see
        :mod:`moderation.text.batch`).
        """
        from moderation.text.batch import match_many

        return match_many(self, texts)

    def _candidates(
        self, nt: NormalizedText, *, pinyin: bool = True
    ) -> tuple[list[Cand], list[tuple[int, int, str, str | None]]]:
        """Candidates and allow-context phrases of a non-empty character view (view spans).

        ``pinyin=False`` skips the scan of the pinyin view, for a caller that knows the pinyin
        automaton has no key in it (the batch matcher scans many lines' pinyin views at once)."""
        view = nt.text
        cands: list[Cand] = []
        ctxs: list[tuple[int, int, str, str | None]] = []
        anchored: set[int] = set()
        self._match_chars(view, cands, ctxs, anchored)
        if _DIGITISH.search(view) and _MIXED_HINT.search(view):
            folded = _fold_leet(view)
            if folded != view:
                self._match_chars(folded, cands, None, anchored)
                if self._pinyin is not None:  # "b0cai"
                    fnt = NormalizedText(nt.original, folded, offsets=nt.offsets)
                    self._py.terms(fnt, cands)
                    if self._pinyin_patterns and (runs := pinyin_runs(folded)):  # 不shu4就xia播
                        self._py.patterns(fnt, cands, runs)
        for k in sorted(anchored.union(self._always)) if anchored or self._always else ():
            for m in self.patterns[k].regex.finditer(view):
                if m.end() > m.start():
                    cands.append((m.start(), m.end(), self._pattern_base + k, "pattern", False))
        if pinyin and self._pinyin is not None:
            self._py.terms(nt, cands)
        if self._pinyin_patterns:
            if view.isascii():
                if reads_as_pinyin(view):
                    self._py.patterns(nt, cands)
            elif (nt.original.isascii() or pinyin_runs(nt.original.lower())) and (runs := pinyin_runs(view)):
                # typed as a latin word (the screen's test), and still one in the view; a latin line
                # whose initialisms the variants spelled out in Han ("cz zhao wo" → 充值 zhao wo) is
                # one, and the screen hands it on for its variant key
                self._py.patterns(nt, cands, runs)
        return cands, ctxs

    def _match_chars(
        self,
        view: str,
        cands: list[Cand],
        ctxs: list[tuple[int, int, str, str | None]] | None,
        anchored: set[int],
    ) -> None:
        """Term candidates and allow-context phrases of the character view (view spans)."""
        automaton = self._char_ascii if view.isascii() else self._char
        if automaton is None:
            return
        for end, (key, vals, latin_edge) in automaton.iter(view):
            s, e = end - len(key) + 1, end + 1
            if vals[-1][0] == _ANCHOR:
                anchored.update(v[1] for v in vals if v[0] == _ANCHOR)
            edges = not latin_edge or _edges_ok(view, s, e)
            for v in vals:
                if not edges and not (v[0] == _TERM and v[2]):
                    continue
                if v[0] == _TERM:
                    cands.append((s, e, v[1], "text", False))
                elif v[0] == _CTX and ctxs is not None:
                    ctxs.append((s, e, v[1], v[2]))

    def _is_word(self, view: str, vs: int, ve: int, rule: int, homophone: bool) -> bool:
        """Whether a Han candidate is a word of its clause (not part of 快三点), and a homophone
        reads better as the term than as what is written (白家乐, not 实时菜价)."""
        a, b = clause_bounds(view, vs, ve)
        clause = view[a:b]
        if homophone:
            term = self._keys[rule]
            if len(term) < self.min_homophone_syllables:
                return segment.reads_as_short(clause, vs - a, ve - a, term)
            return segment.reads_as(clause, vs - a, ve - a, term)
        return segment.is_word(clause, vs - a, ve - a)

    def _short_homophone(self, c: _Kept) -> bool:
        """Whether a kept candidate is a short homophone (夏竹 or 下住 for 下注): one counts only with
        corroboration, like an ambiguous term, since names and ordinary words share such readings."""
        return c[6] and len(self._keys[c[4]]) < self.min_homophone_syllables

    def _resolve(
        self,
        text: str,
        nt: NormalizedText,
        cands: list[Cand],
        ctxs: list[tuple[int, int, str, str | None]],
    ) -> list[KeywordHit]:
        """Hits of a text's candidates. Short homophones are looked for only in a text whose other
        candidates gave a hit that counts (weight above 0, even an ambiguous one): without one they
        could never count (they need corroboration), most are ordinary words and names, and looking
        costs a pinyin map and a segmentation per line."""
        hits = self._resolve_cands(text, nt, cands, ctxs)
        if self._pinyin_han_short is not None and any(h.weight > 0 for h in hits):
            short = self._py.short_homophones(nt)
            if short:
                return self._resolve_cands(text, nt, cands + short, ctxs)
        return hits

    def _resolve_cands(
        self,
        text: str,
        nt: NormalizedText,
        cands: list[Cand],
        ctxs: list[tuple[int, int, str, str | None]],
    ) -> list[KeywordHit]:
        rules = self.rules
        view = nt.text
        st, en = nt.offsets()
        octx = [(st[a], en[b - 1], cat, term) for a, b, cat, term in ctxs]
        # (start, end, vs, ve, rule, via, homophone): original span first; longest first, text view,
        # then patterns, before pinyin on ties
        if len(cands) == 1:  # most lines: nothing to de-duplicate or order
            vs, ve, ri, via, homo = cands[0]
            order = [(st[vs], en[ve - 1], vs, ve, ri, via, homo)]
        else:
            order = sorted(
                {(st[vs], en[ve - 1], vs, ve, ri, via, homo) for vs, ve, ri, via, homo in cands},
                key=lambda c: (-(c[1] - c[0]), _VIA_RANK[c[5]], c[0], c[4], c[2], c[3], c[5], c[6]),
            )
        kept: list[_Kept] = []
        #: kept ambiguous hits that hold an unambiguous hit of their category: they count unaided
        firm: set[_Kept] = set()
        for c in order:
            start, end, vs, ve, ri, via, homo = c
            r = rules[ri]
            cat = r.category
            if octx and any(
                cs <= start and end <= ce and ccat == cat and (cterm is None or cterm == r.term)
                for cs, ce, ccat, cterm in octx
            ):
                continue  # a known benign phrase around the hit
            over = next(
                (
                    k
                    for k in kept
                    if rules[k[4]].category == cat
                    and start < k[1]
                    and k[0] < end
                    # a longer ambiguous hit that only runs into this one (家人们冲一波 | 冲一波礼物)
                    # does not displace it when it is unambiguous: they are different evidence
                    and (r.ambiguous or not rules[k[4]].ambiguous or (k[0] <= start and end <= k[1]))
                ),
                None,
            )
            # the word check segments the clause: only for a hit that would be kept or firm another
            word_checked = (r.word and via != "pinyin") or homo
            if over is not None:  # same category, overlaps a longer (or text-view) hit
                # a longer ambiguous one that holds this unambiguous hit (注册就送88 holds 注册就送) is
                # no weaker than it; one of the same span is the lexicon calling that wording ambiguous
                if (
                    rules[over[4]].ambiguous
                    and not r.ambiguous
                    and not self._short_homophone(c)
                    and over[1] - over[0] > end - start
                    and (not word_checked or self._is_word(view, vs, ve, ri, homo))
                ):
                    firm.add(over)
                continue
            if word_checked and not self._is_word(view, vs, ve, ri, homo):
                continue
            kept.append(c)
        if not kept:
            return []
        quoted = quoted_spans(text)
        if quoted:  # a lure quoted to mock or warn is no lure, and a quoted hit is a mention
            unquoted = "".join(" " if inside(quoted, st[i], en[i]) else ch for i, ch in enumerate(view))
            lure = self.context.has_lure(unquoted)
        else:
            lure = self.context.has_lure(view)
        framed = [
            COUNTER
            if quoted
            and not lure
            and inside(quoted, c[0], c[1])
            and not scare_quoted(text, quoted, c[0], c[1], rules[c[4]].term, c[5])
            else self.context.classify(
                view, c[2], c[3], lure=lure, category=rules[c[4]].category, pattern=c[5] == "pattern"
            )
            for c in kept
        ]
        hits = []
        for c, context in sorted(zip(kept, framed, strict=True), key=lambda x: (x[0][0], x[0][1], x[0][4])):
            start, end, _, _, ri, via, _ = c
            r = rules[ri]
            weight = r.weight * (self.pinyin_weight if via == "pinyin" and c[6] else 1.0)
            if context != PLAIN:
                weight = 0.0
            elif (
                (r.ambiguous or self._short_homophone(c))
                and c not in firm
                and not lure
                and not self._corroborated(c, kept, framed, view)
            ):
                context, weight = AMBIGUOUS, weight * self.ambiguous_weight
            hits.append(KeywordHit(r.term, r.category, round(weight, 4), (start, end), text[start:end], via, context))
        return hits

    def _corroborated(self, c: _Kept, kept: list[_Kept], framed: list[str], view: str) -> bool:
        """Another plain hit in the text: any unambiguous one (a short homophone counts as ambiguous),
        or a different ambiguous term of the same category (上分 with 下分). For a pattern, "different"
        is different matched words: one family rule matching 上门服务 and 价钱好说 is two pieces of
        evidence, the same phrase twice is one."""
        r = self.rules[c[4]]
        for o, f in zip(kept, framed, strict=True):
            if o is c or f != PLAIN:
                continue
            ro = self.rules[o[4]]
            weak = ro.ambiguous or self._short_homophone(o)
            if not weak or (ro.category == r.category and self._said(o, view) != self._said(c, view)):
                return True
        return False

    def _said(self, k: _Kept, view: str) -> str:
        """What a hit says, for corroboration: its lexicon term, or a pattern's matched words."""
        return self.rules[k[4]].term if k[4] < self._pattern_base else view[k[2] : k[3]]
