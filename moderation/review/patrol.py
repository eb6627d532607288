"""The patrol wall's data: one compact snapshot of the live streams, built server-side.

Two sources meet here. The review store knows every open *provisional* item (a live violation
still going on, written by the pipeline's sink at its alert, see ``sink.py``) with its category,
severity and latest thumbnail, and each streamer's risk tier. The pool's control API
(``moderation serve``, ``GET /streams``) knows which streams are watched and how they are doing
(state, lag, drops, reconnects). The review server asks the pool itself with the pool's token
(:class:`HttpPoolStatus`), so a browser never holds that token. Without a pool, or while it cannot
be reached, the wall shows the store's view: streams with provisional items, grouped by stream.

:func:`build_snapshot` is pure apart from its store reads, so it is tested without HTTP; the
SSE hub (``patrol_hub.py``) decides when to rebuild and push it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from moderation.config.patrol import PatrolConfig
from moderation.policy.risk import RiskModel
from moderation.review import schema
from moderation.review.store import ReviewStore

I = schema.items  # noqa: E741 - same alias as in store.py

#: Provisional items read per snapshot at most (newest first); far above a pool's open alerts.
MAX_ITEMS = 5000
#: Stream states of the pool (``moderation.pipeline.status.StreamState``) the wall passes on.
STATES = ("starting", "live", "reconnecting", "ended", "error")


class PoolUnavailable(Exception):
    """The pool's status could not be read; the message is one line for the wall to show."""


class PoolStatusSource(Protocol):
    """Anything that lists the pool's stream statuses (``GET /streams`` of the control API)."""

    async def fetch(self) -> list[dict[str, Any]]:
        """The statuses; raise :class:`PoolUnavailable` with a one-line reason on failure."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class PoolView:
    """What the last pool request gave: statuses, or why there are none."""

    configured: bool = False
    streams: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None


class HttpPoolStatus:
    """``GET <pool_url>/streams`` with the pool's bearer token (one pooled HTTP client)."""

    def __init__(self, cfg: PatrolConfig) -> None:
        import httpx

        if cfg.pool_url is None:
            raise ValueError("patrol.pool_url is not set")
        token = cfg.token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = f"{cfg.pool_url}/streams"
        self._client = httpx.AsyncClient(headers=headers, timeout=cfg.pool_timeout_s, follow_redirects=False)

    async def fetch(self) -> list[dict[str, Any]]:
        import httpx

        try:
            resp = await self._client.get(self.url)
        except httpx.HTTPError as exc:
            why = str(exc).splitlines()[0] if str(exc) else ""
            raise PoolUnavailable(f"pool unreachable: {type(exc).__name__} {why}".strip()) from None
        if resp.status_code == 401:
            raise PoolUnavailable("pool refused the token (401): set patrol.pool_token or MODERATION_POOL_TOKEN")
        if resp.status_code != 200:
            raise PoolUnavailable(f"pool answered HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise PoolUnavailable("pool answered with something that is not JSON") from None
        if not isinstance(data, list):
            raise PoolUnavailable("pool answered with something that is not a list of streams")
        return [d for d in data if isinstance(d, dict)]

    async def aclose(self) -> None:
        await self._client.aclose()


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _text(value: Any, limit: int = 300) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def health(status: Mapping[str, Any] | None, cfg: PatrolConfig) -> str:
    """One word for a tile's colour: ``ok``, ``lagging``, ``degraded`` (a stage died and was
    restarted), ``starting``, ``reconnecting``, ``ended``, ``error``, or ``unknown`` (no pool)."""
    if status is None:
        return "unknown"
    state = status.get("state")
    if state in ("starting", "reconnecting", "ended", "error"):
        return str(state)
    if (_num(status.get("lag_s")) or 0.0) > cfg.lag_warn_s:
        return "lagging"
    if _text(status.get("task_failure")):
        return "degraded"
    return "ok" if state == "live" else "unknown"


def _pool_part(status: Mapping[str, Any], cfg: PatrolConfig) -> dict[str, Any]:
    """The fields of one pool status the wall shows (typed defensively: the pool is another process)."""
    state = status.get("state")
    return {
        "state": state if state in STATES else None,
        "health": health(status, cfg),
        "lag_s": _num(status.get("lag_s")),
        "media_t": _num(status.get("media_t")),
        "dropped": _num(status.get("frames_dropped")),
        "reconnects": _num(status.get("reconnects")),
        "error": _text(status.get("error")) or _text(status.get("task_failure")),
        "in_pool": True,
    }


def _provisional_rows(store: ReviewStore, since: float) -> list[sa.Row[Any]]:
    """Open provisional items updated since ``since``, newest first.

    Provisional items always carry a violation id (``messages.Verdict`` refuses one without), so
    ``violation_key IS NOT NULL`` narrows the rows before the JSON flag is read.
    """
    q = (
        sa.select(
            I.c.id,
            I.c.stream,
            I.c.streamer,
            I.c.category,
            I.c.severity,
            I.c.severity_rank,
            I.c.score,
            I.c.t_start,
            I.c.t_end,
            I.c.updated_at,
            I.c.revision,
            I.c.thumb_paths,
            I.c.media_purged_at,
        )
        .where(I.c.status == "open", I.c.violation_key.is_not(None), I.c.updated_at >= since)
        .where(I.c.record["provisional"].as_boolean().is_(True))
        .order_by(I.c.updated_at.desc(), I.c.id.desc())
        .limit(MAX_ITEMS)
    )
    with store.engine.connect() as conn:
        return list(conn.execute(q))


def _tiers(store: ReviewStore, streamers: Iterable[str]) -> dict[str, int]:
    names = sorted(set(streamers))
    t = schema.streamer_risk
    out: dict[str, int] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(names), 500):  # bounded IN lists
            rows = conn.execute(sa.select(t.c.streamer, t.c.tier).where(t.c.streamer.in_(names[i : i + 500])))
            out.update({r.streamer: int(r.tier) for r in rows})
    return out


def _alert(row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "category": row.category,
        "severity": row.severity,
        "score": round(float(row.score), 3),
        "start": row.t_start,
        "end": row.t_end,
        "updated_at": row.updated_at,
    }


def _thumb(rows: Sequence[sa.Row[Any]]) -> str | None:
    """URL of the latest thumbnail of the stream's newest provisional item that has one; the
    revision in the query makes a browser fetch it again when the item is updated."""
    for r in rows:
        thumbs = r.thumb_paths or []
        if thumbs and r.media_purged_at is None:
            return f"/api/items/{r.id}/thumbnails/{len(thumbs) - 1}?r={r.revision}"
    return None


def build_snapshot(
    store: ReviewStore,
    cfg: PatrolConfig,
    pool: PoolView | None = None,
    now: float | None = None,
    risk: RiskModel | None = None,
) -> dict[str, Any]:
    """The wall's JSON: ``{"pool": {...}, "streams": [tile...], "hidden": n}``.

    A tile is a stream the pool watches, or one with an open provisional item updated within
    ``live_window_s``. Tiles are ordered by their worst open alert, then risk tier, then name, and
    cut at ``max_streams`` (``hidden`` counts the rest). The snapshot holds no wall-clock time of
    its own, so two builds over unchanged data are equal (the hub pushes on change).
    """
    pool = pool or PoolView()
    now = store.clock() if now is None else now
    risk = risk or RiskModel()
    rows = _provisional_rows(store, now - cfg.live_window_s)
    by_stream: dict[str, list[sa.Row[Any]]] = {}
    for r in rows:
        by_stream.setdefault(r.stream, []).append(r)
    statuses: dict[str, Mapping[str, Any]] = {}
    for st in pool.streams:
        sid = _text(st.get("stream"), 200)
        if sid is not None:
            statuses.setdefault(sid, st)
    pool_ok = pool.configured and pool.error is None
    names = list(dict.fromkeys([*statuses, *by_stream]))
    streamer = {
        n: by_stream[n][0].streamer if n in by_stream else _text(statuses[n].get("streamer"), 200) or n for n in names
    }
    tiers = _tiers(store, streamer.values())
    tiles = []
    for name in names:
        items = by_stream.get(name, [])
        tier = tiers.get(streamer[name], 0)
        status = statuses.get(name)
        tile: dict[str, Any] = {
            "stream": name,
            "streamer": streamer[name],
            "tier": tier,
            "tier_name": risk.tier(tier).name,
            "profile": (_text(status.get("profile"), 100) if status else None) or risk.profile_for(tier),
            "alerts": [_alert(r) for r in items[: cfg.max_alerts]],
            "more": max(0, len(items) - cfg.max_alerts),
            "worst": max((r.severity_rank for r in items), default=-1),
            "thumb": _thumb(items),
            "newest": items[0].id if items else None,
        }
        if status is not None:
            tile.update(_pool_part(status, cfg))
        else:
            tile.update(state=None, health="unknown", lag_s=None, media_t=None, dropped=None, reconnects=None)
            tile.update(error=None, in_pool=False if pool_ok else None)
        tiles.append(tile)
    tiles.sort(key=lambda t: (-t["worst"], -t["tier"], t["stream"]))
    return {
        "pool": {"configured": pool.configured, "ok": pool_ok, "error": pool.error},
        "streams": tiles[: cfg.max_streams],
        "hidden": max(0, len(tiles) - cfg.max_streams),
    }
