"""Stand-ins for ``ray.wait`` / ``ray.get`` and object refs, for manager tests that start no Ray."""

from __future__ import annotations

from typing import Any


class Ref:
    """An object ref: ``ready`` says whether ``wait`` returns it; an Exception value is raised by ``get``."""

    def __init__(self, value: Any, ready: bool = True) -> None:
        self.value, self.ready = value, ready


class FakeRay:
    @staticmethod
    def wait(refs: list[Ref], num_returns: int, timeout: float) -> tuple[list[Ref], list[Ref]]:
        return [r for r in refs if r.ready], [r for r in refs if not r.ready]

    @staticmethod
    def get(ref: Ref, timeout: float | None = None) -> Any:
        if isinstance(ref.value, Exception):
            raise ref.value
        return ref.value
