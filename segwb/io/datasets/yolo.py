"""Ultralytics YOLO segmentation: ``data.yaml`` (``names``, and ``val``/``train`` image folders relative to ``path``),
``images/<split>/*.jpg`` and ``labels/<split>/<stem>.txt`` with one object per line: the class index, then the
polygon's x y pairs normalised to 0..1. The objects are converted to COCO instances (categories ``i + 1`` named by
``names``) and checked by :func:`segwb.io.coco.check_instances`, so the instance report and COCO's evaluation read
them as they read a COCO file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ...core.errors import DatasetError
from ...core.paths import is_within
from ..coco import check_instances
from ..images import IMAGE_SUFFIXES
from ..yaml_files import indexed_names, read_mapping
from .base import Dataset, Drops, Keys, Sample, readable

LAYOUT = "yolo"
DATA_FILES = ("data.yaml", "data.yml", "dataset.yaml")


def detect(root: Path) -> bool:
    return any((root / name).is_file() for name in DATA_FILES) and (root / "labels").is_dir()


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """The images of ``split`` (default ``val``, else ``train``) with their polygons."""
    data_file = next(root / name for name in DATA_FILES if (root / name).is_file())
    config = read_mapping(data_file, DatasetError, shape=" with 'names' and 'val' (or 'train')")
    names = _names(config.get("names"), data_file)
    images_dir = _split_folder(root, config, split, data_file)
    labels_dir = _labels_folder(images_dir, root)
    drops, keys, samples, label_files = Drops(data_file), Keys(), [], []
    coco: dict[str, Any] = {"images": [], "annotations": [],
                            "categories": [{"id": i + 1, "name": n} for i, n in enumerate(names)]}
    files = sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    for image_id, path in enumerate(files, 1):
        rel = path.relative_to(root).as_posix()
        try:
            height, width = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, rel)
            continue
        label = labels_dir / path.relative_to(images_dir).with_suffix(".txt")
        if label.is_file():
            label_files.append(label)
            coco["annotations"] += _objects(label, image_id, (height, width), len(names), drops)
        coco["images"].append({"id": image_id, "file_name": rel, "width": width, "height": height})
        samples.append(Sample(rel, keys.new(path.relative_to(images_dir).as_posix()), path, image_id=image_id,
                              size=(height, width)))
    for n, ann in enumerate(coco["annotations"], 1):
        ann["id"] = n
    checked = check_instances(coco, data_file, drops)
    return Dataset(root, LAYOUT, samples, labels=tuple(names), dropped=drops.records(), coco=checked,
                   annotation_file=data_file, extra_files=tuple(label_files))


def _names(value: Any, path: Path) -> list[str]:
    """``names`` as a list (Ultralytics writes a list or a mapping index -> name, indices 0..N-1)."""
    value = indexed_names(value)
    if not (isinstance(value, list) and value and all(isinstance(n, (str, int)) and str(n).strip() for n in value)):
        raise DatasetError("'names' must list the class names (a list, or a mapping 0..N-1 -> name)", path)
    return [str(n).strip() for n in value]


def _split_folder(root: Path, config: dict[str, Any], split: str | None, path: Path) -> Path:
    """The image folder of ``split`` (``val`` by default, else ``train``), inside the dataset folder."""
    chosen = split or ("val" if "val" in config else "train")
    entry = config.get(chosen)
    if not isinstance(entry, str) or not entry:
        have = ", ".join(k for k in ("train", "val", "test") if isinstance(config.get(k), str))
        raise DatasetError(f"no image folder for split {chosen!r} (have: {have or 'none'})", path)
    given = str(config.get("path") or ".")
    base = root if Path(given).is_absolute() else root / given  # an absolute path is the exporting machine's
    folder = base / entry
    if not is_within(folder, root):  # a data.yaml describes its own folder: never read elsewhere
        raise DatasetError(f"split {chosen!r} names {entry!r}, outside the dataset folder", path)
    if not folder.is_dir():
        raise DatasetError(f"split {chosen!r}: no image folder {entry!r} (image lists in a .txt are not read)", path)
    return folder


def _labels_folder(images_dir: Path, root: Path) -> Path:
    """Ultralytics' rule: the last ``images`` part of the image folder's path becomes ``labels``."""
    parts = list(images_dir.relative_to(root).parts)
    if "images" in parts:
        at = len(parts) - 1 - parts[::-1].index("images")
        parts[at] = "labels"
    return root.joinpath(*parts)


def _objects(label: Path, image_id: int, size: tuple[int, int], classes: int, drops: Drops) -> list[dict[str, Any]]:
    """The polygons of one label file as COCO annotations in pixels; bad lines dropped with their reason."""
    height, width = size
    try:
        lines = label.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        drops.add("annotation", f"label file not readable as text ({type(exc).__name__})", label.name)
        return []
    found = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{label.name} line {n}"
        fields = line.split()
        try:
            cls, values = int(fields[0]), [float(v) for v in fields[1:]]
        except ValueError:
            drops.add("annotation", "not a class index followed by numbers", where)
            continue
        if not 0 <= cls < classes:
            drops.add("annotation", f"class index outside 0..{classes - 1} (data.yaml names)", where)
        elif len(values) == 4:
            drops.add("annotation", "a box (x y w h), not a polygon: a detection label", where)
        elif len(values) < 6 or len(values) % 2:
            drops.add("annotation", "polygon of fewer than 3 points or of odd length", where)
        elif not all(math.isfinite(v) and -0.01 <= v <= 1.01 for v in values):
            drops.add("annotation", "polygon coordinates outside 0..1 (not normalised)", where)
        else:
            polygon = [min(max(v, 0.0), 1.0) * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
            found.append({"image_id": image_id, "category_id": cls + 1, "segmentation": [polygon], "iscrowd": 0})
    return found
