"""The overlay viewer widget, the same for every task: it lays out what the report task's Viewer draws."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_helpers import tiny_project, write_instance_project, write_semantic_project
from segwb import tasks
from widgets.overlay_viewer import OverlayViewer, text_colour


@pytest.fixture(scope="module", params=tasks.names())
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A finished tiny tutorial run of each task (a few seconds each), shared by the tests of this module."""
    return tiny_project(tmp_path_factory.mktemp(request.param), request.param)


def _images(viewer: OverlayViewer) -> list:
    return [viewer.parent_image, viewer.optimized_image, viewer.third_image]


def test_any_task_report_is_shown(tiny: tuple[Path, dict]) -> None:
    root, report = tiny
    viewer = OverlayViewer()
    viewer.show(report, root)
    assert not viewer.error.value, viewer.error.value
    assert type(viewer.view) is type(tasks.get(report["task"]).viewer(viewer.view.project, report))
    assert list(viewer.image.options) == [r["image"] for r in report["comparison"]["basic"]]
    assert viewer.image.value == viewer.image.options[0]
    assert all(len(i.value) > 0 for i in _images(viewer))
    assert len({i.layout.max_width for i in _images(viewer)}) == 1  # the same zoom for the three panels
    assert viewer.third_caption.value == f"<b>{viewer.view.third_title}</b>"
    assert viewer.threshold.layout.display == (None if viewer.view.scored else "none")
    assert viewer.image.value in viewer.info.value and "Legend:" in viewer.legend.value
    before = viewer.parent_image.value
    viewer.zoom.value = 160
    assert viewer.parent_image.value != before and viewer.parent_image.layout.max_width != "320px"
    viewer.step(-1)
    assert viewer.image.value == viewer.image.options[-1]
    viewer.step(1)
    assert viewer.image.value == viewer.image.options[0]
    viewer.open("no-such-image.jpg")
    assert viewer.image.value == viewer.image.options[0]


def test_toggles_stay_with_their_image_or_their_class(tiny: tuple[Path, dict]) -> None:
    """An instance badge means one detection of one image: the next image starts afresh; a class is the same class
    in every image: toggled off, it stays off."""
    root, report = tiny
    viewer = OverlayViewer()
    viewer.show(report, root)
    badges = viewer.view.badges(viewer.image.value, viewer.hidden, 0.0)
    key = badges[-1].key
    viewer.threshold.value = 0.0
    viewer.toggle(key)
    viewer.step(1)
    assert (key in viewer.hidden) is (not viewer.view.keys_per_image)


def test_semantic_badges_toggle_classes(tmp_path: Path) -> None:
    viewer = OverlayViewer()
    viewer.show(write_semantic_project(tmp_path), tmp_path)
    assert viewer.hidden == {0} and viewer.threshold.layout.display == "none"
    assert viewer.third_caption.value == "<b>Disagreement</b>"
    row = viewer.badges.children[0]
    assert [b.description for b in row.children] == ["✗ background", "✓ person", "✓ cat"]
    before = viewer.optimized_image.value
    row.children[2].click()
    assert viewer.hidden == {0, 2} and viewer.optimized_image.value != before
    assert [b.description for b in viewer.badges.children[0].children][2] == "✗ cat"
    assert "cat" in viewer.legend.value and "0.00 % of the pixels" in viewer.info.value


def test_instance_badges_follow_the_threshold(tmp_path: Path) -> None:
    viewer = OverlayViewer()
    viewer.show(write_instance_project(tmp_path), tmp_path)
    assert viewer.threshold.value == 0.8 and viewer.threshold.layout.display is None
    assert viewer.image.value == "street.jpg"
    optimized, parent = viewer.badges.children
    assert "Optimized</b> (1 at score ≥ 0.80)" in optimized.children[0].value
    assert [b.description for b in optimized.children[1:]] == ["✓ person 0.93"]
    assert [b.description for b in parent.children[1:]] == ["✓ person 0.95", "✓ car 0.85"]
    parent.children[2].click()
    assert viewer.hidden == {("parent", 1)} and viewer.badges.children[1].children[2].description == "✗ car 0.85"
    viewer.threshold.value = 0.0
    assert len(viewer.badges.children[0].children) == 3
    viewer.threshold.value = 1.0  # nothing that sure: each model keeps its row, empty
    assert [row.children[0].value for row in viewer.badges.children] == [
        "<b>Optimized</b> (0 at score ≥ 1.00):", "<b>Parent</b> (0 at score ≥ 1.00):"]
    viewer.threshold.value = 0.8
    viewer.step(1)
    assert viewer.image.value == "park.png" and viewer.hidden == set() and "dog" in viewer.legend.value


def test_missing_photo_and_missing_files(tmp_path: Path) -> None:
    report = write_instance_project(tmp_path)
    for photo in (tmp_path / "photos").iterdir():
        photo.unlink()
    viewer = OverlayViewer()
    viewer.show(report, tmp_path)
    assert "Photo not found" in viewer.info.value and not viewer.error.value
    assert len(viewer.parent_image.value) > 0
    (tmp_path / "predictions" / "parent.json").unlink()  # a report folder edited by hand
    viewer.show(report, tmp_path)
    assert "Loading the pictures failed" in viewer.error.value and viewer.image.options == ()
    viewer.show(None, None)
    assert "No report yet" in viewer.info.value and viewer.parent_image.value == b""


def test_badge_text_stays_readable() -> None:
    assert text_colour("#000000") == "white" and text_colour("#e0e0e0") == "black" and text_colour("#c0c080") == "black"
