"""Gift feed limits, on-camera age estimation and the pool-wide replay index.

Separate from :mod:`.media` because these settings are about people in a room (who tips how much,
who may be a minor) and about the pool as a whole (footage shown earlier on any stream), not about
what one stage samples.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from moderation.config._base import _Strict


class GiftsConfig(_Strict):
    """Gift / tip input (``moderation/ingest/gifts.py``) and the limits of ``tipping_abnormal``
    (``moderation/signals/gifts.py``). Amounts are in the base unit of ``rates`` (CNY by default)."""

    max_line_bytes: int = Field(4096, ge=64, description="Longer lines are skipped as bad input.")
    max_bad_lines_logged: int = Field(20, ge=0, description="Bad lines logged one by one; the rest only counted.")
    timeout_s: float = Field(10.0, gt=0, description="Connect/read timeout of an HTTP(S) gift feed.")
    live_ahead_s: float = Field(
        30.0, ge=0, allow_inf_nan=False, description="Live: how far a gift may be ahead of the media clock."
    )
    recording_slack_s: float = Field(
        5.0, ge=0, allow_inf_nan=False, description="Offline: how far a gift may be past the recording's end."
    )
    rates: dict[str, float] = Field(
        default_factory=lambda: {"CNY": 1.0},
        description="Currency → base units per unit of 'value' (e.g. {CNY: 1, coin: 0.1}); a gift in a currency "
        "not listed is a bad line. A line without 'currency' is in `default_currency`.",
    )
    default_currency: str = Field("CNY", description="Currency of a line that names none.")
    max_amount: float = Field(
        1_000_000.0, gt=0, allow_inf_nan=False, description="One gift worth more (base units) is a bad line."
    )
    user_window_s: float = Field(3600.0, gt=0, description="Sliding window of a viewer's total.")
    user_limit: float = Field(5000.0, gt=0, description="A viewer's total above this in the window is abnormal.")
    room_window_s: float = Field(3600.0, gt=0, description="Sliding window of the room's total.")
    room_limit: float = Field(100_000.0, gt=0, description="The room's total above this in the window is abnormal.")
    burst_window_s: float = Field(60.0, gt=0, description="Window in which many gifts from one viewer are a burst.")
    burst_count: int = Field(20, ge=2, description="Gifts from one viewer within the burst window that are a burst.")
    inducement_window_s: float = Field(
        60.0, gt=0, description="Gifts this soon after a tipping_inducement signal are tipping on inducement."
    )
    inducement_min_amount: float = Field(
        50.0, ge=0, description="A viewer's gifts after inducement must reach this (base units) to count."
    )
    minor_memory_s: float = Field(
        86400.0, gt=0, description="How long a viewer's disclosure of being a minor marks their gifts."
    )
    signal_every_s: float = Field(
        60.0, gt=0, description="While one condition lasts, at most one signal per subject and kind this often."
    )

    @field_validator("rates")
    @classmethod
    def _positive_rates(cls, v: dict[str, float]) -> dict[str, float]:
        for cur, rate in v.items():
            if not (rate > 0 and rate < float("inf")):
                raise ValueError(f"rate of {cur!r} must be a finite number > 0, got {rate}")
        return v


class AgeConfig(_Strict):
    """On-camera age estimation (``moderation/signals/age.py``) of NudeNet's face boxes.

    The faces NudeNet finds (FACE_FEMALE / FACE_MALE) are cut from the frame and estimated by the
    age model inside the vision batch (:func:`moderation.infer.age.with_face_ages`), so it needs
    NudeNet on and costs no batcher of its own; ``k`` of the last ``n`` face frames must agree.

    Off by default: its error is too large to trust unattended. Measured on CPU with NudeNet's
    boxes (no labelled photos of minors were available, so the error on minors is NOT measured):
    mean absolute difference of 6 years from the package's own aligned estimates on 5 faces, single
    faces off by up to 18 years; 2 of 100 adult LFW faces estimated under 16 (a ~2 % per-frame
    false-minor rate on adults, which k-of-n over frames is there to absorb); the same face under
    small box jitter and brightness changes: standard deviation 4 years. On in the ``strict`` preset
    (high-risk rooms), where a ``minors`` verdict goes to a reviewer, never straight to a cut.
    """

    enabled: bool = Field(False, description="Estimate the age of detected faces (costs ~5 ms a face on CPU).")
    model: str = Field("age-v1", description="Model id (models/<id>.yaml).")
    face_labels: tuple[str, ...] = Field(("FACE_FEMALE", "FACE_MALE"), description="NudeNet classes that are faces.")
    min_face_score: float = Field(0.4, ge=0, le=1, description="Face detections below this are not estimated.")
    min_face_px: int = Field(40, ge=8, description="Faces smaller than this (shorter side, pixels) are skipped.")
    padding: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Context added around NudeNet's face box on each side (share of its size). NudeNet's boxes "
        "already hold about the context of dlib's aligned chips: 0 came closest to the package's own estimates.",
    )
    minor_age: float = Field(
        16.0, gt=0, lt=30, description="An estimate below this counts toward minors (the model errs by years)."
    )
    k: int = Field(4, ge=1, description="Frames with a face estimated under minor_age needed among the last n.")
    n: int = Field(6, ge=1, description="Frames (with a face) looked at for the k-of-n rule.")
    max_batch: int = Field(32, ge=1, le=256, description="Faces per ONNX Runtime call.")
    history_s: float = Field(60.0, gt=0, description="Face frames older than this leave the k-of-n history.")
    signal_every_s: float = Field(10.0, gt=0, description="While the k-of-n rule holds, one signal this often.")


class ReplayIndexConfig(_Strict):
    """Pool-wide fingerprints of keyframes (``moderation/signals/replay_index.py``)."""

    enabled: bool = Field(False, description="Compare each stream's keyframes with all streams' recent ones.")
    horizon_h: float = Field(24.0, gt=0, le=24 * 30, description="Fingerprints are kept this many hours.")
    every_s: float = Field(2.0, gt=0, description="A stream's frame is fingerprinted at most this often.")
    match_bits: int = Field(6, ge=0, le=24, description="pHash bits (of 64) that may differ for a match.")
    min_run: int = Field(5, ge=2, description="Consecutive matched keyframes (one source, one lag) before a signal.")
    lag_tolerance_s: float = Field(4.0, ge=0, description="A run's frames must agree on the lag within this.")
    min_self_lag_s: float = Field(
        300.0, gt=0, description="A stream matching its own footage counts from this lag (shorter: loop.py)."
    )
    min_distinct_bits: int = Field(
        12, ge=1, le=64, description="A run must show pictures this far apart (a still image is no replay)."
    )
    max_candidates: int = Field(64, ge=1, description="Matches looked at per frame (the rest are ignored).")
    signal_every_s: float = Field(30.0, gt=0, description="While a replay lasts, one signal this often.")
    node_queue: int = Field(
        256, ge=1, description="On Ray: keyframes a stream may have waiting for its node's index (more are dropped)."
    )
    node_flush_s: float = Field(
        0.25, gt=0, le=10, description="On Ray: how often a stream sends its waiting keyframes to its node's index."
    )
    node_end_wait_s: float = Field(
        2.0, ge=0, le=30, description="On Ray: how long a stream's end waits for its node's index to end its runs."
    )
