"""Settings of the review service, in one frozen object passed to ``create_app`` and the store.

Defaults live here and nowhere else in ``moderation.review``. The worker pool's pydantic config
tree (``moderation/config/``) does not own these yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from moderation.config.patrol import PatrolConfig
from moderation.config.policy import PolicyConfig

DEFAULT_QUEUE_URL = "sqlite:///moderation-review.db"

#: Sub-labels a reviewer may pick when confirming, per category (what kind of violation it is).
DEFAULT_SUB_LABELS: dict[str, tuple[str, ...]] = {
    "gambling": ("promotion", "contact_lure", "qr_url", "disguised_game"),
    "vulgar": ("sexual_speech", "sexual_gesture", "exposure", "insult"),
    "synthetic_unlabeled": ("face_swap", "voice_clone", "generated_scene"),
    "tipping_inducement": ("pressure_to_tip", "rank_contest", "fake_giveaway"),
    "tipping_abnormal": ("minor_tipping", "large_sum", "refund_fraud"),
    "minors": ("minor_on_stream", "minor_tipping", "minor_in_danger"),
}
#: The policy clause each category enforces, shown next to the decision (the text reviewers cite).
DEFAULT_CLAUSES: dict[str, str] = {
    "gambling": "网络直播营销管理办法 第11条：不得宣传、推广赌博或变相赌博（含二维码、联系方式引流）。",
    "vulgar": "网络直播营销管理办法 第11条：不得传播淫秽、色情、低俗内容。",
    "synthetic_unlabeled": "互联网信息服务深度合成管理规定 第17条：深度合成内容应当显著标识。",
    "tipping_inducement": "关于加强网络直播规范管理工作的指导意见：不得诱导用户打赏。",
    "tipping_abnormal": "关于规范网络直播打赏 加强未成年人保护的意见：禁止未成年人打赏，限制异常打赏。",
    "minors": "未成年人保护法 第76条：不得为未满十六周岁的未成年人提供网络直播发布者账号注册服务。",
}


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
    #: Sub-labels per category (a confirmation may carry one; unknown ones are refused).
    sub_labels: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SUB_LABELS))
    #: Policy clause text per category, shown on the item page beside the decision.
    clauses: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CLAUSES))
    #: Share of decisions (0..1) sent to a second reviewer for QA; chosen by a hash of the item
    #: id, so the sample is reproducible and cannot be steered by the first reviewer.
    qa_sample_rate: float = 0.05
    #: Language of the UI when the browser has not chosen one (``zh`` or ``en``).
    default_lang: str = "zh"
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
    #: The patrol wall: the pool's control API URL and token, refresh interval (``PatrolConfig``).
    patrol: PatrolConfig = field(default_factory=PatrolConfig)
    #: The policy whose ``penalties`` and ``risk`` the store applies (None: the built-in policy).
    policy: PolicyConfig | None = None

    def resolved_media_dir(self) -> Path:
        """The media directory actually used (see class docstring)."""
        if self.media_dir is not None:
            return self.media_dir
        if self.queue_url.startswith("sqlite:///") and self.queue_url != "sqlite:///:memory:":
            db = Path(self.queue_url.removeprefix("sqlite:///"))
            return db.with_name(db.name.rsplit(".", 1)[0] + "-media")
        return Path("review-media")
