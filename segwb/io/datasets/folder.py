"""A folder of images, searched recursively (hidden files and folders left out); no annotations."""

from __future__ import annotations

from pathlib import Path

from ..images import IMAGE_SUFFIXES
from .base import Dataset, Sample, key, readable, warn_skipped

LAYOUT = "images"


def detect(root: Path) -> bool:
    """Any folder can be read as images."""
    return True


def open(root: Path, split: str | None = None) -> Dataset:  # noqa: A001 - the layout interface's name
    """Every readable image under ``root``, sorted by relative path; ``split`` does not apply."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    taken: set[str] = set()
    samples, skipped = [], []
    for path in files:
        rel = path.relative_to(root)
        size = readable(path) if path.suffix.lower() in IMAGE_SUFFIXES else None
        if not size:
            skipped.append(rel.as_posix())
            continue
        samples.append(Sample(rel.as_posix(), key(rel, taken), path, size=size))
    warn_skipped(root, skipped, "files that are not readable images")
    return Dataset(root, LAYOUT, samples, skipped=skipped)
