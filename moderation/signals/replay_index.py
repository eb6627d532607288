"""Replays across streams and time: one pool-wide index of keyframe fingerprints.

:mod:`moderation.signals.loop` catches footage looping inside one stream within minutes. This
index catches a recording passed off as live in *another* room, or a stream re-showing its own
footage hours later: every stream's keyframes (one per ``every_s``) are fingerprinted with the
same 64-bit pHash and kept for ``horizon_h`` hours, and each new keyframe is looked up among the
fingerprints of all streams.

Lookup is sub-linear (multi-index hashing): the 64 bits are cut into 4 bands of 16; two hashes
within ``match_bits`` differ by at most ``match_bits // 4`` bits in at least one band
(pigeonhole), so probing each band's table with the keys within that radius finds every match
without scanning the pool. Candidates are then checked on the full hash.

One matching keyframe proves nothing (a black screen, a logo card, the same stock intro). A
replay is a *run*: ``min_run`` keyframes of the probing stream matching one source stream at one
consistent offset (within ``lag_tolerance_s``), showing at least two pictures ``min_distinct_bits``
apart. While it lasts, one ``synthetic.replay`` signal per ``signal_every_s`` names the source
stream and the source time (``label`` ``source=<stream>@<t>``). A stream matching itself counts
only from ``min_self_lag_s`` (shorter repeats are the loop detector's).

Times: ``t`` is the probing stream's media time (evidence spans); ``now`` is the pool clock
(wall seconds, or media time in an offline scan) that the horizon is measured on.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from moderation.config import ReplayIndexConfig
from moderation.messages import Signal
from moderation.signals.loop import frame_hash

__all__ = ["ReplayIndex", "keyframe_hash", "pack_hash"]

_BANDS = 4
_BAND_BITS = 16
_BAND_MASK = (1 << _BAND_BITS) - 1
_FLAT_STD = 4.0  # grey-level spread below which a frame is flat (black, a solid card): never indexed


def pack_hash(bits: np.ndarray) -> int:
    """A 64-bit pHash (bool array) as an int."""
    return int.from_bytes(np.packbits(bits.astype(bool)).tobytes(), "big")


def keyframe_hash(image: np.ndarray) -> int | None:
    """A frame's 64-bit pHash, or None for a flat frame (black, a solid card) that is never indexed."""
    thumb = image[::8, ::8].reshape(-1, image.shape[2] if image.ndim == 3 else 1)
    if float(thumb.std(axis=0).max()) < _FLAT_STD:  # every channel flat
        return None
    return pack_hash(frame_hash(image, 8))


def _flips(radius: int) -> list[int]:
    """XOR masks of a 16-bit band with at most ``radius`` bits set (0 first)."""
    out = [0]
    for r in range(1, radius + 1):
        for pos in combinations(range(_BAND_BITS), r):
            m = 0
            for p in pos:
                m |= 1 << p
            out.append(m)
    return out


@dataclass
class _Run:
    source: str
    offset: float  # source time - probe time
    start: float
    last: float
    count: int = 1
    src_start: float = 0.0
    pictures: list[int] = field(default_factory=list)  # distinct probe hashes seen (capped)
    emitted_to: float | None = None
    dist: int = 0


class ReplayIndex:
    """Pool-wide fingerprints. :meth:`observe` each stream's sampled frames in time order."""

    def __init__(self, cfg: ReplayIndexConfig | None = None, category: str = "synthetic_unlabeled") -> None:
        self.cfg = cfg or ReplayIndexConfig()
        #: Held by callers around each call when streams share the index from several threads.
        self.lock = threading.Lock()
        self.category = category
        self._flips = _flips(self.cfg.match_bits // _BANDS)
        self._hashes = array("Q")
        self._times = array("d")  # media time on the source stream
        self._nows = array("d")  # pool clock when added
        self._streams = array("i")
        self._names: list[str] = []
        self._ids: dict[str, int] = {}
        self._base = 0  # global id of self._hashes[0]
        self._tables: list[dict[int, array[int]]] = [{} for _ in range(_BANDS)]
        self._last_key: dict[str, float] = {}  # stream → media time of its last keyframe
        self._runs: dict[str, list[_Run]] = {}
        self._expired_since_compact = 0
        self.lookups = 0
        self.candidates = 0

    # ------------------------------------------------------------------ index
    def __len__(self) -> int:
        return len(self._hashes)

    def _sid(self, stream: str) -> int:
        sid = self._ids.get(stream)
        if sid is None:
            sid = self._ids[stream] = len(self._names)
            self._names.append(stream)
        return sid

    def add(self, stream: str, t: float, h: int, now: float) -> None:
        """Index one fingerprint of ``stream`` at media time ``t``."""
        gid = self._base + len(self._hashes)
        self._hashes.append(h)
        self._times.append(t)
        self._nows.append(now)
        self._streams.append(self._sid(stream))
        for b, table in enumerate(self._tables):
            key = (h >> (b * _BAND_BITS)) & _BAND_MASK
            ids = table.get(key)
            if ids is None:
                table[key] = array("q", (gid,))
            else:
                ids.append(gid)

    def lookup(self, h: int) -> list[tuple[str, float, int]]:
        """(stream, media time, distance) of fingerprints within ``match_bits`` of ``h``, nearest
        first. The band tables give the candidate ids; their full hashes are compared in one
        vectorised pass (numpy views of the arrays, no copy)."""
        self.lookups += 1
        found: list[array[int]] = []
        for b, table in enumerate(self._tables):
            key = (h >> (b * _BAND_BITS)) & _BAND_MASK
            for m in self._flips:
                ids = table.get(key ^ m)
                if ids is not None:
                    found.append(ids)
        if not found or not self._hashes:
            return []
        idx = np.unique(np.concatenate([np.frombuffer(a, dtype=np.int64) for a in found])) - self._base
        idx = idx[(idx >= 0) & (idx < len(self._hashes))]
        self.candidates += len(idx)
        hashes = np.frombuffer(self._hashes, dtype=np.uint64)
        dist = np.bitwise_count(hashes[idx] ^ np.uint64(h))
        del hashes  # release the buffer: the array must stay resizable
        keep = dist <= self.cfg.match_bits
        idx, dist = idx[keep], dist[keep]
        order = np.argsort(dist, kind="stable")[: self.cfg.max_candidates]
        out: list[tuple[str, float, int]] = []
        for k in order:
            i = int(idx[k])
            out.append((self._names[self._streams[i]], self._times[i], int(dist[k])))
        return out

    def expire(self, now: float) -> None:
        """Drop fingerprints older than the horizon (they were added in pool-clock order)."""
        cutoff = now - self.cfg.horizon_h * 3600.0
        k = 0
        n = len(self._nows)
        while k < n and self._nows[k] < cutoff:
            k += 1
        if k == 0:
            return
        del self._hashes[:k], self._times[:k], self._nows[:k], self._streams[:k]
        self._base += k
        self._expired_since_compact += k
        if self._expired_since_compact > max(4096, len(self._hashes) // 4):
            self._compact()

    def _compact(self) -> None:
        """Drop expired ids from the band tables (amortised: after a quarter of the index expired)."""
        base = self._base
        for table in self._tables:
            for key in list(table):
                ids = table[key]
                if ids[-1] < base:
                    del table[key]
                elif ids[0] < base:
                    table[key] = array("q", (g for g in ids if g >= base))
        self._expired_since_compact = 0

    def memory_bytes(self) -> int:
        """Approximate bytes held by fingerprints and band tables (arrays and dict slots)."""
        arrays = sum(a.itemsize * len(a) for a in (self._hashes, self._times, self._nows, self._streams))
        tables = sum(len(ids) * 8 + 64 + 100 for t in self._tables for ids in t.values())
        return arrays + tables

    # ------------------------------------------------------------------ streams
    def observe(self, stream: str, t: float, image: np.ndarray, now: float | None = None) -> list[Signal]:
        """Fingerprint a sampled frame (if a keyframe is due), look it up, index it; signals for
        replay runs now confirmed. ``now`` defaults to ``t`` (offline scans)."""
        if not self.due(stream, t):
            return []
        return self.observe_keyframe(stream, t, keyframe_hash(image), t if now is None else now)

    def due(self, stream: str, t: float) -> bool:
        """Whether a frame of ``stream`` at ``t`` is a keyframe to fingerprint (one per ``every_s``);
        True marks it taken."""
        last = self._last_key.get(stream)
        if last is not None and 0 <= t - last < self.cfg.every_s:
            return False
        self._last_key[stream] = t
        return True

    def observe_keyframe(self, stream: str, t: float, h: int | None, now: float) -> list[Signal]:
        """A keyframe's fingerprint (:func:`keyframe_hash`; None: a flat card, never indexed) looked
        up and indexed. Split from :meth:`observe` so an offline scan can fingerprint while it
        decodes and index its files in input order afterwards."""
        if h is None:
            return self._age_runs(stream, t)
        return self.observe_hash(stream, t, h, now)

    def observe_hash(self, stream: str, t: float, h: int, now: float) -> list[Signal]:
        """:meth:`observe` for an already computed fingerprint (no keyframe throttling)."""
        self.expire(now)
        matches = [(src, ts, d) for src, ts, d in self.lookup(h) if src != stream or t - ts >= self.cfg.min_self_lag_s]
        self.add(stream, t, h, now)
        runs = self._runs.setdefault(stream, [])
        tol = self.cfg.lag_tolerance_s
        extended: set[int] = set()
        for src, ts, d in matches:
            off = ts - t
            for i, run in enumerate(runs):
                if i not in extended and run.source == src and abs(run.offset - off) <= tol:
                    run.count += 1
                    run.last = t
                    run.dist = max(run.dist, d)
                    if len(run.pictures) < 8 and all(
                        (h ^ p).bit_count() >= self.cfg.min_distinct_bits for p in run.pictures
                    ):
                        run.pictures.append(h)
                    extended.add(i)
                    break
            else:
                runs.append(_Run(src, off, t, t, src_start=ts, pictures=[h], dist=d))
                extended.add(len(runs) - 1)
        return self._age_runs(stream, t)

    def _age_runs(self, stream: str, t: float) -> list[Signal]:
        """Signals of confirmed runs; runs not extended for 3 keyframes end."""
        out: list[Signal] = []
        keep: list[_Run] = []
        gap = 3 * self.cfg.every_s + self.cfg.lag_tolerance_s
        for run in self._runs.get(stream, []):
            if t - run.last > gap:
                if self._confirmed(run) and run.emitted_to is not None and run.last > run.emitted_to:
                    out.append(self._signal(stream, run, run.emitted_to, run.last))
                continue
            keep.append(run)
            if self._confirmed(run) and run.last == t:
                since = run.start if run.emitted_to is None else run.emitted_to
                if run.emitted_to is None or t - since >= self.cfg.signal_every_s:
                    out.append(self._signal(stream, run, since, t))
        self._runs[stream] = keep
        return out

    def _confirmed(self, run: _Run) -> bool:
        return run.count >= self.cfg.min_run and len(run.pictures) >= 2

    def end_stream(self, stream: str) -> list[Signal]:
        """The stream ended: report the unreported tail of its confirmed runs. Its fingerprints
        stay indexed (a later replay of it must still be found)."""
        out = [
            self._signal(stream, r, r.emitted_to, r.last)
            for r in self._runs.pop(stream, [])
            if self._confirmed(r) and r.emitted_to is not None and r.last > r.emitted_to
        ]
        self._last_key.pop(stream, None)
        return out

    def _signal(self, stream: str, run: _Run, start: float, end: float) -> Signal:
        run.emitted_to = end
        src_t = run.src_start + (start - run.start)
        same = run.source == stream
        what = "its own footage" if same else f"stream {run.source}"
        return Signal(
            kind="synthetic.replay",
            stream=stream,
            t=start,
            end=end,
            score=max(0.5, 1.0 - run.dist / 64.0 - (0.1 if run.count < 2 * self.cfg.min_run else 0.0)),
            category=self.category,
            text=f"footage replays {what} from its t={src_t:.1f}s ({run.count} keyframes match)",
            label=f"source={run.source}@{src_t:.1f}",
        )
