r"""A per-line screen that proves most lines hold no candidate before the per-line Python work.

Most chat lines, captions and transcript windows hold no lexicon term at all, yet every line used
to have its whole character view built (separator decisions in a Python loop, variant replacement,
a :class:`~moderation.text.view.NormalizedText`) and scanned before that was known. The screen
decides the common case with a few C-level passes and hands every line it cannot clear to the full
path, which then finds exactly what it always found.

A line with non-ASCII characters is looked at after conversion to Simplified (the first step of
normalisation, kept for the full path):

* the separator rules only delete separators (``[\W_]``) or turn a run of them into one space, so a
  key present in a line's character view is present, with its separators removed, in the line's
  character-table form with every separator removed (:class:`StrippedKeys`); variant keys are among
  them, since only a replaced variant could make the view differ otherwise. One ``str.translate``
  gives that stripped form (:class:`_Stripped`);
* the pinyin view drops every separator, so it is the pinyin of the character-table form (one more
  ``str.translate``); it is scanned with the automaton the line's own scan would use
  (homophone-length keys unless the line has latin letters);
* leetspeak folding needs a letter next to a digit in the view, so next to one in the stripped form;
* pattern rules run on a view only when an anchor key is in it (anchors are stripped keys too) or
  the pattern has no anchor (then the screen is off), and a match holds its pattern's needles
  (:mod:`moderation.text.needles`); pinyin-sentence patterns read only ASCII views, and a line with
  a non-ASCII letter or digit keeps it in its view.

An ASCII line's view is its tokens joined by single spaces unless spelled-out letters need the
general rules (:func:`~moderation.text.separators.ascii_tokens`), so the screen applies the full
path's own tests to it, without the objects the full path builds. :meth:`LineScreen.flag_joined`
screens many lines at once for :mod:`moderation.text.batch`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Any

import ahocorasick

from moderation.text import normalize as _nz
from moderation.text.lexicon_index import _ANCHOR, _DIGITISH, _MIXED_HINT, _TERM, LexiconIndex, _edges_ok
from moderation.text.needles import needles
from moderation.text.normalize import Normalizer, to_simplified
from moderation.text.pinyin import ASCII_DROP, PINYIN_TABLE
from moderation.text.pinyin_patterns import pinyin_runs, tokens_read_as_pinyin
from moderation.text.separators import ascii_tokens
from moderation.text.view import NormalizedText

#: Record separator of the batch matcher: its lines joined by it are screened at once.
JOINER = "\x1e"
#: Everything the separator rules may drop or turn into a space.
_SEPARATORS = re.compile(r"[\W_]+")
#: Stands for every letter or digit no key uses; :data:`_NEVER` follows it in no text.
_OTHER, _NEVER = "\ue000", "\ue001"
#: Letters and digits the stripped form keeps as they are, for the latin and leetspeak tests.
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")
_LATIN = re.compile(r"[a-z]")
#: Three latin letters in a row, either case: where a pinyin word may have been typed into Han text.
_LATIN_RUN = re.compile(r"[A-Za-z]{3}")
#: A letter next to a digit: where leetspeak folding may apply ("b0cai").
_MIXED = re.compile(r"[a-z][0-9]|[0-9][a-z]")


class StrippedKeys:
    """Character-view keys with every separator removed, for a scan of a stripped text.

    A line without any stripped key has no term and no anchor (variant keys are in the automaton
    too, since a replacement can make a key appear). Each stripped key carries whether it may be a
    term or a variant, whether it may be a variant, and the patterns it may anchor.

    pyahocorasick looks a character up among a node's children one by one, and the root has every
    first character of every key (hundreds of Han characters), so a character no key starts with
    would cost a full search. The screen's stripped form therefore writes every character that no
    key uses as :data:`_OTHER`, and the root's children are put in order, :data:`_OTHER` first and
    then the characters of the keys, most common first (a word that never occurs, the character
    then :data:`_NEVER`, places each).
    """

    def __init__(
        self, char: Any, variants: dict[str, str], always: list[int], freq: dict[str, int], extra: frozenset[str]
    ) -> None:
        #: stripped key -> (may be a term or a variant, may be a variant, patterns it may anchor)
        found: dict[str, tuple[bool, bool, frozenset[int]]] = {}

        def add(key: str, term: bool, variant: bool, anchors: frozenset[int]) -> None:
            k = _SEPARATORS.sub("", key)
            was_term, was_variant, was_anchors = found.get(k, (False, False, frozenset()))
            found[k] = (was_term or term, was_variant or variant, was_anchors | anchors)

        for key in variants:
            add(key, True, True, frozenset())
        if char is not None:
            for key in char.keys():  # noqa: SIM118 (an automaton, not a dict)
                vals = char.get(key)[1]
                add(key, any(v[0] == _TERM for v in vals), False, frozenset(v[1] for v in vals if v[0] == _ANCHOR))
        found = {k: v for k, v in found.items() if v[0] or v[2]}
        #: the characters of the keys, ``extra`` and every latin letter and digit: all others are
        #: :data:`_OTHER` in the screen's stripped text
        self.alphabet = frozenset("".join(found)) | _ASCII_WORD | extra
        #: a key made only of separators could appear anywhere, and a pattern without anchors runs
        #: on every line: then every line is flagged (a key holding a placeholder, likewise)
        self.everything = "" in found or bool(always) or not self.alphabet.isdisjoint(_OTHER + _NEVER)
        self.automaton = ahocorasick.Automaton()
        nothing: tuple[bool, bool, frozenset[int]] = (False, False, frozenset())
        self.automaton.add_word(_OTHER + _NEVER, nothing)
        for c in sorted(self.alphabet, key=lambda c: (-freq.get(c, 0), c)):
            self.automaton.add_word(c + _NEVER, nothing)
        for k, v in found.items():
            if k:
                self.automaton.add_word(k, v)
        self.automaton.make_automaton()


class _Stripped(dict[int, str]):
    """ord → the character-table form of a character with separators dropped and letters or digits
    outside ``alphabet`` written as :data:`_OTHER` (filled on demand by ``str.translate``); with
    ``joiner``, the batch matcher's :data:`JOINER` stays, to mark where its lines meet."""

    def __init__(self, alphabet: frozenset[str], joiner: bool) -> None:
        super().__init__()
        self.alphabet = alphabet
        if joiner:
            self[ord(JOINER)] = JOINER

    def __missing__(self, key: int) -> str:
        form = _nz._CHARS[key]
        out = "".join((c if c in self.alphabet else _OTHER) for c in form if c.isalnum())
        self[key] = out
        return out


class _PinyinOf:
    """The pinyin-view form of a character's character-table form without separators (the
    character view has none but spaces, which the pinyin view drops); the joiner as above.

    ``str.translate`` looks characters up faster in a plain dict than in one that fills itself
    (``__missing__``), and every form is ASCII: a result that is not shows a character met for the
    first time, which is then added, and the text translated again."""

    def __init__(self, joiner: bool) -> None:
        self.table = {c: self._form(c) for c in range(128)}
        if joiner:
            self.table[ord(JOINER)] = JOINER

    @staticmethod
    def _form(key: int) -> str:
        return "".join(PINYIN_TABLE[ord(c)] for c in _nz._CHARS[key] if c.isalnum())

    def translate(self, text: str) -> str:
        """``text`` with every character replaced by its form."""
        out = text.translate(self.table)
        if out.isascii():
            return out
        table = self.table
        for ch in set(text):
            if ord(ch) not in table:
                table[ord(ch)] = self._form(ord(ch))
        return text.translate(table)


_PINYIN_OF, _PINYIN_OF_JOINED = _PinyinOf(False), _PinyinOf(True)


class LineScreen:
    """Normalises a line, or proves it has no candidate (see the module docstring)."""

    def __init__(self, ix: LexiconIndex, normalizer: Normalizer, freq: dict[str, int]) -> None:
        """Screen for the lexicon compiled as ``ix`` and normalised by ``normalizer``; ``freq``
        (word → frequency, jieba's dictionary) orders the automatons' root children."""
        patterns = [p.regex for p in ix.patterns]
        #: for each pattern, by index (what an anchor key points at): the sets of characters every
        #: match holds (see :mod:`moderation.text.needles`)
        self._needle_sets = [needles(p) for p in patterns]
        #: their character classes, compiled when a line first holds an anchor of the pattern
        self._needles: dict[int, list[re.Pattern[str]]] = {}
        extra = frozenset(c for ns in self._needle_sets for n in ns for c in n)
        self.keys = StrippedKeys(ix.char, normalizer.variants, ix.always, freq, extra)
        self.normalizer = normalizer
        self._ascii_keys = _ascii_keys(ix.char_ascii, normalizer.variants)
        self._stripped = _Stripped(self.keys.alphabet, False)
        self._stripped_joined = _Stripped(self.keys.alphabet, True)
        self._patterns = patterns
        self._pinyin = ix.pinyin
        self._pinyin_han = ix.pinyin_han
        self._pinyin_patterns = bool(ix.pinyin_patterns)

    def screen(self, text: str) -> NormalizedText | None:
        """``normalizer.normalize(text)``, or None when the line provably has no candidate (no
        term, anchored pattern, variant, leetspeak, pinyin key or pinyin-sentence pattern)."""
        nz = self.normalizer
        if self.keys.everything:
            return nz.normalize(text)
        if text.isascii():
            return self._screen_ascii(text)
        if nz.spells_emoji(text):
            return nz.normalize(text)  # an emoji spelled as a word takes another character table
        conv = to_simplified(text)
        anchors = self._flags(conv)
        if anchors is None:
            return nz.from_converted(text, conv)
        if not anchors:
            return None
        # anchor keys only: nothing unless one of the patterns they may anchor matches the view
        # (the anchors the view itself holds are among them)
        nt = nz.from_converted(text, conv)
        return nt if self.anchored_match(nt.text, anchors) else None

    def anchored_match(self, view: str, anchors: set[int]) -> bool:
        """Whether one of the ``anchors`` patterns matches ``view`` (with a non-empty match)."""
        patterns = self._patterns
        return any(m.end() > m.start() for p in anchors for m in patterns[p].finditer(view))

    def _screen_ascii(self, text: str) -> NormalizedText | None:
        """:meth:`screen` of an ASCII line: its view is at hand from the tokens (see
        :func:`~moderation.text.separators.ascii_tokens`), and is looked at by the full path's own
        tests, without the objects the full path builds."""
        tokens = ascii_tokens(text.lower())
        if tokens is None:  # spelled-out letters
            return self.normalizer.normalize(text)
        joined = b" ".join(tokens)
        view = joined.decode("ascii")
        anchors = self._flags_ascii(view, joined, tokens)
        if anchors is None or (anchors and self.anchored_match(view, anchors)):
            return self.normalizer.normalize(text)
        return None

    def _flags_ascii(self, view: str, joined: bytes, tokens: list[bytes]) -> set[int] | None:
        """As :meth:`_flags`, for an ASCII line whose character view (before variants) is ``view``
        (``joined`` in bytes, ``tokens`` its words)."""
        anchors: set[int] = set()
        for end, (n, flag, term, edge, anchored) in self._ascii_keys.iter(view):
            if flag or (term and (not edge or _edges_ok(view, end - n + 1, end + 1))):
                return None
            if anchored:
                anchors.update(anchored)
        if _DIGITISH.search(view) and _MIXED_HINT.search(view):
            return None
        if self._pinyin is not None:
            py = joined.translate(None, ASCII_DROP)
            if py and next(self._pinyin.iter(py.decode("ascii")), None) is not None:
                return None
        if self._pinyin_patterns and tokens_read_as_pinyin(tokens):
            return None
        return anchors

    def _flags(self, conv: str) -> set[int] | None:
        """For a line converted to Simplified as ``conv``: None when it may have a term, variant,
        leetspeak, pinyin or pinyin-sentence candidate, else the patterns its anchor keys may
        anchor (empty: no candidate at all)."""
        stripped = conv.translate(self._stripped)
        anchors: set[int] = set()
        for _, (term, _, anchored) in self.keys.automaton.iter(stripped):
            if term:
                return None
            anchors.update(anchored)
        latin = False
        if _LATIN_OR_DIGIT.search(stripped) is not None:
            if _MIXED.search(stripped) is not None:
                return None
            latin = _LATIN.search(stripped) is not None
        if self._pinyin_patterns and stripped.isascii():
            return None  # the view may be ASCII (tone-marked pinyin): pinyin-sentence patterns read it
        if self._pinyin_patterns and _LATIN_RUN.search(conv) is not None and pinyin_runs(conv.lower()):
            return None  # a pinyin word typed into a Han line: pinyin-read patterns may take it in
        automaton = self._pinyin if latin else self._pinyin_han
        if self._pinyin is not None and automaton is not None:
            py = _PINYIN_OF.translate(conv)
            if py and next(automaton.iter(py), None) is not None:
                return None
        return self._may_anchor(anchors, stripped) if anchors else anchors

    def _may_anchor(self, anchors: set[int], stripped: str) -> set[int]:
        """The ``anchors`` patterns whose needles are all in a line's ``stripped`` text."""
        out = set()
        for p in anchors:
            classes = self._needles.get(p)
            if classes is None:
                classes = [re.compile(f"[{re.escape(''.join(sorted(n)))}]") for n in self._needle_sets[p]]
                self._needles[p] = classes
            if all(rx.search(stripped) is not None for rx in classes):
                out.add(p)
        return out

    def flag_joined(self, conv: str) -> tuple[set[int], dict[int, set[int]], set[int]]:
        """:meth:`_flags` of many lines at once, from their conversions joined by :data:`JOINER`
        (``conv``; no line holds the joiner). Returns the lines that may have a candidate, the
        lines with anchor keys only and the patterns those may anchor (every other line has no
        candidate), and the lines whose own pinyin scan may find something: the pinyin views of
        all lines are scanned here, and a flagged line without a pinyin key or a variant (which
        could change its pinyin view) skips that scan."""
        stripped = conv.translate(self._stripped_joined)
        pieces = stripped.split(JOINER)
        starts = _line_starts(pieces)
        full: set[int] = set()
        anchored: dict[int, set[int]] = {}
        varied: set[int] = set()
        for end, (term, variant, anchors) in self.keys.automaton.iter(stripped):
            k = bisect_right(starts, end) - 1
            if term:
                full.add(k)
                if variant:
                    varied.add(k)
            elif anchors:
                anchored.setdefault(k, set()).update(anchors)
        latin: set[int] = set()
        if _LATIN_OR_DIGIT.search(stripped) is not None:
            full.update(bisect_right(starts, m.start()) - 1 for m in _MIXED.finditer(stripped))
            latin.update(k for k, piece in enumerate(pieces) if _LATIN.search(piece) is not None)
        if self._pinyin_patterns:
            full.update(k for k, piece in enumerate(pieces) if piece.isascii())
            if _LATIN_RUN.search(conv) is not None:
                convs = conv.split(JOINER)
                full.update(k for k, c in enumerate(convs) if pinyin_runs(c.lower()))
        found: set[int] = set()
        if self._pinyin is not None:
            # a line's own scan uses the homophone-length automaton unless it has latin letters;
            # that automaton has exactly the keys with a reading of at least that many syllables
            py = _PINYIN_OF_JOINED.translate(conv)
            pstarts = _line_starts(py.split(JOINER))
            han = self._pinyin_han
            for end, (key, _, _) in self._pinyin.iter(py):
                j = bisect_right(pstarts, end) - 1
                if j not in found and (j in latin or (han is not None and han.exists(key))):
                    found.add(j)
        full |= found
        for k in full:
            anchored.pop(k, None)
        for k in list(anchored):
            anchored[k] = self._may_anchor(anchored[k], pieces[k])
            if not anchored[k]:
                del anchored[k]
        return full, anchored, found | varied


#: Common English letters first: the root children of :func:`_ascii_keys` in this order.
_ENGLISH_ORDER = " etaoinsrhldcumfpgwybvkxjqz0123456789"


def _ascii_keys(char_ascii: Any, variants: dict[str, str]) -> Any:
    """One automaton for the ASCII character-view keys and variant keys, with what
    ``KeywordMatcher._match_chars`` needs to know of a hit, computed ahead: ``(length, flag, term,
    latin_edge, anchors)``. ``flag``: a variant key (its replacement may make anything) or a term
    kept without word boundaries (an OCR run-on form); ``term``: a term kept when ``latin_edge``
    is False or its edges are word boundaries."""
    keys: dict[str, tuple[int, bool, bool, bool, frozenset[int]]] = {}
    for key, (_, vals, edge) in char_ascii.items() if char_ascii is not None else ():
        terms = [v for v in vals if v[0] == _TERM]
        anchors = frozenset(v[1] for v in vals if v[0] == _ANCHOR)
        keys[key] = (len(key), any(v[2] for v in terms), bool(terms), edge, anchors)
    for key in variants:
        if key.isascii():
            keys[key] = (len(key), True, True, False, keys[key][4] if key in keys else frozenset())
    automaton = ahocorasick.Automaton()
    nothing = (0, False, False, False, frozenset[int]())
    for c in _ENGLISH_ORDER:  # see StrippedKeys: a word that never occurs places a root child
        automaton.add_word(c + _NEVER, nothing)
    for key, value in keys.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


def _line_starts(lines: list[str]) -> list[int]:
    """Start of each line in the joined string (each line followed by one joiner)."""
    return [s + k for k, s in enumerate(accumulate(map(len, lines), initial=0))][:-1]
