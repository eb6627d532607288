"""What the item page shows, computed from the stored record (pure functions, no database).

* where the player starts (the first evidence, in clip time) and a marker per signal;
* evidence grouped: identical signals (same kind, term, label, URL and text) become one line
  with a count and their times, instead of one line per sighting;
* highlighted spans of the *original* text: a signal's ``span: [start, end]`` (or ``spans``)
  offsets into its ``text`` when the matcher stored them, else every occurrence of the term;
* a QR code's decoded URL and its domain; the enforcement already taken (from ``enforcement`` /
  ``action`` in the record); the transcript and chat around the item.

Records are stored as given (unknown fields kept), so everything here tolerates missing or
mistyped fields and shows less rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_TEXT_KINDS = ("asr", "chat", "ocr", "caption", "danmaku")


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def signals_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    sigs = record.get("signals")
    return [s for s in sigs if isinstance(s, dict)] if isinstance(sigs, list) else []


def trigger_of(signals: Sequence[Any]) -> str | None:
    """The evidence a queue row shows: the strongest signal's term, label or URL (else its kind)."""
    best: tuple[float, str] | None = None
    for sig in signals:
        what = sig.term or sig.label or sig.url or sig.kind
        if best is None or sig.score > best[0]:
            best = (sig.score, what)
    return best[1][:200] if best else None


def clip_time(record: dict[str, Any], t: float, t_start: float) -> float:
    """Second of the clip that shows media time ``t``.

    With ``clip_start`` the clip's second ``s`` is media time ``clip_start + s`` plus the outage
    gaps before it (``clip_gaps``), so the gaps before ``t`` are taken out. Without it the clip is
    taken to start at the verdict's start.
    """
    start = _num(record.get("clip_start"))
    if start is None:
        return max(0.0, t - t_start)
    cut = 0.0
    gaps = record.get("clip_gaps")
    for g in gaps if isinstance(gaps, list) else []:
        if isinstance(g, list | tuple) and len(g) == 2 and _num(g[0]) is not None and _num(g[1]) is not None:
            a, b = float(g[0]), float(g[1])
            if b <= t:
                cut += b - a
            elif a < t:
                cut += t - a
    return max(0.0, t - start - cut)


def markers(record: dict[str, Any], t_start: float) -> list[dict[str, Any]]:
    """One marker per signal: media time, clip time and a short label (sorted by time)."""
    out = []
    for s in signals_of(record):
        t = _num(s.get("t"))
        if t is None:
            continue
        what = s.get("term") or s.get("label") or s.get("url") or ""
        out.append({"t": t, "clip_t": round(clip_time(record, t, t_start), 3), "kind": s.get("kind"), "what": what})
    return sorted(out, key=lambda m: m["t"])


def start_at(record: dict[str, Any], t_start: float) -> float:
    """Where the player starts: the first evidence, in clip seconds."""
    ms = markers(record, t_start)
    return ms[0]["clip_t"] if ms else 0.0


@dataclass
class Group:
    """Identical evidence seen one or more times."""

    signal: dict[str, Any]
    #: Media times as stored (a legacy record may hold text here; the page shows it as text).
    times: list[Any] = field(default_factory=list)
    best: float = 0.0

    @property
    def count(self) -> int:
        return len(self.times)


def grouped(record: dict[str, Any]) -> list[Group]:
    """Signals grouped by what they say (kind, term, label, URL, text), in order of first sighting."""
    groups: dict[tuple[Any, ...], Group] = {}
    for s in signals_of(record):
        key = tuple(str(s.get(k)) for k in ("kind", "term", "label", "url", "text"))
        g = groups.setdefault(key, Group(s))
        t, score = s.get("t"), _num(s.get("score"))
        if t is not None:
            g.times.append(t)
        g.best = max(g.best, score or 0.0)
    return list(groups.values())


def _spans(s: dict[str, Any], n: int) -> list[tuple[int, int]]:
    raw: Any = s.get("spans") if isinstance(s.get("spans"), list) else [s.get("span")] if s.get("span") else []
    out = []
    for sp in raw:
        if (
            isinstance(sp, list | tuple)
            and len(sp) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in sp)
            and 0 <= sp[0] < sp[1] <= n
        ):
            out.append((sp[0], sp[1]))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(out):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight_term(text: str, terms: Iterable[str]) -> Markup:
    """Escape ``text`` and mark every case-insensitive occurrence of any of ``terms``."""
    low = text.lower()
    hits: list[tuple[int, int]] = []
    for term in {t for t in terms if t}:
        i = 0
        while (j := low.find(term.lower(), i)) >= 0:
            hits.append((j, j + len(term)))
            i = j + len(term)
    return mark(text, hits)


def mark(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    out, i = [], 0
    for a, b in sorted(spans):
        if a < i:
            continue
        out += [escape(text[i:a]), Markup('<mark class="hit">'), escape(text[a:b]), Markup("</mark>")]
        i = b
    out.append(escape(text[i:]))
    return Markup("").join(out)


def highlighted(s: dict[str, Any]) -> tuple[Markup, bool]:
    """The signal's text with its matches marked, and whether a stored span was used."""
    text = s.get("text")
    if not isinstance(text, str) or not text:
        return Markup(""), False
    spans = _spans(s, len(text))
    if spans:
        return mark(text, spans), True
    term = s.get("term")
    return highlight_term(text, [term] if isinstance(term, str) else []), False


def qr_info(s: dict[str, Any]) -> dict[str, str] | None:
    """Decoded payload and domain of a QR signal (``None`` when the signal is no QR code)."""
    kind = str(s.get("kind") or "")
    payload = s.get("url") or (s.get("text") if "qr" in kind else None)
    if "qr" not in kind or not isinstance(payload, str) or not payload:
        return None
    try:
        host = urlsplit(payload if "://" in payload else "//" + payload).hostname or ""
    except ValueError:
        host = ""
    return {"payload": payload, "domain": host}


def enforcement(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Enforcement already taken (``enforcement``: a dict, a list of dicts or a word).

    A record's ``action`` is only what the policy suggests (every verdict carries one), so it
    never counts as taken here: an item must not claim a cut that did not happen.
    """
    raw = record.get("enforcement")
    items = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[dict[str, Any]] = []
    for e in items[:20]:
        if isinstance(e, str):
            out.append({"action": e, "t": None, "ok": None, "detail": None})
        elif isinstance(e, dict):
            t = _num(e.get("t") if "t" in e else e.get("at"))
            ok = e.get("ok") if isinstance(e.get("ok"), bool) else None
            out.append({"action": str(e.get("action", "?")), "t": t, "ok": ok, "detail": e.get("detail")})
    return out


@dataclass(frozen=True)
class ContextLine:
    """A transcript / chat / caption line near the item, with its matches marked."""

    t: float
    kind: str
    html: Markup
    item_id: int
    own: bool
    user: str | None = None


def context_lines(item: Any, rows: Iterable[tuple[int, dict[str, Any]]], radius_s: float) -> list[ContextLine]:
    """Text signals of the stream's items within ``radius_s`` of ``item`` (deduplicated, by time)."""
    lo, hi = item.t_start - radius_s, item.t_end + radius_s
    seen: set[tuple[str, str, float]] = set()
    out: list[ContextLine] = []
    for item_id, record in rows:
        for s in signals_of(record if isinstance(record, dict) else {}):
            t, text, kind = _num(s.get("t")), s.get("text"), str(s.get("kind") or "")
            if t is None or not isinstance(text, str) or not text or not lo <= t <= hi:
                continue
            if not kind.startswith(_TEXT_KINDS):
                continue
            key = (kind, text, round(t, 1))
            if key in seen:
                continue
            seen.add(key)
            html, _ = highlighted(s)
            user = s.get("user") if isinstance(s.get("user"), str) else None
            out.append(ContextLine(t, kind, html, item_id, item_id == item.id, user))
    return sorted(out, key=lambda c: (c.t, c.kind))
