"""torchvision's Mask R-CNN exported to ONNX (``maskrcnn_resnet50_fpn``, v2 too): input [3,H,W] RGB 0..1 (the model
normalises and resizes inside), ``boxes`` [N,4] x1,y1,x2,y2 in input pixels, ``labels`` [N] (COCO category ids,
0 = background), ``scores`` [N] and ``masks`` [N,1,H,W] probabilities at the input size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np

from ....core.errors import ModelError
from ....inference.preprocess import Geometry
from ....io.model_card import ModelCard
from ..instances import Instances, empty, encode_crop, select
from .base import BoundOutputs, Tensor, array_tensors, by_name, same_count, to_original

NAMES = ("boxes", "labels", "scores", "masks")
# torchvision's detection models take RGB 0..1 and normalise inside the graph.
TORCHVISION_INPUT = {"color_order": "RGB", "mean": 0, "scale": 255, "resize": "fit_pad", "pad_value": 0}


def _bind(tensors: Sequence[Tensor]) -> list[Tensor] | None:
    """boxes, labels, scores, masks: by name, else by shape ([N,4] float, [N] integer, [N] float, [N,1,H,W])."""
    named = by_name(tensors, *NAMES)
    if named:
        boxes, labels, scores, masks = named
        ok = boxes.rank == 2 and boxes.shape[1] in (4, -1) and labels.rank == 1 and scores.rank == 1 \
            and masks.rank == 4 and masks.shape[1] in (1, -1) and not masks.integer
        return named if ok else None
    if len(tensors) != 4:
        return None
    boxes = [t for t in tensors if t.rank == 2 and t.shape[1] == 4 and not t.integer]
    labels = [t for t in tensors if t.rank == 1 and t.integer]
    scores = [t for t in tensors if t.rank == 1 and not t.integer]
    masks = [t for t in tensors if t.rank == 4 and t.shape[1] == 1 and not t.integer]
    ok = len(boxes) == len(labels) == len(scores) == len(masks) == 1
    return [boxes[0], labels[0], scores[0], masks[0]] if ok else None


class TorchvisionMaskRCNN(BoundOutputs):
    name = "torchvision_mask_rcnn"
    needs = "boxes [N,4], labels [N], scores [N] and masks [N,1,H,W]"
    implied = TORCHVISION_INPUT
    bind = staticmethod(_bind)

    def decode(self, outputs: Mapping[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
        boxes_t, labels_t, scores_t, masks_t = _bind(array_tensors(outputs))  # type: ignore[misc]
        classes = outputs[labels_t.key].astype(np.int64)
        scores = outputs[scores_t.key].astype(np.float32)
        probabilities = outputs[masks_t.key]
        same_count(self.name, {boxes_t.key: len(outputs[boxes_t.key]), labels_t.key: len(classes),
                               scores_t.key: len(scores), masks_t.key: len(probabilities)})
        if len(probabilities) and tuple(probabilities.shape[2:]) != tuple(geometry.input_size):
            raise ModelError(f"adapter torchvision_mask_rcnn needs masks [N,1,H,W] at the input size "
                             f"{list(geometry.input_size)}; output {masks_t.key} has {list(probabilities.shape)}")
        keep = select(classes, scores, min_score, max_detections)
        if not len(keep):
            return empty(geometry.original_size)
        boxes = to_original(outputs[boxes_t.key][keep], geometry)
        masks = [_unpad(probabilities[i, 0], geometry, card.threshold) for i in keep]
        return Instances(geometry.original_size, classes[keep], scores[keep], boxes, masks)


def _unpad(probability: np.ndarray, geometry: Geometry, threshold: float) -> dict[str, Any]:
    """A full-input mask of probabilities cut to the image's content, resized to the original size, thresholded."""
    content = probability[geometry.top:geometry.top + geometry.height, geometry.left:geometry.left + geometry.width]
    h, w = geometry.original_size
    resized = cv2.resize(content.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return encode_crop(resized > threshold, 0, 0, (h, w))


TORCHVISION = TorchvisionMaskRCNN()
