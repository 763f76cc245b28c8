"""COCO evaluation by faster-coco-eval (the C++ COCOeval: the same numbers as pycocotools', 4.5x sooner on 96 photos)."""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("segwb")


def evaluate(ground_truth: dict[str, Any], image_ids: list[int], results: list[dict[str, Any]],
             category_ids: list[int], box: bool = True) -> dict[str, float]:
    """COCO mask AP, mask AP50 and (unless ``box`` is False: the AccuracyAware metric, evaluated hundreds of
    times, needs masks only) box AP over ``image_ids`` and ``category_ids``, by faster-coco-eval's COCOeval."""
    from faster_coco_eval import COCO, COCOeval_faster

    wanted, categories = set(image_ids), set(category_ids)
    results = [r for r in results if r["image_id"] in wanted and r["category_id"] in categories]
    if not results or not category_ids:
        return {"mask_ap": 0.0, "mask_ap50": 0.0, **({"box_ap": 0.0} if box else {})}
    # Copies: COCOeval marks annotations (ignore, area, id) in place.
    gt = COCO({"images": [i for i in ground_truth["images"] if i["id"] in wanted],
               "categories": ground_truth["categories"],
               "annotations": [dict(a) for a in ground_truth["annotations"] if a["image_id"] in wanted]})
    dt = gt.loadRes([dict(r) for r in results])
    stats = {}
    for kind in ("segm", "bbox") if box else ("segm",):
        ev = COCOeval_faster(gt, dt, kind, print_function=log.debug, rle_iou_max_workers=os.cpu_count() or 1)
        ev.params.imgIds = sorted(wanted)
        ev.params.catIds = sorted(categories)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        stats[kind] = [float(max(v, 0.0)) for v in ev.stats[:2]]
    return {"mask_ap": stats["segm"][0], "mask_ap50": stats["segm"][1], **({"box_ap": stats["bbox"][0]} if box else {})}
