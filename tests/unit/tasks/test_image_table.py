"""The image table (predictions/images.json): written for both tasks with each photo's place in the dataset, read
back also from earlier versions' tables, and the photo found again after the project or dataset moved."""

from __future__ import annotations

from pathlib import Path

from segwb.core.project import Project
from segwb.core.storage import write_json
from segwb.io.datasets import open_dataset
from segwb.tasks import image_table
from segwb.tasks.base import ImageRecord


def test_records_in_dataset_order_or_by_name(photo_folder: Path) -> None:
    dataset = open_dataset(photo_folder)
    in_order = image_table.records(dataset)
    assert [i.file for i in in_order] == ["a.jpg", "b.png", "sub/c.jpg", "sub/d.bmp"]
    assert all(i.image_id is None for i in in_order) and (in_order[0].height, in_order[0].width) == (48, 64)
    by_name = image_table.records(dataset, by_name=True)
    assert [(i.name, i.image_id) for i in by_name] == [("a.jpg", 1), ("b.png", 2), ("sub/c.jpg", 3), ("sub/d.bmp", 4)]


def test_written_table_reads_back_and_finds_the_photos(photo_folder: Path, tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    found = image_table.records(open_dataset(photo_folder))
    image_table.write(project, found)
    report = {"dataset": {"path": str(photo_folder), "layout": "images"}}
    assert image_table.read(project, report) == found
    assert image_table.photo(project, report, found[2]) == photo_folder / "sub" / "c.jpg"


def test_the_projects_dataset_copy_is_used_first(photo_folder: Path, tmp_path: Path) -> None:
    """An archive imported with its dataset: the copy, whatever folder the report names; an earlier version's full
    path into that folder is moved into the copy too."""
    project = Project(tmp_path / "p")
    (project.dataset_copy / "sub").mkdir(parents=True)
    report = {"dataset": {"path": "/gone/photos", "layout": "images"}}
    assert image_table.photo(project, report, ImageRecord("sub/c.jpg", "sub/c", "sub/c.jpg", 1, 1)) == \
        project.dataset_copy / "sub" / "c.jpg"
    old = ImageRecord("sub/c.jpg", "sub/c", "/gone/photos/sub/c.jpg", 1, 1)
    assert image_table.photo(project, report, old) == project.dataset_copy / "sub" / "c.jpg"
    elsewhere = ImageRecord("x.jpg", "x", "/other/x.jpg", 1, 1)
    assert image_table.photo(project, report, elsewhere) == Path("/other/x.jpg")


def test_earlier_tables_and_reports_without_one(tmp_path: Path) -> None:
    """An instance table with absolute ``path`` entries; a semantic report with none (keys from the overlays)."""
    project = Project(tmp_path / "p")
    report = {"dataset": {"path": "/data/voc", "layout": "voc"},
              "comparison": {"basic": [{"image": "x1.jpg", "overlay": "overlays/x1.jpg"}]}}
    assert image_table.read(project, report) == [ImageRecord("x1.jpg", "x1", "JPEGImages/x1.jpg", 0, 0)]
    write_json(project.images_json, [{"image_id": 7, "name": "a.jpg", "key": "a", "path": "/data/coco/images/a.jpg",
                                      "width": 64, "height": 48}])
    assert image_table.read(project, report) == [ImageRecord("a.jpg", "a", "/data/coco/images/a.jpg", 48, 64, 7)]


def test_embedded_photos_are_found_in_their_packages(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    found = image_table.records(open_dataset("embedded"))
    report = {"dataset": {"path": "embedded", "layout": "embedded"}}
    assert all(image_table.photo(project, report, i).is_file() for i in found)
    moved = ImageRecord(found[0].name, found[0].key, "/old/site-packages/skimage/data/astronaut.png", 1, 1)
    assert image_table.photo(project, report, moved).is_file()  # another machine's install: found by name
