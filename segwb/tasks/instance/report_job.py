"""The instance tutorial's last steps: both models' detections of every image in the COCO results format, then
the comparison with the parent's detections as the reference (and COCO AP when the dataset is annotated)."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ...core.errors import ModelError
from ...core.project import Project
from ...core.storage import JsonListWriter, read_json
from ...inference.preprocess import Geometry
from ...io.datasets import Dataset
from ...io.images import save_image
from ...io.model_card import ModelCard
from .. import image_table
from ..base import DetectionLimits, ImageRecord, ImageResult, ReportJob
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

    version = 2  # 2: compared image by image beside the inference (issue 19)

    def __init__(self, project: Project, dataset: Dataset, card: ModelCard, limits: DetectionLimits) -> None:
        super().__init__(project, dataset, card, limits)
        self.category_info = categories(card, dataset)
        self.mapping: dict[int, int] = self.category_info["mapping"]
        self._decode = decoder(card, limits.min_score, limits.max_detections)
        self._held: dict[str, dict[int, list[dict[str, Any]]]] = {}  # role -> image index -> entries, until written
        self._writers: dict[str, JsonListWriter] = {}  # role -> its predictions file, written a chunk at a time
        self._saved: dict[str, dict[int, list[dict[str, Any]]]] = {}  # role -> image id -> entries read back

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

    def decode(self, role: str, request: ov.InferRequest, index: int, geometry: Geometry) -> list[dict[str, Any]]:
        """The image's detections in the COCO results format, at the original image size."""
        found = self._decode(request, geometry)
        check_class_ids(found, self.card, role, self.images[index].name)
        return to_results(self.images[index].image_id, found, self.category_of)

    def keep(self, role: str, index: int, prediction: list[dict[str, Any]]) -> None:
        self._held.setdefault(role, {})[index] = prediction  # one key per image: the GIL keeps the dict whole

    def chunk_kept(self, role: str, indices: list[int]) -> None:
        """The chunk's entries appended to ``predictions/<role>.json`` (in progress): at 4800 images, held to the
        end they were 0.4 GB of the report's memory."""
        if role not in self._writers:
            self._writers[role] = JsonListWriter(self.predictions_file(role))
        held = self._held.get(role, {})
        self._writers[role].add([entry for index in sorted(indices) for entry in held.pop(index, [])])

    def end_predictions(self, role: str) -> dict[str, Any]:
        """``predictions/<role>.json`` put in place once every image is predicted (a cancelled run saves nothing)."""
        writer = self._writers.pop(role, None) or JsonListWriter(self.predictions_file(role))
        writer.close()
        return {"detections": writer.count}

    def discard_predictions(self) -> None:
        for writer in self._writers.values():
            writer.discard()
        self._writers.clear()
        self._held.clear()

    def saved(self, role: str, index: int) -> list[dict[str, Any]]:
        if role not in self._saved:
            by_id: dict[int, list[dict[str, Any]]] = {}
            for entry in read_json(self.predictions_file(role)):
                by_id.setdefault(entry["image_id"], []).append(entry)
            self._saved[role] = by_id
        return self._saved[role].get(self.images[index].image_id, [])

    def category_of(self, class_id: int) -> int:
        """The dataset category id of a model class (UNMAPPED when it has none)."""
        return self.mapping.get(class_id, UNMAPPED)

    def compare_inputs(self) -> dict[str, Any]:
        return {"labels": list(self.card.labels), "annotations": self.dataset.annotated, "categories": self.category_info,
                "version": self.version}

    def report_extras(self) -> dict[str, Any]:
        files = {role: self.predictions_file(role) for role in ("parent", "optimized")}
        return {"predictions": {name: self.project.relative(path)
                                for name, path in {**files, "images": self.project.images_json}.items()}}

    def _instances(self, index: int, entries: list[dict[str, Any]]) -> Instances:
        """One image's detections from their COCO results entries, as an earlier run's saved ones are read."""
        image = self.images[index]
        return load_instances(entries, [(image.image_id, (image.height, image.width))])[image.image_id]

    def compare_image(self, index: int, parent: list[dict[str, Any]], optimized: list[dict[str, Any]]) -> ImageResult:
        """The image's row and per-class rows with the parent as reference."""
        image, card = self.images[index], self.card
        result = compare_instances(self._instances(index, parent), self._instances(index, optimized), MATCH_IOU)
        a, b, m = result.optimized, result.parent, result.matches
        row = {"image": image.name, "optimized_detections": a, "parent_detections": b, "matches": m,
               "agreement": 2 * m / (a + b) if a + b else None}
        per_class = [{"image": image.name, "class_id": r.class_id, "class_name": card.label(r.class_id),
                      "optimized_detections": r.optimized, "parent_detections": r.parent, "matches": r.matches,
                      "average_precision": r.average_precision, "precision": r.precision}
                     for r in result.classes if r.optimized > 0]
        return ImageResult(row, per_class, [r.average_precision for r in result.classes if r.average_precision is not None])

    def tally(self) -> InstanceTally:
        return InstanceTally(self)

    def draw_overlay(self, index: int, parent: list[dict[str, Any]], optimized: list[dict[str, Any]], photo: np.ndarray,
                     row: dict[str, Any], path: Path) -> None:
        p, o = self._instances(index, parent), self._instances(index, optimized)
        result = compare_instances(p, o, MATCH_IOU)  # which instances matched: outlined apart
        save_image(path, instance_overlay(photo, p, o, self.card.labels, result.parent_matched, result.optimized_matched))

    def truth(self) -> dict[str, Any] | None:
        """COCO AP of both models against the annotations (None without a COCO file), from the saved predictions.

        COCO's evaluation runs after the comparison: beside its pool both fought over the GIL (on 2 cores, 2.6–3.3 s
        together against 2.5–2.7 s one after the other)."""
        dataset, images, project = self.dataset, self.images, self.project
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
            result[role] = evaluate(dataset.coco, ids, read_json(self.predictions_file(role)), mapped, per_class=True) \
                if instances else {"mask_ap": None, "mask_ap50": None, "box_ap": None, "per_class_mask_ap": {}}
        if not instances:
            log.warning("%s: no annotated instance of a class the model knows: COCO AP is not defined (N/A)",
                        dataset.annotation_file)
        return result


class InstanceTally:
    """Rows in image order; sorted, totalled and evaluated against the annotations at the end."""

    def __init__(self, job: InstanceJob) -> None:
        self.job = job
        self.basic: list[dict[str, Any]] = []
        self.advanced: list[dict[str, Any]] = []
        self.ap_values: list[float] = []

    def add(self, result: ImageResult) -> None:
        self.basic.append(result.row)
        self.advanced += result.per_class
        self.ap_values += result.stats

    def finish(self) -> dict[str, Any]:
        basic, advanced, limits = self.basic, self.advanced, self.job.limits
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
            "mean_average_precision": float(np.mean(self.ap_values)) if self.ap_values else None,
            "basic": basic, "advanced": advanced,
        }
        return {"comparison": comparison, "ground_truth": self.job.truth()}


def check_class_ids(found: Instances, card: ModelCard, role: str, image: str) -> None:
    """Refuse detections past the card's labels: they would have no name, no category and no ground truth."""
    if card.labels and found.class_ids.size and int(found.class_ids.max()) >= len(card.labels):
        raise ModelError(f"the {role} model detects class id {int(found.class_ids.max())} on {image}, but the model's "
                         f"labels list has {len(card.labels)} names: give one name per class (labels.txt or the "
                         "model card's labels)")
