"""CPU priority for work that can wait: Whisper on CPU yields the cores to frame inference.

On a CPU node every stage shares the same cores. Transcripts already trail the stream by an audio
window (seconds), while a frame's vision/OCR result is wanted within a second, so the threads that
run Whisper get a higher Unix niceness: when the cores are contended, the scheduler serves frames
first and ASR uses what is left (it still gets all idle CPU, so throughput barely changes).

On Linux, niceness is per thread and inherited by threads it starts — CTranslate2's workers,
OpenMP and the VAD's ONNX Runtime threads — so loading and running the model from a lowered
executor thread lowers all of them. Elsewhere :func:`lower_thread_priority` does nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

__all__ = ["background_executor", "lower_thread_priority", "thread_niceness"]


def thread_niceness() -> int | None:
    """The calling thread's niceness (Linux), or None where threads have none of their own."""
    if sys.platform != "linux":
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def lower_thread_priority(by: int) -> bool:
    """Raise the calling thread's niceness by ``by`` (capped at 19); True when it took effect."""
    current = thread_niceness()
    if by <= 0 or current is None:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, current + by))
    except OSError as exc:  # e.g. a sandbox that forbids it: run at normal priority
        log.warning("could not lower thread priority: %s", exc)
        return False
    return True


def background_executor(nice: int, name: str) -> ThreadPoolExecutor | None:
    """One worker thread at niceness +``nice`` for a model's calls (and its load); None for 0."""
    if nice <= 0:
        return None
    return ThreadPoolExecutor(1, thread_name_prefix=name, initializer=lower_thread_priority, initargs=(nice,))
