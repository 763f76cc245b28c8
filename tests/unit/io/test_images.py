"""segwb.io.images: pictures written atomically, PNG lossless and JPEG without chroma subsampling; pictures read
with their size checked from the header before decoding."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from bombs import bomb_png

from segwb.core.errors import DatasetError
from segwb.io import images
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


def test_the_size_comes_from_the_header_and_a_bomb_is_refused_before_decoding(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A 121 MP PNG is refused by its header, in one line naming the file and the limit; no decode runs."""
    bomb = bomb_png(tmp_path / "bomb.png", 11000)
    assert bomb.stat().st_size < 1 << 20
    decoded = []
    monkeypatch.setattr(images.cv2, "imdecode", lambda *a: decoded.append(a))
    with pytest.raises(DatasetError, match=r"11000x11000 pixels is over the limit of 100 MP") as info:
        images.load_image(bomb)
    assert "bomb.png" in str(info.value) and not decoded


def test_the_pixel_limit_is_settable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((100, 200, 3), np.uint8))
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "0.01")
    with pytest.raises(DatasetError, match="over the limit of 0.01 MP"):
        images.load_image(small)
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "0.02")
    assert images.load_image(small).shape == (100, 200, 3)


@pytest.mark.parametrize("content", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"\xff\xd8\xff\xe0trunc"])
def test_undecodable_files_are_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="not a readable image") as info:
        images.load_image(path)
    assert "x.jpg" in str(info.value) and "\n" not in str(info.value)


def test_a_truncated_jpeg_with_a_good_header_is_refused(tmp_path: Path) -> None:
    full = tmp_path / "full.jpg"
    cv2.imwrite(str(full), np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[:200])
    with pytest.raises(DatasetError, match="not a readable image"):
        images.load_image(cut)


def test_a_strip_is_refused_by_its_header(tmp_path: Path) -> None:
    """1x20000 pixels pass any pixel limit, but its report pictures, 320 pixels high, would take gigabytes."""
    strip = tmp_path / "strip.png"
    cv2.imwrite(str(strip), np.zeros((1, 20000, 3), np.uint8))
    with pytest.raises(DatasetError, match="over 100:1, not a photo"):
        images.load_image(strip)
    wide = tmp_path / "panorama.png"
    cv2.imwrite(str(wide), np.zeros((10, 400, 3), np.uint8))
    assert images.load_image(wide).shape == (10, 400, 3)
