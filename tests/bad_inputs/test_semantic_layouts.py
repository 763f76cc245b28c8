"""Cityscapes and images-and-masks roots, and YOLO-seg polygons as the semantic ground truth, given to the semantic
tutorial: bad splits and label files refused at once; partly bad sets go on, and the report lists what was dropped."""

from __future__ import annotations

from pathlib import Path

import hostile_inputs as hi
import numpy as np
import pytest
from bad_inputs_conftest import Scratch, assert_dropped, semantic_argv
from PIL import Image

H, W = 40, 56


def _grey(path: Path, ids: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(ids.astype(np.uint8), mode="L").save(path)
    return path


def _label_ids(h: int = H, w: int = W) -> np.ndarray:
    ids = np.full((h, w), 7, np.uint8)  # road
    ids[: h // 2, : w // 2] = 24  # person
    ids[0, :] = 1  # ego vehicle: void
    return ids


def _cityscapes(root: Path, splits: tuple[str, ...] = ("val",)) -> Path:
    for split in splits:
        for i in range(2):
            stem = f"{split}/aachen/aachen_000000_00000{i}"
            hi.write_photo(root / "leftImg8bit" / f"{stem}_leftImg8bit.png", seed=i, h=H, w=W)
            _grey(root / "gtFine" / f"{stem}_gtFine_labelIds.png", _label_ids())
    return root


def _class_ids(h: int = H, w: int = W) -> np.ndarray:
    ids = np.zeros((h, w), np.uint8)  # background
    ids[: h // 2, : w // 2], ids[h // 2:, w // 2:] = 1, 2  # person, cat
    ids[0, :] = 255  # void
    return ids


def _image_masks(root: Path) -> Path:
    (root / "masks").mkdir(parents=True)
    for i in range(2):
        hi.write_photo(root / "images" / f"p{i}.jpg", seed=i, h=H, w=W)
        hi.save_mask(root / "masks" / f"p{i}.png", _class_ids())
    (root / "labels.txt").write_text("background\nperson\ncat\n")
    return root


# --- refused at once ------------------------------------------------------------------------------------------------

def test_cityscapes_unknown_split_is_refused(scratch: Scratch, semantic_model: Path) -> None:
    root = _cityscapes(scratch.data / "cs")
    scratch.refused(semantic_argv(scratch.project, semantic_model, root, "--split", "nonexistent"),
                    ("nonexistent", "leftImg8bit"), early=True)


def test_cityscapes_several_splits_without_val_are_refused(scratch: Scratch, semantic_model: Path) -> None:
    root = _cityscapes(scratch.data / "cs", ("train", "test"))
    scratch.refused(semantic_argv(scratch.project, semantic_model, root), ("--split", "leftImg8bit"), early=True)


@pytest.mark.parametrize("content", [b"\xff\xfeperson\n", None])
def test_images_and_masks_without_a_usable_labels_txt_are_refused(scratch: Scratch, semantic_model: Path,
                                                                  content: bytes | None) -> None:
    root = _image_masks(scratch.data / "im")
    labels = root / "labels.txt"
    labels.unlink() if content is None else labels.write_bytes(content)
    scratch.refused(semantic_argv(scratch.project, semantic_model, root), "labels.txt", early=True)


# --- partly bad: the run goes on and the report says what was dropped -----------------------------------------------

def test_images_and_masks_with_an_orphan_and_a_wrong_size_mask_go_on(scratch: Scratch, semantic_model: Path) -> None:
    root = _image_masks(scratch.data / "im")
    hi.save_mask(root / "masks" / "p1.png", _class_ids(20, 28))
    hi.save_mask(root / "masks" / "nobody.png", _class_ids())
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, root))
    assert report["dataset"]["layout"] == "image_masks" and report["dataset"]["images"] == 2
    assert_dropped(report, "masks/p1.png", "masks/nobody.png")
    assert report["ground_truth"]["images"] == 1


def test_cityscapes_ids_that_are_no_label_id_are_reported(scratch: Scratch, semantic_model: Path) -> None:
    """A value past label id 33 (a trainIds or colour PNG saved as labelIds) is named in the report, not read as
    void: the mask is not what the layout says it is."""
    root = _cityscapes(scratch.data / "cs")
    ids = _label_ids()
    ids[20:, :20] = 77
    _grey(root / "gtFine" / "val" / "aachen" / "aachen_000000_000001_gtFine_labelIds.png", ids)
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, root))
    truth = report["ground_truth"]
    assert report["dataset"]["layout"] == "cityscapes" and truth["images"] == 2
    assert truth["unknown_ids"] == {"77": 400} and truth["unknown_id_masks"] == [
        "aachen_000000_000001_gtFine_labelIds.png"]


def test_yolo_polygons_are_the_semantic_ground_truth_and_bad_lines_are_listed(scratch: Scratch,
                                                                            semantic_model: Path) -> None:
    root = scratch.data / "yolo"
    (root / "labels" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text("names: [person, cat]\nval: images/val\n")
    for i in range(2):
        hi.write_photo(root / "images" / "val" / f"p{i}.jpg", seed=i, h=H, w=W)
    (root / "labels" / "val" / "p0.txt").write_text("0 0.2 0.2 0.8 0.2 0.8 0.8 0.2 0.8\n1 0.5 0.5 0.2 0.2\n"
                                                    "1 0 0 0.3 0 0.3 0.3\n")
    written = [p.name for p in root.rglob("*")]
    _, report = scratch.went_on(semantic_argv(scratch.project, semantic_model, root))
    assert_dropped(report, "p0.txt line 2")
    truth = report["ground_truth"]
    assert truth["images"] == 2 and truth["unmapped_classes"] == [] and truth["unknown_ids"] == {}
    assert "person" in truth["parent"]["per_class_iou"] and "cat" in truth["parent"]["per_class_iou"]
    assert sorted(p.name for p in root.rglob("*")) == sorted(written)  # nothing drawn was written into the set
