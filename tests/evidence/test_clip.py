"""Evidence clips (packet-copy remux) and thumbnails."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_factory import make_clip

from moderation.evidence.clip import cut_clip, write_thumbnail
from moderation.ingest.decode import MediaError, iter_frames, probe


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s clip with a keyframe every 1 s."""
    return make_clip(tmp_path_factory.mktemp("media") / "src.mp4", seconds=6.0, gop_s=1.0)


def test_cut_is_keyframe_aligned_stream_copy(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "clips" / "c.mp4"
    info = cut_clip(src, out, start=2.5, end=3.2, pre_s=1.0, post_s=0.5)
    # keyframe at or before 1.5 s is the one at 1.0 s; the clip runs to about 3.7 s.
    assert info.start == pytest.approx(1.0)
    assert info.end == pytest.approx(3.7, abs=0.1)
    assert info.video_codec == "h264" and info.has_audio
    assert Path(info.path) == out and out.is_file()
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
        assert c.start_time is not None and c.start_time / av.time_base == pytest.approx(0.0, abs=0.02)
        first = next(c.decode(video=0))
        assert first.time == pytest.approx(0.0) and first.key_frame
    meta = probe(out)
    assert meta.duration == pytest.approx(info.duration, abs=0.1)
    assert meta.duration == pytest.approx(2.7, abs=0.15)
    # Same pictures as the source at the same (shifted) times: brightness of frame at 1.0 s.
    src_img = next(f for f in iter_frames(src, "s", fps=1.0) if f.t == pytest.approx(2.0)).image
    clip_img = next(f for f in iter_frames(out, "s", fps=1.0) if f.t == pytest.approx(1.0)).image
    assert abs(float(src_img.mean()) - float(clip_img.mean())) < 2


def test_copy_not_reencode(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    cut_clip(src, out, 0.0, 1.9)
    with av.open(str(src)) as a, av.open(str(out)) as b:
        src_pk = [bytes(p) for p in a.demux(video=0) if p.size][:10]
        out_pk = [bytes(p) for p in b.demux(video=0) if p.size][:10]
    assert src_pk == out_pk


def test_start_before_zero_is_clamped(src: Path, tmp_path: Path) -> None:
    info = cut_clip(src, tmp_path / "c.mp4", 0.5, 1.0, pre_s=3.0, post_s=0.0)
    assert info.start == pytest.approx(0.0)


def test_faststart(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.mp4"
    cut_clip(src, out, 1.0, 2.0)
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


def test_unreadable_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    out = tmp_path / "c.mp4"
    with pytest.raises(MediaError):
        cut_clip(bad, out, 0, 1)
    with pytest.raises(MediaError, match="no such file"):
        cut_clip(tmp_path / "missing.mp4", out, 0, 1)
    assert not out.exists() and list(tmp_path.glob(".*tmp")) == []


def test_bad_range(src: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        cut_clip(src, tmp_path / "c.mp4", 3.0, 2.0)


def test_thumbnail(tmp_path: Path) -> None:
    img = np.full((120, 160, 3), 40, np.uint8)
    out = write_thumbnail(img, tmp_path / "t" / "x.jpg", boxes=[(10, 20, 50, 40)])
    back = cv2.imread(str(out))
    assert back is not None
    assert back.shape == img.shape
    assert back[20, 30, 2] > 150 and back[20, 30, 0] < 100  # red box edge drawn
    assert img[20, 30, 2] == 40  # input untouched
    plain = write_thumbnail(img, tmp_path / "y.jpg")
    plain_img = cv2.imread(str(plain))
    assert plain_img is not None and abs(float(plain_img.mean()) - 40) < 3


def test_thumbnail_rejects_non_bgr(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_thumbnail(np.zeros((10, 10), np.uint8), tmp_path / "x.jpg")


def test_clip_keeps_the_display_matrix(tmp_path: Path) -> None:
    """Thumbnails are turned upright when decoded; the clip is copied packets, so it must carry the
    source's display matrix for players to turn it the same way."""
    from media_factory import make_marked_clip, set_display_rotation

    src = set_display_rotation(make_marked_clip(tmp_path / "phone.mp4", seconds=2.0), 90)
    cut_clip(src, tmp_path / "clip.mp4", 0.2, 1.5)
    with av.open(str(tmp_path / "clip.mp4")) as c:
        frame = next(c.decode(video=0))
    assert frame.rotation == 90


def test_audio_only_recording_gets_an_audio_clip(tmp_path: Path) -> None:
    """A voice-room or radio recording has no picture: its evidence is the sound of the range."""
    src = make_clip(tmp_path / "voice.m4a", seconds=4.0, with_video=False)
    info = cut_clip(src, tmp_path / "clip.mp4", 1.5, 2.0, pre_s=0.5, post_s=0.5)
    assert info.video_codec is None and info.has_audio and info.packets > 0
    assert info.start == pytest.approx(1.0, abs=0.03) and info.end == pytest.approx(2.5, abs=0.05)
    with av.open(str(tmp_path / "clip.mp4")) as c:
        assert not c.streams.video and c.streams.audio
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert pcm.size / 48000 == pytest.approx(1.5, abs=0.1) and float(np.abs(pcm).max()) > 0.1
