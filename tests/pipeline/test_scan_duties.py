"""Room metadata, records and cross-file replays through the real ``moderation scan`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from media_factory import make_clip

from moderation.report import read_report
from moderation.samplegen.writer import write_video

NO_MODELS = (
    "vision: {enabled: false}\nocr: {enabled: false}\nasr: {enabled: false}\nqr: {enabled: false}\n"
    "synthetic: {enabled: false}\n"
)


def moderation(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("duties")
    pipe = d / "nomodels.yaml"
    pipe.write_text(NO_MODELS)
    return make_clip(d / "room.mp4", seconds=3.0, size=(160, 120), with_audio=False), pipe


def test_room_title_with_a_gambling_term_is_a_room_verdict(clip: tuple[Path, Path], tmp_path: Path) -> None:
    media, pipe = clip
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "今晚百家乐在线下注 上分返水", "nickname": "阿强"}, ensure_ascii=False))
    out = tmp_path / "r.jsonl"
    clips = tmp_path / "clips"
    res = moderation(
        "scan", str(media), "--meta", str(meta), "--pipeline", str(pipe), "--out", str(out), "--clips", str(clips)
    )
    assert res.returncode == 0, res.stderr
    records = read_report(out)
    room = [r for r in records if r["subject"]["kind"] == "room"]
    assert [r["category"] for r in room] == ["gambling"]
    (v,) = room
    assert v["subject"]["id"] == "room"
    assert {s["kind"] for s in v["signals"]} == {"room.keyword"}
    assert {s["label"] for s in v["signals"]} == {"title"}  # the field is the evidence
    assert "clip" not in v or v["clip"] is None  # metadata has no footage to cut


def test_meta_that_is_not_an_image_is_refused_before_any_work(clip: tuple[Path, Path], tmp_path: Path) -> None:
    media, pipe = clip
    (tmp_path / "cover.png").write_text("<html>not an image</html>")
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "hi", "cover": "cover.png"}))
    out = tmp_path / "r.jsonl"
    res = moderation("scan", str(media), "--meta", str(meta), "--pipeline", str(pipe), "--out", str(out))
    assert res.returncode == 2
    assert "cover" in res.stderr and "not an image" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_records_of_a_scanned_file_with_its_chat(clip: tuple[Path, Path], tmp_path: Path) -> None:
    media, pipe = clip
    chat = tmp_path / "chat.jsonl"
    chat.write_text("\n".join(json.dumps({"t": 0.5 + i, "user": f"u{i}", "text": f"你好 {i}"}) for i in range(3)))
    rec = tmp_path / "records"
    pipe2 = tmp_path / "p.yaml"
    pipe2.write_text(pipe.read_text() + "records: {image_every_s: 1.0}\n")
    res = moderation("scan", str(media), "--chat", str(chat), "--records", str(rec), "--pipeline", str(pipe2))
    assert res.returncode == 0, res.stderr
    (day,) = (rec / "room").iterdir()
    chats = sorted(day.glob("chat-*.jsonl"))
    lines = [json.loads(x) for p in chats for x in p.read_text().splitlines()]
    assert [(x["t"], x["user"], x["text"]) for x in lines] == [(0.5 + i, f"u{i}", f"你好 {i}") for i in range(3)]
    images = sorted(day.glob("img-*.jpg"))
    assert 2 <= len(images) <= 4  # one a media second over 3 s
    assert all(p.read_bytes()[:3] == b"\xff\xd8\xff" for p in images)


def _scenes(seed: int, n: int) -> list[np.ndarray]:
    """``n`` distinct textured pictures (a replay must show several, not one still)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        out.append(np.kron(small, np.ones((20, 20, 1), np.uint8)))
    return out


def _write(path: Path, pictures: list[np.ndarray], seconds_each: float) -> Path:
    fps = 5
    per = round(seconds_each * fps)
    return write_video(
        path,
        lambda i, t: pictures[min(i // per, len(pictures) - 1)],
        seconds_each * len(pictures),
        None,
        fps=fps,
        width=160,
        height=120,
        gop_s=1.0,
    )


def test_a_file_replaying_another_files_footage_names_it(tmp_path: Path) -> None:
    original = _scenes(1, 12)
    first = _write(tmp_path / "first.mp4", original, 2.0)  # 24 s
    second = _write(tmp_path / "second.mp4", _scenes(2, 3) + original[2:10], 2.0)  # its own 6 s, then first's 4-20 s
    pipe = tmp_path / "replay.yaml"
    pipe.write_text(NO_MODELS + "replay_index: {enabled: true, min_run: 4}\n")
    out = tmp_path / "r.jsonl"
    res = moderation("scan", str(first), str(second), "--pipeline", str(pipe), "--actors", "0", "--out", str(out))
    assert res.returncode == 0, res.stderr
    records = read_report(out)
    assert [r["stream"] for r in records] == ["second"]  # the earlier file is not the replay
    (v,) = records
    assert v["category"] == "synthetic_unlabeled"
    sig = v["signals"][0]
    assert sig["kind"] == "synthetic.replay"
    assert sig["label"].startswith("source=first@")
    src_t = float(sig["label"].split("@")[1])
    assert abs((src_t - v["start"]) - (4.0 - 6.0)) <= 2.5  # second's t=6 shows first's t=4


@pytest.mark.slow
def test_cover_with_a_rendered_gambling_caption_is_a_room_verdict_via_ocr(
    clip: tuple[Path, Path], tmp_path: Path
) -> None:
    from PIL import Image

    from moderation.samplegen.visuals import paste, render_text

    media, _ = clip
    canvas = np.full((360, 640, 3), (90, 60, 30), np.uint8)
    paste(canvas, render_text("线上百家乐 注册送彩金", font_size=40), 40, 150)
    Image.fromarray(canvas[:, :, ::-1]).save(tmp_path / "cover.jpg", quality=90)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"title": "一起聊天", "cover": "cover.jpg"}, ensure_ascii=False))
    pipe = tmp_path / "ocr.yaml"  # OCR is the only model: the cover goes through the scan's OCR batcher
    pipe.write_text(NO_MODELS.replace("ocr: {enabled: false}\n", ""))
    out = tmp_path / "r.jsonl"
    clips = tmp_path / "clips"
    res = moderation(
        "scan", str(media), "--meta", str(meta), "--pipeline", str(pipe), "--out", str(out), "--clips", str(clips)
    )
    assert res.returncode == 0, res.stderr
    (v,) = [r for r in read_report(out) if r["subject"]["kind"] == "room"]
    assert v["category"] == "gambling"
    kinds = {(s["kind"], s.get("label"), s.get("url")) for s in v["signals"]}
    assert ("room.ocr.keyword", "cover", str(tmp_path / "cover.jpg")) in kinds
    # The cover itself is the evidence a reviewer sees: written as the verdict's thumbnail, no clip.
    assert v.get("clip") is None and len(v["thumbnails"]) == 1
    thumb = np.asarray(Image.open(v["thumbnails"][0]))
    assert thumb.shape[:2] == (360, 640)


def test_review_purge_deletes_expired_records_but_not_what_a_hold_covers(tmp_path: Path) -> None:
    pipe = tmp_path / "nomodels.yaml"
    pipe.write_text(NO_MODELS)
    rec, queue = tmp_path / "records", f"sqlite:///{tmp_path / 'q.db'}"
    for name, text in (("flagged", "百家樂 在線下注 加V信"), ("quiet", "主播好")):
        media = make_clip(tmp_path / f"{name}.mp4", seconds=2.0, size=(160, 120), with_audio=False)
        chat = tmp_path / f"{name}.chat.jsonl"
        chat.write_text("\n".join(json.dumps({"t": 0.2 + i * 0.1, "user": "bot", "text": text}) for i in range(12)))
        out = tmp_path / f"{name}.jsonl"
        args = ["scan", str(media), "--chat", str(chat), "--records", str(rec), "--pipeline", str(pipe)]
        res = moderation(*args, "--out", str(out), "--queue", queue)
        assert res.returncode == 0, res.stderr
    assert [r["stream"] for r in read_report(tmp_path / "flagged.jsonl")] == ["flagged"]  # an open item: a hold
    assert read_report(tmp_path / "quiet.jsonl") == []
    kept = {p.parent.parent.name for p in rec.glob("*/*/*")}
    assert kept == {"flagged", "quiet"}
    res = moderation("review", "purge", "--days", "0", "--records", str(rec), "--queue", queue)
    assert res.returncode == 0, res.stderr
    assert {p.parent.parent.name for p in rec.glob("*/*/*")} == {"flagged"}  # the held stream's records stay
    assert "kept under hold" in res.stdout


def test_a_voice_only_recording_gets_a_sound_clip_as_evidence(clip: tuple[Path, Path], tmp_path: Path) -> None:
    """No picture to cut (a voice room, radio): the verdict's evidence is the audio of its range."""
    _, pipe = clip
    media = make_clip(tmp_path / "voice.m4a", seconds=4.0, with_video=False)
    chat = tmp_path / "chat.jsonl"
    spam = "百家乐在线下注，注册就送彩金，加微信"
    chat.write_text("\n".join(json.dumps({"t": 1.0 + i * 0.5, "user": "spammer", "text": spam}) for i in range(3)))
    out, clips = tmp_path / "report.jsonl", tmp_path / "clips"
    res = moderation(
        "scan", str(media), "--chat", str(chat), "--pipeline", str(pipe), "--out", str(out), "--clips", str(clips)
    )
    assert res.returncode == 0, res.stderr
    verdicts = read_report(out)
    assert verdicts and all(v.get("clip") for v in verdicts), verdicts
    import av

    with av.open(verdicts[0]["clip"]) as c:
        assert not c.streams.video and c.streams.audio and c.duration and c.duration > 0
