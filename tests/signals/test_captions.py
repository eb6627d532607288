"""Caption extents: a flagged caption's signals last while its region still shows it."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.config import load_pipeline
from moderation.messages import Box, Signal, VideoFrame
from moderation.policy.fuse import fuse
from moderation.samplegen import Background, paste, render_text
from moderation.samplegen.sample import GAMBLING_OVERLAY
from moderation.signals.captions import CaptionTracker

W, H = 640, 360
CAPTION = render_text(GAMBLING_OVERLAY, font_size=40)
OTHER = render_text("今日菜谱：番茄炒蛋", font_size=40)
XY = (80, 250)
#: The line box OCR reports: the glyphs inside the rendered panel, not the whole panel.
LINE: Box = (XY[0] + 10.0, XY[1] + 10.0, CAPTION.shape[1] - 20.0, CAPTION.shape[0] - 20.0)


def frame(t: float, caption: np.ndarray | None = CAPTION, *, bare: bool = False) -> VideoFrame:
    img = Background(W, H, seed=0).frame(t)
    if caption is not None:
        if bare:  # glyphs straight on the moving scene, no panel behind them
            region = img[XY[1] : XY[1] + caption.shape[0], XY[0] : XY[0] + caption.shape[1]]
            ink = caption.max(axis=2) > 128
            region[ink] = caption[ink]
        else:
            paste(img, caption, *XY)
    return VideoFrame("s1", t, img)


def hit(t: float, term: str = "百家乐", box: Box = LINE) -> Signal:
    return Signal(
        kind="ocr.keyword", stream="s1", t=t, score=0.9, category="gambling", term=term, text=GAMBLING_OVERLAY, box=box
    )


def run(shown: dict[float, np.ndarray | None], read_at: list[float], tracker: CaptionTracker, **kw) -> list[Signal]:  # type: ignore[no-untyped-def]
    """Sampled frames at the given times; OCR reads (and flags) the ones in ``read_at``."""
    out: list[Signal] = []
    for t, cap in sorted(shown.items()):
        f = frame(t, cap, **kw)
        if t in read_at:
            out.append(hit(t))
            out += tracker.read(f, [hit(t)])
        out += tracker.observe(f)
    return out + tracker.finish()


def test_caption_on_screen_26_to_33_s_spans_its_seconds_from_one_read() -> None:
    shown = {float(t): (CAPTION if 26 <= t < 33 else None) for t in range(20, 41)}
    sigs = run(shown, [26.0], CaptionTracker(extend_s=2.0))
    assert sigs[0].t == 26.0 and sigs[0].end is None  # the read itself
    ext = sigs[1:]
    assert ext and all(s.term == "百家乐" and s.kind == "ocr.keyword" for s in ext)
    assert [s.t for s in ext] == [26.0, *(s.end for s in ext[:-1])]  # contiguous, in order
    assert ext[-1].end == 32.0  # the last sampled frame showing it
    assert all(s.end - s.t <= 2.0 for s in ext)  # reported while it stays, not only at the end
    (v,) = fuse("s1", sigs, load_pipeline("default").policy)
    assert (v.start, v.end) == (26.0, 32.0)


def test_caption_replaced_by_other_text_ends_there() -> None:
    shown = {float(t): (CAPTION if t < 30 else OTHER) for t in range(26, 36)}
    sigs = run(shown, [26.0], CaptionTracker())
    assert max(s.end or s.t for s in sigs) == 29.0


def test_bare_glyphs_over_a_moving_scene_are_followed() -> None:
    shown = {float(t): (CAPTION if t < 33 else None) for t in range(26, 38)}
    sigs = run(shown, [26.0], CaptionTracker(), bare=True)
    assert max(s.end or s.t for s in sigs) == 32.0


def test_live_extensions_grow_while_the_caption_stays() -> None:
    tr = CaptionTracker(extend_s=2.0)
    f0 = frame(0.0)
    assert tr.read(f0, [hit(0.0)]) == [] and tr.observe(f0) == []
    ends = []
    for t in range(1, 9):
        ends += [s.end for s in tr.observe(frame(float(t)))]
    assert ends == [2.0, 4.0, 6.0, 8.0]
    assert tr.finish() == []


def test_a_reread_continues_the_same_caption_and_other_terms_of_the_line_join_it() -> None:
    tr = CaptionTracker(extend_s=100.0)
    tr.read(frame(0.0), [hit(0.0), hit(0.0, term="在线下注")])
    assert tr.tracked == 1
    for t in (1.0, 2.0):
        tr.observe(frame(t))
    tr.read(frame(3.0), [hit(3.0)])
    tr.observe(frame(3.0))
    assert tr.tracked == 1
    tail = tr.finish()
    assert sorted((s.term, s.t, s.end) for s in tail) == sorted([("百家乐", 0.0, 3.0), ("在线下注", 0.0, 3.0)])


def test_regions_are_bounded_and_odd_input_is_ignored() -> None:
    tr = CaptionTracker(max_regions=2)
    boxes = [(10.0 + 100 * i, 10.0, 80.0, 30.0) for i in range(3)]
    f = frame(0.0)
    tr.read(f, [hit(0.0, term=f"t{i}", box=b) for i, b in enumerate(boxes)])
    assert tr.tracked == 2
    outside = Signal(
        kind="ocr.keyword", stream="s1", t=0.0, score=1, category="gambling", term="x", box=(900, 900, 5, 5)
    )
    other_kind = Signal(kind="qr.url", stream="s1", t=0.0, score=1, category="gambling", box=(10, 10, 50, 50))
    tr.read(f, [outside, other_kind])
    assert tr.tracked == 2


@pytest.mark.parametrize(
    ("kw", "word"),
    [({"extend_s": 0}, "extend_s"), ({"tolerance": 1.5}, "tolerance"), ({"max_regions": 0}, "max_regions")],
)
def test_bad_settings_are_refused(kw: dict, word: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=word):
        CaptionTracker(**kw)


def test_a_caption_ocr_no_longer_finds_ends_at_its_last_matching_frame() -> None:
    # The region still looks the same (the caption image stays), but OCR read the frame at 30 s
    # and found no keyword there: OCR is the authority, so the caption ends at 29 s.
    tracker = CaptionTracker(extend_s=10.0)
    out = tracker.read(frame(26.0), [hit(26.0)])
    for t in (27.0, 28.0, 29.0):
        out += tracker.observe(frame(float(t)))
    out += tracker.read(frame(30.0), [])
    assert tracker.tracked == 0
    assert out and out[-1].end == 29.0
    assert tracker.observe(frame(31.0)) == [] and tracker.finish() == []
