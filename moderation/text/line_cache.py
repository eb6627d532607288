"""A bounded cache of the hits of recently matched lines.

Chat repeats itself: spam raids paste one message into many rooms, viewers echo "666" and the same
greeting, a bot reposts its lure every few seconds. A line's hits depend only on the line and on
the matcher's lexicon (and on jieba's dictionary, which the lexicon's terms extend), so a line seen
again is answered from here without normalising, scanning or segmenting it again.

Only short texts are kept (chat lines, OCR lines): a long transcript rarely comes back and would
hold much memory. Entries are evicted least recently used first. One cache serves every thread
of a process (the matcher is shared), so each operation holds a lock; they are dictionary
operations, far cheaper than matching a line.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from moderation.messages import KeywordHit

#: Texts longer than this (characters) are matched but never stored.
MAX_CHARS = 256


class LineCache:
    """Hits per text, least recently used out first, emptied whenever ``stamp()`` changes.

    ``stamp`` names the state the cached answers were computed under (the word segmenter's
    dictionary generation): when it changes, every answer may be stale, so all are dropped.
    ``maxsize`` 0 disables the cache.
    """

    def __init__(self, maxsize: int, stamp: Callable[[], int]) -> None:
        self.maxsize = maxsize
        self._stamp = stamp
        self._seen = stamp()
        self._lock = threading.Lock()
        self._hits: OrderedDict[str, tuple[KeywordHit, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def cacheable(self, text: str) -> bool:
        """Whether ``text`` may be stored (the cache is on and the text is short)."""
        return self.maxsize > 0 and len(text) <= MAX_CHARS

    def get(self, text: str) -> tuple[KeywordHit, ...] | None:
        """The stored hits of ``text`` (marked as recently used), or None when not stored."""
        with self._lock:
            self._sync()
            hits = self._hits.get(text)
            if hits is not None:
                self._hits.move_to_end(text)
            return hits

    def answer(self, text: str, compute: Callable[[str], list[KeywordHit]]) -> list[KeywordHit]:
        """The hits of ``text``: stored ones (a new list), else ``compute(text)``, stored if allowed.

        What :meth:`get`, :meth:`stamp` and :meth:`put` do, written out: a line is matched in a
        few microseconds, so the calls between them would cost a good share of it."""
        if self.maxsize <= 0 or len(text) > MAX_CHARS:
            return compute(text)
        stamp = self._stamp()
        store = self._hits
        with self._lock:
            if stamp != self._seen:
                store.clear()
                self._seen = stamp
            hits = store.get(text)
            if hits is not None:
                store.move_to_end(text)
                return list(hits)
        found = compute(text)
        stored = tuple(found)
        with self._lock:
            self._sync()
            if stamp == self._seen:  # else the dictionary changed meanwhile: the hits may be stale
                store[text] = stored
                store.move_to_end(text)
                while len(store) > self.maxsize:
                    store.popitem(last=False)
        return found

    def get_many(self, texts: list[str]) -> list[tuple[KeywordHit, ...] | None]:
        """:meth:`get` of each text, under one lock (a batch of chat lines)."""
        with self._lock:
            self._sync()
            store = self._hits
            out = [store.get(t) for t in texts]
            for t, hits in zip(texts, out, strict=True):
                if hits is not None:
                    store.move_to_end(t)
            return out

    def stamp(self) -> int:
        """The current stamp: read it before matching, and pass it to :meth:`put` with the hits."""
        return self._stamp()

    def put(self, text: str, hits: list[KeywordHit], stamp: int) -> None:
        """Store the hits of ``text`` if it is cacheable, evicting the least recently used. Hits
        computed under an older ``stamp`` than the current one are not stored: the dictionary
        changed while they were being computed, so they may be stale."""
        self.put_many([text], [hits], stamp)

    def put_many(self, texts: list[str], hits: list[list[KeywordHit]], stamp: int) -> None:
        """:meth:`put` of each text with its hits, under one lock."""
        if self.maxsize <= 0:
            return
        with self._lock:
            self._sync()
            if stamp != self._seen:
                return
            store = self._hits
            for text, found in zip(texts, hits, strict=True):
                if self.cacheable(text):
                    store[text] = tuple(found)
                    store.move_to_end(text)
            while len(store) > self.maxsize:
                store.popitem(last=False)

    def clear(self) -> None:
        """Forget every line (to time matching of lines never seen before)."""
        with self._lock:
            self._hits.clear()

    def _sync(self) -> None:
        stamp = self._stamp()
        if stamp != self._seen:
            self._hits.clear()
            self._seen = stamp
