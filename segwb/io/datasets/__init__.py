"""Datasets: one module per layout, each with a ``detect(root)`` and an ``open(root, split)``; the layouts are
tried in :data:`LAYOUTS` order and a folder of images is what is left. ``embedded`` names the photos that ship
with segwb's dependencies."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from . import cityscapes, coco, embedded, folder, image_masks, voc, yolo
from .base import Dataset, Sample, load_mask

# Annotated layouts, most specific first (a YOLO root has images/ too; images/ with masks/ is the loosest); anything
# else is read as an image folder.
LAYOUTS = (voc, coco, yolo, cityscapes, image_masks)
EMBEDDED = embedded.NAME

__all__ = ["Dataset", "Sample", "EMBEDDED", "LAYOUTS", "load_mask", "open_dataset"]


def open_dataset(source: str | Path, split: str | None = None) -> Dataset:
    """Open ``source``: ``"embedded"``, a root of one of the :data:`LAYOUTS` (Pascal VOC, COCO, Ultralytics YOLO,
    Cityscapes, images and masks), or a folder of images (searched recursively)."""
    if str(source) == EMBEDDED:
        return embedded.open_embedded()
    root = Path(source)
    if not root.exists():
        raise DatasetError("no such dataset folder", root)
    if not root.is_dir():
        raise DatasetError("a dataset must be a folder: of images, or a Pascal VOC, COCO, YOLO, Cityscapes or "
                           "images-and-masks root", root)
    layout = next((layout for layout in LAYOUTS if layout.detect(root)), folder)
    dataset = layout.open(root, split)
    if not dataset.samples:
        dropped = [d for d in dataset.dropped if d["action"] == "dropped" and d["what"] in ("image", "line")]
        why = "; ".join(f"{d['count']} {d['what']}{'s' * (d['count'] > 1)}: {d['reason']}" for d in dropped[:3])
        raise DatasetError(f"no usable images: {why}" if why else "no readable images (.jpg, .jpeg, .png, .bmp) found",
                           root)
    return dataset
