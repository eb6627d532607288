"""Stitch transcripts of OVERLAPPING live windows of one stream so each word comes out once.

Live audio is cut into windows that overlap (e.g. 10 s windows every 8 s) so that a word cut by
one window's edge is heard whole by the next. Both windows then transcribe the overlap: emitted
naively, the seam words come out twice (a keyword counted twice, a "k-of-n" rule fooled); cut
naively at a fixed time, a word whose timestamps differ a little between the windows is lost or
doubled. Whisper's segment times are also only approximate (±0.5 s is normal).

So the stitcher works on words, not times alone:

1. Segments whose end falls in the last ``overlap_s + slack_s`` of a window are *held*, not
   emitted, because the next window hears them again, with more context on both sides.
2. When the next window arrives, the words around the seam (held + recently emitted words vs.
   the new window's first words) are aligned as text (``difflib.SequenceMatcher`` on
   case/punctuation-folded words, restricted to pairs whose times agree). The seam is cut at
   the matched word nearest the middle of the overlap, where both windows heard the audio best:
   old words up to it are emitted, new words after it follow. A held segment and the new
   segment meeting at the seam are joined into one segment, so a phrase spanning the seam
   ("…下注百家乐…") still reaches the keyword matcher whole.
3. With no word in common (silence in the overlap, or both windows garbled), it falls back to
   cutting at the middle of the overlap by (interpolated) word time.

Word times are interpolated inside each segment by character count: TranscriptSegment carries no
word timestamps, and the text alignment, not the times, decides the cut.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from moderation.messages import TranscriptSegment

__all__ = ["LiveStitcher", "split_words"]

# One CJK character is one "word"; anything else runs until whitespace or a CJK character.
_TOKEN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_FOLD_RE = re.compile(r"[\W_]+", re.UNICODE)
#: How far apart (s) two windows may place the same word and still be matched.
TIME_TOLERANCE_S = 1.5


def _key(token: str) -> str:
    return _FOLD_RE.sub("", unicodedata.normalize("NFKC", token)).casefold()


@dataclass(frozen=True)
class _Word:
    text: str
    key: str
    start: float
    end: float
    space_before: bool
    seg: int  # id of the (possibly merged) segment it belongs to

    @property
    def mid(self) -> float:
        return (self.start + self.end) / 2


def split_words(text: str) -> list[tuple[str, bool]]:
    """``(word, preceded_by_space)`` pairs; punctuation sticks to the word before it."""
    out: list[tuple[str, bool]] = []
    for m in _TOKEN_RE.finditer(text):
        token = m.group()
        space = m.start() > 0 and text[m.start() - 1].isspace()
        if out and not _key(token):
            out[-1] = (out[-1][0] + token, out[-1][1])
        else:
            out.append((token, space))
    return out


class LiveStitcher:
    """Turns per-window segments of ONE stream into a stream of once-only segments.

    ``overlap_s`` is how much consecutive windows overlap (0 is fine: then nothing is held
    longer than needed and nothing is aligned). Call :meth:`push` with each window's segments
    in window order and :meth:`flush` when the stream ends.
    """

    def __init__(self, overlap_s: float, *, slack_s: float = 0.5) -> None:
        if overlap_s < 0 or slack_s < 0:
            raise ValueError("overlap_s and slack_s must be >= 0")
        self.overlap_s = overlap_s
        self.slack_s = slack_s
        self._pending: list[_Word] = []  # heard, not emitted: the next window may hear them again
        self._recent: list[_Word] = []  # emitted, kept to catch duplicates at the next seam
        self._meta: dict[int, TranscriptSegment] = {}
        self._next_id = 0
        self._prev_end: float | None = None
        self._stream: str | None = None

    def _words(self, segments: Sequence[TranscriptSegment]) -> list[_Word]:
        words: list[_Word] = []
        for seg in sorted(segments, key=lambda s: s.start):
            if self._stream is None:
                self._stream = seg.stream
            elif seg.stream != self._stream:
                raise ValueError(f"LiveStitcher is for one stream ({self._stream!r}), got {seg.stream!r}")
            tokens = split_words(seg.text)
            if not tokens:
                continue
            sid, self._next_id = self._next_id, self._next_id + 1
            self._meta[sid] = seg
            total = sum(len(t) for t, _ in tokens)
            span = max(0.0, seg.end - seg.start)
            pos = 0
            for token, space in tokens:
                start = seg.start + span * pos / total
                pos += len(token)
                words.append(_Word(token, _key(token), start, seg.start + span * pos / total, space, sid))
        return words

    def _cut(self, ws: float, new: list[_Word]) -> tuple[int, int]:
        """(old words to keep from pending, index of the first new word to use)."""
        assert self._prev_end is not None
        lo, hi = ws - self.slack_s, self._prev_end + self.slack_s
        mid = (ws + self._prev_end) / 2
        old = self._recent + self._pending
        old_idx = [i for i, w in enumerate(old) if w.end >= lo and w.key]
        new_idx = [j for j, w in enumerate(new) if w.start <= hi and w.key]
        matcher = difflib.SequenceMatcher(
            a=[old[i].key for i in old_idx], b=[new[j].key for j in new_idx], autojunk=False
        )
        best: tuple[int, float, int, int] | None = None  # (-block size, distance to mid, old i, new j)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                i, j = old_idx[block.a + k], new_idx[block.b + k]
                if abs(old[i].mid - new[j].mid) > TIME_TOLERANCE_S:
                    continue
                cand = (-block.size, abs(new[j].mid - mid), i, j)
                if best is None or cand < best:
                    best = cand
        n_recent = len(self._recent)
        if best is not None:
            i, j = best[2], best[3]
            # The seam word's segments become one, so the phrase across the seam stays whole.
            for k in range(j + 1, len(new)):
                if new[k].seg != new[j].seg:
                    break
                new[k] = replace(new[k], seg=old[i].seg)
            return max(0, i + 1 - n_recent), j + 1
        keep = sum(1 for w in self._pending if w.mid < mid)
        first = next((j for j, w in enumerate(new) if w.mid >= mid), len(new))
        return keep, first

    def push(
        self, window_start: float, window_end: float, segments: Sequence[TranscriptSegment]
    ) -> list[TranscriptSegment]:
        """Segments that are now final: each spoken word once, in time order."""
        new = self._words(segments)
        out: list[_Word] = []
        if self._prev_end is None or window_start >= self._prev_end:
            out.extend(self._pending)  # no overlap: what was held is final
        else:
            keep, first = self._cut(window_start, new)
            out.extend(self._pending[:keep])
            new = new[first:]
        self._pending = []
        hold_from = window_end - self.overlap_s - self.slack_s if self.overlap_s > 0 else float("inf")
        held_segs = {w.seg for w in new if w.end > hold_from}
        for w in new:
            (self._pending if w.seg in held_segs else out).append(w)
        self._prev_end = window_end
        return self._emit(out)

    @property
    def horizon(self) -> float:
        """Media time before which no segment emitted from now on can start (a live watermark).

        Later output is made of held words and of words of windows still to come, which start at
        or after the next window's start (this window's end minus the overlap). Without it, the
        watermark would have to be the last window's *start*, a whole window further back.
        """
        if self._prev_end is None:
            return 0.0
        nxt = self._prev_end - self.overlap_s
        return min([nxt, *(w.start for w in self._pending)])

    def flush(self) -> list[TranscriptSegment]:
        """Everything still held (call at the end of the stream)."""
        out, self._pending = self._pending, []
        return self._emit(out)

    def _emit(self, words: list[_Word]) -> list[TranscriptSegment]:
        self._recent = (self._recent + words)[-64:]
        segments: list[TranscriptSegment] = []
        group: list[_Word] = []
        for w in [*words, None]:
            if group and (w is None or w.seg != group[-1].seg):
                text = group[0].text + "".join((" " if g.space_before else "") + g.text for g in group[1:])
                segments.append(replace(self._meta[group[0].seg], start=group[0].start, end=group[-1].end, text=text))
                group = []
            if w is not None:
                group.append(w)
        live = {w.seg for w in self._pending} | {w.seg for w in self._recent}
        self._meta = {k: v for k, v in self._meta.items() if k in live}
        return segments
