"""COCO instance annotations: read and check them (pycocotools masks), map categories to model classes by name,
evaluate with faster-coco-eval (the C++ COCOeval: the same numbers as pycocotools', 4.5x sooner on 96 photos)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from .errors import DatasetError

log = logging.getLogger("segwb")

# Official COCO category ids of the 80 classes, in the contiguous order most models use.
COCO80_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32,
              33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
              60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90)
UNMAPPED = -1  # category_id of a detection whose class has no category in the dataset


def find_annotation_files(root: Path) -> list[Path]:
    """``instances*.json`` in ``root/annotations`` (the COCO layout)."""
    folder = root / "annotations"
    return sorted(folder.glob("instances*.json")) if folder.is_dir() else []


def read_instances(path: Path) -> dict[str, Any]:
    """A COCO instances file, checked: images, categories and usable annotations (others dropped with a warning)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"not a readable JSON file ({exc})", path) from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise DatasetError("not a COCO instances file: needs lists 'images', 'annotations' and 'categories'", path)
    try:
        images = [{"id": int(i["id"]), "file_name": str(i["file_name"]), "width": int(i["width"]),
                   "height": int(i["height"])} for i in data["images"]]
        categories = [{"id": int(c["id"]), "name": str(c["name"])} for c in data["categories"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"COCO images need id, file_name, width, height and categories id, name ({exc!r})", path) from exc
    sizes, category_ids = {i["id"]: (i["height"], i["width"]) for i in images}, {c["id"] for c in categories}
    kept, problems = [], {"unknown image": 0, "unknown category": 0, "empty or invalid segmentation": 0}
    for n, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or ann.get("image_id") not in sizes:
            problems["unknown image"] += 1
        elif ann.get("category_id") not in category_ids:
            problems["unknown category"] += 1
        elif (rle := segmentation_rle(ann.get("segmentation"), sizes[ann["image_id"]])) is None:
            problems["empty or invalid segmentation"] += 1
        else:
            # Some exporters omit area and bbox; COCOeval needs both, so derive them from the mask.
            kept.append({"area": float(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(), **ann,
                         "id": ann.get("id", n + 1), "iscrowd": int(ann.get("iscrowd", 0))})
    for what, count in problems.items():
        if count:
            log.warning("%s: dropped %d annotations with %s", path, count, what)
    return {"images": images, "categories": categories, "annotations": kept}


def segmentation_rle(seg: Any, size: tuple[int, int]) -> dict[str, Any] | None:
    """The annotation's mask as one RLE, or None when it is empty, malformed or sized for another image."""
    h, w = size
    if isinstance(seg, list):
        polygons = [p for p in seg if isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)]
        if not polygons or len(polygons) != len(seg):
            return None
        return mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))
    if not (isinstance(seg, dict) and "counts" in seg and isinstance(seg.get("size"), list) and list(seg["size"]) == [h, w]):
        return None
    try:
        return mask_utils.frPyObjects(seg, h, w) if isinstance(seg["counts"], list) else \
            {"size": seg["size"], "counts": seg["counts"].encode() if isinstance(seg["counts"], str) else seg["counts"]}
    except (TypeError, ValueError):
        return None


def normalise(name: str) -> str:
    """Label names compared loosely: case, spaces, hyphens and underscores do not matter."""
    return re.sub(r"[\s_\-]+", "", name.lower())


def category_map(labels: tuple[str, ...], categories: list[dict[str, Any]]) -> tuple[dict[int, int], list[str], list[str]]:
    """Model class id → dataset category id by name; and the model and dataset names left unmapped."""
    by_name = {normalise(c["name"]): c["id"] for c in categories}
    mapping = {i: by_name[normalise(n)] for i, n in enumerate(labels) if normalise(n) in by_name}
    mapped_ids = set(mapping.values())
    return (mapping, [n for i, n in enumerate(labels) if i not in mapping],
            [c["name"] for c in categories if c["id"] not in mapped_ids])


def default_category_ids(labels: tuple[str, ...]) -> dict[int, int]:
    """Category ids when there is no dataset JSON: official COCO ids for the COCO-80 labels, else class id + 1."""
    from .zoo import COCO80

    if tuple(normalise(n) for n in labels) == tuple(normalise(n) for n in COCO80):
        return dict(enumerate(COCO80_IDS))
    return {i: i + 1 for i in range(len(labels))}


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


def to_result(image_id: int, category_id: int, class_id: int, score: float, box: np.ndarray,
              rle: dict[str, Any]) -> dict[str, Any]:
    """One detection in the COCO results format (bbox x, y, w, h; RLE counts as text), plus our class id."""
    x1, y1, x2, y2 = (float(v) for v in box)
    counts = rle["counts"]
    return {"image_id": image_id, "category_id": category_id, "class_id": class_id, "score": float(score),
            "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
            "segmentation": {"size": list(rle["size"]), "counts": counts.decode() if isinstance(counts, bytes) else counts}}
