"""Shared by the benchmarks: what machine this ran on, robust timing, arguments, tables, results.

A number without its machine is meaningless (DESIGN.md §7), and on a shared CI box one timing
is noise, so every benchmark here warms up, repeats, reports the median and records the load
average it ran under.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _gpus() -> list[str]:
    """``name, memory, driver`` of each NVIDIA GPU (empty without nvidia-smi)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except ImportError:
        return None
    return str(getattr(mod, "__version__", "?"))


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine(**extra: Any) -> dict[str, Any]:
    """The machine and software a result was measured on (``extra``: e.g. providers used)."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": _ram_gib(),
        "gpus": _gpus(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "onnxruntime": _version("onnxruntime"),
        "ctranslate2": _version("ctranslate2"),
        "faster_whisper": _version("faster_whisper"),
        "load_avg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": _git_commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        import onnxruntime

        info["onnxruntime_providers"] = list(onnxruntime.get_available_providers())
    except ImportError:
        pass
    try:
        import ctranslate2

        info["ctranslate2_cuda_devices"] = int(ctranslate2.get_cuda_device_count())
    except (ImportError, RuntimeError):
        pass
    info.update(extra)
    return info


def machine_markdown(m: dict[str, Any]) -> list[str]:
    """A short Markdown description of :func:`machine`'s result."""
    gpus = "; ".join(m.get("gpus") or []) or "none"
    load = m.get("load_avg_start")
    lines = [
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m.get('cores_usable')} usable), {m.get('ram_gib')} GiB RAM",
        f"- GPU: {gpus}",
        f"- onnxruntime {m.get('onnxruntime')} (providers: {', '.join(m.get('onnxruntime_providers') or [])}), "
        f"ctranslate2 {m.get('ctranslate2')} (CUDA devices: {m.get('ctranslate2_cuda_devices')}), "
        f"faster-whisper {m.get('faster_whisper')}, Python {m['python']}",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in load) if load else 'n/a'}"
        " (other work on the machine makes timings noisy)",
        f"- commit {m.get('git_commit')}, {m['date']}",
    ]
    return lines


def timed(fn: Callable[[], Any], *, repeats: int, warmup: int = 1) -> tuple[float, list[float], Any]:
    """Median wall seconds of ``fn()`` over ``repeats`` runs after ``warmup`` untimed runs.

    Returns ``(median, all times, last result)``. The median, not the mean or the best, is what
    a noisy shared machine reports honestly.
    """
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def write_results(name: str, result: dict[str, Any], markdown: list[str], out_dir: Path | None = None) -> Path:
    """Write ``<out_dir>/<name>.json`` and ``<name>.md``; returns the JSON path."""
    out = Path(out_dir) if out_dir is not None else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    if hasattr(os, "getloadavg"):
        result.setdefault("machine", {})["load_avg_end"] = list(os.getloadavg())
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / f"{name}.md").write_text("\n".join(markdown) + "\n")
    return path


def parser(doc: str | None, name: str, smoke: str, *, pipeline: bool = False) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--smoke`` (what it shrinks to: ``smoke``), ``--out``,
    ``--name`` (result file name, default ``name``) and, with ``pipeline``, ``--pipeline``."""
    ap = argparse.ArgumentParser(description=(doc or name).strip().split("\n\n")[0].splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help=f"{smoke}: seconds, for CI; the numbers mean nothing")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--name", default=name, help="result file name (without extension)")
    if pipeline:
        ap.add_argument("--pipeline", default=None, help="pipeline preset or YAML (default: the default preset)")
    return ap


def timed_passes(
    passes: Callable[[], object], seconds: float, before: Callable[[], object] | None = None
) -> tuple[int, float, float]:
    """(passes, wall s, thread CPU s) of repeating ``passes`` for at least ``seconds``; ``before``
    runs ahead of each pass and is timed with it (e.g. emptying a cache whose cost should count)."""
    loops, t0, c0 = 0, time.perf_counter(), time.thread_time()
    while True:
        if before is not None:
            before()
        passes()
        loops += 1
        el = time.perf_counter() - t0
        if el >= seconds:
            break
    return loops, el, time.thread_time() - c0


def json_trial(cmd: Sequence[str], label: str, timeout: float) -> dict[str, Any]:
    """Run one benchmark trial in a fresh process and return the last JSON object it printed;
    a failed trial raises with its label and the end of its stderr."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{label} failed (rc {proc.returncode}): {proc.stderr[-3000:]}")
    trial: dict[str, Any] = json.loads(lines[-1])
    trial["load_avg_after"] = list(os.getloadavg())
    return trial


def require(ap: argparse.ArgumentParser, args: argparse.Namespace, **rules: str) -> None:
    """Exit 2 with the reason when an option is impossible: ``rules`` maps an option's dest to
    ``"positive"`` (> 0), ``"count"`` (an integer ≥ 1) or ``"growth"`` (> 1)."""
    for dest, rule in rules.items():
        v = getattr(args, dest)
        flag = "--" + dest.replace("_", "-")
        if rule == "positive" and not v > 0:
            ap.error(f"{flag} must be positive, got {v}")
        elif rule == "count" and not (isinstance(v, int) and v >= 1):
            ap.error(f"{flag} must be at least 1, got {v}")
        elif rule == "growth" and not v > 1:
            ap.error(f"{flag} must be more than 1 (N grows by it), got {v}")


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50 / p95 / p99 / max (rounded to ms) and the count; None values when there are none."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    ordered = sorted(float(v) for v in values)

    def at(q: float) -> float:  # linear interpolation, as numpy's default
        pos = q / 100 * (len(ordered) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return {
        "p50": round(at(50), 3),
        "p95": round(at(95), 3),
        "p99": round(at(99), 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def cpu_s() -> float:
    """CPU seconds (user + system) this process has used so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mib() -> float:
    """Peak resident memory of this process (MiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> list[str]:
    """A Markdown table; ``align`` has one letter per column (``l`` left, ``r`` right; default left)."""
    marks = ["---:" if (align[i : i + 1] or "l") == "r" else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join("—" if c is None else str(c) for c in row) + " |" for row in rows]
    return lines


def smoke_note(smoke: bool) -> list[str]:
    """The line every smoke result ends with."""
    return ["", "**Smoke run** (tiny inputs, for CI): the numbers mean nothing."] if smoke else []
