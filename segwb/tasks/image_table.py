"""The image table of a report (``predictions/images.json``) and where each photo is now.

A project records each image's place inside the dataset folder, so the photos are found again after the project
(or the dataset) moved: in the project's own ``dataset/`` copy when an archive carried it, else in the folder the
report names. Tables written by earlier versions (full paths, or none for semantic reports) are read too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.project import Project
from ..core.storage import read_json, write_json
from ..io.datasets import Dataset, embedded
from ..io.images import load_image
from .base import ImageRecord


def records(dataset: Dataset, by_name: bool = False) -> list[ImageRecord]:
    """Every image of ``dataset`` with its size and id: in dataset order, or sorted by name (ids then 1.. in that
    order where the dataset has none)."""
    samples = sorted(dataset.samples, key=lambda s: s.name) if by_name else dataset.samples
    out = []
    for n, sample in enumerate(samples, start=1):
        h, w = sample.size or load_image(sample.path).shape[:2]  # the embedded photos are not decoded on opening
        image_id = sample.image_id if sample.image_id is not None else (n if by_name else None)
        out.append(ImageRecord(sample.name, sample.key, dataset.file(sample), h, w, image_id))
    return out


def write(project: Project, images: list[ImageRecord]) -> None:
    """Store the image table."""
    write_json(project.images_json, [i.to_dict() for i in images])


def read(project: Project, report: dict[str, Any]) -> list[ImageRecord]:
    """The image table of ``report``, also from earlier versions' files (an absolute ``path``, or no table)."""
    if not project.images_json.is_file():
        return _from_rows(report)
    return [ImageRecord(i["name"], i["key"], i.get("file") or i["path"], int(i["height"]), int(i["width"]),
                        i.get("image_id")) for i in read_json(project.images_json)]


def _from_rows(report: dict[str, Any]) -> list[ImageRecord]:
    """Semantic reports written before the image table: names from the rows, keys from the overlay paths."""
    layout = report["dataset"]["layout"]
    found = []
    for row in report["comparison"]["basic"]:
        key = Path(row["overlay"]).relative_to("overlays").with_suffix("").as_posix()
        file = f"JPEGImages/{row['image']}" if layout == "voc" else row["image"]
        found.append(ImageRecord(row["image"], key, file, 0, 0))
    return found


def photo(project: Project, report: dict[str, Any], image: ImageRecord) -> Path:
    """Where the photo of ``image`` is now (it may be gone: the caller checks)."""
    dataset = report["dataset"]
    if dataset["layout"] == embedded.LAYOUT:
        return embedded.photo(image.name) or Path(image.file)
    file = Path(image.file)
    if file.is_absolute() and project.dataset_copy.is_dir():  # an earlier version's full path, into the copy
        try:
            return project.dataset_copy / file.relative_to(dataset["path"])
        except ValueError:
            pass
    return file if file.is_absolute() else project.dataset_root(dataset["path"]) / file
