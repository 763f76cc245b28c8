"""COCO evaluation by faster-coco-eval (the C++ COCOeval: the same numbers as pycocotools', 4.5x sooner on 96 photos)."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

log = logging.getLogger("segwb")


def per_category_ap(precision: np.ndarray, category_ids: list[int], names: dict[int, str]) -> dict[str, float | None]:
    """Each category's AP from COCOeval's accumulated ``precision`` array [IoU, recall, category, area, maxDets]: the
    mean over IoU .50:.95 and the 101 recall points at area "all" and the last maxDets (100), as pycocotools'
    summarize does for the whole; None where COCOeval has no value (-1: no ground truth of the category).
    ``category_ids`` are the evaluated ids in COCOeval's order (sorted); keys are the categories' names."""
    found: dict[str, float | None] = {}
    for k, category in enumerate(category_ids):
        values = precision[:, :, k, 0, -1]
        values = values[values > -1]
        found[names.get(category, str(category))] = float(np.mean(values)) if values.size else None
    return found


def evaluate(ground_truth: dict[str, Any], image_ids: list[int], results: list[dict[str, Any]],
             category_ids: list[int], box: bool = True, per_class: bool = False) -> dict[str, Any]:
    """COCO mask AP, mask AP50 and (unless ``box`` is False: the AccuracyAware metric, evaluated hundreds of
    times, needs masks only) box AP over ``image_ids`` and ``category_ids``, by faster-coco-eval's COCOeval; with
    ``per_class``, also ``per_class_mask_ap``: each category's mask AP by name (None for a category without ground
    truth among the images), the per-class chart of the report."""
    from faster_coco_eval import COCO, COCOeval_faster

    wanted, categories = set(image_ids), set(category_ids)
    names = {c["id"]: str(c.get("name", c["id"])) for c in ground_truth["categories"]}
    evaluated = sorted(categories)
    results = [r for r in results if r["image_id"] in wanted and r["category_id"] in categories]
    if not results or not category_ids:
        # No detection: AP 0 where the category has ground truth (COCOeval's precision is 0 there), else undefined.
        present = {a["category_id"] for a in ground_truth["annotations"]
                   if a["image_id"] in wanted and a["category_id"] in categories and not a.get("iscrowd")}
        return {"mask_ap": 0.0, "mask_ap50": 0.0, **({"box_ap": 0.0} if box else {}),
                **({"per_class_mask_ap": {names.get(c, str(c)): 0.0 if c in present else None for c in evaluated}}
                   if per_class else {})}
    # Copies: COCOeval marks annotations (ignore, area, id) in place.
    gt = COCO({"images": [i for i in ground_truth["images"] if i["id"] in wanted],
               "categories": ground_truth["categories"],
               "annotations": [dict(a) for a in ground_truth["annotations"] if a["image_id"] in wanted]})
    dt = gt.loadRes([dict(r) for r in results])
    stats: dict[str, list[float]] = {}
    classes: dict[str, float | None] = {}
    for kind in ("segm", "bbox") if box else ("segm",):
        ev = COCOeval_faster(gt, dt, kind, print_function=log.debug, rle_iou_max_workers=os.cpu_count() or 1)
        ev.params.imgIds = sorted(wanted)
        ev.params.catIds = evaluated
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        stats[kind] = [float(max(v, 0.0)) for v in ev.stats[:2]]
        if kind == "segm" and per_class:
            classes = per_category_ap(np.asarray(ev.eval["precision"]), evaluated, names)
    return {"mask_ap": stats["segm"][0], "mask_ap50": stats["segm"][1], **({"box_ap": stats["bbox"][0]} if box else {}),
            **({"per_class_mask_ap": classes} if per_class else {})}
