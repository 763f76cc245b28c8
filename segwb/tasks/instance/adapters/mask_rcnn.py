"""Open Model Zoo Mask R-CNN IRs (``instance-segmentation-security-0002/-0091/-0228/-1040``,
``instance-segmentation-person-0007``): ``boxes`` [N,5] x1,y1,x2,y2,score in input pixels, ``labels`` [N],
``masks`` [N,M,M] heatmaps of each box (M = 28; 14 for security-0228, 224 for person-0007), pasted into their boxes as Open Model
Zoo's demos do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from ....core.errors import ModelError
from ....inference.preprocess import Geometry
from ....io.model_card import ModelCard
from ..instances import Instances, empty, encode_crop, select
from .base import BoundOutputs, Tensor, array_tensors, batchless, by_name, described, same_count, to_original

NAMES = ("boxes", "labels", "masks")


def _bind(tensors: Sequence[Tensor]) -> list[Tensor] | None:
    """boxes, labels, masks: by name, else by shape ([N,5] float, [N] integer, [N,M,M] float, batch axes allowed)."""
    named = by_name(tensors, *NAMES)
    if named:  # torchvision's export has these names too, with boxes [N,4] and scores apart
        boxes, labels, masks = named
        ok = boxes.rank in (2, 3) and boxes.shape[-1] in (5, -1) and labels.rank in (1, 2) \
            and masks.rank in (3, 4) and masks.shape[-1] == masks.shape[-2] and not masks.integer
        return named if ok else None
    if len(tensors) != 3:
        return None
    boxes = [t for t in tensors if not t.integer and t.rank in (2, 3) and t.shape[-1] == 5]
    labels = [t for t in tensors if t.integer and t.rank in (1, 2)]
    masks = [t for t in tensors if not t.integer and t.rank in (3, 4) and t.shape[-1] == t.shape[-2] != -1
             and t not in boxes]
    return [boxes[0], labels[0], masks[0]] if len(boxes) == len(labels) == len(masks) == 1 else None


class MaskRCNN(BoundOutputs):
    name = "mask_rcnn"
    needs = "boxes [N,5], labels [N] and masks [N,M,M]"
    bind = staticmethod(_bind)

    def decode(self, outputs: Mapping[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
        boxes_t, labels_t, masks_t = _bind(array_tensors(outputs))  # type: ignore[misc]
        raw = batchless(outputs[boxes_t.key], 2)
        classes = np.rint(batchless(outputs[labels_t.key], 1)).astype(np.int64)  # float labels: nearest id
        heatmaps = batchless(outputs[masks_t.key], 3)
        if raw.ndim != 2 or classes.ndim != 1 or heatmaps.ndim != 3:
            raise ModelError(f"adapter mask_rcnn needs boxes [N,5], labels [N] and masks [N,M,M]; got "
                             f"{described(array_tensors(outputs))}")
        same_count(self.name, {boxes_t.key: len(raw), labels_t.key: len(classes), masks_t.key: len(heatmaps)})
        if heatmaps.shape[1] < 1 or heatmaps.shape[1] != heatmaps.shape[2]:
            raise ModelError(f"adapter mask_rcnn needs square box masks [N,M,M] with M >= 1; output {masks_t.key} "
                             f"has {list(heatmaps.shape)}")
        keep = select(classes, raw[:, 4], min_score, max_detections)
        if not len(keep):
            return empty(geometry.original_size)
        boxes = to_original(raw[keep, :4], geometry)
        # A heatmap covers the box the model drew, which may run past the image: paste it there, then crop
        # (as Open Model Zoo's segm_postprocess does); the clipped box would squeeze it
        drawn = to_original(raw[keep, :4], geometry, clip=False)
        masks = [paste(heatmaps[i], box, geometry.original_size, card.threshold) for i, box in zip(keep, drawn)]
        return Instances(geometry.original_size, classes[keep], raw[keep, 4].astype(np.float32), boxes, masks)


def paste(heatmap: np.ndarray, box: np.ndarray, size: tuple[int, int], threshold: float) -> dict[str, Any]:
    """A box heatmap (e.g. 28x28) resized into its box and thresholded, as Open Model Zoo's demos paste it.

    A zero border is added and the box grown by the same ratio, so that resizing does not smear the edges.
    """
    h, w = size
    padded = np.pad(heatmap.astype(np.float32), 1)
    ratio = padded.shape[0] / (padded.shape[0] - 2.0)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) / 2 * ratio, (box[3] - box[1]) / 2 * ratio
    x0, y0, x1, y1 = (int(v) for v in (cx - half_w, cy - half_h, cx + half_w, cy + half_h))
    bw, bh = max(x1 - x0 + 1, 1), max(y1 - y0 + 1, 1)
    resized = cv2.resize(padded, (bw, bh)) > threshold
    cx0, cy0 = min(max(x0, 0), w), min(max(y0, 0), h)
    cx1, cy1 = min(max(x1 + 1, 0), w), min(max(y1 + 1, 0), h)
    crop = resized[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    return encode_crop(crop, cy0, cx0, size)


MASK_RCNN = MaskRCNN()
