"""Agreement of an instance model with its parent as a dataset-level metric: COCO mask AP (the ground-truth formula,
:func:`segwb.tasks.instance.coco_eval.evaluate`) with the parent's detections as the ground-truth instances.

Each parent detection (already cut at the report's minimum score) becomes an annotation: its mask, ``iscrowd`` 0,
the area of the mask, its box; the candidate's detections are the results, scored as COCO scores them. A model that
detects what the parent detects, mask for mask, scores AP 1.0. COCO leaves out classes the parent never detects
(its AP is undefined there), so a candidate's detection of such a class costs nothing; one of a class the parent
detects elsewhere is a false positive. Per image, the mean over its classes of our own COCO-style AP
(:func:`segwb.tasks.instance.metrics.compare_instances`) ranks the images that changed most.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .coco_eval import evaluate
from .instances import Instances
from .metrics import compare_instances
from .results import to_results


def category_id(class_id: int) -> int:
    """The COCO category id of a model class in these evaluations (COCO ids start at 1)."""
    return int(class_id) + 1


def parent_ground_truth(parent: Sequence[Instances], image_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """A COCO ground-truth dataset of the parent's detections (image ids 1..n unless given)."""
    ids = list(image_ids) if image_ids is not None else list(range(1, len(parent) + 1))
    images, annotations, classes = [], [], set()
    for image_id, found in zip(ids, parent, strict=True):
        height, width = found.image_size
        images.append({"id": image_id, "height": int(height), "width": int(width)})
        areas = found.areas()
        for result, area in zip(to_results(image_id, found, category_id), areas, strict=True):
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": result["category_id"],
                                "segmentation": result["segmentation"], "area": float(area), "bbox": result["bbox"],
                                "iscrowd": 0})
            classes.add(result["category_id"])
    return {"images": images, "annotations": annotations,
            "categories": [{"id": c, "name": str(c - 1)} for c in sorted(classes)]}


def agreement_results(image_id: int, candidate: Instances) -> list[dict[str, Any]]:
    """One image's candidate detections in the COCO results format of these evaluations."""
    return to_results(image_id, candidate, category_id)


def agreement_ap_from(truth: dict[str, Any], image_ids: Sequence[int], results: list[dict[str, Any]],
                      box: bool = False) -> dict[str, float]:
    """Mask AP and AP50 (0-1; box AP too with ``box``) of ``results`` over ``image_ids`` of ``truth``
    (:func:`parent_ground_truth`). Where the parent detects nothing on those images, 1.0 if the candidate detects
    nothing either, else 0.0."""
    wanted = set(image_ids)
    categories = sorted({a["category_id"] for a in truth["annotations"] if a["image_id"] in wanted})
    if not categories:
        same = 0.0 if any(r["image_id"] in wanted for r in results) else 1.0
        return {"mask_ap": same, "mask_ap50": same, **({"box_ap": same} if box else {})}
    return evaluate(truth, list(image_ids), results, categories, box=box)


def agreement_ap(parent: Sequence[Instances], candidate: Sequence[Instances], box: bool = False) -> dict[str, float]:
    """COCO mask AP (and AP50, box AP with ``box``), 0-1, of ``candidate`` with ``parent`` as the ground truth, both
    one :class:`Instances` per image in the same order."""
    if len(parent) != len(candidate):
        raise ValueError(f"{len(parent)} parent images but {len(candidate)} candidate images")
    ids = list(range(1, len(parent) + 1))
    results = [r for image_id, found in zip(ids, candidate, strict=True) for r in agreement_results(image_id, found)]
    return agreement_ap_from(parent_ground_truth(parent, ids), ids, results, box)


def image_agreement(parent: Instances, candidate: Instances) -> float:
    """One image's agreement (0-1): the mean AP over the classes the parent detects there, 1.0 when it detects none."""
    aps = [row.average_precision for row in compare_instances(parent, candidate).classes
           if row.average_precision is not None]
    return float(np.mean(aps)) if aps else 1.0
