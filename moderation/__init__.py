"""Real-time live-content moderation worker pool."""

__version__ = "0.1.0"
