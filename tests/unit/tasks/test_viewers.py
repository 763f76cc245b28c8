"""What the overlay viewer draws, per task (:meth:`segwb.tasks.base.Task.viewer`): panels of one size that follow the
opacity, toggled classes or instances, the instance score threshold, badges and legend, a missing photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dashboard_helpers import write_instance_project, write_semantic_project

from segwb import tasks
from segwb.core.project import Project
from segwb.tasks.base import Viewer
from segwb.tasks.drawing import MISSING_PHOTO_GREY, PALETTE_BGR, class_colour
from segwb.tasks.instance.viewer import decode_mask, visible_detections
from segwb.tasks.semantic.viewer import DISAGREE_BGR


def _viewer(root: Path, report: dict) -> Viewer:
    return tasks.get(report["task"]).viewer(Project(root), report)


@pytest.fixture
def semantic(tmp_path: Path) -> Viewer:
    return _viewer(tmp_path, write_semantic_project(tmp_path))


@pytest.fixture
def instance(tmp_path: Path) -> Viewer:
    return _viewer(tmp_path, write_instance_project(tmp_path))


def test_semantic_panels_share_one_size_and_follow_opacity(semantic: Viewer) -> None:
    assert semantic.names == ["photo.png"] and not semantic.scored and semantic.third_title == "Disagreement"
    panels = semantic.panels("photo.png", set(), opacity=0.0, threshold=0.0, height=80)
    assert panels.parent.shape == panels.optimized.shape == panels.third.shape == (80, 120, 3)
    assert (panels.parent == 200).all() and panels.photo_found  # opacity 0: the photo unchanged
    assert "4.17 % of the pixels of the shown classes" in panels.info  # 100 of 2400 pixels differ
    assert "average result 0.5000, pixel agreement 95.83 %" in panels.info
    full = semantic.panels("photo.png", {0}, opacity=1.0, threshold=0.0, height=80)
    assert tuple(full.parent[5, 5]) == tuple(int(v) for v in PALETTE_BGR[1])
    assert (full.parent[:, 60:] == 200).all()  # hidden background keeps the photo
    assert tuple(full.third[2, 110]) == DISAGREE_BGR


def test_semantic_badges_hide_classes(semantic: Viewer) -> None:
    assert semantic.initially_hidden() == {0}  # the background would cover the photo
    badges = semantic.badges("photo.png", {0}, 0.0)
    assert [(b.key, b.label, b.shown, b.colour) for b in badges] == [
        (0, "background", False, class_colour(0)), (1, "person", True, class_colour(1)), (2, "cat", True, class_colour(2))]
    assert semantic.legend("photo.png") == [(class_colour(c), n) for c, n in enumerate(["background", "person", "cat"])]
    panels = semantic.panels("photo.png", {0, 2}, opacity=1.0, threshold=0.0, height=40)
    assert (panels.optimized[:10, 50:] == 200).all()  # class 2 hidden
    assert "0.00 % of the pixels" in panels.info  # only hidden classes differ
    with pytest.raises(ValueError):
        semantic.panels("photo.png", set(), opacity=1.5, threshold=0.0, height=40)


def test_instance_threshold_badges_and_panels(instance: Viewer) -> None:
    assert instance.names == ["street.jpg", "park.png"] and instance.scored
    street = instance.of("optimized", "street.jpg")
    assert [d.badge for d in street] == ["person 0.93", "car 0.50"]
    assert [d.badge for d in visible_detections(street, 0.8)] == ["person 0.93"]
    assert decode_mask(street[0].rle).sum() == 600
    badges = instance.badges("street.jpg", set(), 0.8)
    assert [(b.group, b.label, b.key) for b in badges] == [("Optimized", "person 0.93", ("optimized", 0)),
                                                          ("Parent", "person 0.95", ("parent", 0)),
                                                          ("Parent", "car 0.85", ("parent", 1))]
    assert [label for _, label in instance.legend("park.png")] == ["person", "dog"]
    none = instance.panels("street.jpg", set(), opacity=0.5, threshold=1.0, height=60)
    some = instance.panels("street.jpg", {("optimized", 1)}, opacity=0.5, threshold=0.0, height=60)
    assert none.parent.shape == (60, 80, 3) and (none.parent == 60).all()  # nothing at or above 1.0
    assert not (some.optimized == 60).all() and not np.array_equal(some.third, none.third)
    assert "optimized 2 instances, parent 2, 1 matches" in none.info


def test_panels_without_the_photo_draw_on_grey(tmp_path: Path) -> None:
    """A project imported without its dataset still shows both models' predictions, and says the photo is gone."""
    semantic_root, instance_root = tmp_path / "semantic", tmp_path / "instance"
    semantic = write_semantic_project(semantic_root)
    instance = write_instance_project(instance_root)
    for root in (semantic_root, instance_root):
        for photo in (root / "photos").iterdir():
            photo.unlink()
    panels = _viewer(semantic_root, semantic).panels("photo.png", set(), opacity=0.0, threshold=0.0, height=40)
    assert not panels.photo_found and panels.parent.shape == (40, 60, 3) and (panels.parent == MISSING_PHOTO_GREY).all()
    panels = _viewer(instance_root, instance).panels("street.jpg", set(), opacity=0.5, threshold=0.8, height=60)
    assert not panels.photo_found and panels.parent.shape == (60, 80, 3)
