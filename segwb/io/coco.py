"""COCO instance annotations: read and check them (masks by pycocotools), and map categories to model classes by name."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from pycocotools import mask as mask_utils

from ..core.errors import DatasetError
from .labels import normalise

log = logging.getLogger("segwb")


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


def category_map(labels: tuple[str, ...], categories: list[dict[str, Any]]) -> tuple[dict[int, int], list[str], list[str]]:
    """Model class id → dataset category id by name; and the model and dataset names left unmapped."""
    by_name = {normalise(c["name"]): c["id"] for c in categories if normalise(c["name"])}
    mapping = {i: by_name[normalise(n)] for i, n in enumerate(labels) if normalise(n) in by_name}
    mapped_ids = set(mapping.values())
    return (mapping, [n for i, n in enumerate(labels) if i not in mapping],
            [c["name"] for c in categories if c["id"] not in mapped_ids])
