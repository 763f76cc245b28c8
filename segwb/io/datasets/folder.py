"""A folder of images, searched recursively (hidden files and folders left out); no annotations."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import DatasetError
from ..images import IMAGE_SUFFIXES
from .base import Dataset, Drops, Keys, Sample, readable

LAYOUT = "images"


def detect(root: Path) -> bool:
    """Any folder can be read as images."""
    return True


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """Every readable image under ``root``, sorted by relative path; ``split`` does not apply. Symbolic links are
    followed (datasets often link to shared storage): reading through one writes nothing."""
    entries = sorted(p for p in root.rglob("*") if not any(part.startswith(".") for part in p.relative_to(root).parts))
    keys = Keys()
    samples, drops = [], Drops(root)
    for path in entries:
        rel = path.relative_to(root).as_posix()
        if not path.is_file():
            if path.is_symlink() and not path.exists():  # broken, or a loop: said, not silently skipped
                drops.add("file", "a symbolic link that leads to no file", rel)
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            drops.add("file", f"not an image type ({', '.join(IMAGE_SUFFIXES)})", rel)
            continue
        try:
            size = readable(path)
        except DatasetError as exc:
            drops.add("image", exc.reason, rel)
            continue
        samples.append(Sample(rel, keys.new(rel), path, size=size))
    return Dataset(root, LAYOUT, samples, dropped=drops.records())
