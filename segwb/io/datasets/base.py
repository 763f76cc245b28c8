"""What every dataset layout produces: an ordered list of readable images (:class:`Sample`), with annotations
when the layout has them, and the record of what was dropped and why (:class:`~segwb.io.drops.Drops`).

The semantic ground truth of an image is one class mask, :meth:`Dataset.class_mask`, whatever the layout: a mask
file read as it is (VOC, images and masks), read and mapped by the dataset's lookup table (Cityscapes label ids to
its 19 classes), or drawn in memory from the image's instances (COCO, YOLO-seg polygons)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from ...core.errors import DatasetError
from ...core.paths import Keys  # noqa: F401 - the layouts' key allocator, re-exported
from ...core.storage import file_digest
from ..coco import segmentation_rle
from ..drops import Drops  # noqa: F401 - the layouts' reporter, re-exported
from ..images import image_size, load_image
from ..labels import VOC_VOID

log = logging.getLogger("segwb")
NO_OBJECT = "background"  # the class of a drawn mask's pixels inside no object (see Dataset.mask_labels)


@dataclass(frozen=True)
class Sample:
    """One image: ``name`` is its path relative to the image root, ``key`` names its output files."""

    name: str
    key: str
    path: Path
    annotation: Path | None = None  # the class mask file (VOC, images and masks, Cityscapes)
    image_id: int | None = None  # COCO: the image's id in the annotation file
    size: tuple[int, int] | None = None  # (height, width), when opening the dataset decoded the image


@dataclass
class Dataset:
    """An ordered list of readable images, with annotations when the layout has them."""

    root: Path | str
    layout: str  # "images" | "voc" | "coco" | "yolo" | "cityscapes" | "image_masks" | "embedded"
    samples: list[Sample]
    labels: tuple[str, ...] = ()
    dropped: list[dict[str, Any]] = field(default_factory=list)  # Drops.records(): what was left out, and why
    coco: dict[str, Any] | None = None  # COCO and YOLO layouts: the checked instances (see segwb.io.coco)
    annotation_file: Path | None = None
    extra_files: tuple[Path, ...] = ()  # other annotation files the dataset is made of (YOLO: one .txt per image)
    # 256 entries, applied to every mask file as read: pixel values -> class ids (Cityscapes: label ids -> train ids)
    mask_lut: np.ndarray | None = field(default=None, compare=False)

    @property
    def annotated(self) -> bool:
        return self.coco is not None or any(s.annotation is not None for s in self.samples)

    @property
    def drawn(self) -> bool:
        """True when the class masks are drawn from instances (COCO, YOLO-seg) rather than read from mask files: the
        set has instances, and few enough classes for 8-bit ids beside void (255) and the no-object id."""
        return self.coco is not None and bool(self.coco["annotations"]) and len(self.labels) < VOC_VOID

    @property
    def mask_labels(self) -> tuple[str, ...]:
        """The class of each id of :meth:`class_mask`: the labels, then for drawn masks ``background`` (the pixels
        inside no object), which the semantic report matches by name like any class: to the model's background,
        or void when the model has none."""
        return (*self.labels, NO_OBJECT) if self.drawn else self.labels

    def has_class_mask(self, sample: Sample) -> bool:
        """Whether ``sample`` has a semantic ground truth: a mask file, or instances to draw it from (an image
        without any is all background, as Ultralytics and COCO read an image without objects)."""
        return sample.annotation is not None or (self.drawn and sample.image_id is not None)

    def class_mask(self, sample: Sample) -> np.ndarray:
        """The semantic ground truth of ``sample``: HxW uint8 ids of :attr:`mask_labels`, 255 = void. A mask file is
        read (and mapped by :attr:`mask_lut`); instances are drawn in memory, never written to the dataset."""
        if sample.annotation is not None:
            mask = load_mask(sample.annotation)
            return mask if self.mask_lut is None else self.mask_lut[mask]
        if not self.has_class_mask(sample):
            raise DatasetError("the image has no class mask", sample.path)
        by_image, sizes, class_of = self._instances
        return draw_instances(by_image.get(sample.image_id, []), sizes[sample.image_id], class_of)

    @cached_property
    def _instances(self) -> tuple[dict[int, list[dict[str, Any]]], dict[int, tuple[int, int]], dict[int, int]]:
        """The instances by image id, the images' (height, width), and category id -> class id (its position)."""
        assert self.coco is not None  # only for drawn masks
        by_image: dict[int, list[dict[str, Any]]] = {}
        for ann in self.coco["annotations"]:
            by_image.setdefault(ann["image_id"], []).append(ann)
        sizes = {i["id"]: (i["height"], i["width"]) for i in self.coco["images"]}
        return by_image, sizes, {c["id"]: n for n, c in enumerate(self.coco["categories"])}

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


def draw_instances(annotations: list[dict[str, Any]], size: tuple[int, int], class_of: dict[int, int]) -> np.ndarray:
    """A class mask of ``size`` from checked COCO instances, rasterised as COCO's evaluation rasterises them. Pixels
    inside no object get the no-object id ``len(class_of)``. Where objects overlap, the smaller is on top: it is
    most often in front (a cup on a table, a rider on a horse) and would vanish under the larger; label files give
    their lines in no meaningful order. Crowd regions are void, drawn last: their outline is loose and the single
    objects inside were not outlined."""
    mask = np.full(size, len(class_of), np.uint8)
    shapes = [(ann, segmentation_rle(ann["segmentation"], size)) for ann in annotations]  # checked: all decode
    objects = sorted((s for s in shapes if not s[0]["iscrowd"]), key=lambda s: -int(mask_utils.area(s[1])))
    for ann, rle in objects + [s for s in shapes if s[0]["iscrowd"]]:
        mask[mask_utils.decode(rle).astype(bool)] = VOC_VOID if ann["iscrowd"] else class_of[ann["category_id"]]
    return mask


def files_under(folder: Path, drops: Drops, base: Path) -> list[Path]:
    """The files under ``folder``, sorted, hidden files and folders left out; symbolic links that lead to no file are
    recorded (named relative to ``base``), not silently skipped. Links to files are followed: reading writes nothing."""
    found = []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file():
            found.append(path)
        elif path.is_symlink() and not path.exists():  # broken, or a loop
            drops.add("file", "a symbolic link that leads to no file", path.relative_to(base).as_posix())
    return found


def readable_images(folder: Path, drops: Drops, base: Path,
                    problem: Callable[[Path], str | None]) -> Iterator[tuple[Path, tuple[int, int]]]:
    """Each file under ``folder`` that ``problem`` has nothing against and that decodes, with its (height, width);
    the others are recorded in ``drops`` (named relative to ``base``)."""
    for path in files_under(folder, drops, base):
        why = problem(path)
        if why is not None:
            drops.add("file", why, path.relative_to(base).as_posix())
            continue
        try:
            size = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, path.relative_to(base).as_posix())
            continue
        yield path, size


def checked_mask(mask: Path, size: tuple[int, int], drops: Drops, base: Path) -> Path | None:
    """``mask`` when it is a file that can annotate an image of ``size``, else None; a mask that cannot is recorded
    (its image stays, without ground truth)."""
    if not mask.is_file():
        return None
    why = mask_problem(mask, size)
    if why is not None:
        drops.add("annotation", f"{why} (image kept without ground truth)", mask.relative_to(base).as_posix())
        return None
    return mask


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

