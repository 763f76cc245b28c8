"""The semantic tutorial's last steps: class maps of every image from both models, then the comparison with the
parent as reference (and the ground truth when the dataset is annotated), with an overlay per image."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ...core.errors import DatasetError, ModelError
from ...core.project import Project
from ...inference.feed import InputFeed
from ...inference.preprocess import Geometry
from ...inference.queue import run_over
from ...io.datasets import Dataset, Sample
from ...io.images import load_image, save_image
from ...io.labels import VOC_VOID
from ...io.model_card import ModelCard
from .. import image_table
from ..base import DetectionLimits, ImageRecord, Progress, ReportJob
from .adapters import class_labels, decoder, output_classes
from .class_maps import load_class_map, prediction_path, save_class_map
from .metrics import compare_maps, confusion_matrix, label_lut, mean_iou
from .overlay import semantic_overlay

log = logging.getLogger("segwb")


class SemanticJob(ReportJob):
    """Class maps saved as ``predictions/<role>/<key>.png``; rows per image and per (image, class)."""

    def __init__(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> None:
        super().__init__(project, dataset, card, limits)
        self.classes = output_classes(project.parent_xml, card)

    @cached_property
    def images(self) -> list[ImageRecord]:
        return image_table.records(self.dataset)

    def prediction_outputs(self, role: str) -> tuple[Path, ...]:
        folder = self.project.predictions(role)
        return tuple(prediction_path(folder, s.key) for s in self.dataset.samples)

    def predict(self, compiled: ov.CompiledModel, role: str, feed: InputFeed, progress: Progress | None,
                cancel: threading.Event | None) -> dict[str, Any]:
        folder, decode, keys = self.project.predictions(role), decoder(self.card), [i.key for i in self.images]

        def save(request: ov.InferRequest, index: int, geometry: Geometry) -> None:
            save_class_map(prediction_path(folder, keys[index]), decode(request, geometry))

        run_over(compiled, feed, save, progress, cancel,
                 "prediction cancelled; completed class maps are kept, the step will resume")
        return {}

    def compare(self, predicted: dict[str, dict[str, Any]]) -> dict[str, Any]:
        inputs = {"parent": predicted["parent"]["key"], "optimized": predicted["optimized"]["key"], "classes": self.classes,
                  "labels": list(self.card.labels), "annotations": self.dataset.annotated, "timed": True}
        if self.dataset.drawn:  # instances as class masks: earlier versions compared such sets without ground truth
            inputs["class_masks"] = "drawn"
        return self.project.cached("compare", inputs, self._compare,
                                   tuple(self.project.overlay(s.key) for s in self.dataset.samples))

    def _compare(self) -> dict[str, Any]:
        """Per-image rows (parent as reference), ground-truth IoU when annotated, and overlay pictures.

        Images are compared in a thread pool (PNG decoding, the overlay drawing and encoding release the GIL).
        """
        start = time.perf_counter()
        project, card, dataset, classes = self.project, self.card, self.dataset, self.classes
        labels = class_labels(card, classes)
        basic, advanced = [], []
        annotated = [s for s in dataset.samples if dataset.has_class_mask(s)] if dataset.labels else []
        by_index = annotated and not card.labels and classes == len(dataset.labels)
        # A model without names whose class count is the dataset's: classes match by index, and the report says so.
        lut, unmapped = (identity_lut(classes), []) if by_index else \
            label_lut(dataset.mask_labels, labels) if annotated else (None, [])
        cms = {role: np.zeros((classes, classes), dtype=np.int64) for role in ("parent", "optimized")}
        unknown_truth: dict[int, int] = {}  # mask ids that are neither a dataset class nor void -> pixels
        unknown_masks: list[str] = []  # the masks holding them
        unreadable_masks: list[str] = []  # masks that fail to decode: their image is compared without ground truth

        def one(sample: Sample) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, np.ndarray]]:
            parent = load_class_map(prediction_path(project.predictions("parent"), sample.key))
            optimized = load_class_map(prediction_path(project.predictions("optimized"), sample.key))
            for role, ids in (("parent", parent), ("optimized", optimized)):
                check_ids(ids, classes, card, role, sample.name)
            result = compare_maps(parent, optimized, classes)
            overlay = project.overlay(sample.key)
            save_image(overlay, semantic_overlay(load_image(sample.path), parent, optimized, labels, result.pixel_agreement))
            row = {"image": sample.name, "average_result": result.average, "pixel_agreement": result.pixel_agreement,
                   "overlay": project.relative(overlay)}
            per_class = [{"image": sample.name, "class_id": c, "class_name": card.label(c), "result": iou}
                         for c, iou in sorted(result.class_iou.items())]
            confusion = {}
            if lut is not None and dataset.has_class_mask(sample):
                source = (sample.annotation or sample.path).name  # the mask file, or the image its objects are drawn on
                try:
                    mask = dataset.class_mask(sample)
                except DatasetError as exc:  # its header passed when the dataset was opened; its pixels do not
                    unreadable_masks.append(f"{source} ({exc.reason})")
                    return row, per_class, {}
                found = unknown_ids(mask, len(dataset.mask_labels))
                if found:
                    unknown_masks.append(source)
                for value, pixels in found.items():
                    unknown_truth[value] = unknown_truth.get(value, 0) + pixels
                truth = lut[mask]
                confusion = {"parent": confusion_matrix(truth, parent, classes),
                             "optimized": confusion_matrix(truth, optimized, classes)}
            return row, per_class, confusion

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for row, per_class, confusion in pool.map(one, dataset.samples):
                basic.append(row)
                advanced += per_class
                for role, cm in confusion.items():
                    cms[role] += cm
        basic.sort(key=lambda r: (r["average_result"] is None, r["average_result"] if r["average_result"] is not None else 0))
        averages = [r["average_result"] for r in basic if r["average_result"] is not None]
        agreements = [r["pixel_agreement"] for r in basic if r["pixel_agreement"] is not None]
        ground_truth = None
        if annotated:
            if unreadable_masks:
                log.warning("%s: %d annotation masks do not decode, their images are left out of the ground truth: "
                            "%s", dataset.root, len(unreadable_masks), ", ".join(sorted(unreadable_masks)[:10]))
            ground_truth = {"images": len(annotated) - len(unreadable_masks), "unmapped_classes": unmapped,
                            "void": "ignored", "unreadable_masks": sorted(unreadable_masks),
                            "matched_by": "index" if by_index else "name",
                            "unknown_ids": {str(k): v for k, v in sorted(unknown_truth.items())},
                            "unknown_id_masks": sorted(unknown_masks)}
            if unknown_truth:
                shown = ", ".join(sorted(unknown_masks)[:10]) + (" ..." if len(unknown_masks) > 10 else "")
                log.warning("%s: %d annotation masks hold ids %s that are no class of the dataset (%d classes) nor "
                            "void (255); those pixels are ignored: %s", dataset.root, len(unknown_masks),
                            ", ".join(map(str, sorted(unknown_truth))), len(dataset.labels), shown)
            for role, cm in cms.items():
                miou, per_class_iou = mean_iou(cm)
                ground_truth[role] = {"mean_iou": miou, "per_class_iou": {labels[c]: v for c, v in per_class_iou.items()}}
        return {
            "comparison": {
                "reference": "parent", "num_classes": classes,
                "mean_average_result": float(np.mean(averages)) if averages else None,
                "mean_pixel_agreement": float(np.mean(agreements)) if agreements else None,
                "basic": basic, "advanced": advanced,
            },
            "ground_truth": ground_truth,
            "seconds": time.perf_counter() - start,
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
