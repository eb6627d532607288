r"""Batch matching: the per-character work of normalisation and a prefilter run once per batch.

A chat poll brings dozens of short lines at once, and most have no candidate at all. Matching them
one by one pays the Python overhead of every step (OpenCC call, translate, separator regex, variant
automaton, automaton scans) per line. Here the lines are joined with :data:`JOINER`; OpenCC, the
character table and a prefilter scan run once over the joined string, and only the lines the
prefilter flags are finished (separators, variants) and matched one by one, by the same code as
:meth:`KeywordMatcher.match`. Every other line provably has no candidate:

* OpenCC converts phrase by phrase and no phrase contains the joiner; a line whose conversion
  changes its length takes the per-line path (which converts it character by character);
* ``str.translate`` works character by character; a line with a character that does not map to
  exactly one (zero-width, "ß", an emoji spelled as a word) takes the per-line path;
* separator decisions only delete runs of ``[\W_]`` or turn them into one space, so a key found in a
  line's character view is found, with its separators removed, in the line's translated text with
  its separators removed (:class:`_Prefilter`); variant keys are flagged the same way;
* the pinyin view drops every separator, so it is the pinyin of the translated text;
* leetspeak folding needs a letter next to a digit-like character, perhaps across separators.

Lines holding the joiner, and ASCII lines, take the per-line path. English keeps single spaces
between words (they are no separator run), which the stripped text loses: short latin keys and
anchors ("v", "bet") would then flag nearly every English line, while matching one ASCII line alone
is cheap already (no conversion, a small automaton, a bytes translate for pinyin). ``tests/text`` compares every line's
hits with :meth:`KeywordMatcher.match` over the benchmark corpora in several batch sizes.
"""

from __future__ import annotations

import re
import weakref
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import ahocorasick

from moderation.messages import KeywordHit
from moderation.text import normalize as _nz
from moderation.text.lexicon_index import _ANCHOR, _HAS_LATIN, _TERM
from moderation.text.matcher import KeywordMatcher
from moderation.text.normalize import Normalizer
from moderation.text.pinyin import PINYIN_TABLE
from moderation.text.pinyin_patterns import reads_as_pinyin

#: Record separator: a control character chat text never needs, outside every normalisation table.
JOINER = "\x1e"


class _JoinedPinyin(dict[int, str]):
    """The pinyin table, except that the joiner stays (it marks line boundaries in the pinyin view)."""

    def __missing__(self, key: int) -> str:
        out = JOINER if key == ord(JOINER) else PINYIN_TABLE[key]
        self[key] = out
        return out


_PINYIN_JOINED = _JoinedPinyin()


#: Everything the separator rules may drop or turn into a space (every ``[\W_]`` but the joiner).
_SEPARATORS = re.compile(r"(?:[^\w\x1e]|_)+")
#: What :data:`_SEPARATORS` leaves (joining its matches is faster than substituting the rest).
_KEPT = re.compile(r"[^\W_]+|\x1e")
#: A letter and a digit-like character that the separator rules may bring together ("b.0cai").
_MIXED_NEAR = re.compile(r"[a-z](?:[^\w\x1e]|_)*[0-9@$]|[0-9@$](?:[^\w\x1e]|_)*[a-z]")


class _Prefilter:
    """Character-view keys with every separator removed, for a scan of the stripped text.

    Separator decisions only delete separators or turn them into one space, so a key present in a
    line's character view is present, stripped, in the line's stripped text: a line without any
    stripped key has no term and no anchor (variant keys are in the automaton too, since a
    replacement can make a key appear). Each stripped key carries whether it may be a term or a
    variant, and the patterns it may anchor: a line with anchors only needs a pattern to match
    before it is matched in full. Lines it flags may still have nothing; those are decided by the
    per-line filters.
    """

    def __init__(self, matcher: KeywordMatcher) -> None:
        self.source = matcher._char
        #: stripped key -> (may be a term or a variant, may be a variant, patterns it may anchor)
        found: dict[str, tuple[bool, bool, frozenset[int]]] = {}

        def add(key: str, term: bool, variant: bool, anchors: frozenset[int]) -> None:
            k = _SEPARATORS.sub("", key)
            was_term, was_variant, was_anchors = found.get(k, (False, False, frozenset()))
            found[k] = (was_term or term, was_variant or variant, was_anchors | anchors)

        for key in matcher.normalizer.variants:
            add(key, True, True, frozenset())
        if matcher._char is not None:
            char = matcher._char
            for key in char.keys():  # noqa: SIM118 (an automaton, not a dict)
                vals = char.get(key)[1]
                add(key, any(v[0] == _TERM for v in vals), False, frozenset(v[1] for v in vals if v[0] == _ANCHOR))
        found = {k: v for k, v in found.items() if v[0] or v[2]}
        #: a key made only of separators could appear anywhere: then every line is flagged
        self.everything = "" in found or bool(matcher._always)
        self.automaton = ahocorasick.Automaton()
        for k, v in found.items():
            if k:
                self.automaton.add_word(k, v)
        self.automaton.make_automaton()


_prefilters: weakref.WeakKeyDictionary[KeywordMatcher, _Prefilter] = weakref.WeakKeyDictionary()


def _prefilter(matcher: KeywordMatcher) -> _Prefilter:
    """The matcher's prefilter, rebuilt after a lexicon reload replaced its automatons."""
    pf = _prefilters.get(matcher)
    if pf is None or pf.source is not matcher._char:
        pf = _prefilters[matcher] = _Prefilter(matcher)
    return pf


def _map_joined(nz: Normalizer, lines: list[str]) -> tuple[str, set[int]]:
    """The joined lines converted and translated, and the lines that need the per-line path (then
    the string is of no use): an emoji spelled as a word, a conversion that changes the line's
    length, a character that does not map to exactly one."""
    joined = JOINER.join(lines)
    if joined.isascii():  # NFKC is the identity and casefold is lower() for ASCII
        return joined.lower(), set()
    starts = _line_starts(lines)
    slow: set[int] = set()
    if nz._emoji_re is not None:
        slow.update(bisect_right(starts, m.start()) - 1 for m in nz._emoji_re.finditer(joined))
    raw = joined.encode("utf-8")
    cc = _nz._opencc or _nz._converter()
    conv = str(_nz._CLIB_CONVERT(cc, raw, len(raw)))
    if len(conv) != len(joined):
        pieces = conv.split(JOINER)
        if len(pieces) != len(lines):
            return "", set(range(len(lines)))
        slow.update(k for k, (p, t) in enumerate(zip(pieces, lines, strict=True)) if len(p) != len(t))
        return "", slow or set(range(len(lines)))
    if conv.count(JOINER) != len(lines) - 1:  # the joiner itself converted: no line boundaries left
        return "", set(range(len(lines)))
    chars = _nz._CHARS
    mapped = conv.translate(chars)
    if chars.not_one_to_one:
        # a regex scan, not ``isdisjoint`` (which makes a string object per character)
        irregular = _nz._irregular_re(frozenset(chars.not_one_to_one))
        slow.update(bisect_right(starts, m.start()) - 1 for m in irregular.finditer(conv))
    return mapped, slow


def _line_starts(lines: list[str]) -> list[int]:
    """Start of each line in the joined string (each line followed by one joiner)."""
    return [s + k for k, s in enumerate(accumulate(map(len, lines), initial=0))][:-1]


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
    rows = [i for i, t in enumerate(texts) if t and not t.isascii() and JOINER not in t]  # see module doc
    nz = matcher.normalizer
    while True:  # each round drops at least one line, and there is rarely a second round
        lines = [texts[i] for i in rows]
        mapped, slow = _map_joined(nz, lines)
        if not slow:
            break
        rows = [r for k, r in enumerate(rows) if k not in slow]
    for i in set(range(len(texts))) - set(rows):
        if texts[i]:
            out[i] = matcher._match(texts[i])
    if not rows:
        return out
    starts = _line_starts(lines)
    full, anchored, with_pinyin, varied = _flag(matcher, mapped, starts)
    if matcher._pinyin_patterns:  # tone-marked pinyin maps to an ASCII view: patterns read it in pinyin
        for k, text in enumerate(lines):
            if k not in full and mapped[starts[k] : starts[k] + len(text)].isascii():
                view = nz.from_mapped(text, mapped[starts[k] : starts[k] + len(text)]).text
                if reads_as_pinyin(view):
                    full.add(k)
    for k in sorted(full.union(anchored)):
        text = lines[k]
        mk = mapped[starts[k] : starts[k] + len(text)]
        # without a stripped variant key the view has no variant key either (see _Prefilter)
        nt = nz.from_mapped(text, mk) if varied is None or k in varied else _nz._collapse_separators(text, mk, None)
        view = nt.text
        if not view:
            continue
        # flagged by anchors alone: no term, variant, leetspeak or pinyin candidate, so nothing
        # unless one of the patterns they anchor matches (the line's own anchors are among them)
        if k not in full and not any(
            m.end() > m.start() for p in anchored[k] for m in matcher.patterns[p].regex.finditer(view)
        ):
            continue
        cands, ctxs = matcher._candidates(nt, pinyin=with_pinyin is None or k in with_pinyin)
        if cands:
            out[rows[k]] = matcher._resolve(text, nt, cands, ctxs)
    return out


def _flag(
    matcher: KeywordMatcher, mapped: str, starts: list[int]
) -> tuple[set[int], dict[int, set[int]], set[int] | None, set[int] | None]:
    """Lines (positions in ``starts``) that may have a candidate: those with a stripped term or
    variant key, a letter next to a digit-like character across separators (leetspeak), or a pinyin
    key that the line's own pinyin scan would keep; and apart from them, the lines with anchor keys
    only, with the patterns those may anchor. Every other line has no candidate.

    The third set holds the lines whose own pinyin scan may find a key (None: any line may): the
    pinyin views of all lines are scanned here in one pass, and most flagged lines have no pinyin
    key, so they skip that scan. The fourth holds the lines with a stripped variant key (None: any
    line may have one); no other line has a variant to replace."""
    pf = _prefilter(matcher)
    if pf.everything:
        return set(range(len(starts))), {}, None, None
    full: set[int] = set()
    anchored: dict[int, set[int]] = {}
    varied: set[int] = set()
    stripped = "".join(_KEPT.findall(mapped))
    pieces = stripped.split(JOINER)
    sstarts = _line_starts(pieces)
    for end, (term, variant, anchors) in pf.automaton.iter(stripped):
        k = bisect_right(sstarts, end) - 1
        if term:
            full.add(k)
            if variant:
                varied.add(k)
        if anchors:
            anchored.setdefault(k, set()).update(anchors)
    full.update(bisect_right(starts, m.start()) - 1 for m in _MIXED_NEAR.finditer(mapped))
    if matcher._pinyin is None:
        return full, anchored, set(), varied
    # The pinyin view drops every separator, so the pinyin of a line's stripped text is the
    # pinyin view of the line unless a variant replaced part of it (those lines keep their scan).
    # A line's own scan uses the homophone-length automaton unless its view has latin letters; that
    # automaton has exactly the keys with a reading of at least ``min_homophone_syllables``.
    py = stripped.translate(_PINYIN_JOINED)
    pstarts = _line_starts(py.split(JOINER))
    least = matcher.min_homophone_syllables
    found: set[int] = set()
    for end, (_, vals, _) in matcher._pinyin.iter(py):
        j = bisect_right(pstarts, end) - 1
        if j not in found and (any(n >= least for _, n in vals) or _HAS_LATIN.search(pieces[j])):
            found.add(j)
    full |= found
    return full, anchored, found | varied, varied
