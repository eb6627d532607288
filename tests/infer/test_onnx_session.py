"""Session options shared by every ONNX model of the pool."""

from __future__ import annotations

import pytest

from moderation.infer.onnx import session_options


def test_intra_op_threads_do_not_spin() -> None:
    # a spinning intra-op pool burns the cores the decode threads and other batchers need
    opts = session_options(2)
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert opts.intra_op_num_threads == 2 and opts.inter_op_num_threads == 1


def test_negative_thread_count_is_refused() -> None:
    with pytest.raises(ValueError, match="intra_op_threads"):
        session_options(-1)
