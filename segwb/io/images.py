"""Pictures in and out: a photo as BGR uint8, and pictures segwb writes (atomically) or sends to the browser."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..core.errors import DatasetError
from ..core.storage import write_bytes

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
JPEG_QUALITY = 92


def load_image(path: Path) -> np.ndarray:
    """An image as HxWx3 BGR uint8 (greyscale and alpha are converted)."""
    data = np.fromfile(path, dtype=np.uint8)
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
