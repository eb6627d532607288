"""Following live streams: per-stream pipeline, bounded queues, metrics, enforcement, origin hooks.

Plain Python, no Ray (DESIGN.md §3): :mod:`moderation.runtime.actors` wraps these objects.
Entry point: :class:`moderation.live.pipeline.StreamPipeline`.
"""
