"""AccuracyAware metrics of semantic models, in points (0–100): mean IoU over one confusion matrix of all validation
images, against VOC masks, or against the parent's class maps when the dataset has no usable masks (the same formula
with the parent as the truth, :mod:`segwb.tasks.semantic.agreement`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from ...io.datasets import Dataset
from ...io.model_card import ModelCard
from ..base import MIN_VALIDATION_IMAGES
from .adapters import class_labels
from .agreement import agreement_confusion, agreement_miou, class_pixels, loss_share, summed_confusion
from .metrics import confusion_matrix, label_lut, mean_iou

log = logging.getLogger("segwb")


@dataclass
class SemanticTruth:
    """Mean IoU against VOC masks (void ignored), dataset classes mapped to the model's by name; per image, its share
    of the loss (:func:`~segwb.tasks.semantic.agreement.loss_share`), which picks the images NNCF ranks layers on."""

    masks: list[np.ndarray]
    classes: int
    name: str = "mean IoU"
    reference: str = "ground truth"
    pixels: np.ndarray = field(init=False, repr=False)  # of each class in the masks

    def __post_init__(self) -> None:
        self.pixels = class_pixels(self.masks, self.classes)

    def image(self, index: int, prediction: np.ndarray) -> tuple[np.ndarray, float]:
        cm = confusion_matrix(self.masks[index], prediction, self.classes)
        return cm, loss_share(cm, self.pixels)

    def combine(self, indices: list[int], stats: list[np.ndarray]) -> float:
        value = mean_iou(np.sum(stats, axis=0))[0] if stats else None
        return 100.0 * (value or 0.0)


@dataclass
class SemanticAgreement:
    """Mean IoU with the parent's class maps as the truth, over one confusion matrix of all images; per image, its
    share of the loss (:func:`~segwb.tasks.semantic.agreement.loss_share`), which picks the images NNCF ranks on."""

    parent: list[np.ndarray]
    classes: int
    name: str = "mean IoU"
    reference: str = "parent model"
    pixels: np.ndarray = field(init=False, repr=False)  # of each class in the parent's maps

    def __post_init__(self) -> None:
        self.pixels = class_pixels(self.parent, self.classes)

    def image(self, index: int, prediction: np.ndarray) -> tuple[np.ndarray, float]:
        cm = agreement_confusion(self.parent[index], prediction, self.classes)
        return cm, loss_share(cm, self.pixels)

    def combine(self, indices: list[int], stats: list[np.ndarray]) -> float:
        value = agreement_miou(summed_confusion(stats, self.classes))
        return 100.0 * (1.0 if value is None else value)  # no pixel to compare: nothing disagrees


def semantic_truth_problem(dataset: Dataset, card: ModelCard, classes: int) -> str | None:
    """Why mean IoU against the dataset's masks cannot be computed (None: it can); reads no mask."""
    annotated = [s for s in dataset.samples if dataset.has_class_mask(s)]
    if not dataset.labels or not annotated:
        return (f"{dataset.root}: no class masks (Pascal VOC, Cityscapes or images-and-masks layout, or COCO/YOLO "
                "instances)")
    if len(annotated) < len(dataset.samples):
        return (f"{dataset.root}: only {len(annotated)} of {len(dataset.samples)} images have a class mask, "
                "too few to rank layers on")
    _, unmapped = label_lut(dataset.mask_labels, class_labels(card, classes))
    if not [n for n in dataset.mask_labels if n not in unmapped and n.lower() != "background"]:
        return f"{dataset.root}: none of its classes ({', '.join(dataset.labels[:5])}, ...) is a class of the model"
    return None


def semantic_truth(dataset: Dataset, card: ModelCard, classes: int) -> SemanticTruth | str:
    """The ground-truth metric, or why it cannot be computed."""
    if problem := semantic_truth_problem(dataset, card, classes):
        return problem
    lut, _ = label_lut(dataset.mask_labels, class_labels(card, classes))
    return SemanticTruth([lut[dataset.class_mask(s)] for s in dataset.samples if dataset.has_class_mask(s)], classes)


def annotated_part(dataset: Dataset, card: ModelCard, classes: int) -> Dataset:
    """A VOC set with some masks missing: its annotated images, when they are enough to rank on and their classes
    are the model's (else all of it, and the metric falls back to agreement or refuses, as for an unannotated set)."""
    annotated = replace(dataset, samples=[s for s in dataset.samples if dataset.has_class_mask(s)])
    if not dataset.labels or len(annotated.samples) == len(dataset.samples) \
            or len(annotated.samples) < MIN_VALIDATION_IMAGES or semantic_truth_problem(annotated, card, classes):
        return dataset
    log.warning("AccuracyAware: ground truth on the %d of %d images of %s that have a class mask",
                len(annotated.samples), len(dataset.samples), dataset.root)
    return annotated
