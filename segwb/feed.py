"""Model inputs for an inference queue: made ahead in a thread pool, in order, and kept for the next model.

The report runs two models on the same images; preprocessing them once (while they fit in a memory
budget) takes that work off the second model's run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .datasets import load_image
from .modelcard import ModelCard
from .preprocess import Geometry, to_tensor

KEEP_BYTES = 512 << 20  # inputs kept for the second model: 96 deeplabv3 inputs (513x513 f32) are 303 MiB
AHEAD = 8  # inputs made ahead of the queue: enough to never starve it, few enough to bound memory


class InputFeed:
    """The input tensors of ``paths`` for models that share ``card``, in order."""

    def __init__(self, paths: Sequence[Path], card: ModelCard, keep_bytes: int = KEEP_BYTES, workers: int = 2) -> None:
        self.paths, self.card, self.keep_bytes, self.workers = list(paths), card, keep_bytes, workers
        self._kept: dict[int, tuple[np.ndarray, Geometry]] = {}
        self._kept_type: np.dtype | None = None
        self._kept_bytes = 0

    def _make(self, index: int, dtype: np.dtype) -> tuple[np.ndarray, Geometry]:
        if self._kept_type == dtype and index in self._kept:
            return self._kept[index]
        return to_tensor(load_image(self.paths[index]), self.card, dtype)

    def _keep(self, index: int, dtype: np.dtype, item: tuple[np.ndarray, Geometry]) -> None:
        if self._kept_type != dtype:
            self._kept, self._kept_type, self._kept_bytes = {}, dtype, 0
        if index not in self._kept and self._kept_bytes + item[0].nbytes <= self.keep_bytes:
            self._kept[index] = item
            self._kept_bytes += item[0].nbytes

    def stream(self, dtype: np.dtype, cancel: threading.Event | None = None) -> Iterator[tuple[int, np.ndarray, Geometry]]:
        """(index, tensor, geometry) of every image, until ``cancel`` is set; a bad image raises its error in order."""
        dtype = np.dtype(dtype)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending: deque[tuple[int, Future]] = deque()
            upcoming = iter(range(len(self.paths)))
            for index in upcoming:
                pending.append((index, pool.submit(self._make, index, dtype)))
                if len(pending) >= AHEAD:
                    break
            while pending:
                if cancel is not None and cancel.is_set():
                    for _, future in pending:
                        future.cancel()
                    return
                index, future = pending.popleft()
                item = future.result()
                nxt = next(upcoming, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(self._make, nxt, dtype)))
                self._keep(index, dtype, item)
                yield index, *item
