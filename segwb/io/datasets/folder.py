"""A folder of images, searched recursively (hidden files and folders left out); no annotations."""

from __future__ import annotations

from pathlib import Path

from ..images import IMAGE_SUFFIXES
from .base import Dataset, Drops, Keys, Sample, readable_images

LAYOUT = "images"


def not_an_image(path: Path) -> str | None:
    """Why ``path`` is not read as a photo (its suffix), or None."""
    return None if path.suffix.lower() in IMAGE_SUFFIXES else f"not an image type ({', '.join(IMAGE_SUFFIXES)})"


def detect(root: Path) -> bool:
    """Any folder can be read as images."""
    return True


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """Every readable image under ``root``, sorted by relative path; ``split`` does not apply. Symbolic links are
    followed (datasets often link to shared storage): reading through one writes nothing."""
    keys = Keys()
    samples, drops = [], Drops(root)
    for path, size in readable_images(root, drops, root, not_an_image):
        rel = path.relative_to(root).as_posix()
        samples.append(Sample(rel, keys.new(rel), path, size=size))
    return Dataset(root, LAYOUT, samples, dropped=drops.records())
