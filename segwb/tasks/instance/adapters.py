"""Instance output adapters: raw model outputs → :class:`Instances` at the original image size.

- ``mask_rcnn``: Open Model Zoo Mask R-CNN IRs (``boxes`` [N,5] x1,y1,x2,y2,score; ``labels`` [N];
  ``masks`` [N,28,28] heatmaps of the box), masks pasted into their boxes as Open Model Zoo's demos do.
- ``yolo_e2e``: end-to-end YOLO-seg exports ([1,N,6+K] x1,y1,x2,y2,score,class,coefficients, plus
  prototypes [1,K,H/4,W/4]); no NMS needed.
- ``yolo_raw``: YOLOv8/YOLO11-seg exports ([1,4+C+K,A] cx,cy,w,h, C class scores, coefficients, plus
  prototypes); class-aware NMS by OpenCV.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov

from ...core.errors import ModelError
from ...inference.preprocess import Geometry
from ...inference.queue import output_arrays
from ...io.model_card import ModelCard
from ...io.model_inspect import port_name
from .instances import Instances, empty, encode_crop, select

ADAPTERS = ("mask_rcnn", "yolo_e2e", "yolo_raw")
MASK_RCNN_OUTPUTS = ("boxes", "labels", "masks")
# Ultralytics exports all take RGB 0..1, letterboxed with grey 114: the defaults when the outputs say "YOLO".
YOLO_INPUT = {"color_order": "RGB", "mean": 0, "scale": 255, "resize": "letterbox", "pad_value": 114}


def _rank(shape: Any) -> int:
    return shape.rank.get_length() if shape.rank.is_static else -1


def recognise(model: ov.Model) -> dict[str, Any]:
    """``task: instance`` and the adapter when the outputs have one of the known signatures, else {}."""
    names = set().union(*(o.get_names() for o in model.outputs)) if model.outputs else set()
    if set(MASK_RCNN_OUTPUTS) <= names:
        return {"task": "instance", "adapter": "mask_rcnn"}
    if len(model.outputs) != 2:
        return {}
    by_rank = {_rank(o.get_partial_shape()): o.get_partial_shape() for o in model.outputs}
    if set(by_rank) != {3, 4} or by_rank[4][1].is_dynamic:
        return {}
    k, det = by_rank[4][1].get_length(), by_rank[3]
    if det[2].is_static and det[2].get_length() == 6 + k:
        return {"task": "instance", "adapter": "yolo_e2e", **YOLO_INPUT}
    if det[1].is_static and det[1].get_length() > 4 + k:
        return {"task": "instance", "adapter": "yolo_raw", **YOLO_INPUT}
    return {}


def check_outputs(model: ov.Model, card: ModelCard, path: Path) -> None:
    """Refuse outputs that do not fit ``card.adapter`` (one line naming ``path``)."""
    problem = output_problem(model, card)
    if problem:
        raise ModelError(problem, path)


def output_problem(model: ov.Model, card: ModelCard) -> str | None:
    """Why the outputs do not fit ``card.adapter`` (one line), or None when they do."""
    shapes = {port_name(o, n): [d.get_length() if d.is_static else -1 for d in o.get_partial_shape()]
              for n, o in enumerate(model.outputs)}
    if card.adapter == "mask_rcnn":
        names = set().union(*(o.get_names() for o in model.outputs))
        missing = [n for n in MASK_RCNN_OUTPUTS if n not in names]
        return f"adapter mask_rcnn needs outputs boxes, labels and masks; missing {', '.join(missing)}" if missing else None
    ranks = sorted(len(s) for s in shapes.values())
    if ranks != [3, 4]:
        return f"adapter {card.adapter} needs a detection output [1,N,D] and prototypes [1,K,H,W]; outputs are {shapes}"
    det = next(s for s in shapes.values() if len(s) == 3)
    k = next(s for s in shapes.values() if len(s) == 4)[1]
    if card.adapter == "yolo_e2e" and det[2] != 6 + k:
        return f"adapter yolo_e2e needs detections [1,N,6+K] with K={k} prototypes; got {det}"
    if card.adapter == "yolo_raw":
        classes = det[1] - 4 - k
        if classes < 1:
            return f"adapter yolo_raw needs [1,4+C+K,A] with K={k} prototypes; got {det}"
        if card.labels and classes != len(card.labels):
            return f"output has {classes} class scores but the model card has {len(card.labels)} labels"
    return None


def decoder(card: ModelCard, min_score: float, max_detections: int) -> Callable[[ov.InferRequest, Geometry], Instances]:
    """The detections of a finished request, at the original image size."""
    def decode_request(request: ov.InferRequest, geometry: Geometry) -> Instances:
        return decode(output_arrays(request), card, geometry, min_score, max_detections)

    return decode_request


def decode(outputs: dict[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
           max_detections: int) -> Instances:
    """Detections with score ≥ ``min_score`` (at most ``max_detections``), masks at the original size."""
    for name, array in outputs.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():  # NaN scores would drop detections unseen
            raise ModelError(f"the model's output '{name}' holds NaN or infinite values: its detections cannot be compared")
    if card.adapter == "mask_rcnn":
        return _mask_rcnn(outputs, card, geometry, min_score, max_detections)
    dets = next(v for v in outputs.values() if v.ndim == 3)[0]
    protos = next(v for v in outputs.values() if v.ndim == 4)[0]
    if card.adapter == "yolo_e2e":
        boxes, scores, classes, coeffs = dets[:, :4], dets[:, 4], dets[:, 5].astype(np.int64), dets[:, 6:]
        keep = select(classes, scores, min_score, max_detections)
    elif card.adapter == "yolo_raw":
        boxes, scores, classes, coeffs, keep = _yolo_raw(dets, protos.shape[0], card, min_score, max_detections)
    else:
        raise ValueError(f"unknown instance adapter {card.adapter!r}; known: {', '.join(ADAPTERS)}")
    if not len(keep):
        return empty(geometry.original_size)
    logits = coeffs[keep].astype(np.float32) @ protos.reshape(protos.shape[0], -1).astype(np.float32)
    logits = logits.reshape(len(keep), *protos.shape[1:])
    original = _to_original(boxes[keep], geometry)
    cut = float(np.log(card.threshold / (1 - card.threshold)))  # sigmoid(x) > t  ⇔  x > logit(t)
    masks = [_proto_mask(logits[i], original[i], geometry, cut) for i in range(len(keep))]
    return Instances(geometry.original_size, classes[keep], scores[keep].astype(np.float32), original, masks)


def _batchless(array: np.ndarray, ndim: int) -> np.ndarray:
    return array[0] if array.ndim == ndim + 1 and array.shape[0] == 1 else array


def _to_original(boxes: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Boxes (x1, y1, x2, y2) from model-input pixels to original pixels, clipped to the image."""
    h, w = geometry.original_size
    sx, sy = geometry.width / w, geometry.height / h
    out = (boxes.astype(np.float32) - np.float32([geometry.left, geometry.top] * 2)) / np.float32([sx, sy, sx, sy])
    return np.clip(out, 0, np.float32([w, h, w, h]))


def _mask_rcnn(outputs: dict[str, np.ndarray], card: ModelCard, geometry: Geometry, min_score: float,
               max_detections: int) -> Instances:
    raw = _batchless(outputs["boxes"], 2)
    classes = _batchless(outputs["labels"], 1).astype(np.int64)
    heatmaps = _batchless(outputs["masks"], 3)
    keep = select(classes, raw[:, 4], min_score, max_detections)
    if not len(keep):
        return empty(geometry.original_size)
    boxes = _to_original(raw[keep, :4], geometry)
    masks = [_paste(heatmaps[i], box, geometry.original_size, card.threshold) for i, box in zip(keep, boxes)]
    return Instances(geometry.original_size, classes[keep], raw[keep, 4].astype(np.float32), boxes, masks)


def _paste(heatmap: np.ndarray, box: np.ndarray, size: tuple[int, int], threshold: float) -> dict[str, Any]:
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


def _proto_mask(logit: np.ndarray, box: np.ndarray, geometry: Geometry, cut: float) -> dict[str, Any]:
    """One instance's prototype logits, resampled inside its box at the original size, thresholded.

    A single affine warp maps original pixels to prototype coordinates (through the letterbox), so only
    the box is computed, at the same values a full-image bilinear resize would give.
    """
    h, w = geometry.original_size
    in_h, in_w = geometry.input_size
    mh, mw = logit.shape
    x0, y0 = int(np.ceil(box[0] - 0.5)), int(np.ceil(box[1] - 0.5))  # pixels whose centre is inside the box
    x1, y1 = int(np.ceil(box[2] - 0.5)), int(np.ceil(box[3] - 0.5))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return encode_crop(np.zeros((0, 0), np.uint8), 0, 0, (h, w))
    ax, ay = geometry.width / w * mw / in_w, geometry.height / h * mh / in_h
    bx = (geometry.left + (x0 + 0.5) * geometry.width / w) * mw / in_w - 0.5
    by = (geometry.top + (y0 + 0.5) * geometry.height / h) * mh / in_h - 0.5
    warp = np.float32([[ax, 0, bx], [0, ay, by]])
    crop = cv2.warpAffine(logit, warp, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    return encode_crop(crop > cut, y0, x0, (h, w))


def _yolo_raw(dets: np.ndarray, k: int, card: ModelCard, min_score: float,
              max_detections: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode [4+C+K, A] anchors and run class-aware NMS (OpenCV); returns boxes, scores, classes, coeffs, kept."""
    rows = dets.T.astype(np.float32)
    class_scores = rows[:, 4:rows.shape[1] - k]
    classes = class_scores.argmax(axis=1).astype(np.int64)
    scores = class_scores[np.arange(len(rows)), classes]
    cxcywh = rows[:, :4]
    boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
    candidates = np.flatnonzero(scores >= min_score)
    kept = np.zeros(0, np.int64)
    if len(candidates):
        xywh = np.concatenate([boxes[candidates, :2], cxcywh[candidates, 2:]], axis=1)
        picked = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores[candidates].tolist(), classes[candidates].tolist(),
                                         min_score, card.nms_iou)
        kept = candidates[np.asarray(picked, dtype=np.int64).reshape(-1)]
        kept = kept[select(classes[kept], scores[kept], min_score, max_detections)]
    return boxes, scores, classes, rows[:, rows.shape[1] - k:], kept
