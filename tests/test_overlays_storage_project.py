"""segwb.overlays (VOC palette, overlay picture), segwb.storage (atomic writes) and Project.cached (step caching)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segwb.instances import Instances, encode_crop
from segwb.overlays import INSTANCE_ALPHA, PALETTE_BGR, PANEL_HEIGHT, UNMATCHED_BGR, instance_overlay, palette, save_image, semantic_overlay
from segwb.project import Project
from segwb.storage import atomic_path, read_json, write_json, write_text

# --- overlays ------------------------------------------------------------------------------------


def test_palette_matches_voc_colours() -> None:
    """The VOC colour map (RGB): background black, aeroplane (128,0,0), person (192,128,128)."""
    colours = palette()
    assert colours.shape == (256, 3) and colours.dtype == np.uint8
    assert tuple(colours[0]) == (0, 0, 0)
    assert tuple(colours[1]) == (128, 0, 0)
    assert tuple(colours[2]) == (0, 128, 0)
    assert tuple(colours[15]) == (192, 128, 128)
    assert len({tuple(c) for c in colours}) == 256  # every class gets its own colour


def test_semantic_overlay_three_panels_and_legend() -> None:
    """A 100x200 photo → three 320x640 panels with 28-px titles and two 6-px gaps, plus ≥1 legend row."""
    image = np.full((100, 200, 3), 128, np.uint8)
    parent = np.zeros((100, 200), np.uint8)
    parent[:, 100:] = 15
    optimized = parent.copy()
    optimized[:50, 100:] = 8
    overlay = semantic_overlay(image, parent, optimized, ("background",) + ("x",) * 7 + ("cat",) + ("y",) * 6 + ("person",),
                               agreement=0.75)
    panel_w = 640  # 200 * 320 / 100
    assert overlay.dtype == np.uint8 and overlay.ndim == 3 and overlay.shape[2] == 3
    assert overlay.shape[1] == 3 * panel_w + 2 * 6
    legend_h = overlay.shape[0] - (PANEL_HEIGHT + 28)
    assert legend_h >= 26 and legend_h % 26 == 0
    # The disagreement panel (third) shows the differing quarter in pure red (BGR 0,0,255).
    third = overlay[28:28 + PANEL_HEIGHT, 2 * (panel_w + 6):]
    assert tuple(third[40, 500]) == (0, 0, 255)  # top-right quarter: 15 vs 8
    assert tuple(third[300, 500]) != (0, 0, 255)  # bottom-right: both 15
    # The parent panel leaves background (id 0) as the photo and tints the person half.
    first = overlay[28:28 + PANEL_HEIGHT, :panel_w]
    assert tuple(first[160, 100]) == (128, 128, 128)
    assert tuple(first[160, 500]) != (128, 128, 128)


def test_overlay_legend_wraps_for_many_classes() -> None:
    """Twenty long class names do not fit one row of a narrow overlay: the legend grows by rows."""
    image = np.zeros((320, 40, 3), np.uint8)
    ids = np.arange(20, dtype=np.uint8).repeat(16).reshape(320, 1).repeat(40, axis=1)
    labels = tuple(f"a long class name {i}" for i in range(20))
    overlay = semantic_overlay(image, ids, ids, labels)
    assert overlay.shape[0] - (PANEL_HEIGHT + 28) > 26


def test_save_image_png_round_trip(tmp_path: Path) -> None:
    """save_image writes a lossless PNG that reads back identical."""
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = tmp_path / "sub" / "o.png"
    save_image(path, image)
    np.testing.assert_array_equal(cv2.imread(str(path)), image)


def test_save_image_jpeg(tmp_path: Path) -> None:
    """A .jpg path gets a JPEG close to the image (smooth content survives quality 92 within a few levels)."""
    image = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (48, 1, 3))
    path = tmp_path / "o.jpg"
    save_image(path, image)
    assert path.read_bytes()[:2] == b"\xff\xd8"
    assert np.abs(cv2.imread(str(path)).astype(int) - image).max() <= 4


def _instances(size: tuple[int, int], boxes: list[tuple[int, int, int, int]], classes: list[int]) -> Instances:
    masks = [encode_crop(np.ones((y1 - y0, x1 - x0), np.uint8), y0, x0, size) for x0, y0, x1, y1 in boxes]
    return Instances(size, np.int64(classes), np.float32([0.9] * len(boxes)), np.float32(boxes), masks)


def test_instance_overlay_tints_masks_and_outlines_unmatched_in_red() -> None:
    """At twice the panel height the panels are half size: a 40x40 mask fills 20x20 panel pixels, tinted at
    INSTANCE_ALPHA with its class colour; pixels outside every mask keep the photo; unmatched ones get red."""
    size = (2 * PANEL_HEIGHT, 2 * PANEL_HEIGHT)
    photo = np.full((*size, 3), 100, np.uint8)
    parent = _instances(size, [(200, 200, 240, 240)], [3])
    optimized = _instances(size, [(200, 200, 240, 240), (400, 400, 480, 480)], [3, 5])
    picture = instance_overlay(photo, parent, optimized, ("c",) * 8, np.array([True]), np.array([True, False]))
    assert picture.shape == (PANEL_HEIGHT + 28, 2 * PANEL_HEIGHT + 6, 3)
    left = picture[28:, :PANEL_HEIGHT]
    right = picture[28:, PANEL_HEIGHT + 6:]
    tint = np.round(100 * (1 - INSTANCE_ALPHA) + PALETTE_BGR[4].astype(float) * INSTANCE_ALPHA)
    np.testing.assert_allclose(left[105, 105], tint, atol=1)  # inside the mask (panel 100..119)
    np.testing.assert_array_equal(left[150, 150], [100, 100, 100])  # outside every mask
    np.testing.assert_array_equal(right[150, 150], [100, 100, 100])
    assert (right[198:242, 198:242] == UNMATCHED_BGR).all(axis=-1).any()  # the unmatched one: red outline
    assert not (left == UNMATCHED_BGR).all(axis=-1).any()  # everything matched on the left: no red


# --- storage -------------------------------------------------------------------------------------


def test_atomic_path_keeps_old_content_when_block_raises(tmp_path: Path) -> None:
    """A failing write leaves the previous file untouched and no .tmp file behind."""
    dest = tmp_path / "result.json"
    dest.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("crash mid-write")
    assert dest.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_atomic_path_replaces_on_success(tmp_path: Path) -> None:
    """On success the new content replaces the old, parents are created, and no temp file remains."""
    dest = tmp_path / "a" / "b.txt"
    write_text(dest, "one")
    write_text(dest, "two")
    assert dest.read_text() == "two"
    assert [p.name for p in dest.parent.iterdir()] == ["b.txt"]


def test_write_json_round_trip(tmp_path: Path) -> None:
    """write_json / read_json keep nested dicts, lists, None, floats and unicode."""
    obj = {"name": "café", "iou": [0.5, 2 / 3], "nested": {"none": None, "n": 3}, "ok": True}
    path = write_json(tmp_path / "x.json", obj)
    assert read_json(path) == obj


def test_write_json_refuses_nan(tmp_path: Path) -> None:
    """NaN is not JSON: refused rather than written as an invalid token, and nothing is left behind."""
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"iou": float("nan")})
    assert list(tmp_path.iterdir()) == []


# --- Project.cached ------------------------------------------------------------------------------


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, result: dict | None = None) -> None:
        self.calls = 0
        self.result = result or {"value": 42}

    def __call__(self) -> dict:
        self.calls += 1
        return dict(self.result)


def test_cached_computes_once(tmp_path: Path) -> None:
    """First call computes (cached False); the same inputs again return the stored result without computing."""
    project = Project(tmp_path / "run")
    compute = Counter()
    first = project.cached("step", {"a": 1}, compute)
    assert first["value"] == 42 and first["cached"] is False
    second = project.cached("step", {"a": 1}, compute)
    assert second["value"] == 42 and second["cached"] is True
    assert second["key"] == first["key"]
    assert compute.calls == 1
    assert read_json(project.step_record("step"))["result"] == {"value": 42}


def test_cached_key_ignores_dict_order(tmp_path: Path) -> None:
    """Inputs are hashed with sorted keys: {a, b} and {b, a} are the same step."""
    project = Project(tmp_path)
    compute = Counter()
    project.cached("step", {"a": 1, "b": 2}, compute)
    assert project.cached("step", {"b": 2, "a": 1}, compute)["cached"] is True
    assert compute.calls == 1


def test_changed_inputs_recompute(tmp_path: Path) -> None:
    """Different inputs → a different key → compute runs again and its new result is stored."""
    project = Project(tmp_path)
    project.cached("step", {"a": 1}, Counter({"value": 1}))
    again = project.cached("step", {"a": 2}, Counter({"value": 2}))
    assert again == {"value": 2, "cached": False, "key": again["key"]}
    assert project.cached("step", {"a": 2}, Counter({"value": 99}))["value"] == 2


def test_deleted_output_recomputes(tmp_path: Path) -> None:
    """If a declared output file is gone, the step runs again even with identical inputs."""
    project = Project(tmp_path)
    out = tmp_path / "out.bin"

    def compute() -> dict:
        out.write_bytes(b"x")
        return {"n": 1}

    counted = Counter()
    assert project.cached("step", {"a": 1}, compute, (out,))["cached"] is False
    assert project.cached("step", {"a": 1}, counted, (out,))["cached"] is True
    out.unlink()
    assert project.cached("step", {"a": 1}, counted, (out,))["cached"] is False
    assert counted.calls == 1


def test_failed_compute_writes_no_record(tmp_path: Path) -> None:
    """compute raising → no step record, so the next run computes again (nothing half-done is reused)."""
    project = Project(tmp_path)

    def boom() -> dict:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        project.cached("step", {"a": 1}, boom)
    assert not project.step_record("step").exists()
    compute = Counter()
    assert project.cached("step", {"a": 1}, compute)["cached"] is False and compute.calls == 1


def test_failed_recompute_keeps_no_stale_result(tmp_path: Path) -> None:
    """A step that succeeded for inputs A then fails for B is not answered from A's record for B."""
    project = Project(tmp_path)
    project.cached("step", {"a": 1}, Counter({"value": 1}))

    def boom() -> dict:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        project.cached("step", {"a": 2}, boom)
    compute = Counter({"value": 2})
    assert project.cached("step", {"a": 2}, compute)["value"] == 2 and compute.calls == 1
