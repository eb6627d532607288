"""What each stage samples and runs: frames, vision, OCR (and its gate), ASR, QR, chat."""

from __future__ import annotations

from pydantic import Field, field_validator

from moderation.config._base import _Strict


class SamplingConfig(_Strict):
    fps: float = Field(1.0, gt=0, le=60, description="Frames per second sent to the vision models.")
    max_side: int = Field(1280, ge=64, description="Frames are downscaled so their longer side is at most this.")
    max_frame_pixels: int = Field(
        4096 * 4096, description="Frames larger than this are refused (decompression-bomb guard)."
    )
    skip_nonref: bool = Field(
        True,
        description="Do not decode non-reference frames (B-frames): at a few sampled frames per second the "
        "nearest reference frame is as good, and with B-frames that is ~40% less decoding per stream. Files "
        "and live streams decode alike, so their verdicts stay equal. Off for sampling above "
        "the stream's reference-frame rate (e.g. 10 fps of a 25 fps stream with 3 B-frames).",
    )
    skip_loop_filter: bool = Field(
        True,
        description="Do not run H.264/HEVC's in-loop deblocking filter while decoding: about 30% less "
        "decoding per stream. The sampled frames show slightly harder block edges (PSNR 37-60 dB against "
        "the filtered frames, lowest on noisy low-bitrate video), invisible to the models at their input "
        "sizes; OCR read the same text either way on a low-bitrate caption test. Files and live streams "
        "decode alike. Turn it off where frames are kept for people to view at full size.",
    )
    skip_to_keyframe: bool = Field(
        True,
        description="Stop decoding a GOP once the rest of it cannot hold a sample: when the keyframe interval "
        "is regular and the next keyframe is due within half a sampling period of the next sample, the "
        "P-frames in between are not decoded and the keyframe is sampled. At 1 fps that is about half the "
        "decoding of a 2 s GOP and nearly all of a 1 s GOP; irregular keyframes are decoded as before.",
    )


class VisionConfig(_Strict):
    enabled: bool = True
    nudenet: bool = Field(True, description="Run the NudeNet 320n detector.")
    open_nsfw: bool = Field(True, description="Run the Yahoo open_nsfw classifier.")
    nudenet_min_score: float = Field(0.5, ge=0, le=1, description="Exposed-body detections below this are not signals.")
    nudenet_labels: tuple[str, ...] = Field(
        (
            "FEMALE_GENITALIA_EXPOSED",
            "MALE_GENITALIA_EXPOSED",
            "FEMALE_BREAST_EXPOSED",
            "ANUS_EXPOSED",
            "BUTTOCKS_EXPOSED",
        ),
        description="NudeNet classes that count as vulgar evidence.",
    )
    nsfw_min_score: float = Field(0.8, ge=0, le=1, description="open_nsfw score that is a signal.")
    batch_size: int = Field(16, ge=1, le=256, description="Frames per ONNX Runtime call.")
    batch_buckets: tuple[int, ...] = Field(
        (1, 8, 16, 32, 64),
        description="Batch shapes a session ever sees: a batch is zero-padded to the next bucket so "
        "TensorRT engines and tuned CUDA kernels are reused instead of rebuilt per batch size.",
    )
    providers: tuple[str, ...] | None = Field(
        None,
        description="ONNX Runtime providers in order (e.g. ['CUDAExecutionProvider']); None = best "
        "installed: TensorRT, then CUDA, then CPU.",
    )
    fp16: bool = Field(True, description="fp16 on GPU providers where the model allows; ignored on CPU.")


class OcrGateConfig(_Strict):
    """Which sampled frames are worth OCR (``moderation/sample/ocr_gate.py``): text-like and changed."""

    enabled: bool = Field(True, description="False: every frame due at the OCR rate is read.")
    side: int = Field(320, ge=32, le=1280, description="Longer side of the grey copy the gate looks at.")
    cell: int = Field(16, ge=4, le=64, description="Grid cell (pixels of the grey copy) for text density.")
    edge_threshold: int = Field(
        40, ge=1, le=255, description="Grey step between neighbouring pixels that counts as a glyph edge."
    )
    min_cell_density: float = Field(0.08, gt=0, le=1, description="Share of edge pixels that makes a cell text-like.")
    min_text_cells: int = Field(2, ge=1, description="Text-like cells a frame needs to be worth OCR.")
    change_grid: int = Field(
        32, ge=4, le=128, description="Side of the block-mean thumbnail (of the glyph-edge map) compared for change."
    )
    change_delta: int = Field(
        12, ge=1, le=255, description="Change of a thumbnail cell (edge share × 255) that counts as changed."
    )
    min_changed_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Share of changed thumbnail cells (of the glyph-edge map, where text is) that makes a frame "
        "new since the last OCR.",
    )
    refresh_s: float | None = Field(
        10.0, gt=0, description="Re-read an unchanged text-like frame after this long; None = never."
    )


class OcrConfig(_Strict):
    enabled: bool = True
    fps: float = Field(0.5, gt=0, le=10, description="OCR rate; lower than vision (OCR is costly).")
    providers: tuple[str, ...] | None = Field(
        None,
        description="ONNX Runtime providers for OCR's detector, classifier and recogniser, in order (e.g. "
        "['CUDAExecutionProvider']); None = best available, as for vision. A GPU provider asked for on a "
        "machine without one falls back to CPU with one warning line. RapidOCR's pre- and post-processing "
        "(resizing, text-box polygons, crops) stays on the CPU either way.",
    )
    min_score: float = Field(0.5, ge=0, le=1, description="Text lines below this confidence are ignored.")
    gate: OcrGateConfig = Field(default_factory=OcrGateConfig, description="Text-likely / change gate.")
    model: str = Field(
        "ppocrv5-rec",
        description="Model id from models/*.yaml (kind: ocr): 'ppocrv5-rec' reads Simplified and Traditional "
        "Chinese; 'rapidocr-ppocrv4' (Simplified + English only) is the earlier recogniser.",
    )
    batched: bool = Field(
        True,
        description="Read the frames of one call together: one detector run per group of similar-sized frames, "
        "one recogniser run per width bucket of all their lines. False: RapidOCR frame by frame.",
    )
    rec_max_batch: int = Field(32, ge=1, le=512, description="Most text lines per recogniser (and classifier) run.")
    det_max_side: int = Field(
        736,
        ge=0,
        le=4096,
        description="Longer side (px) of the text detector's input; 0 = RapidOCR's own sizing, which scales the "
        "SHORT side up to 736 (1312x736 for a 720p frame, about 3x the work). 736 reads captions from 14 px high "
        "on 720p as well as the full size does (benchmarks/results/ocr_det_size.md); 512 starts to miss them.",
    )


class AsrConfig(_Strict):
    enabled: bool = True
    model: str = Field("whisper-base", description="Model id from models/*.yaml (kind: whisper).")
    language: str | None = Field(None, description="Force a language ('zh', 'en'); None = detect.")
    vad: bool = Field(True, description="Skip silence with Silero VAD before decoding.")
    window_s: float = Field(30.0, gt=1, le=30, description="Audio window sent to Whisper.")
    beam_size: int = Field(1, ge=1, le=10)
    compute_type: str = Field("int8", description="CTranslate2 compute type on CPU.")
    cpu_threads: int = Field(0, ge=0, description="0 lets CTranslate2 choose.")
    min_rest_s: float = Field(
        0.5,
        ge=0,
        le=30,
        description="Batched: where Whisper stops before the end of a chunk, a rest shorter than this is "
        "not decoded again (each re-decode costs a full 30 s encoder pass; a rest under 0.5 s is VAD "
        "padding, not words). 0 = decode every rest, as faster-whisper's transcribe does.",
    )
    context_s: float = Field(
        10.0,
        ge=0,
        le=60,
        allow_inf_nan=False,
        description="Seconds of the streamer's preceding speech read with each transcript segment, so that "
        "an ambiguous term (上分, 私聊) said in one segment is corroborated by a term or contact lure said in "
        "the segments before, as it would be within one segment (Whisper cuts where it pauses, not where a "
        "thought ends). It only corroborates: earlier speech never turns a segment's evidence into a "
        "mention. 0 = each segment alone.",
    )
    cpu_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="Live, on CPU: niceness added to the threads running Whisper, so frames (wanted "
        "within a second) get the cores first and transcripts (already an audio window behind) the "
        "rest. 0 = same priority as everything else.",
    )


class QrConfig(_Strict):
    enabled: bool = True
    blocked_domains: tuple[str, ...] = Field(
        (), description="Domains (and their subdomains) whose URLs are gambling evidence."
    )
    url_keywords: bool = Field(True, description="Also match lexicon terms inside decoded URLs.")
    url_patterns: tuple[str, ...] = Field(
        (),
        description="Regular expressions (case-insensitive, searched in the whole URL) that make a "
        "decoded URL gambling evidence, e.g. '/(bet|casino)/register'.",
    )
    gap_s: float = Field(
        10.0, gt=0, description="A code seen again within this many seconds is the same appearance (one signal)."
    )
    every_s: float = Field(
        2.0,
        ge=0,
        description="Search a stream's frames for codes at most this often (0: every sampled frame). A code put "
        "up for viewers to scan stays on screen for seconds and is one appearance across searches up to gap_s "
        "apart; the search is among the largest per-frame CPU costs on a node (a frame with a code ~10x one "
        "without), so 2 s halves it at 1 fps for at most 2 s of extra delay on a code's first sighting.",
        lt=10.0,
    )

    @field_validator("url_patterns")
    @classmethod
    def _patterns_compile(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        import re

        for p in v:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"url_patterns: {p!r} is not a valid regular expression: {exc}") from exc
        return v


class ChatConfig(_Strict):
    """Chat / danmaku input (``moderation/ingest/chat.py``): JSONL ``{"t", "user", "text"}`` lines."""

    dedup_window_s: float = Field(
        10.0, gt=0, description="The same message (per user, and across users) is one signal per window."
    )
    max_line_bytes: int = Field(16384, ge=64, description="Longer lines are skipped as bad input.")
    max_bad_lines_logged: int = Field(20, ge=0, description="Bad lines logged one by one; the rest only counted.")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of an HTTP(S) chat feed.")
    live_ahead_s: float = Field(
        30.0,
        ge=0,
        allow_inf_nan=False,
        description="Live: a message may be at most this far ahead of the stream's media clock (clock skew "
        "between the chat service and the origin); later ones are bad lines.",
    )
    recording_slack_s: float = Field(
        5.0,
        ge=0,
        allow_inf_nan=False,
        description="Offline (scan --chat): a message may be at most this far past the recording's end; "
        "later ones are bad lines.",
    )
