"""The review service's patrol wall: where the worker pool is and how often the wall refreshes.

The wall (``/patrol`` in the review UI) shows the pool's live streams as tiles. The review server
asks the pool's control API (``moderation serve``) for stream statuses itself, with the pool's
bearer token, so the token never reaches a browser. Without ``pool_url`` the wall shows what the
review store knows: streams with open provisional (live) items.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from moderation.config._base import _Strict

#: Environment variable read for the pool's token when ``pool_token`` is not set.
POOL_TOKEN_ENV = "MODERATION_POOL_TOKEN"


class PatrolConfig(_Strict):
    """Settings of the patrol wall (``ReviewSettings.patrol``)."""

    pool_url: str | None = Field(
        None,
        description="Base URL of the pool's control API, e.g. http://127.0.0.1:8080; None = no pool, the wall "
        "shows streams with open provisional items from the review store only.",
    )
    pool_token: str | None = Field(
        None, description=f"Bearer token of the pool's control API (else env {POOL_TOKEN_ENV}; None = none sent)."
    )
    pool_timeout_s: float = Field(2.0, gt=0, le=60, description="Seconds one status request to the pool may take.")
    refresh_s: float = Field(2.0, ge=0.2, le=300, description="A snapshot is pushed to each wall at least this often.")
    check_s: float = Field(
        0.5, ge=0.05, le=60, description="The store is checked this often; a change is pushed at once, not at refresh."
    )
    live_window_s: float = Field(
        900.0,
        gt=0,
        description="A provisional item counts as a live alert while it was updated within this many seconds "
        "(an open violation's record is refreshed as it grows); also how long a stream the pool no longer lists "
        "stays on the wall.",
    )
    max_streams: int = Field(200, ge=1, le=5000, description="Tiles shown at most (streams with alerts first).")
    max_alerts: int = Field(5, ge=1, le=50, description="Alerts listed per tile (the rest are counted).")
    lag_warn_s: float = Field(5.0, gt=0, description="A stream whose inference trails ingest by more is 'lagging'.")
    max_clients: int = Field(
        64, ge=1, le=10_000, description="Walls (event streams) served at once; one more gets 503 until one closes."
    )

    @field_validator("pool_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"pool_url {v!r}: use http://host:port or https://host:port")
        return v.rstrip("/")

    def token(self) -> str | None:
        """The pool token to send: ``pool_token``, else env ``MODERATION_POOL_TOKEN``, else none."""
        return self.pool_token or os.environ.get(POOL_TOKEN_ENV) or None
