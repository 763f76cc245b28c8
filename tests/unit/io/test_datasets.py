"""segwb.io.datasets: image folders, a Pascal VOC layout built in tmp_path, the embedded photos, the digest."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from segwb.core.errors import DatasetError
from segwb.io.datasets import EMBEDDED, load_mask, open_dataset
from segwb.io.images import load_image
from segwb.io.labels import VOC_LABELS
from segwb.tasks.drawing import palette


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "segwb" and r.levelno == logging.WARNING]


def _write_image(path: Path, h: int, w: int, value: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w, 3), value, dtype=np.uint8))


def _write_mask(path: Path, ids: np.ndarray) -> None:
    """A VOC-style palette PNG: pixel values are class ids, the palette gives them VOC colours."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(ids.astype(np.uint8), mode="P")
    im.putpalette(palette().ravel().tolist())
    im.save(path)


# --- image folders -------------------------------------------------------------------------------

def test_image_folder_recursive_sorted_with_keys(photo_folder: Path) -> None:
    """All four photos, subfolders included, in sorted order; keys drop the suffix; no annotations."""
    ds = open_dataset(photo_folder)
    assert ds.layout == "images"
    assert [s.name for s in ds.samples] == ["a.jpg", "b.png", "sub/c.jpg", "sub/d.bmp"]
    assert [s.key for s in ds.samples] == ["a", "b", "sub__c", "sub__d"]
    assert all(s.annotation is None for s in ds.samples) and not ds.annotated
    assert len(ds) == 4 and ds.dropped == []


def test_same_stem_different_suffix_keeps_distinct_keys(tmp_path: Path) -> None:
    """a.jpg and a.png would both write "a.png" outputs: the second one keeps its suffix in its key."""
    _write_image(tmp_path / "a.jpg", 8, 8)
    _write_image(tmp_path / "a.png", 8, 8)
    ds = open_dataset(tmp_path)
    assert [(s.name, s.key) for s in ds.samples] == [("a.jpg", "a"), ("a.png", "a.png")]


def test_hidden_files_are_ignored(photo_folder: Path) -> None:
    """Dot-files and dot-folders (e.g. .ipynb_checkpoints) are neither samples nor warnings."""
    _write_image(photo_folder / ".hidden" / "x.png", 8, 8)
    _write_image(photo_folder / ".y.png", 8, 8)
    ds = open_dataset(photo_folder)
    assert len(ds) == 4 and ds.dropped == []


def test_empty_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    """No images: DatasetError whose message names the folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="no readable images") as info:
        open_dataset(empty)
    assert str(empty) in str(info.value)
    assert info.value.path == empty


def test_unreadable_files_dropped_with_one_warning_per_reason(photo_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A corrupt .jpg and a .txt are dropped, each with its reason and one warning; the good images still load."""
    (photo_folder / "broken.jpg").write_bytes(b"this is not a jpeg")
    (photo_folder / "notes.txt").write_text("hello")
    with caplog.at_level(logging.WARNING, logger="segwb"):
        ds = open_dataset(photo_folder)
    assert len(ds) == 4
    assert [(d["what"], d["count"], d["examples"]) for d in ds.dropped] == [("image", 1, ["broken.jpg"]),
                                                                            ("file", 1, ["notes.txt"])]
    assert "not a readable image" in ds.dropped[0]["reason"]
    warnings = _warnings(caplog)
    assert len(warnings) == 2
    assert "broken.jpg" in warnings[0] and "dropped 1 image" in warnings[0] and "notes.txt" in warnings[1]


def test_missing_folder(tmp_path: Path) -> None:
    """A path that does not exist: DatasetError naming it."""
    with pytest.raises(DatasetError, match="no such dataset folder") as info:
        open_dataset(tmp_path / "nope")
    assert "nope" in str(info.value)


def test_file_instead_of_folder(photo_folder: Path) -> None:
    """A single image file is not a dataset: DatasetError saying a folder is needed."""
    with pytest.raises(DatasetError, match="must be a folder"):
        open_dataset(photo_folder / "a.jpg")


def test_load_image_rejects_empty_file(tmp_path: Path) -> None:
    """A zero-byte .png is not readable (and does not crash cv2.imdecode)."""
    (tmp_path / "zero.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a readable image"):
        load_image(tmp_path / "zero.png")


# --- Pascal VOC ----------------------------------------------------------------------------------

MASK_IDS = np.array([[0, 0, 15, 15],
                     [0, 255, 15, 15],
                     [8, 8, 255, 0]], dtype=np.uint8)  # 3x4: background, person, cat, void


def _voc(root: Path, ids: list[str], lists: dict[str, list[str]] | None = None) -> Path:
    """A minimal VOC root: a 3x4 jpg and a matching palette mask per id, plus ImageSets lists."""
    for image_id in ids:
        _write_image(root / "JPEGImages" / f"{image_id}.jpg", 3, 4)
        _write_mask(root / "SegmentationClass" / f"{image_id}.png", MASK_IDS)
    sets = root / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True, exist_ok=True)
    for name, listed in ({"val": ids} if lists is None else lists).items():
        (sets / f"{name}.txt").write_text("".join(f"{i}\n" for i in listed))
    return root


def test_voc_layout_with_annotations(tmp_path: Path) -> None:
    """JPEGImages + SegmentationClass + val.txt → layout "voc", VOC labels, a mask per image, keys = ids."""
    root = _voc(tmp_path / "voc", ["2007_000001", "2007_000002"])
    ds = open_dataset(root)
    assert ds.layout == "voc"
    assert ds.labels == VOC_LABELS and len(VOC_LABELS) == 21
    assert [s.key for s in ds.samples] == ["2007_000001", "2007_000002"]
    assert [s.name for s in ds.samples] == ["2007_000001.jpg", "2007_000002.jpg"]
    assert ds.annotated
    assert ds.samples[0].annotation == root / "SegmentationClass" / "2007_000001.png"


def test_voc_mask_reads_palette_indices_not_colours(tmp_path: Path) -> None:
    """load_mask returns class ids (15 for person, 255 void), not the RGB colours of the palette."""
    root = _voc(tmp_path / "voc", ["img"])
    with Image.open(root / "SegmentationClass" / "img.png") as im:
        assert im.mode == "P"
        assert im.convert("RGB").getpixel((2, 0)) == (192, 128, 128)  # person's colour is stored...
    mask = load_mask(open_dataset(root).samples[0].annotation)
    assert mask.dtype == np.uint8 and mask.shape == (3, 4)
    np.testing.assert_array_equal(mask, MASK_IDS)  # ...but its id is what we read


def test_load_mask_refuses_rgb_png(tmp_path: Path) -> None:
    """An RGB mask would yield colours, not ids: refused with the mode in the message."""
    path = tmp_path / "rgb.png"
    Image.new("RGB", (4, 3), (128, 0, 0)).save(path)
    with pytest.raises(DatasetError, match="mode RGB"):
        load_mask(path)


def test_voc_list_id_without_image_warns_and_skips(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An id in val.txt with no JPEGImages file: one warning naming it, the other images load."""
    root = _voc(tmp_path / "voc", ["a", "b"], {"val": ["a", "ghost", "b"]})
    with caplog.at_level(logging.WARNING, logger="segwb"):
        ds = open_dataset(root)
    assert [s.key for s in ds.samples] == ["a", "b"]
    assert [(d["what"], d["examples"]) for d in ds.dropped] == [("image", ["ghost"])]
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "ghost" in warnings[0]


def test_voc_mask_size_mismatch_drops_annotation_keeps_image(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A 3x4 image with a 5x5 mask: warning giving both sizes; the image stays, without annotation."""
    root = _voc(tmp_path / "voc", ["a", "b"])
    _write_mask(root / "SegmentationClass" / "b.png", np.zeros((5, 5), np.uint8))
    with caplog.at_level(logging.WARNING, logger="segwb"):
        ds = open_dataset(root)
    assert [s.key for s in ds.samples] == ["a", "b"]
    assert ds.samples[0].annotation is not None
    assert ds.samples[1].annotation is None
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "b.png" in warnings[0] and "mask 5x5 for an image of 4x3" in warnings[0]


def test_voc_default_list_is_val_and_split_selects(tmp_path: Path) -> None:
    """Without --split the val list is used; --split train reads train.txt instead."""
    root = _voc(tmp_path / "voc", ["a", "b", "c"], {"train": ["a", "b"], "val": ["c"]})
    assert [s.key for s in open_dataset(root).samples] == ["c"]
    assert [s.key for s in open_dataset(root, split="train").samples] == ["a", "b"]


def test_voc_unknown_split_lists_available(tmp_path: Path) -> None:
    """--split test with only train/val lists: DatasetError naming the missing list and the ones there."""
    root = _voc(tmp_path / "voc", ["a"], {"train": ["a"], "val": ["a"]})
    with pytest.raises(DatasetError, match=r"'test\.txt' not found; have: train, val"):
        open_dataset(root, split="test")


def test_voc_empty_imagesets_folder_says_so(tmp_path: Path) -> None:
    """ImageSets/Segmentation with no list and no --split: the message says no list was found (not 'None.txt')."""
    root = _voc(tmp_path / "voc", ["a"], {})
    with pytest.raises(DatasetError, match=r"image-set list \(\*\.txt\) not found; have: none") as info:
        open_dataset(root)
    assert "None" not in str(info.value)


# --- embedded photos -----------------------------------------------------------------------------

def test_embedded_dataset_loads_six_decodable_photos() -> None:
    """"embedded" gives the six manifest photos from installed packages; each decodes to HxWx3 uint8."""
    ds = open_dataset(EMBEDDED)
    assert ds.layout == "embedded" and len(ds) == 6
    assert [s.key for s in ds.samples] == ["astronaut", "chelsea", "coffee", "rocket", "camera", "grace_hopper"]
    for sample in ds.samples:
        image = load_image(sample.path)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        assert min(image.shape[:2]) >= 200


# --- digest --------------------------------------------------------------------------------------

def test_digest_stable_and_content_sensitive(photo_folder: Path) -> None:
    """Same files → same digest (also after reopening); changing one image's bytes changes it."""
    first = open_dataset(photo_folder).digest
    assert open_dataset(photo_folder).digest == first
    _write_image(photo_folder / "sub" / "c.jpg", 72, 56, value=7)
    assert open_dataset(photo_folder).digest != first


def test_digest_covers_annotations(tmp_path: Path) -> None:
    """Editing a VOC mask (image untouched) changes the digest, so cached ground-truth results rerun."""
    root = _voc(tmp_path / "voc", ["a"])
    before = open_dataset(root).digest
    edited = MASK_IDS.copy()
    edited[0, 0] = 8
    _write_mask(root / "SegmentationClass" / "a.png", edited)
    assert open_dataset(root).digest != before


def test_a_symbolic_link_loop_is_listed_not_silently_skipped(photo_folder: Path) -> None:
    (photo_folder / "l1.jpg").symlink_to(photo_folder / "l2.jpg")
    (photo_folder / "l2.jpg").symlink_to(photo_folder / "l1.jpg")
    ds = open_dataset(photo_folder)
    assert [(d["reason"], sorted(d["examples"])) for d in ds.dropped] == \
        [("a symbolic link that leads to no file", ["l1.jpg", "l2.jpg"])]


def test_a_device_is_no_model(tmp_path: Path) -> None:
    from segwb.core.errors import ModelError
    from segwb.io.model_file import read_ir, read_model

    for read in (read_model, read_ir):
        with pytest.raises(ModelError, match="not a regular file|not a file"):
            read("/dev/zero")
