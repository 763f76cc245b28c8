"""YOLACT as Open Model Zoo converts it (``yolact-resnet50-fpn-pytorch``): ``boxes`` [1,A,4] x1,y1,x2,y2 as fractions
of the input, ``conf`` [1,A,C+1] class confidences with background first, ``mask`` [1,A,K] coefficients and
``proto`` [1,h,w,K] prototypes (channels last; channels first is read too). Class-aware NMS by OpenCV (the card's
``nms_iou``; Open Model Zoo's demo uses 0.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ....core.errors import ModelError
from ....inference.preprocess import Geometry
from ....io.model_card import ModelCard
from ..instances import Instances, empty, select
from .base import (Signature, Tensor, array_tensors, by_name, class_nms, described, prototype_masks, same_count,
                   to_original)
from .yolo import proto_layouts

NAMES = ("boxes", "conf", "mask", "proto")


def _bind(tensors: Sequence[Tensor], input_size: tuple[int, int] | None) -> tuple[list[Tensor], str] | None:
    """(boxes, conf, mask, proto) and the prototypes' layout: by name, else by shape."""
    found = by_name(tensors, *NAMES)
    if found is None and len(tensors) == 4:
        rank3 = [t for t in tensors if t.rank == 3 and not t.integer]
        protos = [t for t in tensors if t.rank == 4 and not t.integer]
        boxes = [t for t in rank3 if t.shape[2] == 4]
        if len(rank3) == 3 and len(protos) == 1 and len(boxes) == 1:
            rest = [t for t in rank3 if t is not boxes[0]]
            for layout in proto_layouts(protos[0], input_size):
                k = protos[0].shape[1 if layout == "NCHW" else 3]
                masks = [t for t in rest if t.shape[2] == k]
                if len(masks) == 1:  # the other one holds the class confidences
                    conf = next(t for t in rest if t is not masks[0])
                    return ([boxes[0], conf, masks[0], protos[0]], layout) if conf.shape[2] not in (0, 1) else None
        return None
    if found is None:
        return None
    boxes, conf, mask, proto = found
    if any(t.rank != 3 or t.integer for t in (boxes, conf, mask)) or proto.rank != 4 or proto.integer \
            or boxes.shape[2] not in (4, -1) or conf.shape[2] in (0, 1):  # conf: background and at least one class
        return None
    layouts = [lay for lay in proto_layouts(found[3], input_size)
               if found[3].shape[1 if lay == "NCHW" else 3] == found[2].shape[2]]
    return (found, layouts[0]) if len(layouts) == 1 else None


class Yolact:
    name = "yolact"

    def recognise(self, signature: Signature) -> dict[str, Any] | None:
        bound = _bind(signature.tensors, signature.input_size)
        # Open Model Zoo's YOLACT postprocessing suppresses at IoU 0.5, not Ultralytics' 0.7 (the card default)
        return {"adapter": self.name, "proto_layout": bound[1], "nms_iou": 0.5} if bound else None

    def problem(self, signature: Signature, card: ModelCard) -> str | None:
        bound = _bind(signature.tensors, signature.input_size)
        if bound is None:
            return (f"adapter yolact needs outputs boxes [1,A,4], conf [1,A,C+1], mask [1,A,K] and proto [1,h,w,K]; "
                    f"the model has {described(signature.tensors)}")
        conf = bound[0][1]
        if card.labels and conf.shape[2] not in (-1, len(card.labels) + 1):
            return (f"output {conf.key} has {conf.shape[2]} class confidences (background first) but the model card has "
                    f"{len(card.labels)} labels")
        return None

    def decode(self, outputs: Mapping[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
        (boxes_t, conf_t, mask_t, proto_t), layout = _bind(array_tensors(outputs), card.input_size)  # type: ignore[misc]
        if card.proto_layout:
            layout = card.proto_layout
        in_h, in_w = card.input_size
        boxes = outputs[boxes_t.key][0].astype(np.float32) * np.float32([in_w, in_h, in_w, in_h])
        conf = outputs[conf_t.key][0][:, 1:]  # column 0 is the background
        coeffs, protos = outputs[mask_t.key][0], outputs[proto_t.key][0]
        protos = protos.transpose(2, 0, 1) if layout == "NHWC" else protos
        same_count(self.name, {boxes_t.key: len(boxes), conf_t.key: len(conf), mask_t.key: len(coeffs)})
        if not conf.shape[1] or coeffs.shape[1] != protos.shape[0]:
            raise ModelError(f"adapter yolact needs conf [1,A,C+1] with C >= 1 and as many mask coefficients as "
                             f"prototypes; got {described(array_tensors(outputs))} ({layout} prototypes)")
        classes = conf.argmax(axis=1).astype(np.int64)
        scores = conf[np.arange(len(conf)), classes].astype(np.float32)
        kept = class_nms(boxes, scores, classes, np.flatnonzero(scores >= min_score), card.nms_iou)
        keep = kept[select(classes[kept], scores[kept], min_score, max_detections)]
        if not len(keep):
            return empty(geometry.original_size)
        original = to_original(boxes[keep], geometry)
        masks = prototype_masks(coeffs[keep], protos, original, geometry, card.threshold)
        return Instances(geometry.original_size, classes[keep], scores[keep], original, masks)


YOLACT = Yolact()
