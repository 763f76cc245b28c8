"""Host-side thread limits that keep NumPy's BLAS and OpenCV out of OpenVINO's way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import cv2
from threadpoolctl import threadpool_limits


@contextmanager
def single_threaded_host() -> Iterator[None]:
    """BLAS/OpenMP (threadpoolctl) and OpenCV each on one thread inside the block, restored after it.

    Their worker pools busy-wait between calls, so post-processing that runs beside OpenVINO's streams (a
    small matmul per image, a warp per mask) would take the cores inference needs: on 2 cores the
    instance prediction used 1.5x the CPU time and wall time with the default pools.
    """
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        cv2.setNumThreads(previous)
