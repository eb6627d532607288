"""Human review queue (DESIGN.md §2, §6, §8): store, API, reviewer web UI, retention, risk tiers.

``store.ReviewStore`` (SQLAlchemy Core; SQLite WAL or PostgreSQL) holds verdicts as items,
``api.create_app`` serves the JSON API and the UI, ``cli.review_app`` is ``moderation review``.
"""
