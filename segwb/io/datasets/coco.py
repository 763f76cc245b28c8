"""COCO instances: ``annotations/instances_<split>.json`` and the images in ``images/``, ``<split>/``,
``images/<split>/`` or the root."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from ..coco import find_annotation_files, read_instances
from ...core.paths import name_parts
from .base import Dataset, Drops, Keys, Sample, readable

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
    drops = Drops(chosen)
    data = read_instances(chosen, drops)
    split_name = chosen.stem.removeprefix("instances_")
    folders = [root / "images", root / split_name, root / "images" / split_name, root]
    samples, keys = [], Keys()
    for image in sorted(data["images"], key=lambda i: i["file_name"]):
        name = image["file_name"]
        # A file_name is looked up inside the dataset folder only: absolute parts and '..' are not followed.
        rel = Path(*name_parts(name)) if name_parts(name) else None
        try:
            path = next((f / rel for f in folders if rel is not None and (f / rel).is_file()), None)
        except OSError as exc:  # a name too long for the file system, for one
            drops.add("image", f"file_name not usable here ({exc.strerror or exc})", name[:120])
            continue
        if path is None:
            drops.add("image", f"listed in the JSON but not found under {root}", name)
            continue
        try:
            size = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, name)
            continue
        if size != (image["height"], image["width"]):
            drops.add("image", "size differs from the JSON's", f"{name} ({size[1]}x{size[0]}, JSON {image['width']}x{image['height']})")
            continue
        samples.append(Sample(rel.as_posix(), keys.new(name), path, image_id=image["id"], size=size))
    labels = tuple(c["name"] for c in data["categories"])
    return Dataset(root, LAYOUT, samples, labels=labels, dropped=drops.records(), coco=data, annotation_file=chosen)
