"""QR codes in frames → URLs → ``qr.url`` signals.

Gambling rooms put a QR code on screen that leads to a betting site. We decode every QR code in
the sampled frames with OpenCV, judge the URL against configured rules (blocked domains and their
subdomains, URL regular expressions) and the lexicon,
and report a code that stays on screen as one appearance whose signals span the seconds it is
visible (``t``..``end``), not one point per frame: fusion counts them as one observation (the same
URL) and the verdict lasts as long as the code is shown.

The score is the evidence the URL itself carries: a blocked domain or a configured URL pattern is
conclusive, a lexicon term in the host name is strong (a site named after gambling is chosen by its
owner, it is not a passing mention), other lexicon terms count at their lexicon weight and distinct
terms corroborate each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np

from moderation.messages import Box, KeywordHit, Signal


@dataclass(frozen=True)
class QrCode:
    """One decoded QR code in one frame."""

    data: str
    box: Box


#: ArUco's adaptive threshold is tried at window sizes 3, 3 + step, … up to 23 px: with a step of 20
#: it runs at 3 and 23 only, half the passes of the default step 10 (3, 13, 23), and decoded the
#: same codes on the generated set (``benchmarks/results/qr_detectors.md``).
THRESHOLD_WINDOW_STEP = 20


def qr_detector() -> cv2.QRCodeDetectorAruco:
    """The detector :func:`decode_qr` uses (also what ``benchmarks/qr_detectors.py`` measures)."""
    detector = cv2.QRCodeDetectorAruco()
    params = detector.getArucoParameters()
    params.adaptiveThreshWinSizeStep = THRESHOLD_WINDOW_STEP
    detector.setArucoParameters(params)
    return detector


def decode_qr(image: np.ndarray) -> list[QrCode]:
    """Decode every QR code in a BGR (or grey) frame. Codes that are found but unreadable are skipped.

    OpenCV's ArUco-based detector, not the classic ``QRCodeDetector``: on 720p frames it rejects
    a frame without a code several times faster (most sampled frames have none, and this runs on
    every stream), and on generated codes at 2-6 pixels per module, rotated up to 30 degrees and
    JPEG-compressed it decoded more of them (``benchmarks/results/qr_detectors.md``). The search
    runs on the grey image with two threshold windows (:data:`THRESHOLD_WINDOW_STEP`). Constructing
    a detector is microseconds, so each call has its own and worker threads share nothing.
    """
    detector = qr_detector()
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    try:
        ok, texts, points, _ = detector.detectAndDecodeMulti(image)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    found: list[QrCode] = []
    for text, quad in zip(texts, points, strict=False):
        if not text:
            continue
        xs, ys = quad[:, 0], quad[:, 1]
        box = (float(xs.min()), float(ys.min()), float(xs.max() - xs.min()), float(ys.max() - ys.min()))
        found.append(QrCode(data=text, box=box))
    return found


_URL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?[^\s/]+\.[^\s/]+", re.IGNORECASE)


def host_of(data: str) -> str | None:
    """The host a QR payload points to, or None when the payload is not a URL."""
    data = data.strip()
    if not _URL_RE.match(data):
        return None
    parts = urlsplit(data if "://" in data else f"http://{data}")
    return (parts.hostname or "").lower() or None


def url_words(url: str) -> str:
    """A URL as plain words ("bet-casino-888.example/register" → "bet casino 888 example register")
    so lexicon terms match inside host names and paths on word boundaries."""
    return re.sub(r"[^0-9a-zA-Z\u00c0-\uffff]+", " ", unquote(url)).strip()


def domain_blocked(host: str, blocked: Sequence[str]) -> str | None:
    """The blocked domain that ``host`` equals or is a subdomain of, if any."""
    for domain in blocked:
        d = domain.lower().lstrip(".")
        if host == d or host.endswith("." + d):
            return d
    return None


Verdict = tuple[str, float, str | None]  # (category, score, term)


def _noisy_or(scores: Iterable[float]) -> float:
    """Independent pieces of evidence combined as fusion combines them (``rules.noisy_or``)."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - remaining


#: Hit contexts that never count as evidence (``KeywordHit.context``).
_NOT_EVIDENCE = ("counter", "nominal")


@dataclass
class _Appearance:
    """One code's current stay on screen."""

    verdict: Verdict | None  # None: seen, but not evidence (still tracked so it is judged once)
    box: Box
    last: float  # latest sighting
    reported: float  # signals cover the appearance up to here


class QrTracker:
    """Per-stream QR state: codes seen frame after frame → signals spanning their appearance.

    A code counts as the same appearance while it keeps being seen with gaps shorter than
    ``gap_s``; after a longer absence it is a new appearance. Its first sighting is reported at
    once (``t == end``: a live alert needs no second frame); while it stays, a signal covering the
    seconds since the last one (``t`` = where that one ended, ``end`` = the latest sighting) follows
    every ``extend_s`` seconds, so a live verdict grows with it and its end is never more than
    ``extend_s`` behind; when the code has been missing for ``extend_s`` (gone, or decoding missed
    it) the seconds not yet reported are flushed. :meth:`finish` flushes what is left at the end of
    the stream. Every signal of an appearance carries the same URL and score, so fusion counts them
    as one observation.
    """

    def __init__(
        self,
        stream: str,
        blocked_domains: Sequence[str] = (),
        match_text: Callable[[str], list[KeywordHit]] | None = None,
        gap_s: float = 10.0,
        url_patterns: Sequence[str] = (),
        *,
        extend_s: float = 2.0,
        host_term_score: float = 0.9,
    ) -> None:
        if not extend_s > 0:
            raise ValueError(f"extend_s must be positive, got {extend_s}")
        if not 0 <= host_term_score <= 1:
            raise ValueError(f"host_term_score must be within 0..1, got {host_term_score}")
        self.stream = stream
        self.blocked_domains = tuple(blocked_domains)
        #: regular expressions searched (case-insensitively) in the whole payload (``QrConfig.url_patterns``)
        self.url_patterns = tuple(re.compile(p, re.IGNORECASE) for p in url_patterns)
        self.match_text = match_text
        self.gap_s = gap_s
        self.extend_s = extend_s
        #: score of a lexicon term found in the URL's host name (at least its lexicon weight)
        self.host_term_score = host_term_score
        self._seen: dict[str, _Appearance] = {}

    def judge(self, data: str) -> Verdict | None:
        """(category, score, term) when a payload is evidence, else None."""
        host = host_of(data)
        if host is not None:
            hit = domain_blocked(host, self.blocked_domains)
            if hit is not None:
                return ("gambling", 1.0, hit)
        for pattern in self.url_patterns:
            if pattern.search(data):
                return ("gambling", 1.0, pattern.pattern)
        if self.match_text is None:
            return None
        hits = [h for h in self.match_text(url_words(data)) if h.weight > 0 and h.context not in _NOT_EVIDENCE]
        if not hits:
            return None
        in_host = {h.term for h in self.match_text(url_words(host))} if host is not None else set()
        per_category: dict[str, dict[str, float]] = {}
        for h in hits:
            score = max(h.weight, self.host_term_score) if h.term in in_host else h.weight
            terms = per_category.setdefault(h.category, {})
            terms[h.term] = max(terms.get(h.term, 0.0), min(score, 1.0))
        category, terms = max(per_category.items(), key=lambda kv: (_noisy_or(kv[1].values()), kv[0]))
        best = max(terms.items(), key=lambda kv: (kv[1], kv[0]))[0]
        return (category, _noisy_or(terms.values()), best)

    def _signal(self, data: str, app: _Appearance, t: float, end: float) -> Signal | None:
        if app.verdict is None:
            return None
        category, score, term = app.verdict
        return Signal(
            kind="qr.url",
            stream=self.stream,
            t=t,
            end=end,
            score=score,
            category=category,
            term=term,
            url=data,
            box=app.box,
        )

    def _flush(self, data: str, app: _Appearance) -> Signal | None:
        """The seconds of ``app`` not yet covered by a signal, as one signal (None when none)."""
        if app.last <= app.reported:
            return None
        start, app.reported = app.reported, app.last
        return self._signal(data, app, start, app.last)

    def observe(self, t: float, codes: Sequence[QrCode]) -> list[Signal]:
        """Signals for the codes decoded in the frame at media time ``t`` (frames in time order)."""
        out: list[Signal | None] = []
        present = {c.data: c for c in codes}
        for data in list(self._seen):
            app = self._seen[data]
            away = t - app.last
            if data in present and away <= self.gap_s:
                continue
            if away >= self.extend_s or away > self.gap_s:  # missing for a while: report its seconds
                out.append(self._flush(data, app))
            if away > self.gap_s:  # this appearance is over (if it is back, that is a new one)
                del self._seen[data]
        for data, code in present.items():
            cur = self._seen.get(data)
            if cur is None:
                cur = self._seen[data] = _Appearance(self.judge(data), code.box, t, t)
                out.append(self._signal(data, cur, t, t))
                continue
            cur.last, cur.box = max(cur.last, t), code.box
            if cur.last - cur.reported >= self.extend_s:
                out.append(self._flush(data, cur))
        return sorted((s for s in out if s is not None), key=lambda s: s.t)

    def finish(self) -> list[Signal]:
        """End of stream: the seconds of every code on screen not yet reported."""
        out = [s for data, app in self._seen.items() if (s := self._flush(data, app)) is not None]
        self._seen.clear()
        return sorted(out, key=lambda s: s.t)
