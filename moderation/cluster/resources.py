"""Names of the Ray custom resources the pool schedules on (kept in step with ``ray_cluster.yaml``).

A GPU worker node advertises one ``vision_batcher`` and one ``asr_batcher`` unit per GPU, so each
node runs exactly one batcher actor of each family per GPU, and ``stream_slots`` (how many stream
workers its CPUs decode for). The head advertises ``moderation_head`` so the stream manager and the
review API land there and not on a GPU node the autoscaler may remove. ``tests/test_ray_cluster_yaml.py``
checks that the launcher config offers every name used here.
"""

from __future__ import annotations

VISION_BATCHER = "vision_batcher"
ASR_BATCHER = "asr_batcher"
STREAM_SLOTS = "stream_slots"
HEAD = "moderation_head"

BATCHERS = (VISION_BATCHER, ASR_BATCHER)
ALL = (VISION_BATCHER, ASR_BATCHER, STREAM_SLOTS, HEAD)
