"""QR codes in frames → URLs → ``qr.url`` signals.

Gambling rooms put a QR code on screen that leads to a betting site. We decode every QR code in
the sampled frames with OpenCV, judge the URL against configured rules (blocked domains and their
subdomains, URL regular expressions) and the lexicon,
and report a code that stays on screen for many frames as one signal, not one per frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


def decode_qr(image: np.ndarray) -> list[QrCode]:
    """Decode every QR code in a BGR frame. Codes that are found but unreadable are skipped."""
    detector = cv2.QRCodeDetector()
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


class QrTracker:
    """Per-stream QR state: turns codes seen frame after frame into one signal per appearance.

    A code counts as the same appearance while it keeps being seen with gaps shorter than
    ``gap_s``; after a longer absence it is reported again (it came back).
    """

    def __init__(
        self,
        stream: str,
        blocked_domains: Sequence[str] = (),
        match_text: Callable[[str], list[KeywordHit]] | None = None,
        gap_s: float = 10.0,
        url_patterns: Sequence[str] = (),
    ) -> None:
        self.stream = stream
        self.blocked_domains = tuple(blocked_domains)
        #: regular expressions searched (case-insensitively) in the whole payload (``QrConfig.url_patterns``)
        self.url_patterns = tuple(re.compile(p, re.IGNORECASE) for p in url_patterns)
        self.match_text = match_text
        self.gap_s = gap_s
        self._last_seen: dict[str, float] = {}

    def judge(self, data: str) -> tuple[str, float, str | None] | None:
        """(category, score, term) when a payload is evidence, else None."""
        host = host_of(data)
        if host is not None:
            hit = domain_blocked(host, self.blocked_domains)
            if hit is not None:
                return ("gambling", 1.0, hit)
        for pattern in self.url_patterns:
            if pattern.search(data):
                return ("gambling", 1.0, pattern.pattern)
        if self.match_text is not None:
            hits = self.match_text(url_words(data))
            if hits:
                best = max(hits, key=lambda h: h.weight)
                return (best.category, best.weight, best.term)
        return None

    def observe(self, t: float, codes: Sequence[QrCode]) -> list[Signal]:
        """Signals for codes that newly appeared at media time ``t``."""
        out: list[Signal] = []
        if len(self._last_seen) > 4096:  # a long live stream with many codes: forget ended appearances
            self._last_seen = {d: s for d, s in self._last_seen.items() if t - s <= self.gap_s}
        for code in codes:
            last = self._last_seen.get(code.data)
            self._last_seen[code.data] = t
            if last is not None and t - last <= self.gap_s:
                continue
            verdict = self.judge(code.data)
            if verdict is None:
                continue
            category, score, term = verdict
            out.append(
                Signal(
                    kind="qr.url",
                    stream=self.stream,
                    t=t,
                    score=score,
                    category=category,
                    term=term,
                    url=code.data,
                    box=code.box,
                )
            )
        return out
