"""The semantic tutorial's last steps: class maps of every image from both models, then the comparison with the
parent as reference (and the ground truth when the dataset is annotated), with an overlay per image."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ...core.errors import DatasetError, ModelError
from ...core.project import Project
from ...inference.preprocess import Geometry
from ...io.datasets import Dataset
from ...io.images import save_image
from ...io.labels import VOC_VOID
from ...io.model_card import ModelCard
from .. import image_table
from ..base import DetectionLimits, ImageRecord, ImageResult, ReportJob
from .adapters import class_labels, decoder, output_classes
from .class_maps import load_class_map, prediction_path, save_class_map
from .metrics import compare_maps, confusion_matrix, label_lut, mean_iou
from .overlay import semantic_overlay

log = logging.getLogger("segwb")


class SemanticJob(ReportJob):
    """Class maps saved as ``predictions/<role>/<key>.png``; rows per image and per (image, class)."""

    version = 2  # 2: compared image by image beside the inference (issue 19); VOC/COCO name synonyms

    def __init__(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> None:
        super().__init__(project, dataset, card, limits)
        self.classes = output_classes(project.parent_xml, card)
        self._decode = decoder(card)

    @cached_property
    def images(self) -> list[ImageRecord]:
        return image_table.records(self.dataset)

    def prediction_outputs(self, role: str) -> tuple[Path, ...]:
        folder = self.project.predictions(role)
        return tuple(prediction_path(folder, s.key) for s in self.dataset.samples)

    def decode(self, role: str, request: ov.InferRequest, index: int, geometry: Geometry) -> np.ndarray:
        return self._decode(request, geometry)

    def keep(self, role: str, index: int, prediction: np.ndarray) -> None:
        save_class_map(prediction_path(self.project.predictions(role), self.images[index].key), prediction)

    def saved(self, role: str, index: int) -> np.ndarray:
        return load_class_map(prediction_path(self.project.predictions(role), self.images[index].key))

    def compare_inputs(self) -> dict[str, Any]:
        inputs = {"classes": self.classes, "labels": list(self.card.labels), "annotations": self.dataset.annotated,
                  "version": self.version}
        if self.dataset.drawn:  # instances as class masks: earlier versions compared such sets without ground truth
            inputs["class_masks"] = "drawn"
        return inputs

    @cached_property
    def _truth(self) -> tuple[np.ndarray | None, list[str], bool]:
        """The lookup from mask ids to model classes (None: no ground truth), unmapped dataset classes, by index."""
        dataset, card, classes = self.dataset, self.card, self.classes
        annotated = bool(dataset.labels) and any(dataset.has_class_mask(s) for s in dataset.samples)
        # A model without names whose class count is the dataset's: classes match by index, and the report says so.
        by_index = annotated and not card.labels and classes == len(dataset.labels)
        if by_index:
            return identity_lut(classes), [], True
        if annotated:
            lut, unmapped = label_lut(dataset.mask_labels, class_labels(card, classes))
            return lut, unmapped, False
        return None, [], False

    def compare_image(self, index: int, parent: np.ndarray, optimized: np.ndarray) -> ImageResult:
        """The image's row (parent as reference), its per-class rows, and its confusion matrices against the
        parent's map and against the mask when it has one."""
        card, dataset, classes, sample = self.card, self.dataset, self.classes, self.dataset.samples[index]
        for role, ids in (("parent", parent), ("optimized", optimized)):
            check_ids(ids, classes, card, role, sample.name)
        result = compare_maps(parent, optimized, classes)
        row = {"image": sample.name, "average_result": result.average, "pixel_agreement": result.pixel_agreement}
        per_class = [{"image": sample.name, "class_id": c, "class_name": card.label(c), "result": iou}
                     for c, iou in sorted(result.class_iou.items())]
        lut = self._truth[0]
        if lut is None or not dataset.has_class_mask(sample):
            return ImageResult(row, per_class, MaskStats(agreement=result.confusion))
        source = (sample.annotation or sample.path).name  # the mask file, or the image its objects are drawn on
        try:
            mask = dataset.class_mask(sample)
        except DatasetError as exc:  # its header passed when the dataset was opened; its pixels do not
            return ImageResult(row, per_class, MaskStats(result.confusion, unreadable=f"{source} ({exc.reason})"))
        truth = lut[mask]
        return ImageResult(row, per_class, MaskStats(result.confusion, {
            "parent": confusion_matrix(truth, parent, classes), "optimized": confusion_matrix(truth, optimized, classes)},
            unknown_ids(mask, len(dataset.mask_labels)), source))

    def tally(self) -> SemanticTally:
        return SemanticTally(self)

    def draw_overlay(self, index: int, parent: np.ndarray, optimized: np.ndarray, photo: np.ndarray, row: dict[str, Any],
                     path: Path) -> None:
        save_image(path, semantic_overlay(photo, parent, optimized, class_labels(self.card, self.classes),
                                          row["pixel_agreement"]))


@dataclass
class MaskStats:
    """What one image adds up: the optimized model's confusion matrix against the parent's map, and from its mask
    both models' confusion matrices and the ids that are no class."""

    agreement: np.ndarray | None = None
    confusion: dict[str, np.ndarray] = field(default_factory=dict)
    unknown: dict[int, int] = field(default_factory=dict)  # mask id -> pixels
    source: str = ""
    unreadable: str | None = None  # the mask, and why it does not decode


class SemanticTally:
    """Rows in image order, confusion matrices summed as images arrive; sorted and averaged at the end."""

    def __init__(self, job: SemanticJob) -> None:
        self.job = job
        self.basic: list[dict[str, Any]] = []
        self.advanced: list[dict[str, Any]] = []
        self.cms = {role: np.zeros((job.classes, job.classes), dtype=np.int64) for role in ("parent", "optimized")}
        self.agreement = np.zeros((job.classes, job.classes), dtype=np.int64)  # parent map rows, optimized columns
        self.unknown_truth: dict[int, int] = {}  # mask ids that are neither a dataset class nor void -> pixels
        self.unknown_masks: list[str] = []  # the masks holding them
        self.unreadable_masks: list[str] = []  # masks that fail to decode: their image is compared without ground truth

    def add(self, result: ImageResult) -> None:
        self.basic.append(result.row)
        self.advanced += result.per_class
        stats: MaskStats = result.stats
        if stats.agreement is not None:
            self.agreement += stats.agreement
        if stats.unreadable is not None:
            self.unreadable_masks.append(stats.unreadable)
            return
        for role, cm in stats.confusion.items():
            self.cms[role] += cm
        if stats.unknown:
            self.unknown_masks.append(stats.source)
        for value, pixels in stats.unknown.items():
            self.unknown_truth[value] = self.unknown_truth.get(value, 0) + pixels

    def finish(self) -> dict[str, Any]:
        job, dataset, basic = self.job, self.job.dataset, self.basic
        lut, unmapped, by_index = job._truth
        labels = class_labels(job.card, job.classes)
        basic.sort(key=lambda r: (r["average_result"] is None, r["average_result"] if r["average_result"] is not None else 0))
        averages = [r["average_result"] for r in basic if r["average_result"] is not None]
        agreements = [r["pixel_agreement"] for r in basic if r["pixel_agreement"] is not None]
        # The ground truth's formula with the parent's maps as the truth: what the ground-truth section would say
        # of the optimized model if the parent were perfect.
        agreement_miou, agreement_per_class = mean_iou(self.agreement)
        ground_truth = None
        if lut is not None:
            annotated = sum(1 for s in dataset.samples if dataset.has_class_mask(s))
            unreadable, unknown_masks = sorted(self.unreadable_masks), sorted(self.unknown_masks)
            if unreadable:
                log.warning("%s: %d annotation masks do not decode, their images are left out of the ground truth: "
                            "%s", dataset.root, len(unreadable), ", ".join(unreadable[:10]))
            ground_truth = {"images": annotated - len(unreadable), "unmapped_classes": unmapped,
                            "void": "ignored", "unreadable_masks": unreadable,
                            "matched_by": "index" if by_index else "name",
                            "unknown_ids": {str(k): v for k, v in sorted(self.unknown_truth.items())},
                            "unknown_id_masks": unknown_masks}
            if self.unknown_truth:
                shown = ", ".join(unknown_masks[:10]) + (" ..." if len(unknown_masks) > 10 else "")
                log.warning("%s: %d annotation masks hold ids %s that are no class of the dataset (%d classes) nor "
                            "void (255); those pixels are ignored: %s", dataset.root, len(unknown_masks),
                            ", ".join(map(str, sorted(self.unknown_truth))), len(dataset.labels), shown)
            for role, cm in self.cms.items():
                miou, per_class_iou = mean_iou(cm)
                ground_truth[role] = {"mean_iou": miou, "per_class_iou": {labels[c]: v for c, v in per_class_iou.items()}}
        return {
            "comparison": {
                "reference": "parent", "num_classes": job.classes,
                "mean_average_result": float(np.mean(averages)) if averages else None,
                "mean_pixel_agreement": float(np.mean(agreements)) if agreements else None,
                "agreement_mean_iou": agreement_miou,
                "agreement_per_class_iou": {labels[c]: v for c, v in agreement_per_class.items()},
                "basic": basic, "advanced": self.advanced,
            },
            "ground_truth": ground_truth,
        }


def identity_lut(classes: int) -> np.ndarray:
    """Dataset id i is model class i (ids past the classes are void)."""
    lut = np.full(256, VOC_VOID, dtype=np.uint8)
    lut[:min(classes, 256)] = np.arange(min(classes, 256))
    return lut


def unknown_ids(mask: np.ndarray, dataset_classes: int) -> dict[int, int]:
    """Mask values that are neither one of the dataset's classes nor void, with their pixel counts."""
    counts = np.bincount(mask.ravel(), minlength=256)
    counts[:dataset_classes] = 0
    counts[VOC_VOID] = 0
    return {int(v): int(counts[v]) for v in np.flatnonzero(counts)}


def check_ids(ids: np.ndarray, classes: int, card: ModelCard, role: str, image: str) -> None:
    """Refuse predictions past the card's labels: they would leave the comparison unseen (100 % agreement)."""
    top = int(ids.max()) if ids.size else 0
    if card.labels and top >= classes:
        raise ModelError(f"the {role} model predicts class id {top} on {image}, but the model's labels list has "
                         f"{len(card.labels)} names: give one name per class (labels.txt or the model card's labels)")
