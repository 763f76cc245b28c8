"""Images and masks: ``images/`` and ``masks/`` with the same relative paths and stems (``images/a.jpg`` is annotated
by ``masks/a.png``: a palette or greyscale PNG, pixel = class id, 255 = void), and ``labels.txt``, one class name
per line, class id = line number - 1. Sub-folders per split (``images/val/``, ``masks/val/``) are read with
``--split``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ...core.errors import DatasetError, ModelError
from ..images import IMAGE_SUFFIXES
from ..labels import VOC_VOID, read_labels
from .base import Dataset, Drops, Keys, Sample, checked_mask, files_under, readable

LAYOUT = "image_masks"
LABELS_FILE = "labels.txt"


def detect(root: Path) -> bool:
    return (root / "images").is_dir() and (root / "masks").is_dir()


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """Every image under ``images/`` (or ``images/<split>/``: ``split``, else ``val`` when there is one), with its
    mask when ``masks/`` has one."""
    labels_file = root / LABELS_FILE
    labels = _labels(labels_file)
    images, masks = root / "images", root / "masks"
    chosen = _split(images, split)
    if chosen:
        images, masks = images / chosen, masks / chosen
    drops, keys, samples, used = Drops(root), Keys(), [], set()
    found = files_under(images, drops, root)
    stems = Counter(p.relative_to(images).with_suffix("") for p in found if p.suffix.lower() in IMAGE_SUFFIXES)
    for path in found:
        rel = path.relative_to(images).as_posix()
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            drops.add("file", f"not an image type ({', '.join(IMAGE_SUFFIXES)})", path.relative_to(root).as_posix())
            continue
        mask: Path | None = masks / path.relative_to(images).with_suffix(".png")
        used.add(mask)
        try:
            size = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, path.relative_to(root).as_posix())
            continue
        if mask.is_file() and stems[path.relative_to(images).with_suffix("")] > 1:  # a.jpg, a.png: whose is a.png?
            drops.add("annotation", "one mask for several images of the same stem (images kept without ground truth)",
                      mask.relative_to(root).as_posix())
            samples.append(Sample(rel, keys.new(rel), path, None, size=size))
            continue
        samples.append(Sample(rel, keys.new(rel), path, checked_mask(mask, size, drops, root), size=size))
    if masks.is_dir():
        for mask in files_under(masks, drops, root):
            if mask.suffix.lower() != ".png":
                drops.add("file", "not a PNG mask (masks are lossless PNG)", mask.relative_to(root).as_posix())
            elif mask not in used:
                drops.add("annotation", "a mask without an image of the same stem in images/",
                          mask.relative_to(root).as_posix())
    return Dataset(root, LAYOUT, samples, labels=labels, dropped=drops.records(), annotation_file=labels_file)


def _labels(path: Path) -> tuple[str, ...]:
    """The class names of ``labels.txt``; at most 255 (a mask's 8-bit ids, 255 being void)."""
    if not path.is_file():
        raise DatasetError("missing: the images-and-masks layout names its classes there, one per line "
                           "(class id = line number - 1)", path)
    try:
        labels = read_labels(path)
    except ModelError as exc:  # the labels reader serves models too; here the file is the dataset's
        raise DatasetError(exc.reason, path) from exc
    if len(labels) > VOC_VOID:
        raise DatasetError(f"{len(labels)} class names, but 8-bit masks hold class ids 0..{VOC_VOID - 1} "
                           f"({VOC_VOID} = void)", path)
    return tuple(labels)


def _split(images: Path, split: str | None) -> str | None:
    """The sub-folder of ``images/`` to read: ``split`` when it is one (never joined as a path), else ``val`` when
    there is one, else None (all of ``images/``)."""
    have = sorted(p.name for p in images.iterdir() if p.is_dir() and not p.name.startswith("."))
    if split is not None and split not in have:
        raise DatasetError(f"no split folder {split!r}; have: {', '.join(have) or 'none (the images are not split)'}",
                           images)
    return split or ("val" if "val" in have else None)
