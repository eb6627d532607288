"""A clip is cut from the named file itself, whatever FFmpeg protocol its name looks like."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from media_factory import make_clip

from moderation.evidence.clip import cut_clip


@pytest.mark.parametrize("name", ["concat:a.mp4|a.mp4", "http:127.0.0.1:9.mp4", "subfile,,start,0,end,64,,:a.mp4"])
def test_protocol_like_source_and_output_names(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_clip(tmp_path / "a.mp4", seconds=2.0, size=(160, 120), gop_s=1.0)  # what the protocol would read
    make_clip(tmp_path / name, seconds=4.0, size=(320, 240), gop_s=1.0)
    out = Path("concat:o.mp4|o.mp4") / "clip.mp4"  # a relative output folder named like a protocol too
    info = cut_clip(Path(name), out, 2.5, 3.0, pre_s=0.5, post_s=0.5)
    assert info.start == pytest.approx(2.0) and info.end == pytest.approx(3.5, abs=0.1)
    assert (tmp_path / "concat:o.mp4|o.mp4" / "clip.mp4").is_file()
    with av.open(str(tmp_path / out)) as c:
        assert c.streams.video[0].codec_context.width == 320  # the file named, not a.mp4
        assert float(c.duration or 0) / 1e6 == pytest.approx(1.5, abs=0.15)
