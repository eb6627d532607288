"""Local media files opened so that FFmpeg can only read them as files.

FFmpeg reads a name like ``concat:a.mp4|b.mp4`` or ``http:host:80.mp4`` as a protocol, so a file
whose *name* looks like a protocol would be opened as something else: other files' bytes, or a
network request the URL guard never sees. Every local file handed to PyAV goes through
:func:`ffmpeg_file_url`, which forces the ``file`` protocol on an absolute path.
"""

from __future__ import annotations

import os
from pathlib import Path


def ffmpeg_file_url(path: str | os.PathLike[str]) -> str:
    """``file:`` + the absolute path: the only way a local file is given to ``av.open``.

    The path is made absolute but symlinks are not resolved, so the caller decides what may be
    followed. ``file:`` with an absolute path keeps FFmpeg's file protocol whatever characters the
    name holds (``:``, ``|``, ``,``); nothing is percent-decoded by that protocol.
    """
    return "file:" + str(Path(os.path.abspath(os.fspath(path))))
