"""Pool-wide replay index: a stream replaying another stream's (or its own, hours earlier) footage
opens synthetic_unlabeled naming the source; unrelated, static and flat footage does not."""

from __future__ import annotations

import random

import cv2
import numpy as np

from moderation.config import ReplayIndexConfig
from moderation.messages import Signal
from moderation.signals.replay_index import ReplayIndex


def scene(seed: int, i: int, noise: int = 0) -> np.ndarray:
    """Frame ``i`` of footage ``seed``: smooth random blobs, a different picture per index;
    ``noise`` adds re-encoding-like grain and a slight rescale."""
    rng = np.random.default_rng(seed * 100_003 + i)
    low = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = cv2.resize(low, (160, 120), interpolation=cv2.INTER_CUBIC)
    if noise:
        g = np.random.default_rng(i).normal(0, noise, img.shape)
        img = np.clip(img.astype(np.float64) + g, 0, 255).astype(np.uint8)
        img = cv2.resize(cv2.resize(img, (150, 112)), (160, 120))
    return img


def feed(ix: ReplayIndex, stream: str, frames: list[tuple[float, np.ndarray]], now0: float) -> list[Signal]:
    out: list[Signal] = []
    for t, img in frames:
        out += ix.observe(stream, t, img, now=now0 + t)
    return out + ix.end_stream(stream)


def footage(seed: int, start: int, n: int, noise: int = 0) -> list[np.ndarray]:
    return [scene(seed, start + k, noise) for k in range(n)]


def test_replay_of_another_stream_names_source_and_time() -> None:
    ix = ReplayIndex(ReplayIndexConfig(every_s=2.0))
    src = footage(1, 0, 40)
    assert feed(ix, "roomA", [(2.0 * k, f) for k, f in enumerate(src)], 0.0) == []
    # an hour later room B shows A's footage from its second 20 on, re-encoded, on its own clock
    replay = footage(1, 10, 20, noise=6)
    sigs = feed(ix, "roomB", [(100.0 + 2.0 * k, f) for k, f in enumerate(replay)], 3600.0)
    assert sigs and all(s.kind == "synthetic.replay" and s.category == "synthetic_unlabeled" for s in sigs)
    assert sigs[0].label == "source=roomA@20.0" and "stream roomA" in (sigs[0].text or "")
    assert sigs[0].t == 100.0 and max(s.end or 0 for s in sigs) == 138.0


def test_unrelated_static_and_flat_footage_do_not_match() -> None:
    ix = ReplayIndex(ReplayIndexConfig(every_s=2.0))
    still = scene(9, 0)
    black = np.zeros((120, 160, 3), np.uint8)
    black[:, :, 2] = 200  # a solid red card: flat, though its channels differ
    feed(ix, "a", [(2.0 * k, f) for k, f in enumerate(footage(1, 0, 30))], 0.0)
    feed(ix, "still", [(2.0 * k, still) for k in range(30)], 0.0)
    n = len(ix)
    feed(ix, "dark", [(2.0 * k, black) for k in range(30)], 0.0)
    assert len(ix) == n  # flat frames are never indexed
    assert feed(ix, "b", [(2.0 * k, f) for k, f in enumerate(footage(2, 0, 30))], 100.0) == []
    assert feed(ix, "still2", [(2.0 * k, still) for k in range(30)], 100.0) == []  # one picture: no replay
    assert feed(ix, "dark2", [(2.0 * k, black) for k in range(30)], 100.0) == []


def test_own_footage_hours_later_counts_but_not_within_the_self_lag() -> None:
    ix = ReplayIndex(ReplayIndexConfig(every_s=2.0, min_self_lag_s=300))
    frames = [(2.0 * k, f) for k, f in enumerate(footage(3, 0, 20))]
    for t, f in frames:
        assert ix.observe("a", t, f, now=t) == []
    again = [(7200.0 + t, f) for t, f in frames]
    sigs = [s for t, f in again for s in ix.observe("a", t, f, now=t)]
    assert sigs and sigs[0].label == "source=a@0.0" and "its own footage" in (sigs[0].text or "")


def test_footage_beyond_the_horizon_is_forgotten() -> None:
    ix = ReplayIndex(ReplayIndexConfig(every_s=2.0, horizon_h=1.0))
    feed(ix, "a", [(2.0 * k, f) for k, f in enumerate(footage(4, 0, 20))], 0.0)
    assert feed(ix, "b", [(2.0 * k, f) for k, f in enumerate(footage(4, 0, 20))], 7200.0) == []
    assert len(ix) == 20  # only b's own fingerprints are left


def test_lookup_finds_every_hash_within_match_bits_like_a_scan() -> None:
    """Multi-index lookup is exact: the same answers as comparing against every fingerprint."""
    cfg = ReplayIndexConfig(match_bits=7)
    ix = ReplayIndex(cfg)
    rnd = random.Random(5)
    stored = [rnd.getrandbits(64) for _ in range(3000)]
    for k, h in enumerate(stored):
        ix.add("s", float(k), h, 0.0)
    for _ in range(200):
        base = stored[rnd.randrange(len(stored))]
        probe = base
        for _flip in range(rnd.randrange(0, 10)):
            probe ^= 1 << rnd.randrange(64)
        want = sorted(float(i) for i, h in enumerate(stored) if (h ^ probe).bit_count() <= cfg.match_bits)
        assert sorted(t for _, t, _ in ix.lookup(probe)) == want
    assert ix.candidates < 200 * 3000 / 20  # far fewer comparisons than a scan
