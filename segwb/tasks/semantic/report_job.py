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

from ...core.project import Project
from ...inference.feed import InputFeed
from ...inference.preprocess import Geometry
from ...inference.queue import run_over
from ...io.datasets import Dataset, Sample, load_mask
from ...io.images import load_image, save_image
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
        annotated = [s for s in dataset.samples if s.annotation] if dataset.labels else []
        lut, unmapped = label_lut(dataset.labels, labels) if annotated else (None, [])
        cms = {role: np.zeros((classes, classes), dtype=np.int64) for role in ("parent", "optimized")}

        def one(sample: Sample) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, np.ndarray]]:
            parent = load_class_map(prediction_path(project.predictions("parent"), sample.key))
            optimized = load_class_map(prediction_path(project.predictions("optimized"), sample.key))
            result = compare_maps(parent, optimized, classes)
            overlay = project.overlay(sample.key)
            save_image(overlay, semantic_overlay(load_image(sample.path), parent, optimized, labels, result.pixel_agreement))
            row = {"image": sample.name, "average_result": result.average, "pixel_agreement": result.pixel_agreement,
                   "overlay": project.relative(overlay)}
            per_class = [{"image": sample.name, "class_id": c, "class_name": card.label(c), "result": iou}
                         for c, iou in sorted(result.class_iou.items())]
            confusion = {}
            if lut is not None and sample.annotation:
                truth = lut[load_mask(sample.annotation)]
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
            ground_truth = {"images": len(annotated), "unmapped_classes": unmapped, "void": "ignored"}
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
