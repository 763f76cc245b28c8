"""segwb.io.images: pictures written atomically, PNG lossless and JPEG without chroma subsampling."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from segwb.io.images import save_image


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
