"""Which frames are worth OCR: a cheap per-stream decision before the expensive OCR model runs.

OCR (PP-OCRv4 det + rec) costs tens to hundreds of milliseconds per frame on a CPU, far more than
the vision models, and most frames of a stream either show no text at all or the same caption as
the frame OCR already read. :class:`OcrGate` looks at a small grey copy of each sampled frame
(≈1 ms) and lets a frame through only when all of these hold:

1. **rate** — at most ``OcrConfig.fps`` frames per media second are read (lower than the vision
   rate); a rate slot is used up only by a frame that is actually read, so when a caption appears
   the first frame showing it is read, not the next slot's;
2. **text-likely** — enough grid cells of the downscaled frame are dense in sharp intensity
   steps (strokes of glyphs); flat colour, smooth gradients and blurred objects have none;
3. **changed** — the frame's text differs from the last frame OCR read for this stream (a small
   block-mean thumbnail of the glyph-edge map, compared cell by cell *where either frame has
   text-like cells*: a caption that stays put over a moving or panning scene is not new text), or ``refresh_s``
   passed since that read, so a caption that stays on screen is still re-read now and then and
   keeps its verdict alive.

The gate keeps counters (``stats``) so a scan can report how much OCR it saved, and each decision
carries the text-likely regions (``(x, y, w, h)`` in frame pixels) for debugging and the UI; the
OCR signals themselves carry the recognised line boxes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from moderation.config import OcrConfig
from moderation.messages import Box, VideoFrame
from moderation.sample.frames import shrink

__all__ = ["GateDecision", "GateStats", "OcrGate", "text_regions"]

_EPS = 1e-6


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided for one frame and why."""

    t: float
    run: bool
    #: ``ocr`` (read it), ``rate`` (slot already used), ``no_text``, ``unchanged``, ``refresh``
    #: (unchanged but due for a re-read), ``ungated`` (gate disabled, rate only)
    reason: str
    text_cells: int = 0
    changed_share: float = 0.0
    regions: tuple[Box, ...] = ()


@dataclass
class GateStats:
    """Counters of one stream's gate."""

    frames: int = 0  # frames offered
    rate_skipped: int = 0  # not due at the OCR rate
    no_text: int = 0  # due, but nothing text-like
    unchanged: int = 0  # due and text-like, but the same as the last frame read
    ocr: int = 0  # sent to OCR
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def gated(self) -> int:
        """Frames due at the OCR rate that the gate kept away from OCR."""
        return self.no_text + self.unchanged


def _gray_small(image: np.ndarray, side: int) -> np.ndarray:
    """Grey copy of a BGR (or grey) frame with its longer side at most ``side`` (:func:`shrink`)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    scale = side / max(h, w)
    if scale < 1.0:
        gray = shrink(gray, max(1, round(w * scale)), max(1, round(h * scale)))
    return gray


def _edges(gray: np.ndarray, cfg: OcrConfig) -> np.ndarray:
    """Pixels with a sharp grey step to their right or lower neighbour (glyph strokes)."""
    a = gray.astype(np.int16)
    edges = np.zeros(a.shape, bool)
    edges[:, 1:] |= np.abs(np.diff(a, axis=1)) >= cfg.gate.edge_threshold
    edges[1:, :] |= np.abs(np.diff(a, axis=0)) >= cfg.gate.edge_threshold
    return edges


def _text_cells(gray: np.ndarray, cfg: OcrConfig, edges: np.ndarray | None = None) -> np.ndarray:
    """Boolean grid: cells whose share of sharp-step pixels reaches ``gate.min_cell_density``."""
    g = cfg.gate
    edges = _edges(gray, cfg) if edges is None else edges
    c = g.cell
    rows, cols = edges.shape[0] // c, edges.shape[1] // c
    if rows == 0 or cols == 0:  # smaller than one cell: judge the whole image as one cell
        return np.array([[edges.mean() >= g.min_cell_density]])
    density = edges[: rows * c, : cols * c].reshape(rows, c, cols, c).mean(axis=(1, 3))
    return np.asarray(density >= g.min_cell_density)


def text_regions(cells: np.ndarray, cell_px: float) -> tuple[Box, ...]:
    """Bounding boxes (in the pixels of the frame the grid was scaled from) of connected text cells."""
    if not cells.any():
        return ()
    n, _, stats, _ = cv2.connectedComponentsWithStats(cells.astype(np.uint8), connectivity=8)
    out = []
    for x, y, w, h, _area in stats[1:n]:
        out.append((float(x * cell_px), float(y * cell_px), float(w * cell_px), float(h * cell_px)))
    return tuple(out)


def _thumbnail(gray: np.ndarray, grid: int) -> np.ndarray:
    return cv2.resize(gray, (grid, grid), interpolation=cv2.INTER_AREA).astype(np.int16)


class OcrGate:
    """Per-stream gate; call :meth:`decide` (or :meth:`select`) on every sampled frame in time order."""

    def __init__(self, cfg: OcrConfig, reset_after_s: float = 2.0) -> None:
        self.cfg = cfg
        self.reset_after_s = reset_after_s
        self.stats = GateStats()
        self.reset()

    def reset(self) -> None:
        """Forget the last read (a reconnect or a clock reset)."""
        self._last_slot: int | None = None
        self._last_t: float | None = None
        self._last_read_t: float | None = None
        self._last_thumb: np.ndarray | None = None
        self._last_mask: np.ndarray | None = None

    def retime(self, fps: float) -> None:
        """Read at most ``fps`` frames per media second from now on (a running stream re-steered);
        the slot last used is re-expressed at the new rate so a lower rate does not stall."""
        self.cfg = self.cfg.model_copy(update={"fps": float(fps)})
        last = self._last_read_t if self._last_read_t is not None else self._last_t
        if self._last_slot is not None and last is not None:
            self._last_slot = math.floor(last * self.cfg.fps + _EPS)

    def _count(self, d: GateDecision) -> GateDecision:
        s = self.stats
        s.reasons[d.reason] = s.reasons.get(d.reason, 0) + 1
        if d.run:
            s.ocr += 1
        elif d.reason == "rate":
            s.rate_skipped += 1
        elif d.reason == "no_text":
            s.no_text += 1
        elif d.reason == "unchanged":
            s.unchanged += 1
        return d

    def decide(self, frame: VideoFrame, gray: Callable[[np.ndarray], np.ndarray] | None = None) -> GateDecision:
        """Whether ``frame`` goes to OCR; records it as read when it does. ``gray`` gives the frame's
        grey copy when other stages share it (:class:`~moderation.sample.frames.GrayFrames`)."""
        t = frame.t
        self.stats.frames += 1
        if self._last_t is not None and t < self._last_t - self.reset_after_s:
            self.reset()
        self._last_t = t
        slot = math.floor(t * self.cfg.fps + _EPS)
        if self._last_slot is not None and slot <= self._last_slot:
            return self._count(GateDecision(t, False, "rate"))
        g = self.cfg.gate
        if not g.enabled:
            self._last_slot = slot
            return self._count(GateDecision(t, True, "ungated"))
        gray_small = _gray_small(frame.image if gray is None else gray(frame.image), g.side)
        edges = _edges(gray_small, self.cfg)
        cells = _text_cells(gray_small, self.cfg, edges)
        n_cells = int(cells.sum())
        scale = max(frame.image.shape[:2]) / max(gray_small.shape[:2])
        regions = text_regions(cells, g.cell * scale)
        if n_cells < g.min_text_cells:
            return self._count(GateDecision(t, False, "no_text", n_cells, 0.0, regions))
        # Compared: the thumbnail of the glyph-edge map (not of the grey image), only where text is
        # now or was in the last frame read. A caption that stays put keeps its edges while the
        # scene pans or an object moves behind it (smooth, no edges), so it is not read again
        # and again; new or different text moves the edges.
        thumb = _thumbnail(edges.astype(np.uint8) * 255, g.change_grid)
        mask = self._text_mask(cells, gray_small.shape, g.cell, g.change_grid)
        changed = 1.0
        if self._last_thumb is not None and self._last_mask is not None:
            where = mask | self._last_mask
            changed = float((np.abs(thumb - self._last_thumb) >= g.change_delta)[where].mean())
        reason = "ocr"
        if changed < g.min_changed_share:
            due = g.refresh_s is not None and self._last_read_t is not None and t - self._last_read_t >= g.refresh_s
            if not due:
                return self._count(GateDecision(t, False, "unchanged", n_cells, changed, regions))
            reason = "refresh"
        self._last_slot = slot
        self._last_read_t = t
        self._last_thumb = thumb
        self._last_mask = mask
        return self._count(GateDecision(t, True, reason, n_cells, changed, regions))

    @staticmethod
    def _text_mask(cells: np.ndarray, shape: tuple[int, ...], cell: int, grid: int) -> np.ndarray:
        """Text-like cells (grid over the cell-aligned part of the grey copy) as a ``grid`` × ``grid``
        boolean mask over the whole grey copy, the thumbnail's geometry; never empty."""
        h, w = shape[:2]
        full = np.zeros((h, w), np.uint8)
        rows, cols = cells.shape
        if rows * cell <= h and cols * cell <= w and cells.any():
            full[: rows * cell, : cols * cell] = np.kron(cells.astype(np.uint8), np.ones((cell, cell), np.uint8))
        mask = cv2.resize(full.astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA) > 0
        return mask if mask.any() else np.ones((grid, grid), bool)

    def select(
        self, frames: list[VideoFrame], gray: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> list[VideoFrame]:
        """The frames of a batch that go to OCR, in order (``gray`` as for :meth:`decide`)."""
        return [f for f in frames if self.decide(f, gray).run]
