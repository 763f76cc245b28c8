"""Class maps on disk: one lossless PNG per image (uint8, or uint16 past 256 classes), written atomically."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ...core.paths import inside
from ...core.storage import write_bytes


def prediction_path(folder: Path, key: str) -> Path:
    """Where the class map of the image with ``key`` is stored."""
    return inside(folder, f"{key}.png")


def save_class_map(path: Path, ids: np.ndarray) -> None:
    """A class map as a lossless PNG (uint8, or uint16 past 256 classes), written atomically."""
    ok, buf = cv2.imencode(".png", ids)
    if not ok:
        raise RuntimeError(f"PNG encoding failed for {path}")
    write_bytes(path, buf.tobytes())


def load_class_map(path: Path) -> np.ndarray:
    """A class map saved by :func:`save_class_map`."""
    ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if ids is None:
        raise FileNotFoundError(path)
    return ids
