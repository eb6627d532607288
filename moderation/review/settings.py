"""Settings of the review service, in one frozen object passed to ``create_app`` and the store.

Defaults live here and nowhere else in ``moderation.review``. The worker pool's pydantic config
tree (``moderation/config/``) does not own these yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_QUEUE_URL = "sqlite:///moderation-review.db"


@dataclass(frozen=True)
class ReviewSettings:
    """Where the queue lives and how the service behaves.

    ``media_dir`` holds the clips and thumbnails the queue owns (copied in on import, so the
    scan's output folder can be deleted); when ``None`` it is ``<sqlite file>-media`` beside a
    SQLite database, or ``./review-media`` for PostgreSQL.
    """

    queue_url: str = DEFAULT_QUEUE_URL
    media_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: How long a claim holds an item before it silently returns to the queue.
    lease_s: float = 300.0
    #: Evidence (clips, thumbnails) of *decided* items is purged after this many days; the
    #: decision, the verdict record and the audit log are kept.
    retention_days: float = 60.0
    #: Largest request body accepted (bytes); bigger requests get 413 before they are read.
    max_body_bytes: int = 1_000_000
    #: Browser session lifetime (seconds).
    session_ttl_s: float = 12 * 3600.0
    #: Set the ``Secure`` flag on cookies (turn on behind HTTPS).
    secure_cookies: bool = False
    #: Items shown per queue page.
    page_size: int = 100
    #: Categories the policy defines beyond DESIGN.md §4.2's canonical ones. Reviewers may confirm
    #: an item as its own category, a canonical one or one of these, nothing else
    #: (see ``queue_types.allowed_categories``).
    categories: tuple[str, ...] = ()
    #: Login throttling: failed attempts allowed per account before backoff starts ...
    login_free_failures: int = 5
    #: ... and per client address (higher: reviewers behind one proxy share an address).
    login_free_failures_address: int = 20
    #: First backoff (seconds) once the free failures are used; doubles per further failure.
    login_backoff_s: float = 1.0
    #: Longest backoff (seconds).
    login_backoff_max_s: float = 900.0
    #: Accounts/addresses tracked at once (oldest forgotten first), so memory stays bounded.
    login_track_max: int = 10_000

    def resolved_media_dir(self) -> Path:
        """The media directory actually used (see class docstring)."""
        if self.media_dir is not None:
            return self.media_dir
        if self.queue_url.startswith("sqlite:///") and self.queue_url != "sqlite:///:memory:":
            db = Path(self.queue_url.removeprefix("sqlite:///"))
            return db.with_name(db.name.rsplit(".", 1)[0] + "-media")
        return Path("review-media")
