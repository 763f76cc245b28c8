"""Pascal VOC segmentation: ``JPEGImages/``, ``SegmentationClass/*.png`` (palette ids, 255 = void) and
``ImageSets/Segmentation/<split>.txt``."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from ..images import IMAGE_SUFFIXES
from ..labels import VOC_LABELS
from .base import Dataset, Drops, Keys, Sample, mask_problem, readable

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
    else:
        chosen = None
    drops = Drops(chosen or root)
    ids = read_ids(chosen, drops) if chosen else sorted(p.stem for p in masks.glob("*.png"))
    by_stem = {p.stem: p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
    samples, keys = [], Keys()
    for image_id in ids:
        path = by_stem.get(image_id)
        if path is None:
            drops.add("image", "listed without an image in JPEGImages", image_id)
            continue
        try:
            size = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, path.name)
            continue
        mask: Path | None = masks / f"{image_id}.png"
        if not mask.is_file():
            mask = None
        elif (why := mask_problem(mask, size)) is not None:
            drops.add("annotation", f"{why} (image kept without ground truth)", mask.name)
            mask = None
        samples.append(Sample(path.name, keys.new(image_id), path, mask, size=size))
    return Dataset(root, LAYOUT, samples, labels=VOC_LABELS, dropped=drops.records())


def read_ids(listing: Path, drops: Drops) -> list[str]:
    """The image ids of a ``<split>.txt``, in order; repeated ids and lines that cannot be ids are dropped."""
    try:
        text = listing.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"image-set list is not UTF-8 text (byte {exc.start})", listing) from exc
    except OSError as exc:
        raise DatasetError(f"image-set list is not readable ({exc.strerror or exc})", listing) from exc
    ids, seen = [], set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        image_id = line.split()[0]
        if image_id in seen:
            drops.add("line", "repeats an id listed before", f"line {n} ({image_id})")
        elif "/" in image_id or "\\" in image_id or image_id in (".", ".."):
            drops.add("line", "not an image id (holds a path)", f"line {n}")
        else:
            seen.add(image_id)
            ids.append(image_id)
    return ids
