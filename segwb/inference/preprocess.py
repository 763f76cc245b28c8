"""Image → input tensor, keeping the geometry needed to map outputs back to the original image."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from ..io.model_card import ModelCard


@dataclass(frozen=True)
class Geometry:
    """Where the original image lies inside the model input: content box (top, left, height, width)."""

    original_size: tuple[int, int]  # (height, width)
    input_size: tuple[int, int]
    top: int
    left: int
    height: int
    width: int


OPENCV_FILTERS = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "cubic": cv2.INTER_CUBIC,
                  "area": cv2.INTER_AREA}
PILLOW_FILTERS = {"pillow_bilinear": Image.Resampling.BILINEAR, "pillow_bicubic": Image.Resampling.BICUBIC,
                  "pillow_lanczos": Image.Resampling.LANCZOS}


def scaled(image: np.ndarray, width: int, height: int, interpolation: str) -> np.ndarray:
    """``image`` resized to ``width`` x ``height`` with the card's interpolation (OpenCV's or Pillow's)."""
    if interpolation in PILLOW_FILTERS:
        return np.asarray(Image.fromarray(image).resize((width, height), PILLOW_FILTERS[interpolation]))
    return cv2.resize(image, (width, height), interpolation=OPENCV_FILTERS[interpolation])


def resize(image: np.ndarray, card: ModelCard) -> tuple[np.ndarray, Geometry]:
    """Resize (and pad) an HxWx3 image to the card's input size with its resize mode, interpolation and padding
    position (``letterbox`` is ``fit_pad`` centred, with its own default pad value)."""
    h, w = image.shape[:2]
    in_h, in_w = card.input_size
    if card.resize == "stretch":
        out = scaled(image, in_w, in_h, card.interpolation)
        return out, Geometry((h, w), (in_h, in_w), 0, 0, in_h, in_w)
    ratio = min(in_h / h, in_w / w)
    new_h, new_w = max(1, round(h * ratio)), max(1, round(w * ratio))
    resized = scaled(image, new_w, new_h, card.interpolation)
    top, left = ((in_h - new_h) // 2, (in_w - new_w) // 2) if card.placement == "center" else (0, 0)
    # A fractional pad value (DeepLab's 127.5) would be cut to 127 in a uint8 canvas
    fill_type = image.dtype if float(card.pad_value).is_integer() else np.float32
    canvas = np.full((in_h, in_w, image.shape[2]), card.pad_value, dtype=fill_type)
    canvas[top:top + new_h, left:left + new_w] = resized
    return canvas, Geometry((h, w), (in_h, in_w), top, left, new_h, new_w)


def to_tensor(image_bgr: np.ndarray, card: ModelCard, dtype: np.dtype) -> tuple[np.ndarray, Geometry]:
    """A BGR uint8 image as the model's input tensor (batch 1) and its geometry.

    Resizing comes first (per channel, so the colour swap commutes with it) and the arithmetic writes
    straight into the batch in the model's layout: every pass runs on the small image, once.
    """
    resized, geometry = resize(image_bgr, card)
    # A contiguous RGB copy (OpenCV, without the GIL) converts to float 7x faster than a reversed-channel view.
    image = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB) if card.color_order == "RGB" else resized
    if card.layout == "NCHW":
        image = image.transpose(2, 0, 1)
    data = np.empty((1, *image.shape), dtype=dtype)
    plain = card.mean == (0, 0, 0) and card.scale == (1, 1, 1)
    if plain and (np.issubdtype(dtype, np.integer) or data.dtype == np.float32):
        np.copyto(data[0], image, casting="unsafe")  # x - 0 and x / 1 are exact: the same tensor, one pass
        return data, geometry
    shape = (3, 1, 1) if card.layout == "NCHW" else (3,)
    mean, scale = np.float32(card.mean).reshape(shape), np.float32(card.scale).reshape(shape)
    if data.dtype == np.float32:
        np.subtract(image, mean, out=data[0], dtype=np.float32)
        np.divide(data[0], scale, out=data[0])
    else:
        data[0] = ((image.astype(np.float32) - mean) / scale).astype(dtype, copy=False)
    return data, geometry
