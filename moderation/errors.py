"""Errors a user can fix; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class InputError(ValueError):
    """An input that cannot be scanned; the message is one line naming the input and why."""
