"""Encoded packets of a media file as an evidence ring receives them, to feed a ring by hand
(part now, the rest later; a connection ending in between)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from moderation.evidence.ring import EvidenceRing
from moderation.ingest.live_source import LiveSource
from moderation.ingest.packets import CodecTemplates, EncodedPacket
from moderation.ingest.source import Connected, PacketEvent, SourceConfig
from moderation.ingest.urlguard import UrlGuardConfig

FILES = SourceConfig(guard=UrlGuardConfig(allow_file=True), audio=False)


@dataclass
class Feed:
    """One connection's packets (in arrival order) and codec parameters."""

    templates: CodecTemplates
    packets: list[EncodedPacket]

    def shifted(self, epoch: int, offset: float) -> Feed:
        """The same media as connection ``epoch``, ``offset`` seconds later on the timeline."""
        moved = [replace(p, epoch=epoch, t=p.t + offset, t_dts=p.t_dts + offset) for p in self.packets]
        return Feed(self.templates, moved)

    def push(self, ring: EvidenceRing, until: float | None = None, since: float | None = None) -> None:
        """Push the packets with ``since <= t_dts < until`` (either bound open), templates first."""
        epoch = self.packets[0].epoch
        ring.set_templates(epoch, self.templates)
        for p in self.packets:
            if (since is None or p.t_dts >= since) and (until is None or p.t_dts < until):
                ring.push(p)


def feed(path: Path) -> Feed:
    """Connection 0's packets of the file at ``path``."""
    templates: CodecTemplates | None = None
    packets: list[EncodedPacket] = []
    for ev in LiveSource(str(path), "s1", FILES):
        if isinstance(ev, Connected):
            templates = ev.templates
        elif isinstance(ev, PacketEvent):
            packets.append(ev.packet)
    assert templates is not None and packets
    return Feed(templates, packets)
