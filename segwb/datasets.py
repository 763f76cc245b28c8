"""Datasets: image folders, Pascal VOC segmentation, and the embedded photos; layout auto-detected."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from .coco import find_annotation_files, read_instances
from .errors import DatasetError
from .storage import file_digest

log = logging.getLogger("segwb")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VOC_LABELS = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
              "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
              "train", "tvmonitor")
VOC_VOID = 255
EMBEDDED = "embedded"
MANIFEST = Path(__file__).resolve().parents[1] / "data" / "embedded-photos.json"


@dataclass(frozen=True)
class Sample:
    """One image: ``name`` is its path relative to the image root, ``key`` names its output files."""

    name: str
    key: str
    path: Path
    annotation: Path | None = None  # VOC: the class mask
    image_id: int | None = None  # COCO: the image's id in the annotation file
    size: tuple[int, int] | None = None  # (height, width), when opening the dataset decoded the image


@dataclass
class Dataset:
    """An ordered list of readable images, with annotations when the layout has them."""

    root: Path | str
    layout: str  # "images" | "voc" | "coco" | "embedded"
    samples: list[Sample]
    labels: tuple[str, ...] = ()
    skipped: list[str] = field(default_factory=list)
    coco: dict[str, Any] | None = None  # COCO layout: the checked instances file (see segwb.coco)
    annotation_file: Path | None = None

    @property
    def annotated(self) -> bool:
        return self.coco is not None or any(s.annotation is not None for s in self.samples)

    @cached_property
    def digest(self) -> str:
        """Content hash of every image and annotation (with their keys), for step caching; computed once."""
        h = hashlib.sha256()
        for s in self.samples:
            h.update(s.key.encode())
            h.update(file_digest(s.path).encode())
            h.update(file_digest(s.annotation).encode() if s.annotation else b"-")
            h.update(str(s.image_id).encode())
        if self.annotation_file is not None:
            h.update(file_digest(self.annotation_file).encode())
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self.samples)


def load_image(path: Path) -> np.ndarray:
    """An image as HxWx3 BGR uint8 (greyscale and alpha are converted)."""
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise DatasetError("not a readable image", path)
    return image


def load_mask(path: Path) -> np.ndarray:
    """A VOC class mask: palette indices (or grey values) as HxW uint8."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise DatasetError(f"segmentation mask must be a palette or greyscale PNG, got mode {im.mode}", path)
            return np.asarray(im, dtype=np.uint8)
    except OSError as exc:
        raise DatasetError(f"not a readable mask ({exc})", path) from exc


def open_dataset(source: str | Path, split: str | None = None) -> Dataset:
    """Open ``source``: ``"embedded"``, a Pascal VOC root, a COCO root (``annotations/instances*.json``
    and the images), or a folder of images (searched recursively)."""
    if str(source) == EMBEDDED:
        return embedded_dataset()
    root = Path(source)
    if not root.exists():
        raise DatasetError("no such dataset folder", root)
    if not root.is_dir():
        raise DatasetError("a dataset must be a folder of images or a Pascal VOC root", root)
    if (root / "JPEGImages").is_dir() and ((root / "SegmentationClass").is_dir() or (root / "ImageSets" / "Segmentation").is_dir()):
        dataset = _voc(root, split)
    elif find_annotation_files(root):
        dataset = _coco(root, split)
    else:
        dataset = _image_folder(root)
    if not dataset.samples:
        raise DatasetError("no readable images (.jpg, .jpeg, .png, .bmp) found", root)
    return dataset


def _key(rel: Path, taken: set[str]) -> str:
    key = rel.with_suffix("").as_posix()
    if key in taken:  # "a.jpg" and "a.png" side by side: keep the suffix to tell them apart
        key = rel.as_posix()
    taken.add(key)
    return key


def _image_folder(root: Path) -> Dataset:
    files = sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    taken: set[str] = set()
    samples, skipped = [], []
    for path in files:
        rel = path.relative_to(root)
        size = _readable(path) if path.suffix.lower() in IMAGE_SUFFIXES else None
        if not size:
            skipped.append(rel.as_posix())
            continue
        samples.append(Sample(rel.as_posix(), _key(rel, taken), path, size=size))
    _warn_skipped(root, skipped, "files that are not readable images")
    return Dataset(root, "images", samples, skipped=skipped)


def _voc(root: Path, split: str | None) -> Dataset:
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
        size = _readable(path)
        if not size:
            unreadable.append(path.name)
            continue
        mask = masks / f"{image_id}.png"
        if not mask.is_file():
            mask = None
        elif _mask_size(mask) != size:
            mismatched.append(f"{mask.name} {_mask_size(mask)} vs image {size}")
            mask = None
        samples.append(Sample(path.name, image_id, path, mask, size=size))
    _warn_skipped(root, missing, "ids in the image-set list without an image in JPEGImages")
    _warn_skipped(root, unreadable, "files that are not readable images")
    _warn_skipped(root, mismatched, "masks whose size differs from their image (annotation ignored)")
    return Dataset(root, "voc", samples, labels=VOC_LABELS, skipped=missing + unreadable + mismatched)


def _coco(root: Path, split: str | None) -> Dataset:
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
        size = _readable(path)
        if not size:
            unreadable.append(image["file_name"])
            continue
        if size != (image["height"], image["width"]):
            mismatched.append(f"{image['file_name']} {size} vs {image['height']}x{image['width']} in the JSON")
            continue
        rel = Path(image["file_name"])
        samples.append(Sample(rel.as_posix(), _key(rel, taken), path, image_id=image["id"], size=size))
    _warn_skipped(chosen, missing, f"images listed in the JSON but not found under {root}")
    _warn_skipped(chosen, unreadable, "files that are not readable images")
    _warn_skipped(chosen, mismatched, "images whose size differs from the JSON")
    labels = tuple(c["name"] for c in data["categories"])
    return Dataset(root, "coco", samples, labels=labels, skipped=missing + unreadable + mismatched, coco=data,
                   annotation_file=chosen)


def _readable(path: Path) -> tuple[int, int] | None:
    """(height, width) if the file decodes as an image, else None."""
    try:
        image = load_image(path)
    except DatasetError:
        return None
    return image.shape[0], image.shape[1]


def _mask_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except OSError:
        return None


def _warn_skipped(root: Path, items: list[str], what: str) -> None:
    if items:
        shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
        log.warning("%s: skipped %d %s: %s", root, len(items), what, shown)


def embedded_dataset() -> Dataset:
    """The photos listed in ``data/embedded-photos.json``, read from the packages that ship them."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    samples = []
    for photo in manifest["photos"]:
        spec = importlib.util.find_spec(photo["package"])
        if spec is None or spec.origin is None:
            raise DatasetError(f"embedded photo {photo['name']} needs the package {photo['package']}, which is not installed", MANIFEST)
        path = Path(spec.origin).parent / photo["resource"]
        if not path.is_file():
            raise DatasetError(f"embedded photo {photo['name']} not found in package {photo['package']} at {path}", MANIFEST)
        samples.append(Sample(photo["name"], Path(photo["name"]).stem, path))
    return Dataset(EMBEDDED, "embedded", samples)
