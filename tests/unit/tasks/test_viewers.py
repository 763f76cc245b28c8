"""Overlay pictures (segwb.viewer) and the viewer widget: same zoom, opacity, toggled classes, instance threshold."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dashboard_helpers import write_instance_project
from segwb import viewer as draw
from segwb.predict import save_class_map
from widgets.viewer import OverlayViewer


@pytest.fixture
def semantic_project(tmp_path: Path) -> tuple[Path, draw.ImageRef]:
    """One 40x60 photo; parent: class 1 on the left half; optimized: the same plus class 2 in one corner."""
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.full((40, 60, 3), 200, np.uint8))
    parent = np.zeros((40, 60), np.uint8)
    parent[:, :30] = 1
    optimized = parent.copy()
    optimized[:10, 50:] = 2
    save_class_map(tmp_path / "predictions" / "parent" / "photo.png", parent)
    save_class_map(tmp_path / "predictions" / "optimized" / "photo.png", optimized)
    return tmp_path, draw.ImageRef("photo.png", "photo", photo)


def test_semantic_panels_share_one_size_and_follow_opacity(semantic_project) -> None:
    root, ref = semantic_project
    panels = draw.semantic_panels(root, ref, opacity=0.0, height=80)
    assert panels.parent.shape == panels.optimized.shape == panels.disagreement.shape == (80, 120, 3)
    assert (panels.parent == 200).all()  # opacity 0: the photo unchanged
    assert panels.classes == [0, 1, 2]
    assert panels.disagreement_fraction == pytest.approx(100 / 2400)
    full = draw.semantic_panels(root, ref, opacity=1.0, height=80, hidden={0})
    assert tuple(full.parent[5, 5]) == tuple(int(v) for v in draw.PALETTE_BGR[1])
    assert (full.parent[:, 60:] == 200).all()  # hidden background keeps the photo
    assert tuple(full.disagreement[2, 110]) == draw.DISAGREE_BGR


def test_hiding_classes(semantic_project) -> None:
    root, ref = semantic_project
    panels = draw.semantic_panels(root, ref, opacity=1.0, height=40, hidden={0, 2})
    assert (panels.optimized[:10, 50:] == 200).all()  # class 2 hidden
    assert panels.disagreement_fraction == pytest.approx(0.0)  # only hidden classes differ
    with pytest.raises(ValueError):
        draw.semantic_panels(root, ref, opacity=1.5)


def test_instance_data_threshold_and_panels(tmp_path: Path) -> None:
    report = write_instance_project(tmp_path)
    data = draw.instance_data(tmp_path, report["parent"]["card"]["labels"])
    street = data.of("optimized", "street.jpg")
    assert [d.badge for d in street] == ["person 0.93", "car 0.50"]
    assert [d.badge for d in draw.visible_detections(street, 0.8)] == ["person 0.93"]
    assert draw.decode_mask(street[0].rle).sum() == 600
    ref = data.images["street.jpg"]
    none = draw.instance_panels(ref, data.of("parent", "street.jpg"), street, threshold=1.0, height=60)
    some = draw.instance_panels(ref, data.of("parent", "street.jpg"), street, threshold=0.0, height=60,
                                hidden_optimized={1})
    assert none.parent.shape == (60, 80, 3) and (none.parent == 60).all()  # nothing above 1.0
    assert not (some.optimized == 60).all() and not np.array_equal(some.disagreement, none.disagreement)


def test_viewer_widget_semantic_and_instance(tmp_path: Path, semantic_project) -> None:
    root, ref = semantic_project
    viewer = OverlayViewer()
    report = {"task": "semantic", "dataset": {"path": str(ref.path.parent), "layout": "images"},
              "parent": {"card": {"labels": ["background", "person", "cat"]}},
              "comparison": {"basic": [{"image": "photo.png", "average_result": 0.5, "pixel_agreement": 0.9,
                                        "overlay": "overlays/photo.png"}]}}
    viewer.show(report, root)
    assert viewer.image.value == "photo.png" and viewer.hidden == {0}
    assert all(len(i.value) > 0 for i in (viewer.parent_image, viewer.optimized_image, viewer.disagreement_image))
    badges = viewer.badges.children[0].children
    assert [b.description for b in badges] == ["✗ background", "✓ person", "✓ cat"]
    before = viewer.optimized_image.value
    badges[2].click()
    assert 2 in viewer.hidden and viewer.optimized_image.value != before
    assert "cat" in viewer.legend.value

    instance_root = tmp_path / "instance"
    viewer.show(write_instance_project(instance_root), instance_root)
    assert viewer.threshold.value == 0.8 and viewer.threshold.layout.display is None
    assert viewer.image.value == "street.jpg"
    rows = viewer.badges.children
    assert [b.description for b in rows[0].children[1:]] == ["✓ person 0.93"]  # optimized at >= 0.8
    assert [b.description for b in rows[1].children[1:]] == ["✓ person 0.95", "✓ car 0.85"]
    viewer.threshold.value = 0.0
    assert len(viewer.badges.children[0].children) == 3
    viewer.step(1)
    assert viewer.image.value == "park.png" and "dog" in viewer.legend.value


def test_panels_without_the_photo_draw_on_grey(tmp_path: Path, semantic_project) -> None:
    """A project imported without its dataset still shows both models' predictions, and says the photo is gone."""
    root, ref = semantic_project
    ref.path.unlink()
    panels = draw.semantic_panels(root, ref, opacity=0.0, height=40)
    assert not panels.photo_found and panels.parent.shape == (40, 60, 3)
    assert (panels.parent == draw.MISSING_PHOTO_GREY).all() and panels.classes == [0, 1, 2]

    instance_root = tmp_path / "instance"
    report = write_instance_project(instance_root)
    data = draw.instance_data(instance_root, report["parent"]["card"]["labels"])
    street = data.images["street.jpg"]
    street.path.unlink()
    panels = draw.instance_panels(street, data.of("parent", "street.jpg"), data.of("optimized", "street.jpg"), height=60)
    assert not panels.photo_found and panels.parent.shape == (60, 80, 3)
    viewer = OverlayViewer()
    viewer.show(report, instance_root)
    assert "Photo not found" in viewer.info.value and not viewer.error.value
    assert len(viewer.parent_image.value) > 0
