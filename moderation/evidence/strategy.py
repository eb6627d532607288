"""How a verdict gets its evidence: one protocol, two strategies.

* offline, :class:`moderation.evidence.file_clips.RemuxFromFile` cuts the clip from the scanned
  file itself and grabs the thumbnail frame from it;
* live, :class:`moderation.evidence.writer.EvidenceWriter` remuxes the clip from the stream's
  ring of encoded packets (waiting for the post-roll) and draws the thumbnail from frames it kept.

Both answer the same two calls, so the host hands whichever it has to the same outlet code. An
evidence failure never loses the verdict: it comes back with ``clip_error`` set instead.
"""

from __future__ import annotations

from typing import Protocol

from moderation.messages import Verdict

__all__ = ["EvidenceStrategy"]


class EvidenceStrategy(Protocol):
    async def attach(self, verdict: Verdict) -> Verdict:
        """``verdict`` with its clip (or ``clip_error``) and a thumbnail with the evidence boxes."""
        ...

    async def thumbnail(self, verdict: Verdict) -> Verdict:
        """``verdict`` with a thumbnail of its latest evidence frame only (no clip, no waiting):
        for a provisional record of a violation still going on."""
        ...
