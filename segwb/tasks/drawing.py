"""What every task's pictures share: the class palette, the panel height, a title bar above a panel."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..io.images import load_image

PANEL_HEIGHT = 320
FONT = cv2.FONT_HERSHEY_SIMPLEX


def palette(n: int = 256) -> np.ndarray:
    """The Pascal VOC colour map (RGB), extended to ``n`` classes by the same bit interleaving."""
    colours = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours[i] = (r, g, b)
    return colours


PALETTE_BGR = palette()[:, ::-1].copy()
PALETTE_LUT = PALETTE_BGR.reshape(256, 1, 3)


def class_colour(index: int) -> str:
    """Palette entry ``index`` (modulo 256) as ``#rrggbb``."""
    b, g, r = (int(v) for v in PALETTE_BGR[index % 256])
    return f"#{r:02x}{g:02x}{b:02x}"


def title(panel: np.ndarray, text: str) -> np.ndarray:
    """``panel`` with a white bar above it holding ``text``."""
    bar = np.full((28, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(bar, text, (6, 20), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, panel])


def gap() -> np.ndarray:
    """The white strip between two titled panels."""
    return np.full((PANEL_HEIGHT + 28, 6, 3), 255, dtype=np.uint8)


def fit(image: np.ndarray, height: int = PANEL_HEIGHT, nearest: bool = False) -> np.ndarray:
    """``image`` resized to ``height`` rows, keeping its aspect ratio (nearest neighbour for id maps)."""
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST) if nearest else shrink(image, (width, height))


def shrink(photo: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``photo`` resized to ``size`` (width, height) for a panel: area averaging where it shrinks to less than half
    (bilinear would alias there), bilinear otherwise (5x faster than area on a 640x480 photo at 0.78, and alike)."""
    halved = size[0] * 2 <= photo.shape[1] or size[1] * 2 <= photo.shape[0]
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA if halved else cv2.INTER_LINEAR)


MISSING_PHOTO_GREY = 96  # canvas under the overlays when the photo has moved (e.g. a project imported without its dataset)


def load_photo(path: Path, size: tuple[int, int] | None) -> tuple[np.ndarray, bool]:
    """The photo, or a grey canvas of ``size`` (height, width) when it is gone; and whether it was found."""
    if path.is_file() or size is None:
        return load_image(path), True
    return np.full((*size, 3), MISSING_PHOTO_GREY, np.uint8), False
