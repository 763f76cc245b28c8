"""segwb.core.host_threads: NumPy's BLAS and OpenCV on one thread around inference, restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from segwb.core.host_threads import single_threaded_host


@pytest.fixture
def three_threads() -> Iterator[None]:
    """OpenCV and BLAS on 3 threads (not 1, whatever the machine has), put back after the test."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    with threadpool_limits(limits=3):
        yield
    cv2.setNumThreads(before)


def test_single_threaded_host_limits_opencv_and_blas_then_restores(three_threads: None) -> None:
    with single_threaded_host():
        assert cv2.getNumThreads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info())
    assert cv2.getNumThreads() == 3
    assert all(p["num_threads"] == 3 for p in threadpool_info() if p["internal_api"] != "openmp")


def test_single_threaded_host_restores_after_an_error(three_threads: None) -> None:
    """An exception inside the block still restores the count that was set before it (3, a known value)."""
    with pytest.raises(RuntimeError, match="boom"):
        with single_threaded_host():
            assert cv2.getNumThreads() == 1
            raise RuntimeError("boom")
    assert cv2.getNumThreads() == 3
