"""COCO instances: ``annotations/instances_<split>.json`` and the images in ``images/``, ``<split>/``,
``images/<split>/`` or the root."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from ..coco import find_annotation_files, read_instances
from .base import Dataset, Sample, key, readable, warn_skipped

LAYOUT = "coco"


def detect(root: Path) -> bool:
    return bool(find_annotation_files(root))


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """The images of the chosen instances file (``split``, else the one with "val" in its name, else the first)."""
    files = find_annotation_files(root)
    if split:
        files = [f for f in files if f.stem in (f"instances_{split}", split)]
        if not files:
            have = ", ".join(f.stem for f in find_annotation_files(root))
            raise DatasetError(f"no annotations/instances_{split}.json; have: {have}", root)
    chosen = next((f for f in files if f.stem.endswith("val") or "val" in f.stem), files[0])
    data = read_instances(chosen)
    folders = [root / "images", root / chosen.stem.removeprefix("instances_"), root / "images" / chosen.stem.removeprefix("instances_"), root]
    samples, missing, unreadable, mismatched = [], [], [], []
    taken: set[str] = set()
    for image in sorted(data["images"], key=lambda i: i["file_name"]):
        path = next((f / image["file_name"] for f in folders if (f / image["file_name"]).is_file()), None)
        if path is None:
            missing.append(image["file_name"])
            continue
        size = readable(path)
        if not size:
            unreadable.append(image["file_name"])
            continue
        if size != (image["height"], image["width"]):
            mismatched.append(f"{image['file_name']} {size} vs {image['height']}x{image['width']} in the JSON")
            continue
        rel = Path(image["file_name"])
        samples.append(Sample(rel.as_posix(), key(rel, taken), path, image_id=image["id"], size=size))
    warn_skipped(chosen, missing, f"images listed in the JSON but not found under {root}")
    warn_skipped(chosen, unreadable, "files that are not readable images")
    warn_skipped(chosen, mismatched, "images whose size differs from the JSON")
    labels = tuple(c["name"] for c in data["categories"])
    return Dataset(root, LAYOUT, samples, labels=labels, skipped=missing + unreadable + mismatched, coco=data,
                   annotation_file=chosen)
