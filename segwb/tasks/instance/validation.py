"""AccuracyAware metrics of instance models, in points (0–100): COCO mask AP against the dataset's instances, or the
F1 of the matches between A and B (mask IoU ≥ 0.5) against the parent's detections when the dataset has none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...io.coco import category_map, segmentation_rle
from ...io.datasets import Dataset
from ...io.model_card import ModelCard
from .categories import UNMAPPED
from .coco_eval import evaluate
from .instances import Instances, empty
from .metrics import MATCH_IOU, compare_instances
from .results import to_results


def _f1(matches: int, a: int, b: int) -> float:
    return 2 * matches / (a + b) if a + b else 1.0


@dataclass
class InstanceAgreement:
    """F1 of the matches between A (candidate) and B (parent) at mask IoU 0.5, over all detections."""

    parent: list[Instances]
    name: str = "F1 of matches between A and B"
    reference: str = "parent model"

    def image(self, index: int, prediction: Instances) -> tuple[tuple[int, int, int], float]:
        result = compare_instances(self.parent[index], prediction, MATCH_IOU)
        counts = (result.matches, result.optimized, result.parent)
        return counts, _f1(*counts)

    def combine(self, indices: list[int], stats: list[tuple[int, int, int]]) -> float:
        return 100.0 * _f1(*(int(sum(s[i] for s in stats)) for i in range(3)))


@dataclass
class InstanceTruth:
    """COCO mask AP (faster-coco-eval) against the dataset's instances; per image, our own mask AP over its classes."""

    coco: dict[str, Any]
    image_ids: list[int]
    truth: list[Instances]
    crowd: list[Instances]  # crowd regions, which COCO ignores detections on
    mapping: dict[int, int]
    name: str = "mask AP"
    reference: str = "ground truth"

    def image(self, index: int, prediction: Instances) -> tuple[list[dict[str, Any]], float]:
        image_id = self.image_ids[index]
        results = to_results(image_id, prediction, lambda c: self.mapping.get(c, UNMAPPED))
        aps = [row.average_precision for row in compare_instances(self.truth[index], prediction,
                                                                  crowd=self.crowd[index]).classes
               if row.average_precision is not None]
        return results, float(np.mean(aps)) if aps else 1.0

    def combine(self, indices: list[int], stats: list[list[dict[str, Any]]]) -> float:
        results = [r for image in stats for r in image]
        ids = [self.image_ids[i] for i in indices]
        return 100.0 * evaluate(self.coco, ids, results, sorted(set(self.mapping.values())), box=False)["mask_ap"]


def instance_truth(dataset: Dataset, card: ModelCard) -> InstanceTruth | str:
    """The ground-truth metric (COCO mask AP), or why it cannot be computed."""
    if dataset.coco is None:
        return f"{dataset.root}: needs COCO instance annotations (annotations/instances*.json)"
    mapping, _, _ = category_map(card.labels, dataset.coco["categories"])
    if not card.labels:
        return "the model card has no class labels to match the COCO categories: pass --labels FILE"
    if not mapping:
        return f"{dataset.annotation_file}: none of its categories is a class of the model"
    to_class = {cat: cls for cls, cat in mapping.items()}
    sizes = {i["id"]: (i["height"], i["width"]) for i in dataset.coco["images"]}
    by_image: dict[tuple[int, bool], list[dict[str, Any]]] = {}
    for ann in dataset.coco["annotations"]:
        if ann["category_id"] in to_class:
            by_image.setdefault((ann["image_id"], bool(ann.get("iscrowd"))), []).append(ann)

    def instances(image_id: int, crowd: bool) -> Instances:
        size, anns = sizes[image_id], by_image.get((image_id, crowd), [])
        if not anns:
            return empty(size)
        masks = [segmentation_rle(a["segmentation"], size) for a in anns]
        boxes = np.float32([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)])
        return Instances(size, np.int64([to_class[a["category_id"]] for a in anns]), np.ones(len(anns), np.float32),
                         boxes, masks)

    ids = [s.image_id for s in dataset.samples]
    return InstanceTruth(dataset.coco, ids, [instances(i, False) for i in ids], [instances(i, True) for i in ids], mapping)
