"""Decoding generated clips: sampled timestamps, downscaling, audio windows, bad input."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import corrupt_copy, make_clip, truncate_copy, write_random_bytes

from moderation.config import SamplingConfig
from moderation.ingest.decode import (
    DecodeStats,
    MediaError,
    _decode_packet,
    iter_audio_windows,
    iter_frames,
    iter_sampled_frames,
    missing_span,
    probe,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s, 25 fps, 320x240, keyframe every 1 s, 440 Hz tone."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=4.0)


def test_probe(clip: Path) -> None:
    info = probe(clip)
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (320, 240)
    assert info.fps == pytest.approx(25.0)
    assert info.duration == pytest.approx(4.0, abs=0.05)


def test_fps1_exact_timestamps(clip: Path) -> None:
    stats = DecodeStats()
    frames = list(iter_frames(clip, "s1", fps=1.0, stats=stats))
    assert [f.t for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert all(f.stream == "s1" for f in frames)
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8
    assert stats.frames_decoded == 100 and stats.frames_sampled == 4 and stats.corrupt_packets == 0


def test_fps2_timestamps(clip: Path) -> None:
    ts = [f.t for f in iter_frames(clip, "s1", fps=2.0)]
    assert ts == pytest.approx([0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52])


def test_frames_differ_and_are_bgr(clip: Path) -> None:
    frames = list(iter_frames(clip, "s1", fps=1.0))
    means = [float(f.image.mean()) for f in frames]
    assert means[:3] == sorted(means[:3]) and means[2] - means[0] > 100  # brightness ramps with time
    b, g, r = (float(frames[1].image[..., c].mean()) for c in range(3))
    assert abs(b - r) < 6 and abs(b - g) < 6  # grey stays grey through YUV (not RGB-swapped)


def test_downscale(clip: Path) -> None:
    frames = list(iter_sampled_frames(clip, "s1", SamplingConfig(fps=1.0, max_side=160)))
    assert frames[0].image.shape == (120, 160, 3)


def test_keyframes_only(clip: Path) -> None:
    stats = DecodeStats()
    ts = [f.t for f in iter_frames(clip, "s1", fps=1.0, keyframes_only=True, stats=stats)]
    assert ts == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert stats.frames_decoded == 4  # non-key frames were never decoded


def test_pixel_cap(clip: Path) -> None:
    with pytest.raises(MediaError, match="pixel cap"):
        next(iter_frames(clip, "s1", fps=1.0, max_frame_pixels=320 * 240 - 1))


def test_audio_windows(clip: Path) -> None:
    wins = list(iter_audio_windows(clip, "s1", window_s=1.5))
    assert [w.start for w in wins] == pytest.approx([0.0, 1.5, 3.0])
    assert all(w.sample_rate == 16000 and w.samples.dtype == np.float32 for w in wins)
    assert sum(len(w.samples) for w in wins) / 16000 == pytest.approx(4.0, abs=0.05)
    assert wins[-1].end == pytest.approx(4.0, abs=0.05)
    rms = float(np.sqrt(np.mean(wins[1].samples ** 2)))
    assert rms == pytest.approx(0.3 / np.sqrt(2), rel=0.1)  # the tone survived AAC + resampling


def test_audio_windows_overlap(clip: Path) -> None:
    wins = list(iter_audio_windows(clip, "s1", window_s=2.0, hop_s=1.0))
    assert [w.start for w in wins] == pytest.approx([0.0, 1.0, 2.0])


def test_no_audio_yields_nothing(tmp_path: Path) -> None:
    p = make_clip(tmp_path / "silent.mp4", seconds=1.0, with_audio=False)
    assert list(iter_audio_windows(p, "s1")) == []
    assert probe(p).has_audio is False


def test_audio_only_yields_no_frames(tmp_path: Path) -> None:
    p = make_clip(tmp_path / "radio.mp4", seconds=1.0, with_video=False)
    assert list(iter_frames(p, "s1", fps=1.0)) == []
    assert len(list(iter_audio_windows(p, "s1"))) == 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(MediaError, match="no such file"):
        next(iter_frames(tmp_path / "nope.mp4", "s1", 1.0))


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not a regular file"):
        probe(tmp_path)


def test_url_scheme_refused() -> None:
    with pytest.raises(MediaError, match="unsupported URL scheme 'rtmp'"):
        probe("rtmp://127.0.0.1/live/key")


def test_file_url_accepted(clip: Path) -> None:
    assert probe(clip.as_uri()).has_video


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("not a video\n" * 50)
    with pytest.raises(MediaError, match="not a media file") as exc:
        probe(p)
    assert "\n" not in str(exc.value)


def test_random_bytes(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not a"):
        probe(write_random_bytes(tmp_path / "noise.mp4"))


def test_truncated_mp4_without_index(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "late_moov.mp4", seconds=2.0, faststart=False)
    with pytest.raises(MediaError, match="not a readable media file"):
        probe(truncate_copy(src, tmp_path / "cut.mp4", 0.5))


def test_truncated_faststart_mp4_decodes_what_is_there(clip: Path, tmp_path: Path) -> None:
    cut = truncate_copy(clip, tmp_path / "cut.mp4", 0.5)
    ts = [f.t for f in iter_frames(cut, "s1", fps=1.0)]
    assert ts[:1] == [0.0] and len(ts) < 4


def test_corrupt_packets_are_skipped_and_counted(clip: Path, tmp_path: Path) -> None:
    bad = corrupt_copy(clip, tmp_path / "bad.mp4", start_frac=0.3, n=4000)
    stats = DecodeStats()
    wins = list(iter_audio_windows(bad, "s1", stats=stats))
    assert stats.corrupt_packets > 0
    assert wins and wins[-1].end == pytest.approx(4.0, abs=0.1)  # decoding went on past the damage
    list(iter_frames(bad, "s1", fps=1.0))  # video decoding survives the same damage


class _BadPacket:
    pts = 7

    def decode(self) -> list[av.VideoFrame]:
        raise av.InvalidDataError(1094995529, "Invalid data found when processing input")


def test_decode_packet_counts_invalid_data() -> None:
    stats = DecodeStats()
    assert _decode_packet("x.mp4", _BadPacket(), stats) == []  # type: ignore[arg-type]
    assert (stats.packets, stats.corrupt_packets) == (1, 1)


def test_channel_order_is_bgr(tmp_path: Path) -> None:
    from moderation.samplegen import write_video

    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 2] = 220  # BGR red
    p = write_video(tmp_path / "red.mp4", lambda i, t: red, 0.2, fps=10, width=64, height=64)
    img = next(iter_frames(p, "s1", fps=1.0)).image
    b, g, r = (float(img[..., c].mean()) for c in range(3))
    assert r > 180 and b < 40 and g < 40


def test_protocol_like_file_names_are_read_as_the_files_themselves(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import socket

    monkeypatch.chdir(tmp_path)
    shutil.copyfile(clip, tmp_path / "benign.mp4")
    concat = Path("concat:benign.mp4|benign.mp4")  # as a directory listing gives it: relative
    concat.write_bytes(b"\x00not media" * 200)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        http = Path(f"http:127.0.0.1:{port}.mp4")
        shutil.copyfile(clip, http)
        with pytest.raises(MediaError, match="not a"):
            probe(concat)  # FFmpeg's concat protocol would have read benign.mp4 twice
        assert probe(http).duration == pytest.approx(4.0, abs=0.1)
        assert len(list(iter_frames(http, "s1", fps=1.0))) == 4
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing tried to fetch http://127.0.0.1:port


def test_file_url_spellings(clip: Path) -> None:
    for url in (f"file:{clip}", f"file://{clip}", f"file://localhost{clip}", clip.as_uri()):
        assert probe(url).has_video, url
    with pytest.raises(MediaError, match=r"names host 'example\.org'"):
        probe(f"file://example.org{clip}")


def test_found_file_named_like_a_file_url_is_that_file(clip: Path, tmp_path: Path) -> None:
    import shutil

    odd = tmp_path / "file:x.mp4"
    shutil.copyfile(clip, odd)
    assert probe(odd).has_video  # a Path is a path: never parsed as a URL


def test_missing_span_flags_a_truncated_faststart_mp4(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.mp4", seconds=8.0)
    cut = truncate_copy(src, tmp_path / "cut.mp4", 0.3)
    for path, truncated in ((src, False), (cut, True)):
        video, audio = DecodeStats(), DecodeStats()
        list(iter_frames(path, "s1", fps=1.0, stats=video))
        list(iter_audio_windows(path, "s1", stats=audio))
        duration = probe(path).duration
        assert duration == pytest.approx(8.0, abs=0.1)  # the cut file's index still says 8 s
        short = missing_span(duration, [video, audio])
        assert (short > 3.0) if truncated else short == 0.0, (path, short, video, audio)
    assert missing_span(None, [DecodeStats()]) == 0.0
    assert missing_span(8.0, []) == 0.0


def test_skip_nonref_decodes_fewer_frames_and_samples_the_same_grid(tmp_path: Path) -> None:
    # x264 "veryfast" puts B-frames between reference frames, as live encoders usually do.
    path = make_clip(tmp_path / "bframes.mp4", seconds=4.0, preset="veryfast")
    full, skipped = DecodeStats(), DecodeStats()
    every = list(iter_frames(path, "s1", fps=1.0, stats=full))
    refs = list(iter_frames(path, "s1", fps=1.0, skip_nonref=True, stats=skipped))
    assert full.frames_decoded == 100 and skipped.frames_decoded < 0.8 * full.frames_decoded
    assert [f.t for f in refs] == pytest.approx([f.t for f in every], abs=0.13)  # nearest reference frame
    assert len(refs) == len(every) == 4


def test_skip_to_keyframe_decodes_a_fraction_and_keeps_the_sampling_grid(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "gop1.mp4", seconds=10.0, gop_s=1.0)
    full, skipped = DecodeStats(), DecodeStats()
    every = list(iter_frames(path, "s1", fps=1.0, stats=full))
    fewer = list(iter_frames(path, "s1", fps=1.0, skip_to_keyframe=True, stats=skipped))
    assert [f.t for f in fewer] == pytest.approx([f.t for f in every])
    assert all(np.array_equal(a.image, b.image) for a, b in zip(fewer, every, strict=True))
    assert skipped.frames_decoded < 0.5 * full.frames_decoded
    assert missing_span(10.0, [skipped]) == 0.0  # skipped packets are not a truncated file


def test_skip_loop_filter_changes_pixels_only_slightly(tmp_path: Path) -> None:
    # "veryfast" keeps x264's deblocking filter on ("ultrafast" turns it off, leaving nothing to skip).
    path = make_clip(tmp_path / "deblock.mp4", seconds=4.0, gop_s=2.0, preset="veryfast")
    filtered = list(iter_frames(path, "s1", fps=2.0))
    fast = list(iter_frames(path, "s1", fps=2.0, skip_loop_filter=True))
    assert [f.t for f in fast] == pytest.approx([f.t for f in filtered]) and len(fast) == 8
    diffs = [np.abs(a.image.astype(np.int16) - b.image).astype(np.float64) for a, b in zip(fast, filtered, strict=True)]
    assert any(d.max() > 0 for d in diffs)  # the option reached the decoder
    psnr = [10 * np.log10(255**2 / max(float((d**2).mean()), 1e-9)) for d in diffs]
    assert min(psnr) > 35, psnr


@pytest.mark.parametrize(
    ("degrees", "corner"),
    [(0, (0, 0)), (90, (1, 0)), (180, (1, 1)), (270, (0, 1))],  # where the top-left block is shown
)
def test_frames_are_turned_the_way_the_display_matrix_shows_them(tmp_path: Path, degrees: int, corner: tuple) -> None:
    from media_factory import make_marked_clip, set_display_rotation

    from moderation.ingest.decode import frame_at

    path = set_display_rotation(make_marked_clip(tmp_path / "phone.mp4", width=160, height=96), degrees)
    want_shape = (96, 160) if degrees in (0, 180) else (160, 96)
    for image in (next(iter_frames(path, "s", fps=1.0)).image, frame_at(path, 0.5)):
        assert image is not None and image.shape[:2] == want_shape
        h, w = image.shape[:2]
        quarters = {
            (r, c): float(image[r * h // 2 : (r + 1) * h // 2, c * w // 2 : (c + 1) * w // 2].mean())
            for r in (0, 1)
            for c in (0, 1)
        }
        assert max(quarters, key=lambda q: quarters[q]) == corner, quarters
