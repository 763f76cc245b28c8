"""The process-wide OpenVINO Core (creating one per call costs time and plugin state), and the host-side
thread limits that keep NumPy's BLAS and OpenCV out of OpenVINO's way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import cv2
import openvino as ov
from threadpoolctl import threadpool_limits

from .download import cache_dir

DEVICE = "CPU"


@lru_cache(maxsize=1)
def core() -> ov.Core:
    """The shared :class:`openvino.Core`."""
    return ov.Core()


def compiled_cache_dir() -> Path:
    """OpenVINO's model cache, beside the downloads: ``$SEGWB_CACHE/compiled`` (default ~/.cache/segwb)."""
    return cache_dir() / "compiled"


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
