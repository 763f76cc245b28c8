"""Ultralytics YOLO-seg exports (OpenVINO, ONNX, TFLite; f32, f16 or INT8), two families:

- ``yolo_e2e`` (YOLO26, and YOLOv10-style end-to-end heads): detections [1,N,6+K] x1,y1,x2,y2,score,class and K
  mask coefficients, no NMS needed;
- ``yolo_raw`` (YOLOv8, YOLO11): [1,4+C+K,A] cx,cy,w,h, C class scores and K coefficients per anchor (or the
  transpose [1,A,4+C+K]); class-aware NMS by OpenCV.

Both come with mask prototypes [1,K,h,w] (OpenVINO, ONNX) or [1,h,w,K] (TFLite), h,w = input / 4. TFLite exports
give boxes as fractions of the input size (card ``box_units: normalized``, inferred for ``.tflite`` files).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ....inference.preprocess import Geometry
from ....io.model_card import ModelCard
from ..instances import Instances, empty, select
from .base import (Signature, Tensor, array_tensors, class_nms, described, input_pixels, prototype_masks,
                   to_original)

# Ultralytics exports all take RGB 0..1, letterboxed with grey 114: the defaults when the outputs say "YOLO".
YOLO_INPUT = {"color_order": "RGB", "mean": 0, "scale": 255, "resize": "letterbox", "pad_value": 114}


def proto_layouts(protos: Tensor, input_size: tuple[int, int] | None) -> list[str]:
    """The prototype layouts the shape allows: a static K, and spatial axes that are dynamic (a dynamic export before
    the card's size is applied) or larger than 1 and of the input's aspect ratio (when the input size is known)."""
    s = protos.shape
    options = {"NCHW": (s[1], s[2], s[3]), "NHWC": (s[3], s[1], s[2])}
    fits = []
    for layout, (k, h, w) in options.items():
        if k < 1 or -1 in (h, w):
            fits += [layout] if k >= 1 and (h, w) == (-1, -1) else []
            continue
        if h < 2 or w < 2 or (input_size and abs(input_size[0] * w - input_size[1] * h) > max(input_size)):
            continue
        fits.append(layout)
    return fits


def _parts(tensors: tuple[Tensor, ...]) -> tuple[Tensor, Tensor] | None:
    """(detections, prototypes): a rank-3 and a rank-4 float output, nothing else."""
    if len(tensors) != 2 or sorted(t.rank for t in tensors) != [3, 4] or any(t.integer for t in tensors):
        return None  # integer detections would truncate every score to 0 and be dropped unseen
    det, protos = sorted(tensors, key=lambda t: t.rank)
    return det, protos


def _k(protos_shape: tuple[int, ...], layout: str) -> int:
    return protos_shape[1] if layout == "NCHW" else protos_shape[3]


def raw_axis(det: tuple[int, ...], k: int, classes: int | None) -> int | None:
    """The axis (1 or 2) of [1,·,·] that holds 4+C+K features: the one of length 4+C+K when C is known, else the
    shorter one (anchors outnumber features in every export)."""
    fits = [a for a in (1, 2) if det[a] > 4 + k and (classes is None or det[a] == 4 + classes + k)]
    if len(fits) == 2:
        fits = [1 if det[1] < det[2] else 2] if det[1] != det[2] else []
    return fits[0] if fits else None


class Yolo:
    """One of the two families, ``end_to_end`` or raw; the prototypes' handling is shared."""

    def __init__(self, name: str, end_to_end: bool) -> None:
        self.name, self.end_to_end = name, end_to_end

    def _fits(self, det: Tensor, protos: Tensor, layout: str, classes: int | None) -> bool:
        k = _k(protos.shape, layout)
        if self.end_to_end:
            return det.shape[2] == 6 + k
        return raw_axis(det.shape, k, classes) is not None

    def _layouts(self, signature: Signature, card: ModelCard | None) -> list[str]:
        parts = _parts(signature.tensors)
        if parts is None:
            return []
        det, protos = parts
        classes = len(card.labels) if card and card.labels else None
        given = [card.proto_layout] if card and card.proto_layout else proto_layouts(protos, signature.input_size)
        return [lay for lay in given if self._fits(det, protos, lay, classes)]

    def recognise(self, signature: Signature) -> dict[str, Any] | None:
        layouts = self._layouts(signature, None)
        if not layouts:
            return None
        found = {"adapter": self.name, **YOLO_INPUT}
        return {**found, "proto_layout": layouts[0]} if len(layouts) == 1 else found

    def problem(self, signature: Signature, card: ModelCard) -> str | None:
        parts = _parts(signature.tensors)
        shape = "[1,N,6+K]" if self.end_to_end else "[1,4+C+K,A]"
        if parts is None:
            return (f"adapter {self.name} needs a detection output {shape} and prototypes [1,K,h,w] or [1,h,w,K]; "
                    f"the model has {described(signature.tensors)}")
        det, protos = parts
        layouts = self._layouts(signature, card)
        if len(layouts) == 1:
            return None
        if len(layouts) > 1:
            return (f"prototypes {list(protos.shape)} fit both NCHW and NHWC: give 'proto_layout' in the model card")
        if not self.end_to_end and card.labels:
            for lay in proto_layouts(protos, signature.input_size):
                axis = raw_axis(det.shape, _k(protos.shape, lay), None)
                if axis is not None:
                    return (f"output has {det.shape[axis] - 4 - _k(protos.shape, lay)} class scores but the model card "
                            f"has {len(card.labels)} labels")
        classes = f" and {len(card.labels)} labels" if card.labels else ""
        k = {lay: _k(protos.shape, lay) for lay in proto_layouts(protos, signature.input_size)} or "none"
        return (f"adapter {self.name} needs detections {shape}; got {list(det.shape)} with prototypes "
                f"{list(protos.shape)} (K by layout: {k}){classes}; set 'adapter', 'proto_layout' or 'labels' in "
                "the model card")

    def decode(self, outputs: Mapping[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
        det_t, protos_t = _parts(array_tensors(outputs))  # type: ignore[misc]
        dets, protos = outputs[det_t.key][0], outputs[protos_t.key][0]
        layout = card.proto_layout or self._layouts(Signature((det_t, protos_t), card.input_size), card)[0]
        if layout == "NHWC":
            protos = protos.transpose(2, 0, 1)
        k = protos.shape[0]
        if self.end_to_end:
            boxes, scores, classes, coeffs = dets[:, :4], dets[:, 4], np.rint(dets[:, 5]).astype(np.int64), dets[:, 6:]
            keep = select(classes, scores, min_score, max_detections)
        else:
            axis = raw_axis((1, *dets.shape), k, len(card.labels) or None)
            rows = (dets.T if axis == 1 else dets).astype(np.float32)
            class_scores = rows[:, 4:rows.shape[1] - k]
            classes = class_scores.argmax(axis=1).astype(np.int64)
            scores = class_scores[np.arange(len(rows)), classes]
            cxcywh = rows[:, :4]
            boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
            coeffs = rows[:, rows.shape[1] - k:]
            kept = class_nms(input_pixels(boxes, card), scores, classes, np.flatnonzero(scores >= min_score),
                             card.nms_iou)
            keep = kept[select(classes[kept], scores[kept], min_score, max_detections)]
        if not len(keep):
            return empty(geometry.original_size)
        original = to_original(input_pixels(boxes[keep], card), geometry)
        masks = prototype_masks(coeffs[keep], protos, original, geometry, card.threshold)
        return Instances(geometry.original_size, classes[keep], scores[keep].astype(np.float32), original, masks)


E2E = Yolo("yolo_e2e", end_to_end=True)
RAW = Yolo("yolo_raw", end_to_end=False)
