"""The instance tutorial's last steps: both models' detections of every image in the COCO results format, then
the comparison with the parent's detections as the reference (and COCO AP when the dataset is annotated)."""

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

from ...core.errors import ModelError
from ...core.project import Project
from ...core.storage import read_json, write_json
from ...inference.feed import InputFeed
from ...inference.preprocess import Geometry
from ...inference.queue import run_over
from ...io.datasets import Dataset
from ...io.images import load_image, save_image
from ...io.model_card import ModelCard
from .. import image_table
from ..base import DetectionLimits, ImageRecord, Progress, ReportJob
from .adapters import decoder
from .categories import UNMAPPED, categories
from .coco_eval import evaluate
from .metrics import MATCH_IOU, compare_instances
from .overlay import instance_overlay
from .instances import Instances
from .results import load_instances, predictions_file, to_results

log = logging.getLogger("segwb")


class InstanceJob(ReportJob):
    """Detections saved as ``predictions/<role>.json``; rows per image and per (image, class) where A > 0."""

    def __init__(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> None:
        super().__init__(project, dataset, card, limits)
        self.category_info = categories(card, dataset)
        self.mapping: dict[int, int] = self.category_info["mapping"]

    @cached_property
    def images(self) -> list[ImageRecord]:
        """Every image with its id: the COCO file's ids when there is one, else 1.. by sorted file name."""
        return image_table.records(self.dataset, by_name=True)

    def predictions_file(self, role: str) -> Path:
        """``predictions/<role>.json``: the role's detections in the COCO results format."""
        return predictions_file(self.project.root, role)

    def predict_inputs(self) -> dict[str, Any]:
        return {**self.limits.to_dict(), "mapping": {str(k): v for k, v in self.mapping.items()}}

    def prediction_outputs(self, role: str) -> tuple[Path, ...]:
        return (self.predictions_file(role),)

    def predict(self, compiled: ov.CompiledModel, role: str, feed: InputFeed, progress: Progress | None,
                cancel: threading.Event | None) -> dict[str, Any]:
        """Detections of every image in the COCO results format, at the original image size, saved once complete."""
        decode = decoder(self.card, self.limits.min_score, self.limits.max_detections)
        ids = [image.image_id for image in self.images]
        results: list[list[dict[str, Any]]] = [[] for _ in ids]  # one slot per image: callbacks never share one

        def collect(request: ov.InferRequest, index: int, geometry: Geometry) -> None:
            found = decode(request, geometry)
            check_class_ids(found, self.card, role, self.images[index].name)
            results[index] = to_results(ids[index], found, self.category_of)

        run_over(compiled, feed, collect, progress, cancel, "prediction cancelled; nothing was saved for this model")
        saved = [entry for image in results for entry in image]
        write_json(self.predictions_file(role), saved)
        return {"detections": len(saved)}

    def category_of(self, class_id: int) -> int:
        """The dataset category id of a model class (UNMAPPED when it has none)."""
        return self.mapping.get(class_id, UNMAPPED)

    def compare(self, predicted: dict[str, dict[str, Any]]) -> dict[str, Any]:
        inputs = {"parent": predicted["parent"]["key"], "optimized": predicted["optimized"]["key"],
                  "labels": list(self.card.labels), "annotations": self.dataset.annotated, "categories": self.category_info,
                  "timed": True}
        return self.project.cached("compare", inputs, self._compare, tuple(self.project.overlay(i.key) for i in self.images))

    def report_extras(self) -> dict[str, Any]:
        files = {role: self.predictions_file(role) for role in ("parent", "optimized")}
        return {"predictions": {name: self.project.relative(path)
                                for name, path in {**files, "images": self.project.images_json}.items()}}

    def _compare(self) -> dict[str, Any]:
        """Per-image and per-class rows with the parent as reference, overlays, and COCO AP when annotated.

        Images are compared in a thread pool (photo decoding, the overlay drawing and encoding release the GIL).
        COCO's evaluation runs after it: beside the pool both fought over the GIL (on 2 cores, 2.6–3.3 s together
        against 2.5–2.7 s one after the other).
        """
        start = time.perf_counter()
        project, card, dataset, images, limits = self.project, self.card, self.dataset, self.images, self.limits
        saved = {role: read_json(self.predictions_file(role)) for role in ("parent", "optimized")}
        sizes = [(i.image_id, (i.height, i.width)) for i in images]
        parent, optimized = (load_instances(saved[role], sizes) for role in ("parent", "optimized"))
        paths = dict(zip((i.key for i in images), self.image_paths()))

        def one(image: ImageRecord) -> tuple[dict[str, Any], list[dict[str, Any]], list[float]]:
            p, o = parent[image.image_id], optimized[image.image_id]
            result = compare_instances(p, o, MATCH_IOU)
            overlay = project.overlay(image.key)
            save_image(overlay, instance_overlay(load_image(paths[image.key]), p, o, card.labels,
                                                 result.parent_matched, result.optimized_matched))
            a, b, m = result.optimized, result.parent, result.matches
            row = {"image": image.name, "optimized_detections": a, "parent_detections": b, "matches": m,
                   "agreement": 2 * m / (a + b) if a + b else None, "overlay": project.relative(overlay)}
            per_class = [{"image": image.name, "class_id": r.class_id, "class_name": card.label(r.class_id),
                          "optimized_detections": r.optimized, "parent_detections": r.parent, "matches": r.matches,
                          "average_precision": r.average_precision, "precision": r.precision}
                         for r in result.classes if r.optimized > 0]
            return row, per_class, [r.average_precision for r in result.classes if r.average_precision is not None]

        def truth() -> dict[str, Any] | None:
            if dataset.coco is None:
                return None
            ids = [i.image_id for i in images]
            mapped = sorted(set(self.mapping.values()))
            result = {"images": len(ids), "annotation_file": project.relative(dataset.annotation_file),
                      "categories_evaluated": len(mapped),
                      "unmapped_model_classes": self.category_info["unmapped_model_classes"],
                      "unmapped_dataset_classes": self.category_info["unmapped_dataset_classes"]}
            wanted, categories = set(ids), set(mapped)
            instances = sum(1 for a in dataset.coco["annotations"]
                            if a["image_id"] in wanted and a["category_id"] in categories and not a.get("iscrowd"))
            result["instances_evaluated"] = instances
            for role in ("parent", "optimized"):
                # No ground-truth instance of an evaluated class: AP is undefined, not 0 (COCOeval would say -1).
                result[role] = evaluate(dataset.coco, ids, saved[role], mapped) if instances else \
                    {"mask_ap": None, "mask_ap50": None, "box_ap": None}
            if not instances:
                log.warning("%s: no annotated instance of a class the model knows: COCO AP is not defined (N/A)",
                            dataset.annotation_file)
            return result

        basic, advanced, ap_values = [], [], []
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for row, per_class, aps in pool.map(one, images):
                basic.append(row)
                advanced += per_class
                ap_values += aps
        basic.sort(key=lambda r: (r["agreement"] is None, r["agreement"] if r["agreement"] is not None else 0, r["image"]))
        advanced.sort(key=lambda r: (r["average_precision"] is None, r["average_precision"] or 0, r["image"], r["class_id"]))
        total_a, total_b = sum(r["optimized_detections"] for r in basic), sum(r["parent_detections"] for r in basic)
        total_m = sum(r["matches"] for r in basic)
        comparison = {
            "reference": "parent", "min_score": limits.min_score, "max_detections": limits.max_detections,
            "iou_threshold": MATCH_IOU, "optimized_detections": total_a, "parent_detections": total_b, "matches": total_m,
            "matches_over_parent": total_m / total_b if total_b else None,
            "matches_over_optimized": total_m / total_a if total_a else None,
            "f1": 2 * total_m / (total_a + total_b) if total_a + total_b else None,
            "mean_average_precision": float(np.mean(ap_values)) if ap_values else None,
            "basic": basic, "advanced": advanced,
        }
        return {"comparison": comparison, "ground_truth": truth(), "seconds": time.perf_counter() - start}


def check_class_ids(found: Instances, card: ModelCard, role: str, image: str) -> None:
    """Refuse detections past the card's labels: they would have no name, no category and no ground truth."""
    if card.labels and found.class_ids.size and int(found.class_ids.max()) >= len(card.labels):
        raise ModelError(f"the {role} model detects class id {int(found.class_ids.max())} on {image}, but the model's "
                         f"labels list has {len(card.labels)} names: give one name per class (labels.txt or the "
                         "model card's labels)")
