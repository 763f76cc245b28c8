"""Pascal VOC segmentation: ``JPEGImages/``, ``SegmentationClass/*.png`` (palette ids, 255 = void) and
``ImageSets/Segmentation/<split>.txt``."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from ..images import IMAGE_SUFFIXES
from ..labels import VOC_LABELS
from .base import Dataset, Sample, mask_size, readable, warn_skipped

LAYOUT = "voc"


def detect(root: Path) -> bool:
    return (root / "JPEGImages").is_dir() and ((root / "SegmentationClass").is_dir()
                                               or (root / "ImageSets" / "Segmentation").is_dir())


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """The images of the ``split`` list (default ``val``, else the first list; without lists, every mask)."""
    sets = root / "ImageSets" / "Segmentation"
    images, masks = root / "JPEGImages", root / "SegmentationClass"
    if sets.is_dir():
        lists = sorted(sets.glob("*.txt"))
        chosen = sets / f"{split}.txt" if split else next((p for p in lists if p.stem == "val"), lists[0] if lists else None)
        if chosen is None or not chosen.is_file():
            wanted = f"'{split}.txt'" if split else "(*.txt)"
            raise DatasetError(f"image-set list {wanted} not found; have: {', '.join(p.stem for p in lists) or 'none'}", sets)
        ids = [line.split()[0] for line in chosen.read_text().splitlines() if line.strip()]
    else:
        ids = sorted(p.stem for p in masks.glob("*.png"))
    by_stem = {p.stem: p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
    samples, missing, unreadable, mismatched = [], [], [], []
    for image_id in ids:
        path = by_stem.get(image_id)
        if path is None:
            missing.append(image_id)
            continue
        size = readable(path)
        if not size:
            unreadable.append(path.name)
            continue
        mask: Path | None = masks / f"{image_id}.png"
        if not mask.is_file():
            mask = None
        elif mask_size(mask) != size:
            mismatched.append(f"{mask.name} {mask_size(mask)} vs image {size}")
            mask = None
        samples.append(Sample(path.name, image_id, path, mask, size=size))
    warn_skipped(root, missing, "ids in the image-set list without an image in JPEGImages")
    warn_skipped(root, unreadable, "files that are not readable images")
    warn_skipped(root, mismatched, "masks whose size differs from their image (annotation ignored)")
    return Dataset(root, LAYOUT, samples, labels=VOC_LABELS, skipped=missing + unreadable + mismatched)
