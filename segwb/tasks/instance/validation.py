"""AccuracyAware metrics of instance models, in points (0–100): COCO mask AP against the dataset's instances, or
against the parent's detections when the dataset has none (the same formula with the parent as the truth,
:mod:`segwb.tasks.instance.agreement`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...io.coco import category_map, segmentation_rle
from ...io.datasets import Dataset
from ...io.model_card import ModelCard
from .categories import UNMAPPED
from .coco_eval import evaluate
from .agreement import agreement_ap_from, agreement_results, image_agreement, parent_ground_truth
from .instances import Instances, empty
from .metrics import compare_instances
from .results import to_results


@dataclass
class InstanceAgreement:
    """COCO mask AP with the parent's detections (score ≥ the report's minimum) as the ground-truth instances; per
    image, our own mask AP over the classes the parent detects there."""

    parent: list[Instances]
    name: str = "mask AP"
    reference: str = "parent model"
    truth: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.truth = parent_ground_truth(self.parent, self._ids(range(len(self.parent))))

    @staticmethod
    def _ids(indices: Iterable[int]) -> list[int]:
        return [i + 1 for i in indices]

    def image(self, index: int, prediction: Instances) -> tuple[list[dict[str, Any]], float]:
        return agreement_results(index + 1, prediction), image_agreement(self.parent[index], prediction)

    def combine(self, indices: list[int], stats: list[list[dict[str, Any]]]) -> float:
        results = [r for image in stats for r in image]
        return 100.0 * agreement_ap_from(self.truth, self._ids(indices), results)["mask_ap"]


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
