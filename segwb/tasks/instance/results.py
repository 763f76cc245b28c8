"""Detections in the COCO results format, as segwb saves them (``predictions/<role>.json``) and reads them back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .instances import Instances, empty


def predictions_file(root: Path, role: str) -> Path:
    """``predictions/<role>.json`` of the project folder ``root``: the role's detections in the COCO results format."""
    return root / "predictions" / f"{role}.json"


def to_result(image_id: int, category_id: int, class_id: int, score: float, box: np.ndarray,
              rle: dict[str, Any]) -> dict[str, Any]:
    """One detection in the COCO results format (bbox x, y, w, h; RLE counts as text), plus our class id."""
    x1, y1, x2, y2 = (float(v) for v in box)
    counts = rle["counts"]
    return {"image_id": image_id, "category_id": category_id, "class_id": class_id, "score": float(score),
            "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
            "segmentation": {"size": list(rle["size"]), "counts": counts.decode() if isinstance(counts, bytes) else counts}}


def to_results(image_id: int, found: Instances, category_of: Callable[[int], int]) -> list[dict[str, Any]]:
    """Every detection of one image in the COCO results format, its category id given by ``category_of(class_id)``."""
    return [to_result(image_id, category_of(int(c)), int(c), s, b, m)
            for c, s, b, m in zip(found.class_ids, found.scores, found.boxes, found.masks, strict=True)]


def load_instances(results: list[dict[str, Any]], images: list[tuple[int, tuple[int, int]]]) -> dict[int, Instances]:
    """Saved COCO results back as :class:`Instances` per image id (``images``: id and (height, width) of each),
    highest score first."""
    grouped: dict[int, list[dict[str, Any]]] = {image_id: [] for image_id, _ in images}
    for r in results:
        grouped[r["image_id"]].append(r)
    out = {}
    for image_id, size in images:
        entries = sorted(grouped[image_id], key=lambda r: -r["score"])  # stable: ties keep saved order
        if not entries:
            out[image_id] = empty(size)
            continue
        boxes = np.float32([[x, y, x + w, y + h] for x, y, w, h in (r["bbox"] for r in entries)])
        masks = [{"size": r["segmentation"]["size"], "counts": r["segmentation"]["counts"].encode()} for r in entries]
        out[image_id] = Instances(size, np.int64([r["class_id"] for r in entries]),
                                  np.float32([r["score"] for r in entries]), boxes, masks)
    return out
