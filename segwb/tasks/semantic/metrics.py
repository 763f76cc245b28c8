"""Per-image and dataset IoU between two class maps (workbench-behaviour §1).

The reference is the parent model's map (or the ground truth); pixels where either map holds an id
outside ``0..num_classes-1`` (e.g. VOC void 255) are excluded. A class absent from both maps has
no IoU and is dropped, never counted as 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...io.labels import VOC_VOID, normalise


@dataclass(frozen=True)
class MapComparison:
    """One image: IoU per class present in either map, their mean, the share of equal pixels, and the confusion
    matrix they come from (reference rows, prediction columns: summed over images, the dataset's agreement)."""

    class_iou: dict[int, float]
    pixel_agreement: float | None
    confusion: np.ndarray | None = None

    @property
    def average(self) -> float | None:
        """"Optimized Model Average Result": mean IoU over the image's classes (None if no valid pixel)."""
        return float(np.mean(list(self.class_iou.values()))) if self.class_iou else None


def confusion_matrix(reference: np.ndarray, prediction: np.ndarray, num_classes: int) -> np.ndarray:
    """CM[i, j] = pixels with reference i and prediction j, over pixels where both ids are valid."""
    if reference.shape != prediction.shape:
        raise ValueError(f"class maps differ in size: {reference.shape} vs {prediction.shape}")
    if reference.dtype == prediction.dtype and reference.dtype in (np.uint8, np.uint16) and reference.size < 1 << 24:
        # OpenCV's 2-D histogram skips ids outside 0..n-1 and counts in float32, exact below 2^24 pixels:
        # 6x faster than bincount on a 480x640 pair.
        n = num_classes
        return cv2.calcHist([reference, prediction], [0, 1], None, [n, n], [0, n, 0, n]).astype(np.int64)
    ref, pred = reference.ravel(), prediction.ravel()
    invalid = (ref >= num_classes) | (pred >= num_classes)
    if ref.dtype.kind == "i" or pred.dtype.kind == "i":  # signed ids can be negative
        invalid |= (ref < 0) | (pred < 0)
    # Invalid pixels all land in one extra bin that is cut off: 5x faster than compressing both maps.
    narrow = max(ref.dtype.itemsize, pred.dtype.itemsize) <= 2 and num_classes <= 32767
    combined = ref.astype(np.int32 if narrow else np.int64) * num_classes + pred
    combined[invalid] = num_classes * num_classes
    counts = np.bincount(combined, minlength=num_classes * num_classes + 1)
    return counts[:num_classes * num_classes].reshape(num_classes, num_classes)


def iou_per_class(cm: np.ndarray) -> dict[int, float]:
    """IoU_c = CM[c,c] / (row_c + col_c - CM[c,c]) for every class present in either map."""
    diag = np.diag(cm).astype(np.float64)
    union = cm.sum(axis=0) + cm.sum(axis=1) - diag
    return {int(c): float(diag[c] / union[c]) for c in np.flatnonzero(union > 0)}


def compare_maps(reference: np.ndarray, prediction: np.ndarray, num_classes: int) -> MapComparison:
    """Per-class IoU and pixel agreement of ``prediction`` against ``reference`` for one image."""
    cm = confusion_matrix(reference, prediction, num_classes)
    total = cm.sum()
    agreement = float(np.trace(cm) / total) if total else None
    return MapComparison(iou_per_class(cm), agreement, cm)


def mean_iou(cm: np.ndarray) -> tuple[float | None, dict[int, float]]:
    """Dataset mean IoU from a confusion matrix summed over all images, and the per-class IoUs."""
    per_class = iou_per_class(cm)
    return (float(np.mean(list(per_class.values()))) if per_class else None), per_class


def label_lut(dataset_labels: tuple[str, ...], model_labels: tuple[str, ...], void: int = VOC_VOID) -> tuple[np.ndarray, list[str]]:
    """Map dataset class ids to model class ids by name.

    Dataset classes the model does not know become the model's ``background`` (a person-vs-background
    model rightly calls a car background); without a background class they become void. Returns the
    256-entry lookup table and the dataset names that had no model class.
    """
    lut = np.full(256, void, dtype=np.uint8)
    model_ids = {normalise(n): i for i, n in enumerate(model_labels) if normalise(n)}
    background = model_ids.get("background")
    unmapped = []
    for data_id, name in enumerate(dataset_labels):
        model_id = model_ids.get(normalise(name))
        if model_id is None:
            unmapped.append(name)
            model_id = background if background is not None else void
        lut[data_id] = model_id
    return lut, unmapped
