"""The instance result every adapter returns: per instance a class, a score, a box and a full-size mask as RLE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


@dataclass(frozen=True)
class Instances:
    """Detections of one image at its original size, sorted by descending score.

    ``boxes`` are (x1, y1, x2, y2) in original pixels; ``masks`` are COCO RLE dicts (``size`` [h, w],
    ``counts`` bytes), so a mask costs a few hundred bytes instead of h x w.
    """

    image_size: tuple[int, int]  # (height, width)
    class_ids: np.ndarray  # int64 [n]
    scores: np.ndarray  # float32 [n]
    boxes: np.ndarray  # float32 [n, 4]
    masks: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.class_ids)

    def areas(self) -> np.ndarray:
        """Mask areas in pixels."""
        return mask_utils.area(self.masks).astype(np.int64) if self.masks else np.zeros(0, np.int64)

    def decode(self, index: int) -> np.ndarray:
        """The full-size binary mask (uint8 0/1) of instance ``index``."""
        return mask_utils.decode(self.masks[index])


def encode_crop(crop: np.ndarray, top: int, left: int, image_size: tuple[int, int]) -> dict[str, Any]:
    """RLE of a full-size mask that is zero except for ``crop`` (bool or 0/1) placed at (top, left)."""
    full = np.zeros(image_size, dtype=np.uint8, order="F")
    h, w = crop.shape
    full[top:top + h, left:left + w] = crop
    return mask_utils.encode(full)


def select(class_ids: np.ndarray, scores: np.ndarray, min_score: float, max_detections: int) -> np.ndarray:
    """Indices of the detections kept: score ≥ ``min_score``, at most ``max_detections``, highest first.

    Equal scores keep the model's order (a stable sort), as pycocotools does.
    """
    order = np.argsort(-scores, kind="mergesort")
    order = order[scores[order] >= min_score]
    return order[:max_detections]


def empty(image_size: tuple[int, int]) -> Instances:
    """No detections."""
    return Instances(image_size, np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros((0, 4), np.float32), [])
