"""Disclosure labels read by OCR → ``disclosure.label`` signals (DESIGN.md §4.3).

The rules ask for synthetic content to be labelled *prominently* (以显著方式予以标识). A label is
therefore evidence only when OCR read it with enough confidence and it covers at least
``min_share`` of the frame: a tiny watermark in a corner is not a prominent label. The share is
measured from the OCR line box; when the label is part of a longer line, the box is scaled by the
label's share of the line's characters (OCR gives one box per line, not per word).

The signal's ``label`` field carries the measured share (``share=0.031``) so a reviewer can see why
a label did or did not count. These signals never become verdicts; fusion uses them to suppress
``synthetic_unlabeled`` (``CategoryPolicy.suppressed_by``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from moderation.config import DisclosureConfig
from moderation.messages import Box, KeywordHit, OcrResult, Signal, TextLine

MatchFn = Callable[[str], list[KeywordHit]]

#: Lexicon category of disclosure terms (models/lexicons/synthetic_disclosure.yaml).
DISCLOSURE_CATEGORY = "disclosure"


def label_box(line: TextLine, hit: KeywordHit) -> Box:
    """The part of a line's box the matched label covers (horizontal text assumed)."""
    x, y, w, h = line.box
    n = max(len(line.text), 1)
    s, e = hit.span
    return (x + w * s / n, y, w * max(e - s, 1) / n, h)


def screen_share(box: Box, frame_size: tuple[int, int]) -> float | None:
    """Share of the frame area a box covers; None when the frame size is unknown."""
    width, height = frame_size
    if width <= 0 or height <= 0:
        return None
    return max(box[2], 0.0) * max(box[3], 0.0) / (width * height)


def disclosure_signals(results: Iterable[OcrResult], match: MatchFn, cfg: DisclosureConfig) -> list[Signal]:
    """One signal per prominent disclosure label per OCR result (the best one on that frame)."""
    out: list[Signal] = []
    for res in results:
        best: Signal | None = None
        for line in res.lines:
            for hit in match(line.text):
                if hit.category != DISCLOSURE_CATEGORY:
                    continue
                score = hit.weight * line.score
                box = label_box(line, hit)
                share = screen_share(box, res.frame_size)
                if score < cfg.min_score or (share is not None and share < cfg.min_share):
                    continue
                sig = Signal(
                    kind="disclosure.label",
                    stream=res.stream,
                    t=res.t,
                    score=score,
                    category=DISCLOSURE_CATEGORY,
                    term=hit.term,
                    text=line.text,
                    box=box,
                    label=f"share={share:.4f}" if share is not None else "share=unknown",
                )
                if best is None or sig.score > best.score:
                    best = sig
        if best is not None:
            out.append(best)
    return out
