"""``moderation review`` commands: import (validated, idempotent), users/tokens, purge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_factories import make_evidence, verdict
from typer.testing import CliRunner

from moderation.review.auth import Auth
from moderation.review.cli import review_app
from moderation.review.settings import ReviewSettings
from moderation.review.store import Filters, ReviewStore


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A report laid out like ``moderation demo``: clip paths relative to the directory it ran in."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo-out"
    lines = []
    for i in range(3):
        clip, thumbs = make_evidence(tmp_path, f"demo-out/clips/s1/{i:06d}")
        lines.append(json.dumps(verdict(start=10.0 * i, clip=clip, thumbnails=thumbs), ensure_ascii=False))
    (out / "report.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out / "report.jsonl"


def test_import_is_idempotent_and_finds_clips(demo: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    run = CliRunner().invoke
    r = run(review_app, ["import", str(demo), "--queue", url])
    assert r.exit_code == 0, r.output
    assert "3 new" in r.output
    r = run(review_app, ["import", str(demo), "--queue", url])
    assert "0 new, 0 updated, 3 unchanged" in r.output
    store = ReviewStore.open(ReviewSettings(queue_url=url))
    items = store.list_items(Filters())
    assert len(items) == 3 and all(i.clip_path for i in items)
    assert (tmp_path / "q-media").is_dir()


def test_malformed_report_imports_nothing(demo: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with demo.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(verdict(start=99.0, signals=[{"kind": "asr.keyword", "t": "soon"}])) + "\n")
    r = CliRunner().invoke(review_app, ["import", str(demo), "--queue", url])
    assert r.exit_code == 2 and "report.jsonl:4" in r.output and "signals.0.t" in r.output
    assert ReviewStore.open(ReviewSettings(queue_url=url)).count(Filters(status=None)) == 0
    r = CliRunner().invoke(review_app, ["import", str(demo), "--queue", "mysql://x"])
    assert r.exit_code == 2 and "unsupported queue URL" in r.output


def test_bad_evidence_refuses_only_its_item(demo: Path, tmp_path: Path) -> None:
    """A symlinked, escaping, missing or fake clip is refused by line; the other items go in."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"TOP SECRET" * 10)  # real MP4 magic, outside the report
    clips = demo.parent / "clips"
    (clips / "evil.mp4").symlink_to(secret)
    (clips / "evil.jpg").symlink_to(tmp_path / "demo-out/clips/s1/000000.jpg")
    (clips / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    (clips / "fake.mp4").write_text("not a video at all")
    (clips / "fake.jpg").write_bytes(b"\x89PNG\r\n\x1a\n" + b"png, not jpeg, is fine")
    bad = [
        ("demo-out/clips/evil.mp4", [], "symbolic link"),
        (None, ["demo-out/clips/evil.jpg"], "symbolic link"),
        ("demo-out/clips/linkdir/secret.mp4", [], "outside"),
        ("demo-out/../secret.mp4", [], "outside"),
        ("demo-out/clips/fake.mp4", [], "not MP4 data"),
        ("demo-out/clips/missing.mp4", [], "not found"),
    ]
    with demo.open("a", encoding="utf-8") as fh:
        for i, (clip, thumbs, _) in enumerate(bad):
            fh.write(json.dumps(verdict(start=100.0 + i, clip=clip, thumbnails=thumbs)) + "\n")
        fh.write(json.dumps(verdict(start=200.0, thumbnails=["demo-out/clips/fake.jpg"])) + "\n")
    r = CliRunner().invoke(review_app, ["import", str(demo), "--queue", url])
    assert r.exit_code == 3, r.output
    assert "4 new" in r.output and f"{len(bad)} refused" in r.output
    for n, (_, _, reason) in enumerate(bad, 4):
        line = next(x for x in r.output.splitlines() if f"report.jsonl:{n}:" in x)
        assert reason in line, line
    store = ReviewStore.open(ReviewSettings(queue_url=url))
    assert store.count(Filters(status=None)) == 4
    stored = [p for p in (tmp_path / "q-media").rglob("*") if p.is_file()]
    assert stored and not any(b"TOP SECRET" in p.read_bytes() for p in stored)
    assert any(p.name == "thumb-0.png" for p in stored)  # stored under the type its bytes prove


def test_users_and_tokens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    r = CliRunner().invoke(review_app, ["user", "ann", "--queue", url])
    assert r.exit_code == 0 and "mrt_" in r.output
    token = r.output.split()[-1]
    store = ReviewStore.open(ReviewSettings(queue_url=url))
    who = Auth(store.engine).by_token(token)
    assert who and (who.name, who.role) == ("ann", "reviewer")
    r = CliRunner().invoke(review_app, ["user", "ann", "--queue", url])
    assert r.exit_code == 2 and "already exists" in r.output
    assert CliRunner().invoke(review_app, ["token", "ann", "--revoke", "--queue", url]).exit_code == 0
    assert Auth(store.engine).by_token(token) is None
    assert Auth(store.engine).ensure_admin() is not None
    assert Auth(store.engine).ensure_admin() is None  # only the first run prints a token


def test_policy_categories_from_the_command_line(tmp_path: Path) -> None:
    from moderation.review.cli import _open

    url = f"sqlite:///{tmp_path / 'q.db'}"
    r = CliRunner().invoke(review_app, ["serve", "--queue", url, "--category", "<b>Bad</b>"])
    assert r.exit_code == 2 and "--category '<b>Bad</b>'" in r.output
    settings, store = _open(url, None, ["drugs"])
    assert settings.categories == ("drugs",) and {"drugs", "gambling", "minors"} <= store.categories


def test_serve_applies_the_penalties_of_a_pipeline_policy(tmp_path: Path) -> None:
    from moderation.review.cli import _open, _policy

    url = f"sqlite:///{tmp_path / 'q.db'}"
    r = CliRunner().invoke(review_app, ["serve", "--queue", url, "--pipeline", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "--pipeline" in r.output and "pipeline not found" in r.output
    yaml = tmp_path / "p.yaml"
    yaml.write_text("policy:\n  penalties:\n    fallback: {allowed: [warn], default: warn}\n    max_attempts: 3\n")
    _, store = _open(url, None, None, _policy(str(yaml)))
    assert store.policy.penalties.max_attempts == 3
    assert store.policy.penalties.choice("drugs", "high").allowed == ("warn",)
