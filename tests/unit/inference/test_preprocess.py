"""Resizing into the model input: where the image sits (pad position), how it is resampled (OpenCV or Pillow), and the
geometry that maps outputs back, on images small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from segwb.inference.preprocess import Geometry, resize, to_tensor
from segwb.io.model_card import build_card
from segwb.tasks import card_vocabulary

VOCAB = card_vocabulary()


def _card(**fields) -> object:
    base = dict(task="semantic", layout="NHWC", color_order="BGR", mean=0, scale=1, resize="fit_pad",
                input_size=[6, 6], adapter="class_map")
    return build_card({**base, **fields}, {}, VOCAB)


# A 3x5 image whose pixel (r, c) holds 10 * r + c in every channel.
IMAGE = np.repeat((10 * np.arange(3)[:, None] + np.arange(5)[None, :]).astype(np.uint8)[..., None], 3, axis=2)
# Fitted into 6x6: ratio min(6/3, 6/5) = 1.2, so 4 rows x 6 columns. Nearest neighbour (OpenCV: source index
# floor(dst * src / dst_size)) takes rows 0, 0, 1, 2 and columns 0, 0, 1, 2, 3, 4.
FITTED = np.array([[0, 0, 1, 2, 3, 4],
                   [0, 0, 1, 2, 3, 4],
                   [10, 10, 11, 12, 13, 14],
                   [20, 20, 21, 22, 23, 24]], np.uint8)


def test_fit_centred_places_the_image_in_the_middle() -> None:
    out, geometry = resize(IMAGE, _card(pad_position="center", interpolation="nearest", pad_value=7))
    assert geometry == Geometry(original_size=(3, 5), input_size=(6, 6), top=1, left=0, height=4, width=6)
    expected = np.full((6, 6), 7, np.uint8)
    expected[1:5] = FITTED
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], expected)
    np.testing.assert_array_equal(out[..., 2], expected)


def test_fit_pad_keeps_the_top_left_and_letterbox_the_centre_by_default() -> None:
    out, geometry = resize(IMAGE, _card(interpolation="nearest"))
    assert (geometry.top, geometry.left, geometry.height, geometry.width) == (0, 0, 4, 6)
    np.testing.assert_array_equal(out[:4, :, 0], FITTED)
    assert (out[4:] == 0).all()
    tall = np.ascontiguousarray(IMAGE.transpose(1, 0, 2))  # 5x3: 6 rows x 4 columns, centred 1 column in
    out, geometry = resize(tall, _card(resize="letterbox", interpolation="nearest"))
    assert (geometry.top, geometry.left, geometry.height, geometry.width) == (0, 1, 6, 4)
    np.testing.assert_array_equal(out[:, 1:5, 0], FITTED.T)
    assert (out[:, 0] == 114).all() and (out[:, 5] == 114).all()


def test_fractional_pad_value_is_kept() -> None:
    """DeepLab pads with 127.5, which a uint8 canvas would cut to 127: (2/255) * 127.5 - 1 is exactly 0."""
    out, _ = resize(IMAGE, _card(pad_position="center", pad_value=127.5))
    assert out.dtype == np.float32 and out[0, 0, 0] == 127.5
    tensor, _ = to_tensor(IMAGE, _card(pad_position="center", pad_value=127.5), np.float32)
    assert tensor[0, 0, 0, 0] == 127.5


@pytest.mark.parametrize(("interpolation", "pillow_filter"), [("pillow_bilinear", Image.Resampling.BILINEAR),
                                                              ("pillow_lanczos", Image.Resampling.LANCZOS)])
def test_pillow_downscale_is_antialiased_like_pillow(interpolation: str, pillow_filter: Image.Resampling) -> None:
    """A 1-pixel checkerboard shrunk 40x40 -> 10x10: Pillow averages it to grey (its filter widens with the factor),
    OpenCV's bilinear samples 2x2 neighbourhoods and keeps the pattern's extremes."""
    board = ((np.indices((40, 40)).sum(axis=0) % 2) * 255).astype(np.uint8)
    image = np.repeat(board[..., None], 3, axis=2)
    card = _card(resize="stretch", input_size=[10, 10], interpolation=interpolation)
    out, geometry = resize(image, card)
    assert geometry == Geometry((40, 40), (10, 10), 0, 0, 10, 10)
    expected = np.asarray(Image.fromarray(image).resize((10, 10), pillow_filter))
    np.testing.assert_array_equal(out, expected)
    assert abs(int(out.mean()) - 127) <= 2 and out.max() - out.min() <= 4  # grey
    opencv, _ = resize(image, _card(resize="stretch", input_size=[10, 10]))
    assert not np.array_equal(out, opencv)


def test_opencv_filters_differ_on_a_downscale() -> None:
    board = ((np.indices((12, 12)).sum(axis=0) % 3) * 100).astype(np.uint8)
    image = np.repeat(board[..., None], 3, axis=2)
    results = {name: resize(image, _card(resize="stretch", input_size=[5, 5], interpolation=name))[0]
               for name in ("linear", "nearest", "cubic", "area")}
    assert len({r.tobytes() for r in results.values()}) == 4
