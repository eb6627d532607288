"""Sample-media generator: clips with planted, known events (nothing can be downloaded).

Public API: :func:`generate_sample` (the planted-event MP4 + manifest), and the building blocks
tests reuse: :func:`speak`, :func:`render_text`, :func:`qr_image`, :func:`write_video`.
"""

from moderation.samplegen.sample import (
    PlantedEvent,
    SampleManifest,
    default_plan,
    generate_sample,
    manifest_path,
)
from moderation.samplegen.speech import read_audio, speak
from moderation.samplegen.visuals import Background, find_cjk_font, paste, qr_image, render_text
from moderation.samplegen.writer import SampleGenError, write_video

__all__ = [
    "Background",
    "PlantedEvent",
    "SampleGenError",
    "SampleManifest",
    "default_plan",
    "find_cjk_font",
    "generate_sample",
    "manifest_path",
    "paste",
    "qr_image",
    "read_audio",
    "render_text",
    "speak",
    "write_video",
]
