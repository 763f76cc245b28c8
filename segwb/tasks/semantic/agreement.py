"""Agreement of a semantic model with its parent as a dataset-level metric: the ground-truth formula (mean IoU over
one confusion matrix summed over all images) with the parent's class maps in place of the annotations.

So the number reads like the report's ground-truth mIoU would if the parent were perfect: 100 for a model that
predicts every pixel as the parent does. Per image, :func:`loss_share` says how much of the dataset's loss the image
holds (NNCF ranks layers on the images that hold most). The AccuracyAware metric and the report's compare step share
these.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .metrics import confusion_matrix, iou_per_class, mean_iou


def agreement_confusion(parent: np.ndarray, candidate: np.ndarray, classes: int) -> np.ndarray:
    """One image's confusion matrix with the parent's map as the truth: CM[i, j] = pixels the parent calls i and the
    candidate j (ids outside ``0..classes-1`` ignored on either side)."""
    return confusion_matrix(parent, candidate, classes)


def summed_confusion(confusions: Iterable[np.ndarray], classes: int) -> np.ndarray:
    """The images' matrices summed (an empty set gives zeros)."""
    total = np.zeros((classes, classes), np.int64)
    for cm in confusions:
        total += cm
    return total


def agreement_miou(confusion: np.ndarray) -> float | None:
    """Mean IoU (0-1) over the classes either side predicts somewhere, from a summed matrix; None without a pixel."""
    return mean_iou(confusion)[0]


def agreement_per_class(confusion: np.ndarray) -> dict[int, float]:
    """IoU (0-1) of each class either side predicts somewhere, from a summed matrix."""
    return iou_per_class(confusion)


def image_agreement(confusion: np.ndarray) -> float:
    """One image's mean IoU against the parent (0-1), 1.0 when it has no pixel to compare."""
    value = mean_iou(confusion)[0]
    return 1.0 if value is None else value


def class_pixels(maps: Iterable[np.ndarray], classes: int) -> np.ndarray:
    """Pixels of each class over ``maps`` (ids outside ``0..classes-1``, e.g. void, ignored)."""
    total = np.zeros(classes, np.int64)
    for ids in maps:
        flat = ids.ravel()
        total += np.bincount(flat[(flat >= 0) & (flat < classes)].astype(np.int64), minlength=classes)[:classes]
    return total


def loss_share(confusion: np.ndarray, reference_pixels: np.ndarray) -> float:
    """One image's value (0-1) for ranking: 1 minus its share of the dataset's mean-IoU loss, linearised.

    Each pixel the image gets wrong of class c (missed, or given c where the reference has another class) costs
    1 / (K x P_c), P_c being the reference's pixels of c over the whole dataset and K the classes it holds; a pixel of
    a class the reference never holds costs 1 / K (that class would enter the mean with IoU 0). Summed over the images,
    the costs approximate the dataset's loss, so a few stray pixels of a class weigh what they weigh in the dataset's
    mean IoU, not as a whole class of one image. 1.0 for an image that agrees everywhere; at least 0.
    """
    held = reference_pixels > 0
    if not held.any():
        return 1.0
    wrong = confusion.sum(axis=0) + confusion.sum(axis=1) - 2 * np.diag(confusion)
    cost = np.where(held, wrong / np.maximum(reference_pixels, 1), (confusion.sum(axis=0) > 0).astype(np.float64))
    return float(max(0.0, 1.0 - cost.sum() / held.sum()))
