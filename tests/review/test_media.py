"""Evidence files: absolute paths (the live pipeline's own clips) and media-type sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_factories import make_jpeg, make_mp4

from moderation.review import media


def test_absolute_paths_are_taken_only_as_regular_files(tmp_path: Path) -> None:
    clip = make_mp4(tmp_path / "clips" / "s1" / "000012.mp4", seconds=0.5)
    rel_clip, thumbs = media.ingest(tmp_path / "m", "k/abc", str(clip), [], [])
    assert thumbs == []
    assert rel_clip == "k/abc/clip.mp4" and (tmp_path / "m" / rel_clip).read_bytes() == clip.read_bytes()
    (tmp_path / "clips" / "link.mp4").symlink_to(clip)
    with pytest.raises(media.MediaError, match="symbolic link"):
        media.ingest(tmp_path / "m", "k/def", str(tmp_path / "clips" / "link.mp4"), [], [])
    with pytest.raises(media.MediaError, match=r"climbs with '\.\.'"):
        media.ingest(tmp_path / "m", "k/def", f"{tmp_path}/clips/s1/../s1/000012.mp4", [], [])
    # under a base, an absolute path gets the base's rule: no symlinked folder on the way
    (tmp_path / "clips" / "via").symlink_to(tmp_path / "clips" / "s1", target_is_directory=True)
    with pytest.raises(media.MediaError, match="outside its folder"):
        media.ingest(tmp_path / "m", "k/def", str(tmp_path / "clips" / "via" / "000012.mp4"), [], [tmp_path])
    with pytest.raises(media.MediaError, match="NUL"):
        media.find_source("a\x00.mp4", [tmp_path])


def test_media_type_comes_from_the_bytes(tmp_path: Path) -> None:
    jpeg = make_jpeg(tmp_path / "t.jpg")
    assert media.sniff(jpeg.read_bytes()[:16]) == "jpg"
    assert media.sniff(make_mp4(tmp_path / "c.mp4", seconds=0.2).read_bytes()[:16]) == "mp4"
    assert media.sniff(b"\x89PNG\r\n\x1a\n....") == "png"
    assert media.sniff(b"root:x:0:0:root") is None
    (tmp_path / "fake.jpg").write_bytes(b"GIF89a not a jpeg")
    with pytest.raises(media.MediaError, match="not JPG or PNG data"):
        media.ingest(tmp_path / "m", "k/x", None, ["fake.jpg"], [tmp_path])
    assert not list((tmp_path / "m").rglob("*.*"))  # nothing half-copied
