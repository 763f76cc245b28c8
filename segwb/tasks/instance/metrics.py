"""Instance comparison against a reference (the parent model's detections, or ground truth), per image and class.

Matching follows COCO's evaluation: detections in descending score order each take the still-unmatched
reference instance of the same class with the highest mask IoU at or above the threshold (one-to-one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from .instances import Instances

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)  # COCO's 0.50:0.05:0.95
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
MATCH_IOU = 0.5


@dataclass(frozen=True)
class ClassComparison:
    """One (image, class) row: A = optimized instances, B = reference instances."""

    class_id: int
    optimized: int
    parent: int
    matches: int
    average_precision: float | None  # None when the reference has none of the class
    precision: float | None  # matches / A; None when A = 0


@dataclass(frozen=True)
class DetectionComparison:
    """Per-class rows of one image and, per instance, whether it found a partner at IoU 0.5."""

    classes: list[ClassComparison]
    optimized_matched: np.ndarray  # bool per optimized instance
    parent_matched: np.ndarray  # bool per reference instance

    @property
    def optimized(self) -> int:
        return sum(c.optimized for c in self.classes)

    @property
    def parent(self) -> int:
        return sum(c.parent for c in self.classes)

    @property
    def matches(self) -> int:
        return sum(c.matches for c in self.classes)


def mask_ious(detections: list[dict], references: list[dict], crowd: bool = False) -> np.ndarray:
    """Mask IoU matrix [detections, references] of RLE masks (pycocotools); against ``crowd`` regions, COCO's
    intersection over the detection's area."""
    if not detections or not references:
        return np.zeros((len(detections), len(references)))
    return np.asarray(mask_utils.iou(detections, references, [int(crowd)] * len(references)), dtype=np.float64)


def greedy_match(ious: np.ndarray, threshold: float) -> np.ndarray:
    """For detections in score order (rows), the matched reference column or -1, one-to-one.

    Each detection takes the unmatched reference with the highest IoU ≥ ``threshold``; on equal IoU the
    later reference wins, exactly as pycocotools' ``evaluateImg`` decides.
    """
    n_det, n_ref = ious.shape
    taken = np.zeros(n_ref, dtype=bool)
    matched = np.full(n_det, -1, dtype=np.int64)
    limit = min(threshold, 1 - 1e-10)
    for d in range(n_det):
        best, best_iou = -1, limit
        for r in range(n_ref):
            if not taken[r] and ious[d, r] >= best_iou:
                best, best_iou = r, ious[d, r]
        if best >= 0:
            taken[best] = True
            matched[d] = best
    return matched


def average_precision(ious: np.ndarray, crowd_ious: np.ndarray | None = None) -> float:
    """COCO-style AP of one image and class: 10 IoU thresholds x 101 recall points, precision made monotone.

    ``ious`` is [detections in descending score order, reference instances]; needs at least one reference.
    ``crowd_ious`` ([detections, crowd regions], from ``mask_ious(..., crowd=True)``): at each threshold a
    detection that matches no instance but covers a crowd region that much is ignored, as COCOeval does.
    """
    n_det, n_ref = ious.shape
    if n_det == 0:
        return 0.0
    crowd_best = crowd_ious.max(axis=1) if crowd_ious is not None and crowd_ious.size else np.zeros(n_det)
    matched = np.stack([greedy_match(ious, t) for t in IOU_THRESHOLDS])
    counted = (matched >= 0) | (crowd_best < np.minimum(IOU_THRESHOLDS, 1 - 1e-10)[:, None])
    if counted.all():  # no detection ignored at any threshold: all thresholds at once (the same values)
        return _mean_precision((matched >= 0).astype(np.float64), n_ref)
    return float(np.mean([_mean_precision((m[c] >= 0).astype(np.float64)[None], n_ref)
                          for m, c in zip(matched, counted, strict=True)]))


def _mean_precision(tp: np.ndarray, n_ref: int) -> float:
    """Mean over the rows of ``tp`` (one per IoU threshold: 1 where a detection, by descending score, matched) of
    the interpolated precision at the 101 recall points, as COCO's accumulate() computes it."""
    if not tp.shape[1]:  # every detection ignored (crowd regions): no precision at any recall
        return 0.0
    tp_sum, fp_sum = np.cumsum(tp, axis=1), np.cumsum(1 - tp, axis=1)
    recall = tp_sum / n_ref
    precision = tp_sum / (tp_sum + fp_sum + np.spacing(1))
    precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]  # monotone
    idx = (recall[:, :, None] < RECALL_POINTS).sum(axis=1)  # searchsorted(side="left") of each row: recall is sorted
    valid = idx < tp.shape[1]
    q = np.where(valid, np.take_along_axis(precision, np.minimum(idx, tp.shape[1] - 1), axis=1), 0.0)
    return float(np.mean(q.mean(axis=1)))


def compare_instances(reference: Instances, prediction: Instances, threshold: float = MATCH_IOU,
                      crowd: Instances | None = None) -> DetectionComparison:
    """Per class present in either side: A, B, matches at ``threshold``, AP and precision (both sorted by score).

    ``crowd``: the reference's crowd regions (ground truth), which only the AP takes into account.
    """
    ref_matched = np.zeros(len(reference), dtype=bool)
    pred_matched = np.zeros(len(prediction), dtype=bool)
    rows = []
    for c in sorted(set(reference.class_ids.tolist()) | set(prediction.class_ids.tolist())):
        r_idx = np.flatnonzero(reference.class_ids == c)
        p_idx = np.flatnonzero(prediction.class_ids == c)
        detections = [prediction.masks[i] for i in p_idx]
        ious = mask_ious(detections, [reference.masks[i] for i in r_idx])
        matched = greedy_match(ious, threshold)
        pred_matched[p_idx[matched >= 0]] = True
        ref_matched[r_idx[matched[matched >= 0]]] = True
        hits = int((matched >= 0).sum())
        crowd_ious = None
        if crowd is not None and len(r_idx):
            crowd_ious = mask_ious(detections, [crowd.masks[i] for i in np.flatnonzero(crowd.class_ids == c)], crowd=True)
        rows.append(ClassComparison(
            class_id=int(c), optimized=len(p_idx), parent=len(r_idx), matches=hits,
            average_precision=average_precision(ious, crowd_ious) if len(r_idx) else None,
            precision=hits / len(p_idx) if len(p_idx) else None))
    return DetectionComparison(rows, pred_matched, ref_matched)
