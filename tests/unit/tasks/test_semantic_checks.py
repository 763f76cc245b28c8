"""The semantic comparison never leaves pixels out unseen: mask ids no class names, predictions past the labels."""

from __future__ import annotations

import numpy as np
import pytest

from segwb.core.errors import ModelError
from segwb.io.model_card import build_card
from segwb.tasks import card_vocabulary
from segwb.tasks.semantic.report_job import check_ids, identity_lut, unknown_ids

CARD = {"task": "semantic", "layout": "NHWC", "color_order": "RGB", "resize": "stretch", "mean": 0, "scale": 1,
        "input_size": [8, 8], "adapter": "class_map"}


def test_unknown_mask_ids_are_counted_void_is_not() -> None:
    mask = np.array([[0, 20, 21], [30, 255, 30]], np.uint8)
    assert unknown_ids(mask, 21) == {21: 1, 30: 2}


def test_identity_lut_maps_ids_to_themselves_and_the_rest_to_void() -> None:
    lut = identity_lut(3)
    assert lut[:4].tolist() == [0, 1, 2, 255] and lut[255] == 255


def test_a_prediction_past_the_labels_is_refused_naming_the_image() -> None:
    card = build_card({**CARD, "labels": ["background", "person"]}, {}, card_vocabulary())
    check_ids(np.array([[0, 1]]), 2, card, "parent", "a.jpg")
    with pytest.raises(ModelError, match=r"parent model predicts class id 5 on a.jpg.*labels list has 2 names"):
        check_ids(np.array([[0, 5]]), 2, card, "parent", "a.jpg")


def test_without_labels_any_id_is_a_class() -> None:
    card = build_card(CARD, {}, card_vocabulary())
    check_ids(np.array([[0, 200]]), 256, card, "optimized", "a.jpg")


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 1, 1, 1), (1, 1, 8), (1, 8, 1), (1, 1, 8, 1), (1, 8, 8, 1)])
def test_class_maps_of_one_row_column_or_pixel_keep_their_two_axes(shape: tuple[int, ...]) -> None:
    from segwb.inference.preprocess import Geometry
    from segwb.tasks.semantic.adapters import class_map

    card = build_card(CARD, {}, card_vocabulary())
    ids = class_map(np.ones(shape, np.int64), card, Geometry((4, 6), (8, 8), 0, 0, 8, 8))
    assert ids.shape == (4, 6) and (ids == 1).all()


def test_nan_scores_are_refused_not_read_as_class_0() -> None:
    from segwb.inference.preprocess import Geometry
    from segwb.tasks.semantic.adapters import class_map

    card = build_card({**CARD, "adapter": "scores", "output_layout": "NCHW"}, {}, card_vocabulary())
    with pytest.raises(ModelError, match="NaN or infinite"):
        class_map(np.full((1, 3, 8, 8), np.nan, np.float32), card, Geometry((8, 8), (8, 8), 0, 0, 8, 8))
