"""Changes to a running stream through the stream manager: steering and room metadata.

Each change is written into the stream's :class:`~moderation.cluster.placement.StreamRequest`
first (checkpointed), so a worker restarted or moved later starts with it, and is then applied
live to the stream's running worker. A worker that is busy or gone keeps the change in its
request for its next start. The manager's methods of the same names call these (split off to
keep :mod:`moderation.cluster.manager` small).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import ray

from moderation.cluster.placement import ACTIVE, StreamRequest
from moderation.pipeline.status import Steering, StreamStatus
from moderation.pipeline.steering import follow, stream_config

if TYPE_CHECKING:
    from moderation.cluster.manager import StreamManager

__all__ = ["reconfigure", "set_meta"]

log = logging.getLogger(__name__)


def _update(mgr: StreamManager, stream_id: str, change: Callable[[StreamRequest], StreamRequest]) -> tuple[Any, Any]:
    """Apply ``change`` to an active stream's request and checkpoint it: (its request or None when
    the stream is not active, its worker's handle or None while it has none)."""
    with mgr._lock:
        a = mgr._state.get(stream_id)
        if a is None or a.state not in ACTIVE:
            return None, None
        a = replace(a, request=change(a.request))
        mgr._put(a)
        return a.request, mgr._handles.get(stream_id)


def reconfigure(mgr: StreamManager, stream_id: str, steering: Steering) -> StreamStatus | None:
    """Re-steer a stream (:mod:`moderation.pipeline.steering`); None when not active or pending."""
    req, handle = _update(mgr, stream_id, lambda r: replace(r, steering=follow(r.steering, steering)))
    if req is None or handle is None:  # pending: its worker starts with the new steering
        return None
    cfg = stream_config(mgr._pipeline(req.pipeline), req.steering)
    try:
        st: StreamStatus = ray.get(handle.reconfigure.remote(req.steering, cfg), timeout=mgr.STATUS_WAIT_S)
        return st
    except Exception as exc:  # busy or gone: its request holds the steering for its next start
        log.warning("%s: live re-steer failed: %s", stream_id, exc)
    return mgr.status(stream_id)


def set_meta(mgr: StreamManager, stream_id: str, meta_json: str) -> bool:
    """New room metadata (JSON object text) for an active stream; False when it is not active."""
    req, handle = _update(mgr, stream_id, lambda r: replace(r, meta=meta_json))
    if req is None:
        return False
    if handle is not None:
        try:
            ray.get(handle.set_meta.remote(meta_json), timeout=mgr.STATUS_WAIT_S)
        except Exception as exc:  # busy or gone: its request holds the metadata for its next start
            log.warning("%s: live room metadata change failed: %s", stream_id, exc)
    return True
