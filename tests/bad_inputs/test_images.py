"""Image files that are broken, hostile or merely unusual, in a folder dataset. All bad: one line naming the dataset
(the warnings before it name the files). One bad among good: the run goes on and report.json lists it as dropped.
Valid but odd: used, or dropped with a reason — never a crash."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import hostile_inputs as hi
import numpy as np
import pytest
from bad_inputs_conftest import (
    Scratch,
    assert_clean_failure,
    assert_dropped,
    semantic_argv,
)



def zero_byte_jpg(folder: Path) -> str:
    (folder / "empty.jpg").write_bytes(b"")
    return "empty.jpg"


def png_that_is_text(folder: Path) -> str:
    (folder / "notes.png").write_text("this is a text file with an image's name\n")
    return "notes.png"


def truncated_jpeg(folder: Path) -> str:
    # libjpeg decodes a cut file with a grey bottom half and only a warning: silently wrong pixels, so it is bad input.
    hi.truncated_jpeg(folder / "cut.jpg")
    return "cut.jpg"


def huge_header(folder: Path) -> str:
    hi.huge_header_png(folder / "huge.png")
    return "huge.png"


def jpeg_with_png_bytes_cut(folder: Path) -> str:
    data = (hi.write_photo(folder / "x.png", seed=4)).read_bytes()
    (folder / "x.png").unlink()
    (folder / "half.png").write_bytes(data[:40])  # signature and part of IHDR
    return "half.png"


def thin_strip(folder: Path) -> str:
    # 1x20000 pixels is 0.02 MP, yet drawn 320 pixels high its report pictures took 23 GB: refused by its header.
    cv2.imwrite(str(folder / "strip.png"), np.zeros((1, 20000, 3), np.uint8))
    return "strip.png"


ALL_BAD: list[Callable[[Path], str]] = [zero_byte_jpg, png_that_is_text, truncated_jpeg, huge_header,
                                         jpeg_with_png_bytes_cut, thin_strip]


@pytest.mark.parametrize("make", ALL_BAD, ids=[m.__name__ for m in ALL_BAD])
def test_dataset_of_only_bad_images_is_refused(make: Callable[[Path], str], scratch: Scratch,
                                               semantic_model: Path) -> None:
    folder = scratch.data / "photos"
    folder.mkdir()
    name = make(folder)
    result = scratch.refused(semantic_argv(scratch.project, semantic_model, folder), ("photos", name), early=True)
    assert any(name in ln for ln in result.lines), f"nothing on stderr names {name}: {result.describe()}"


MIXED = [zero_byte_jpg, truncated_jpeg]


@pytest.mark.parametrize("make", MIXED, ids=[m.__name__ for m in MIXED])
def test_one_bad_image_among_good_goes_on_and_is_listed(make: Callable[[Path], str], scratch: Scratch,
                                                        semantic_model: Path, photos: Path) -> None:
    name = make(photos)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, photos))
    assert_dropped(report, name)
    assert name not in {row["image"] for row in report["comparison"]["basic"]}
    assert report["dataset"]["images"] == 2


ODD = ["1x1", "16bit", "cmyk", "grey", "alpha"]


@pytest.mark.parametrize("kind", ODD)
def test_odd_but_valid_image_is_used_or_listed(kind: str, scratch: Scratch, semantic_model: Path,
                                               photos: Path) -> None:
    name = f"odd_{kind}.{'jpg' if kind == 'cmyk' else 'png'}"
    hi.odd_image(kind, photos / name)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, photos))
    used = {row["image"] for row in report["comparison"]["basic"]}
    if name in used:
        prediction = scratch.project / "predictions" / "parent" / f"odd_{kind}.png"
        assert prediction.is_file(), f"{name} is in the report but has no saved prediction"
    else:
        assert_dropped(report, name)


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hi.png_bomb(tmp_path_factory.mktemp("bomb") / "bomb.png")


def test_decompression_bomb_is_refused_by_its_header(bomb_png: Path, scratch: Scratch, semantic_model: Path) -> None:
    """A 30000x30000 PNG of 110 kB (900 MP, over the 100 MP default limit), alone in the dataset, as a child process
    (a run that decoded it would need gigabytes; time and memory are measured by benchmarks/decompression_bomb.py)."""
    assert bomb_png.stat().st_size < 1 << 20
    folder = scratch.data / "photos"
    folder.mkdir()
    shutil.copy(bomb_png, folder / "bomb.png")
    result = scratch.run_subprocess(semantic_argv(scratch.project, semantic_model, folder))
    assert_clean_failure(result.code, result.stderr, [("photos", "bomb.png")])
    assert any("bomb.png" in ln for ln in result.lines), f"nothing on stderr names bomb.png: {result.describe()}"
    assert "over the limit of 100 MP" in result.stderr
