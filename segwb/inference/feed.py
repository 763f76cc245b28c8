"""Model inputs: made ahead of an inference queue in a thread pool, in order, and kept within a memory budget.

AccuracyAware validates the same images many times: preprocessing each image once (while the inputs fit in the
budget) takes that work off every later run. The report's pass reads each image once for both models, and keeps
nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..io.images import load_image
from ..io.model_card import ModelCard
from .preprocess import Geometry, to_tensor

KEEP_BYTES = 512 << 20  # inputs kept for later runs: 96 deeplabv3 inputs (513x513 f32) are 303 MiB
AHEAD = 8  # inputs made ahead of the queue: enough to never starve it, few enough to bound memory


class InputFeed:
    """The input tensors of ``paths`` for models that share ``card``: one at a time, or all of them in order."""

    def __init__(self, paths: Sequence[Path], card: ModelCard, keep_bytes: int = KEEP_BYTES, workers: int = 2) -> None:
        self.paths, self.card, self.keep_bytes, self.workers = list(paths), card, keep_bytes, workers
        self._kept: dict[tuple[int, str], tuple[np.ndarray, Geometry]] = {}
        self._kept_bytes = 0

    def _made(self, index: int, dtype: np.dtype) -> tuple[np.ndarray, Geometry]:
        """The kept input, else a new one (only reads the kept ones: safe in the pool's threads)."""
        kept = self._kept.get((index, dtype.str))
        return kept if kept is not None else to_tensor(load_image(self.paths[index]), self.card, dtype)

    def _keep(self, index: int, dtype: np.dtype, item: tuple[np.ndarray, Geometry]) -> None:
        key = (index, dtype.str)
        if key not in self._kept and self._kept_bytes + item[0].nbytes <= self.keep_bytes:
            self._kept[key] = item
            self._kept_bytes += item[0].nbytes

    def input(self, index: int, dtype: np.dtype) -> tuple[np.ndarray, Geometry]:
        """The tensor and geometry of image ``index``, kept for the next call while within the budget."""
        dtype = np.dtype(dtype)
        item = self._made(index, dtype)
        self._keep(index, dtype, item)
        return item

    def stream(self, dtype: np.dtype, cancel: threading.Event | None = None) -> Iterator[tuple[int, np.ndarray, Geometry]]:
        """(index, tensor, geometry) of every image, until ``cancel`` is set; a bad image raises its error in order."""
        for item in self.items(dtype, cancel):
            assert item.tensor is not None and item.geometry is not None
            yield item.index, item.tensor, item.geometry

    def items(self, dtype: np.dtype | None, cancel: threading.Event | None = None,
              ahead: int = AHEAD) -> Iterator[FeedItem]:
        """Every image in order as a :class:`FeedItem` (with its tensor unless ``dtype`` is None: then nothing is
        read), made ``ahead`` images in advance, until ``cancel`` is set. A bad image raises its error in order."""
        dtype = None if dtype is None else np.dtype(dtype)
        if dtype is None:
            for index in range(len(self.paths)):
                if cancel is not None and cancel.is_set():
                    return
                yield FeedItem(index, None, None)
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending: deque[tuple[int, Future]] = deque()
            upcoming = iter(range(len(self.paths)))
            for index in upcoming:
                pending.append((index, pool.submit(self._made, index, dtype)))
                if len(pending) >= ahead:
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
                    pending.append((nxt, pool.submit(self._made, nxt, dtype)))
                self._keep(index, dtype, item)
                yield FeedItem(index, *item)


@dataclass
class FeedItem:
    """One image of a feed: its index, and its model input and geometry (None when no input type was asked for)."""

    index: int
    tensor: np.ndarray | None
    geometry: Geometry | None
