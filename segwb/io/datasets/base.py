"""What every dataset layout produces: an ordered list of readable images (:class:`Sample`), with annotations
when the layout has them, and the record of what was dropped and why (:class:`~segwb.io.drops.Drops`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ...core.errors import DatasetError
from ...core.paths import Keys  # noqa: F401 - the layouts' key allocator, re-exported
from ...core.storage import file_digest
from ..drops import Drops  # noqa: F401 - the layouts' reporter, re-exported
from ..images import image_size, load_image

log = logging.getLogger("segwb")


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
    dropped: list[dict[str, Any]] = field(default_factory=list)  # Drops.records(): what was left out, and why
    coco: dict[str, Any] | None = None  # COCO and YOLO layouts: the checked instances (see segwb.io.coco)
    annotation_file: Path | None = None
    extra_files: tuple[Path, ...] = ()  # other annotation files the dataset is made of (YOLO: one .txt per image)

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
        for path in self.extra_files:
            h.update(path.name.encode())
            h.update(file_digest(path).encode())
        return h.hexdigest()

    @property
    def files(self) -> list[Path]:
        """Every file the dataset is made of (images, annotations), sorted: what an export with the dataset copies."""
        found = {p for s in self.samples for p in (s.path, s.annotation) if p is not None}
        found.update(p for p in (self.annotation_file, *self.extra_files) if p is not None)
        return sorted(found)

    @property
    def location(self) -> str:
        """Where the dataset is, as a report records it: the folder's absolute path (a path relative to the working
        directory would be read against the project folder later), or the name of the embedded photos."""
        return str(Path(self.root).resolve()) if isinstance(self.root, Path) else self.root

    def file(self, sample: Sample) -> str:
        """Where ``sample`` is inside the dataset folder (POSIX), as a project records it; else its full path."""
        try:
            return sample.path.relative_to(self.root).as_posix()
        except ValueError:  # the embedded photos live in their packages
            return str(sample.path)

    def __len__(self) -> int:
        return len(self.samples)


def load_mask(path: Path) -> np.ndarray:
    """A VOC class mask: palette indices (or grey values) as HxW uint8."""
    image_size(path)
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise DatasetError(f"segmentation mask must be a palette or greyscale PNG, got mode {im.mode}", path)
            return np.asarray(im, dtype=np.uint8)
    except OSError as exc:
        raise DatasetError(f"not a readable mask ({exc})", path) from exc


def readable(path: Path) -> tuple[int, int]:
    """(height, width) of an image that decodes; else :class:`DatasetError` saying why (its ``reason`` for a list)."""
    image = load_image(path)
    return image.shape[0], image.shape[1]


def mask_problem(path: Path, size: tuple[int, int]) -> str | None:
    """Why the class mask at ``path`` cannot annotate an image of ``size`` (read from its header), or None."""
    try:
        height, width = image_size(path)
        with Image.open(path) as im:
            mode = im.mode
    except DatasetError as exc:
        return exc.reason
    if mode not in ("P", "L"):
        return f"mask must be a palette or greyscale PNG, got mode {mode}"
    if (height, width) != size:
        return f"mask {width}x{height} for an image of {size[1]}x{size[0]}"
    return None

