"""QrSearch: a code whose region is unchanged is kept without decoding it again; everything else
is searched as a plain ``decode_qr`` would."""

from __future__ import annotations

import cv2
import numpy as np

from moderation.signals.qr import QrCode, decode_qr
from moderation.signals.qr_search import QrSearch

A = "https://bet-casino-888.example/register?ref=live"
B = "https://other-site.example/promo"


def _scene(seed: int = 0) -> np.ndarray:
    """A grey 640x360 scene with texture (no flat background to hide a change in)."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur((rng.random((360, 640)) * 255).astype(np.uint8), (0, 0), 3.0)


def _put(img: np.ndarray, data: str, x: int, y: int, size: int = 150) -> np.ndarray:
    code = cv2.QRCodeEncoder.create().encode(data)
    code = cv2.resize(code, (size - 20, size - 20), interpolation=cv2.INTER_NEAREST)
    out = img.copy()
    out[y : y + size, x : x + size] = 255  # quiet zone
    out[y + 10 : y + size - 10, x + 10 : x + size - 10] = code
    return out


class _Counting:
    """decode_qr that records what it was given."""

    def __init__(self) -> None:
        self.inputs: list[np.ndarray] = []

    def __call__(self, image: np.ndarray) -> list[QrCode]:
        self.inputs.append(image)
        return decode_qr(image)


def _noisy(img: np.ndarray, seed: int) -> np.ndarray:
    """Codec-like noise: a level or two everywhere."""
    noise = np.random.default_rng(seed).integers(-2, 3, img.shape)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def test_a_code_that_stays_is_reported_without_decoding_its_region_again() -> None:
    decode = _Counting()
    search = QrSearch(decode)
    frame = _put(_scene(), A, 100, 80)
    first = search(frame)
    assert [c.data for c in first] == [A]
    second = search(_noisy(frame, 1))
    assert second == first  # the same code and box
    assert search.reused == 1
    x, y, w, h = first[0].box
    blanked = decode.inputs[-1][int(y) : int(y + h), int(x) : int(x + w)]
    assert (blanked == 255).all()  # the search after it did not look at the code again


def test_a_code_shown_beside_one_that_stays_is_found() -> None:
    search = QrSearch()
    base = _scene()
    assert [c.data for c in search(_put(base, A, 60, 80))] == [A]
    both = _put(_put(base, A, 60, 80), B, 400, 120)
    assert sorted(c.data for c in search(both)) == sorted([A, B])
    assert search.reused == 1


def test_a_code_replaced_in_place_is_decoded_again() -> None:
    search = QrSearch()
    base = _scene()
    assert [c.data for c in search(_put(base, A, 100, 80))] == [A]
    assert [c.data for c in search(_put(base, B, 100, 80))] == [B]
    assert search.reused == 0


def test_a_code_gone_or_moved_is_searched_again_in_full() -> None:
    search = QrSearch()
    base = _scene()
    search(_put(base, A, 100, 80))
    assert [c.data for c in search(_put(base, A, 300, 150))] == [A]  # moved: found where it is now
    assert search.reused == 0
    assert search(base) == []
    assert search(base) == []


def test_a_frame_of_another_size_is_searched_in_full() -> None:
    search = QrSearch()
    search(_put(_scene(), A, 500, 220))
    small = cv2.resize(_scene(), (320, 180))
    assert search(small) == []
    assert search.reused == 0


def test_the_same_codes_as_decode_qr_frame_after_frame() -> None:
    base = _scene(3)
    frames = [base, _put(base, A, 60, 60), _noisy(_put(base, A, 60, 60), 2), _put(_put(base, A, 60, 60), B, 420, 180)]
    frames += [_put(base, B, 420, 180), base]
    search = QrSearch()
    for f in frames:
        assert sorted(c.data for c in search(f)) == sorted(c.data for c in decode_qr(f))
