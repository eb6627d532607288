"""Sample generator: planted events land where the manifest says."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from moderation.ingest.decode import iter_audio_windows, iter_frames, probe
from moderation.samplegen import (
    PlantedEvent,
    SampleManifest,
    default_plan,
    generate_sample,
    manifest_path,
    qr_image,
    render_text,
    speak,
)

URL = "https://bet-casino-888.example/register?ref=live"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleManifest:
    plan = [
        PlantedEvent("gambling", "speech", 0.5, 0.0, "place your bets now"),
        PlantedEvent("gambling", "overlay", 2.0, 3.0, "百家乐 在线下注"),
        PlantedEvent("gambling", "qr", 3.5, 5.0, URL),
        PlantedEvent("benign", "overlay", 5.5, 9.0, "does not fit"),
    ]
    return generate_sample(tmp_path_factory.mktemp("gen") / "s.mp4", duration=6.0, plan=plan, seed=3)


def test_file_format(sample: SampleManifest) -> None:
    info = probe(sample.path)
    assert (info.width, info.height, info.fps) == (640, 360, 25.0)
    assert info.has_audio and info.duration == pytest.approx(6.0, abs=0.1)
    with av.open(sample.path) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert c.streams.audio[0].codec_context.name == "aac"
        keys = [float(p.pts * p.time_base) for p in c.demux(video=0) if p.is_keyframe and p.pts is not None]
    assert keys == pytest.approx([0.0, 2.0, 4.0])


def test_manifest(sample: SampleManifest) -> None:
    kinds = [(e.kind, e.start) for e in sample.events]
    assert kinds == [("speech", 0.5), ("overlay", 2.0), ("qr", 3.5)]  # the overflowing one dropped
    speech = sample.events[0]
    assert 0.7 < speech.end - speech.start < 2.5  # the real length of "place your bets now"
    assert sample.events[2].box is not None and sample.events[2].text == URL
    on_disk = manifest_path(sample.path)
    assert on_disk.is_file()
    assert SampleManifest.from_json(on_disk.read_text(encoding="utf-8")) == sample
    assert [e.kind for e in sample.at(4.0)] == ["qr"]


def test_speech_is_louder_than_silence(sample: SampleManifest) -> None:
    (win,) = list(iter_audio_windows(sample.path, "s", window_s=30.0))
    speech = sample.events[0]

    def rms(a: float, b: float) -> float:
        seg = win.samples[int(a * 16000) : int(b * 16000)]
        return float(np.sqrt(np.mean(seg**2)))

    assert rms(speech.start, speech.end) > 20 * rms(speech.end + 0.5, 5.5)


def test_qr_decodes_from_video(sample: SampleManifest) -> None:
    frame = next(f for f in iter_frames(sample.path, "s", fps=1.0) if f.t == pytest.approx(4.0))
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(frame.image)
    assert text == URL
    before = next(f for f in iter_frames(sample.path, "s", fps=1.0) if f.t == pytest.approx(1.0))
    assert cv2.QRCodeDetector().detectAndDecode(before.image)[0] == ""


def test_overlay_is_on_screen_only_during_event(sample: SampleManifest) -> None:
    ev = sample.events[1]
    assert ev.box is not None
    x, y, w, h = ev.box
    frames = {round(f.t, 2): f.image for f in iter_frames(sample.path, "s", fps=2.0)}
    inside = frames[2.52][y : y + h, x : x + w]
    outside = frames[1.0][y : y + h, x : x + w]
    # White glyphs on a black box: many near-black and some near-white pixels.
    assert (inside.max(axis=2) < 30).mean() > 0.4 and (inside.min(axis=2) > 220).mean() > 0.05
    assert (outside.max(axis=2) < 30).mean() < 0.05


def test_default_plan_trimmed_for_short_clip(tmp_path: Path) -> None:
    plan = default_plan()
    assert [(e.kind, e.start) for e in plan] == [
        ("speech", 3.0),
        ("speech", 14.0),
        ("overlay", 26.0),
        ("qr", 40.0),
        ("overlay", 50.0),
    ]
    m = generate_sample(tmp_path / "short.mp4", duration=12.0, write_manifest=False)
    assert [(e.category, e.kind) for e in m.events] == [("benign", "speech")]
    assert m.events[0].end < 12.0
    assert not manifest_path(tmp_path / "short.mp4").exists()


def test_building_blocks() -> None:
    pcm = speak("hello")
    assert pcm.dtype == np.float32 and 0.2 < pcm.size / 16000 < 2.0 and np.abs(pcm).max() > 0.05
    img = render_text("今日菜谱", font_size=40)
    assert img.ndim == 3 and img.dtype == np.uint8 and img.shape[0] > 40
    qr = qr_image(URL, 200)
    assert qr.shape == (200, 200, 3)
    assert cv2.QRCodeDetector().detectAndDecode(qr)[0] == URL


def test_missing_tools_give_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from moderation.samplegen import SampleGenError, find_cjk_font, speech, visuals

    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    with pytest.raises(SampleGenError, match="espeak-ng"):
        speak("hello")
    monkeypatch.setattr(visuals, "_FONT_DIR", tmp_path)
    monkeypatch.setattr(visuals.shutil, "which", lambda name: None)
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(SampleGenError, match="fonts-noto-cjk"):
            find_cjk_font()
    finally:
        find_cjk_font.cache_clear()
