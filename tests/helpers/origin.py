"""A real nginx-rtmp origin whose on_publish/on_publish_done call the pool's control API
(:func:`rtmp_origin.run_origin` from tests/live), and a uvicorn server running that API in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from rtmp_origin import Broadcaster, Origin, free_port, run_origin

__all__ = ["Broadcaster", "Origin", "free_port", "hooked_origin", "serving"]

hooked_origin = run_origin  # nginx-rtmp with publish hooks to api_port (None: no hooks); never skips


@contextmanager
def serving(app: Any, port: int, lifespan: str = "off") -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on 127.0.0.1:port (``lifespan="on"``: with its
    startup and shutdown, e.g. the control API's governance loop and pool close)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        th.join(10)
