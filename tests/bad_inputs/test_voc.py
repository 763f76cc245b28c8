"""Pascal VOC roots with a bad image-set list, masks of the wrong size, mode or class ids, missing images, and
hostile --split values."""

from __future__ import annotations

import json
from pathlib import Path

import hostile_inputs as hi
import numpy as np
import pytest
from bad_inputs_conftest import Scratch, assert_dropped, semantic_argv
from PIL import Image

IDS = ("2007_000001", "2007_000002")


@pytest.fixture
def voc(scratch: Scratch) -> Path:
    return hi.voc_root(scratch.data / "voc", IDS)


def val(voc: Path) -> Path:
    return voc / "ImageSets" / "Segmentation" / "val.txt"


# --- refused at once ------------------------------------------------------------------------------------------------------

def test_val_list_not_utf8_is_refused(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    val(voc).write_bytes(b"2007_000001\n\xff\xfe2007_000002\n")
    scratch.refused(semantic_argv(scratch.project, semantic_model, voc), "val.txt", early=True)


def test_val_list_of_only_paths_is_refused(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    """The only entry climbs out of the dataset (to the sentinel photo): nothing is left, and the sentinel is not read
    as a dataset image."""
    val(voc).write_text("../../victim/photo\n")
    result = scratch.refused(semantic_argv(scratch.project, semantic_model, voc), ("voc", "val.txt"), early=True)
    assert any("val.txt" in ln or "line 1" in ln for ln in result.lines[:-1]), \
        f"no warning says which line was dropped: {result.describe()}"


def test_val_list_empty_is_refused(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    val(voc).write_text("\n\n")
    scratch.refused(semantic_argv(scratch.project, semantic_model, voc), ("voc", "val.txt"), early=True)


@pytest.mark.parametrize("split", ["nonexistent", "../../etc", "../../../victim/notes", "/etc/passwd"])
def test_bad_split_is_refused(split: str, scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    """A split is a list name in ImageSets/Segmentation, never a path: '../../../victim/notes' would read the user's
    own notes.txt as an image list."""
    scratch.refused(semantic_argv(scratch.project, semantic_model, voc, "--split", split), split, early=True)


def test_all_listed_images_missing_is_refused(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    for p in (voc / "JPEGImages").iterdir():
        p.unlink()
    scratch.refused(semantic_argv(scratch.project, semantic_model, voc), ("voc", "val.txt", "JPEGImages"),
                    early=True)


# --- partly bad: the run goes on and the report says what was dropped -----------------------------------------------

def test_duplicate_line_is_dropped_and_listed(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    val(voc).write_text(f"{IDS[0]}\n{IDS[1]}\n{IDS[0]}\n")
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, voc))
    assert report["dataset"]["images"] == 2
    assert_dropped(report, ("line 3", IDS[0]))


def test_missing_image_is_dropped_and_listed(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    val(voc).write_text(f"{IDS[0]}\n{IDS[1]}\n2007_999999\n")
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, voc))
    assert report["dataset"]["images"] == 2
    assert_dropped(report, "2007_999999")


def test_mask_of_wrong_size_is_dropped_and_listed(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    hi.save_mask(voc / "SegmentationClass" / f"{IDS[1]}.png", hi.voc_mask(20, 28))
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, voc))
    assert_dropped(report, f"{IDS[1]}.png")
    assert report["ground_truth"] is None or report["ground_truth"]["images"] == 1


def test_rgb_mask_is_dropped_and_listed(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    mask = hi.voc_mask(40, 56)
    Image.fromarray(np.dstack([mask, mask, mask])).save(voc / "SegmentationClass" / f"{IDS[1]}.png")
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, voc))
    assert_dropped(report, f"{IDS[1]}.png")
    assert report["ground_truth"] is None or report["ground_truth"]["images"] == 1


def test_mask_ids_past_the_classes_are_reported(scratch: Scratch, semantic_model: Path, voc: Path) -> None:
    """Pixels of id 77 (no VOC class, not the void 255): reported, not silently counted as void or background. As for
    anything dropped, the report says which file and why (a count of unknown ids alone cannot be found again)."""
    mask = hi.voc_mask(40, 56)
    mask[20:, :20] = 77
    hi.save_mask(voc / "SegmentationClass" / f"{IDS[1]}.png", mask)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, voc))
    said = json.dumps(report["dataset"]["dropped"]) + json.dumps(report.get("ground_truth"))
    assert f"{IDS[1]}" in said and "77" in said, \
        f"nothing in the report says {IDS[1]}.png holds class id 77: {said[:600]}"

