"""Cityscapes: ``leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` with the fine annotations
``gtFine/<split>/<city>/<name>_gtFine_labelIds.png``. The label ids (0..33) are read as the benchmark's 19 classes
(cityscapesScripts' ``trainId``); every other label is void (255), as the official evaluation ignores it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.errors import DatasetError
from ..labels import VOC_VOID
from .base import Dataset, Drops, Keys, Sample, checked_mask, files_under, readable_images

LAYOUT = "cityscapes"
IMAGE_SUFFIX = "_leftImg8bit.png"
MASK_SUFFIX = "_gtFine_labelIds.png"
LABELS = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
          "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
# labelId -> trainId of the 19 evaluated classes, from cityscapesScripts' helpers/labels.py (every other id of
# 0..33 has trainId 255 or -1: unlabeled, ego vehicle, parking, rail track, guard rail, caravan, trailer, ...).
TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12, 26: 13,
             27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
LABEL_IDS = 34  # Cityscapes label ids are 0..33


def train_id_lut() -> np.ndarray:
    """Label id -> train id for :attr:`Dataset.mask_lut`. Values past 33 are no Cityscapes label (the file is no
    labelIds mask, e.g. a trainIds or colour one): kept as they are, so the report counts and names them as
    unknown ids instead of reading them silently as void."""
    lut = np.arange(256, dtype=np.uint8)
    lut[:LABEL_IDS] = VOC_VOID
    for label_id, train_id in TRAIN_IDS.items():
        lut[label_id] = train_id
    return lut


def detect(root: Path) -> bool:
    return (root / "leftImg8bit").is_dir()


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """The images of the ``split`` folder (default ``val``, else the only one) with their fine label ids, when
    ``gtFine/<split>`` has them."""
    chosen = _split(root / "leftImg8bit", split)
    images, truth = root / "leftImg8bit" / chosen, root / "gtFine" / chosen
    drops, keys, samples, used = Drops(images), Keys(), [], set()
    def not_cityscapes(path: Path) -> str | None:
        return None if path.name.endswith(IMAGE_SUFFIX) else f"not a Cityscapes image (*{IMAGE_SUFFIX})"

    for path, size in readable_images(images, drops, images, not_cityscapes):
        rel = path.relative_to(images).as_posix()
        mask = truth / path.relative_to(images).parent / f"{path.name[:-len(IMAGE_SUFFIX)]}{MASK_SUFFIX}"
        used.add(mask)
        samples.append(Sample(rel, keys.new(rel), path, checked_mask(mask, size, drops, root), size=size))
    if truth.is_dir():
        for mask in files_under(truth, drops, root):
            if mask.name.endswith(MASK_SUFFIX) and mask not in used:
                drops.add("annotation", "label ids without an image in leftImg8bit", mask.relative_to(root).as_posix())
    return Dataset(root, LAYOUT, samples, labels=LABELS, dropped=drops.records(), mask_lut=train_id_lut())


def _split(folder: Path, split: str | None) -> str:
    """The split folder's name: ``split`` when it is one of the folders (never joined as a path), else ``val``, else
    the only one."""
    have = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if split is not None:
        if split not in have:
            raise DatasetError(f"no split folder {split!r}; have: {', '.join(have) or 'none'}", folder)
        return split
    if "val" in have or len(have) == 1:
        return "val" if "val" in have else have[0]
    raise DatasetError(f"several splits ({', '.join(have)}) and none is 'val': choose one with --split" if have
                       else "no split folders (train, val, test)", folder)
