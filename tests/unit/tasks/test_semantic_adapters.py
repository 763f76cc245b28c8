"""segwb.inference.preprocess (resize modes, tensor layout, channel order, normalisation) and segwb.tasks.semantic.adapters
(mapping class-map and score outputs back to the original image through the resize geometry)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from segwb.core.errors import ModelError
from segwb.inference.preprocess import Geometry, resize, to_tensor
from segwb.io.model_card import ModelCard
from segwb.tasks.semantic.adapters import class_map

BASE = ModelCard(task="semantic", layout="NHWC", color_order="RGB", mean=(0.0, 0.0, 0.0), scale=(1.0, 1.0, 1.0),
                 resize="stretch", pad_value=0.0, input_size=(16, 16), adapter="class_map")


def card(**changes: object) -> ModelCard:
    return dataclasses.replace(BASE, **changes)


# --- resize modes --------------------------------------------------------------------------------

def test_stretch_fills_the_input() -> None:
    """stretch ignores the aspect ratio: 10x20 → 16x16, content box = whole input."""
    image = np.full((10, 20, 3), 200, np.uint8)
    out, geo = resize(image, card(resize="stretch"))
    assert out.shape == (16, 16, 3) and (out == 200).all()
    assert geo == Geometry(original_size=(10, 20), input_size=(16, 16), top=0, left=0, height=16, width=16)


def test_fit_pad_puts_content_top_left() -> None:
    """fit_pad: 20x40 scaled by min(16/20, 16/40) = 0.4 to 8x16 at the top-left, rows 8..15 padded."""
    image = np.full((20, 40, 3), 200, np.uint8)
    out, geo = resize(image, card(resize="fit_pad", pad_value=7.0))
    assert geo == Geometry(original_size=(20, 40), input_size=(16, 16), top=0, left=0, height=8, width=16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert (out[:8] == 200).all()
    assert (out[8:] == 7).all()


def test_letterbox_centres_content_vertically() -> None:
    """letterbox: the 8x16 content of a 20x40 image sits at rows 4..11; 114 above and below."""
    image = np.full((20, 40, 3), 200, np.uint8)
    out, geo = resize(image, card(resize="letterbox", pad_value=114.0))
    assert geo == Geometry(original_size=(20, 40), input_size=(16, 16), top=4, left=0, height=8, width=16)
    assert (out[4:12] == 200).all()
    assert (out[:4] == 114).all() and (out[12:] == 114).all()


def test_letterbox_centres_content_horizontally() -> None:
    """A tall 40x20 image: content 16x8 at columns 4..11."""
    image = np.full((40, 20, 3), 200, np.uint8)
    out, geo = resize(image, card(resize="letterbox", pad_value=114.0))
    assert (geo.top, geo.left, geo.height, geo.width) == (0, 4, 16, 8)
    assert (out[:, 4:12] == 200).all()
    assert (out[:, :4] == 114).all() and (out[:, 12:] == 114).all()


# --- to_tensor -----------------------------------------------------------------------------------

BLUE_BGR = np.zeros((16, 16, 3), np.uint8)
BLUE_BGR[..., 0] = 255  # OpenCV's BGR: pure blue


def test_nchw_rgb_puts_blue_in_channel_two() -> None:
    """RGB model, NCHW: a pure-blue photo has 255 in channel 2 only; u8 stays u8."""
    tensor, _ = to_tensor(BLUE_BGR, card(layout="NCHW", color_order="RGB"), np.dtype(np.uint8))
    assert tensor.shape == (1, 3, 16, 16) and tensor.dtype == np.uint8
    assert (tensor[0, 2] == 255).all() and (tensor[0, :2] == 0).all()


def test_nchw_bgr_keeps_blue_in_channel_zero() -> None:
    """BGR model: the photo's channel order is kept, blue in channel 0."""
    tensor, _ = to_tensor(BLUE_BGR, card(layout="NCHW", color_order="BGR"), np.dtype(np.uint8))
    assert (tensor[0, 0] == 255).all() and (tensor[0, 1:] == 0).all()


def test_nhwc_rgb_puts_blue_last() -> None:
    """NHWC: channels last; RGB → blue in the last channel."""
    tensor, geo = to_tensor(BLUE_BGR, card(layout="NHWC", color_order="RGB"), np.dtype(np.uint8))
    assert tensor.shape == (1, 16, 16, 3)
    assert (tensor[0, ..., 2] == 255).all() and (tensor[0, ..., :2] == 0).all()
    assert geo.original_size == (16, 16)


def test_float_input_is_normalised_per_channel_in_model_order() -> None:
    """input = (pixel - mean) / scale, with mean/scale in the model's channel order.

    pixel BGR = (110, 60, 35), mean (10, 20, 30), scale (2, 4, 5)
    BGR model: ((110-10)/2, (60-20)/4, (35-30)/5) = (50, 10, 1)
    RGB model: ((35-10)/2, (60-20)/4, (110-30)/5) = (12.5, 10, 16)
    """
    image = np.empty((16, 16, 3), np.uint8)
    image[...] = (110, 60, 35)
    norm = dict(mean=(10.0, 20.0, 30.0), scale=(2.0, 4.0, 5.0), layout="NCHW")
    bgr, _ = to_tensor(image, card(color_order="BGR", **norm), np.dtype(np.float32))
    rgb, _ = to_tensor(image, card(color_order="RGB", **norm), np.dtype(np.float32))
    assert bgr.dtype == np.float32 and bgr.shape == (1, 3, 16, 16)
    assert [float(bgr[0, c, 0, 0]) for c in range(3)] == [50.0, 10.0, 1.0]
    assert [float(rgb[0, c, 0, 0]) for c in range(3)] == [12.5, 10.0, 16.0]
    assert np.ptp(rgb, axis=(2, 3)).max() == 0  # uniform image → uniform tensor


def test_tensor_is_c_contiguous() -> None:
    """The tensor is handed to OpenVINO as-is, so it must be C-contiguous after the transpose."""
    tensor, _ = to_tensor(BLUE_BGR, card(layout="NCHW"), np.dtype(np.float32))
    assert tensor.flags["C_CONTIGUOUS"]


# --- semantic.class_map --------------------------------------------------------------------------

# A 128x64 (h x w) photo into a 64x64 fit_pad input: scale 0.5, content 64x32 at the top-left.
FIT_PAD_GEOMETRY = Geometry(original_size=(128, 64), input_size=(64, 64), top=0, left=0, height=64, width=32)


def _expected_at_original() -> np.ndarray:
    """The pattern drawn below, written out at the original 128x64 size."""
    expected = np.zeros((128, 64), np.uint8)
    expected[:64, :32] = 1
    expected[64:, 32:] = 2
    expected[20:40, 40:60] = 3
    return expected


def _blocks(size: int, dtype: type) -> np.ndarray:
    """The content pattern (64 rows x 32 cols at full resolution) in a ``size`` x ``size`` output; padding is class 9."""
    f = 64 // size  # 1 at input resolution, 2 at half
    output = np.full((1, size, size), 9, dtype)
    output[0, :, :32 // f] = 0
    output[0, :32 // f, :16 // f] = 1
    output[0, 32 // f:64 // f, 16 // f:32 // f] = 2
    output[0, 10 // f:20 // f, 20 // f:30 // f] = 3
    return output


def test_class_map_at_input_resolution_maps_back_exactly() -> None:
    """Content (64 rows x 32 cols) with blocks; the padding is class 9 and must not leak into the result.

    At the original size every content pixel becomes a 2x2 block, e.g. the 3-block at rows 10..19,
    cols 20..29 of the content covers rows 20..39, cols 40..59 of the photo.
    """
    ids = class_map(_blocks(64, np.int64), card(resize="fit_pad", input_size=(64, 64)), FIT_PAD_GEOMETRY)
    assert ids.shape == (128, 64) and ids.dtype == np.uint8
    np.testing.assert_array_equal(ids, _expected_at_original())


def test_class_map_at_half_resolution_maps_back_exactly() -> None:
    """A 32x32 output for the 64x64 input: content is rows 0..31, cols 0..15, each pixel a 4x4 block."""
    ids = class_map(_blocks(32, np.int32), card(resize="fit_pad", input_size=(64, 64)), FIT_PAD_GEOMETRY)
    np.testing.assert_array_equal(ids, _expected_at_original())


def test_class_map_letterbox_crops_the_centre() -> None:
    """A 64x128 photo letterboxed into 64x64: content rows 16..47; pad rows (class 9) are cut off."""
    geometry = Geometry(original_size=(64, 128), input_size=(64, 64), top=16, left=0, height=32, width=64)
    output = np.full((1, 64, 64), 9, np.int64)
    output[0, 16:48, :] = 0
    output[0, 16:32, 32:] = 5
    ids = class_map(output, card(resize="letterbox", input_size=(64, 64)), geometry)
    expected = np.zeros((64, 128), np.uint8)
    expected[:32, 64:] = 5
    np.testing.assert_array_equal(ids, expected)


def test_class_map_past_255_classes_is_uint16() -> None:
    """Ids above 255 do not wrap: the map becomes uint16."""
    geometry = Geometry((4, 4), (4, 4), 0, 0, 4, 4)
    output = np.full((1, 4, 4), 300, np.int64)
    ids = class_map(output, card(input_size=(4, 4)), geometry)
    assert ids.dtype == np.uint16 and (ids == 300).all()


def test_scores_nchw_argmax() -> None:
    """Scores [1, 3, H, W]: the class map is the per-pixel argmax over channels.

    channel 0 = 1 everywhere; channel 1 = 2 in the left column; channel 2 = 3 in the bottom row
    → argmax: bottom row 2, left column (except bottom) 1, rest 0
    """
    scores = np.zeros((1, 3, 4, 4), np.float32)
    scores[0, 0] = 1
    scores[0, 1, :, 0] = 2
    scores[0, 2, 3, :] = 3
    geometry = Geometry((4, 4), (4, 4), 0, 0, 4, 4)
    ids = class_map(scores, card(adapter="scores", output_layout="NCHW", input_size=(4, 4)), geometry)
    expected = np.array([[1, 0, 0, 0],
                         [1, 0, 0, 0],
                         [1, 0, 0, 0],
                         [2, 2, 2, 2]], np.uint8)
    np.testing.assert_array_equal(ids, expected)
    assert ids.dtype == np.uint8


def test_scores_ignore_the_padding() -> None:
    """fit_pad scores: class 1 wins in the content, class 2 in the padding → all 1 at the original size."""
    scores = np.zeros((1, 3, 64, 64), np.float32)
    scores[0, 1, :, :32] = 5
    scores[0, 2, :, 32:] = 5
    ids = class_map(scores, card(adapter="scores", output_layout="NCHW", input_size=(64, 64)), FIT_PAD_GEOMETRY)
    assert ids.shape == (128, 64) and (ids == 1).all()


def test_scores_nhwc_single_channel_threshold() -> None:
    """Scores [1, H, W, 1] are a foreground probability: strictly above the threshold (0.5) → 1."""
    prob = np.array([[0.2, 0.6],
                     [0.5, 0.9]], np.float32).reshape(1, 2, 2, 1)
    geometry = Geometry((2, 2), (2, 2), 0, 0, 2, 2)
    ids = class_map(prob, card(adapter="scores", output_layout="NHWC", input_size=(2, 2)), geometry)
    np.testing.assert_array_equal(ids, [[0, 1], [0, 1]])
    strict = class_map(prob, card(adapter="scores", output_layout="NHWC", input_size=(2, 2), threshold=0.7), geometry)
    np.testing.assert_array_equal(strict, [[0, 0], [0, 1]])


def test_class_map_rejects_scores_shaped_output() -> None:
    """A 4-D score tensor given to the class_map adapter is an error, not a silent misread."""
    with pytest.raises(ModelError, match="class_map adapter needs one map"):
        class_map(np.zeros((1, 3, 4, 4)), card(input_size=(4, 4)), Geometry((4, 4), (4, 4), 0, 0, 4, 4))
