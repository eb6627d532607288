"""What ``moderation models`` prints: every manifest, where its weights come from, hash status.

Kept apart from the registry so the registry does not depend on ``rich``. Listing never assembles
or loads a model, so it is safe to run on a busy node; hashing is cached by size and mtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from moderation.infer.manifest import HashStatus, RegistryError
from moderation.infer.registry import Registry


@dataclass(frozen=True)
class ModelStatus:
    """One row of the models listing."""

    id: str
    kind: str
    package: str  # "name==version" (comma-separated when a model spans packages)
    path: str  # where the weights are (for split weights: the cache folder they are assembled into)
    status: str  # "ok" | "mismatch" | "missing" | "wrong-version" | "unchecked"
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Usable as far as this check could tell (``unchecked`` = files present, not hashed)."""
        return self.status in ("ok", "unchecked")


def _status_of(registry: Registry, model_id: str, verify: bool) -> ModelStatus:
    m = registry.manifest(model_id)
    version_problem = ""
    for pkg in m.packages:
        try:
            registry.package_dir(pkg, check_version=True)
        except RegistryError as exc:
            version_problem = version_problem or str(exc)
    checks = registry.check_files(model_id, hash_files=verify)
    statuses = {c.status for c in checks}
    status = next((s.value for s in (HashStatus.MISSING, HashStatus.MISMATCH) if s in statuses), "ok")
    if status == "ok" and not verify:
        status = "unchecked"
    detail = ""
    bad = [c for c in checks if c.status is not HashStatus.OK]
    if bad:
        c = bad[0]
        actual = (c.actual or "?")[:12]
        detail = f"{c.key}: {c.detail or f'expected {c.expected[:12]}…, got {actual}…'}"
    if version_problem:
        detail = version_problem
        if status != HashStatus.MISSING.value:
            status = "wrong-version"
    if m.assemble:
        path = str(registry.assembled_dir(model_id))
        if not registry.is_assembled(model_id):
            detail = detail or "assembled from parts on first use"
    else:
        first = next((c.path for c in checks if c.path is not None), None)
        path = "-" if first is None else str(first.parent if m.kind == "whisper" else first)
    return ModelStatus(m.id, m.kind, m.requirement, path, status, detail)


def list_models(registry: Registry | None = None, *, verify: bool = True) -> list[ModelStatus]:
    """Status of every manifest, sorted by id. ``verify=False`` only checks presence and sizes."""
    reg = registry if registry is not None else Registry.load()
    return [_status_of(reg, model_id, verify) for model_id in reg.ids()]


_STYLE = {"ok": "green", "unchecked": "green", "mismatch": "red", "missing": "red", "wrong-version": "yellow"}


def format_table(rows: list[ModelStatus]) -> Table:
    """A rich Table of :func:`list_models` rows (print it with ``Console().print``)."""
    table = Table(title="models")
    for col in ("id", "kind", "package", "path", "hash", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = _STYLE.get(r.status, "")
        cell = f"[{style}]{r.status}[/]" if style else r.status
        table.add_row(r.id, r.kind, r.package, r.path, cell, r.detail)
    return table
