"""Shared fixtures: the real-model folder (from $SEGWB_FIXTURES), small photo folders, an isolated cache."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def zoo_fixtures() -> Path:
    """``$SEGWB_FIXTURES`` (``../shared/zoo``): real models and photos; tests skip without it."""
    root = os.environ.get("SEGWB_FIXTURES")
    if not root:
        pytest.skip("SEGWB_FIXTURES is not set: real-model tests need the shared zoo (.ci/run sets it to ../shared/zoo)")
    path = Path(root)
    if not (path / "models").is_dir():
        pytest.skip(f"SEGWB_FIXTURES={root} holds no models/ folder")
    return path


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """A folder of four small synthetic photos (coloured shapes), two of them in a subfolder."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i, name in enumerate(["a.jpg", "b.png", "sub/c.jpg", "sub/d.bmp"]):
        h, w = 48 + 8 * i, 64 - 4 * i
        image = np.full((h, w, 3), 40 * i, dtype=np.uint8)
        cv2.circle(image, (w // 2, h // 2), 12 + i, tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
        cv2.imwrite(str(folder / name), image)
    return folder


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's real cache or mirror from a test."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SEGWB_CACHE", str(cache))
    monkeypatch.delenv("SEGWB_ZOO_MIRROR", raising=False)
    return cache
