"""The report's overlay pictures: the palette, the semantic strip with its legend, the instance panels."""

from __future__ import annotations

import numpy as np

from segwb.tasks.drawing import PALETTE_BGR, PANEL_HEIGHT, palette
from segwb.tasks.instance.instances import Instances, encode_crop
from segwb.tasks.instance.overlay import INSTANCE_ALPHA, UNMATCHED_BGR, instance_overlay
from segwb.tasks.semantic.overlay import semantic_overlay


def _instances(size: tuple[int, int], boxes: list[tuple[int, int, int, int]], classes: list[int]) -> Instances:
    masks = [encode_crop(np.ones((y1 - y0, x1 - x0), np.uint8), y0, x0, size) for x0, y0, x1, y1 in boxes]
    return Instances(size, np.int64(classes), np.float32([0.9] * len(boxes)), np.float32(boxes), masks)


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
