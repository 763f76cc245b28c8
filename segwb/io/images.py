"""Pictures in and out: a photo as BGR uint8, and pictures segwb writes (atomically) or sends to the browser."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..core.errors import DatasetError, SegwbError
from ..core.storage import write_bytes

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
JPEG_QUALITY = 92
DEFAULT_MAX_MEGAPIXELS = 100.0  # a 100 MP photo decodes to 300 MB as BGR; a decompression bomb would be far more
MAX_PIXELS_ENV = "SEGWB_MAX_MEGAPIXELS"
MAX_ASPECT = 100  # panoramas are 4-8:1, text lines 50:1; a 1x20000 strip drawn 320 high would be 6.4 M pixels wide

Image.MAX_IMAGE_PIXELS = None  # segwb applies its own limit, with a message naming the file (pixel_limit())


def pixel_limit() -> int:
    """The largest image segwb decodes, in pixels: ``$SEGWB_MAX_MEGAPIXELS`` (set by ``--max-megapixels``) or 100 MP."""
    text = os.environ.get(MAX_PIXELS_ENV, "")
    try:
        megapixels = float(text) if text else DEFAULT_MAX_MEGAPIXELS
    except ValueError:
        megapixels = math.nan
    if not (math.isfinite(megapixels) and megapixels > 0):
        raise SegwbError(f"${MAX_PIXELS_ENV} must be a number of megapixels above 0, got {text!r}")
    return int(megapixels * 1e6)


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the file's header, without decoding it; refused above :func:`pixel_limit`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's warnings on odd headers; the decode below is the judge
            with Image.open(path) as im:
                width, height = im.size
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises all three on malformed headers
        raise DatasetError("not a readable image", path) from exc
    if width <= 0 or height <= 0:
        raise DatasetError(f"not a readable image (size {width}x{height})", path)
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DatasetError(f"image of {width}x{height} pixels is over {MAX_ASPECT}:1, not a photo (its report "
                           "pictures would need gigabytes)", path)
    if width * height > pixel_limit():
        raise DatasetError(f"image of {width}x{height} pixels is over the limit of {pixel_limit() / 1e6:g} MP "
                           f"(--max-megapixels)", path)
    return height, width


def load_image(path: Path) -> np.ndarray:
    """An image as HxWx3 BGR uint8 (greyscale and alpha are converted); its size is checked before it is decoded."""
    image_size(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise DatasetError(f"not readable ({exc.strerror or exc})", path) from exc
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise DatasetError("not a readable image", path)
    return image


def save_image(path: Path, image: np.ndarray) -> None:
    """Write a BGR image, atomically: lossless PNG, or JPEG (quality 92, chroma not subsampled) for .jpg."""
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(path.suffix, image, jpeg if path.suffix.lower() in (".jpg", ".jpeg") else [])
    if not ok:
        raise RuntimeError(f"image encoding failed for {path}")
    write_bytes(path, buf.tobytes())


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """A BGR picture as JPEG bytes for an ``ipywidgets.Image``."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
