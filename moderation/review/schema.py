"""Current shape of the review-queue tables (SQLAlchemy Core, portable SQLite/PostgreSQL).

Queries import these objects. The database itself is built only by the ordered migrations in
``migrations.py``; a test reflects a migrated database and compares it with this module, so the
two cannot drift silently. Times are float epoch seconds (UTC): portable across both databases and
trivially comparable with an injected test clock.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Severity names ordered for the queue (higher rank is reviewed first).
SEVERITY_RANK: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

#: Item statuses. ``open`` items are in the queue; the rest are decided.
STATUSES: tuple[str, ...] = ("open", "escalated", "confirmed", "dismissed")

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False),
)

items = sa.Table(
    "review_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("stream", sa.String(200), nullable=False),
    sa.Column("streamer", sa.String(200), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    # Idempotency key part: verdict start in integer milliseconds (a float is a poor unique key).
    sa.Column("window_ms", sa.BigInteger, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("severity_rank", sa.Integer, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("t_start", sa.Float, nullable=False),
    sa.Column("t_end", sa.Float, nullable=False),
    sa.Column("wallclock_start", sa.String(40)),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("record_hash", sa.String(64), nullable=False),
    # Paths relative to the store's media directory; never taken from a request.
    sa.Column("clip_path", sa.Text),
    sa.Column("thumb_paths", sa.JSON, nullable=False),
    sa.Column("media_purged_at", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("lease_until", sa.Float),
    sa.Column("decision_category", sa.String(64)),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_at", sa.Float),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    # Added in migration 2: queue columns (filter/sort without reading the JSON record).
    sa.Column("subject", sa.String(16), nullable=False, server_default="streamer"),
    sa.Column("trigger_term", sa.String(200)),
    sa.Column("tier", sa.Integer, nullable=False, server_default="0"),
    sa.Column("violation_key", sa.String(200)),
    sa.Column("sub_label", sa.String(64)),
    # Added in migration 3: whose verdict the item is (``VerdictRecord.subject_key``; "" for the
    # streamer), so a viewer's and the streamer's verdicts starting together are two items.
    sa.Column("subject_key", sa.String(210), nullable=False, server_default=""),
    # Added in migration 4: the penalty a confirmation carried (``policy.penalties``), the ban it
    # created, and when an admin reverted it.
    sa.Column("penalty", sa.String(16)),
    sa.Column("ban_id", sa.Integer),
    sa.Column("penalty_reverted_at", sa.Float),
    sa.UniqueConstraint("stream", "category", "window_ms", "subject_key", name="uq_review_items_key"),
)
# Queue orders (queue_query.SORTS): each index matches its sort's directions, so the first page
# is read in order from the index instead of sorting every open row.
sa.Index("ix_review_items_queue", items.c.status, items.c.severity_rank.desc(), items.c.created_at, items.c.id)
sa.Index("ix_review_items_stream", items.c.stream, items.c.t_start)
sa.Index("ix_review_items_streamer", items.c.streamer)
sa.Index("ix_review_items_age", items.c.status, items.c.created_at, items.c.id)
sa.Index(
    "ix_review_items_cat",
    items.c.status,
    items.c.category,
    items.c.severity_rank.desc(),
    items.c.created_at,
    items.c.id,
)
sa.Index("ix_review_items_score", items.c.status, items.c.score.desc(), items.c.id)
sa.Index(
    "ix_review_items_tier",
    items.c.status,
    items.c.tier.desc(),
    items.c.severity_rank.desc(),
    items.c.created_at,
    items.c.id,
)
sa.Index("ix_review_items_violation", items.c.stream, items.c.violation_key, unique=True)

audit = sa.Table(
    "review_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("item_id", sa.Integer),
    sa.Column("detail", sa.JSON, nullable=False),
)
sa.Index("ix_review_audit_item", audit.c.item_id, audit.c.at)

users = sa.Table(
    "review_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(300)),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

tokens = sa.Table(
    "review_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
)

sessions = sa.Table(
    "review_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

#: Second-review (QA) sample: a share of decisions is reviewed again by another reviewer.
qa = sa.Table(
    "review_qa",
    metadata,
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("first_action", sa.String(16), nullable=False),
    sa.Column("first_category", sa.String(64)),
    sa.Column("first_by", sa.String(100), nullable=False),
    sa.Column("first_at", sa.Float, nullable=False),
    sa.Column("second_action", sa.String(16)),
    sa.Column("second_category", sa.String(64)),
    sa.Column("second_by", sa.String(100)),
    sa.Column("second_at", sa.Float),
)
sa.Index("ix_review_qa_pending", qa.c.second_at, qa.c.first_at)

streamer_risk = sa.Table(
    "streamer_risk",
    metadata,
    sa.Column("streamer", sa.String(200), primary_key=True),
    sa.Column("tier", sa.Integer, nullable=False),
    sa.Column("confirmed", sa.Integer, nullable=False),
    sa.Column("dismissed", sa.Integer, nullable=False),
    sa.Column("escalated", sa.Integer, nullable=False),
    sa.Column("fp_weight", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # Added in migration 4: decayed violation points, the admin's override, and when the tier,
    # override or a ban last changed (``changed_since`` reads this index).
    sa.Column("points", sa.Float, nullable=False, server_default="0"),
    sa.Column("override_tier", sa.Integer),
    sa.Column("override_reason", sa.Text),
    sa.Column("override_by", sa.String(100)),
    sa.Column("changed_at", sa.Float, nullable=False, server_default="0"),
)
sa.Index("ix_streamer_risk_changed", streamer_risk.c.changed_at)

#: Streamers barred from publishing (``until`` None = permanently); lifted bans are kept.
bans = sa.Table(
    "review_bans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("streamer", sa.String(200), nullable=False),
    sa.Column("until", sa.Float),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("banned_by", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("item_id", sa.Integer),
    sa.Column("lifted_at", sa.Float),
    sa.Column("lifted_by", sa.String(100)),
    sa.Column("lift_reason", sa.Text),
)
sa.Index("ix_review_bans_streamer", bans.c.streamer, bans.c.lifted_at)

#: Warn/cut actions a decision asked the pool to carry out at the origin.
ACTION_STATUSES: tuple[str, ...] = ("queued", "done", "failed", "cancelled")
actions = sa.Table(
    "review_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer),
    sa.Column("stream", sa.String(200), nullable=False),
    sa.Column("streamer", sa.String(200), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("done_at", sa.Float),
    #: Until when a pool that took the action holds it (another pool skips it meanwhile).
    sa.Column("claimed_until", sa.Float),
)
sa.Index("ix_review_actions_status", actions.c.status, actions.c.id)
sa.Index("ix_review_actions_item", actions.c.item_id)
