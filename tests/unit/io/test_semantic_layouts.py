"""Semantic ground truth from every layout, through ``Dataset.class_mask``: the images-and-masks layout, Cityscapes
(label ids mapped to the 19 train ids by the dataset's lookup table) and YOLO/COCO polygons drawn in memory; and
the semantic report's ground truth on a drawn YOLO set, end to end on a tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from segwb.core.errors import DatasetError
from segwb.core.project import Project
from segwb.io.datasets import open_dataset
from segwb.io.datasets.cityscapes import LABELS as CITYSCAPES
from segwb.io.labels import VOC_LABELS
from segwb.io.model_card import build_card
from segwb.io.model_file import save_ir
from segwb.tasks import card_vocabulary
from segwb.tasks.base import DetectionLimits
from segwb.tasks.semantic.class_maps import prediction_path, save_class_map
from segwb.tasks.semantic.metrics import label_lut
from segwb.tasks.semantic.report_job import SemanticJob
from segwb.tasks.semantic.validation import semantic_truth

CARD = {"task": "semantic", "layout": "NHWC", "color_order": "RGB", "resize": "stretch", "mean": 0, "scale": 1,
        "input_size": [8, 8], "adapter": "class_map"}


def _image(path: Path, h: int, w: int, value: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((h, w, 3), value, np.uint8))
    return path


def _mask(path: Path, ids: np.ndarray, mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(ids.astype(np.uint8), mode=mode).save(path)
    return path


def _reasons(ds) -> dict[str, list[str]]:
    return {d["reason"]: d["examples"] for d in ds.dropped}


# --- images and masks -------------------------------------------------------------------------------------------------

def _image_masks(root: Path) -> Path:
    _image(root / "images" / "a.jpg", 4, 6)
    _mask(root / "masks" / "a.png", np.array([[0, 1, 2, 255, 1, 0]] * 4))
    _image(root / "images" / "b.png", 4, 6)  # no mask: kept, not annotated
    _image(root / "images" / "c.jpg", 4, 6)
    _mask(root / "masks" / "c.png", np.zeros((3, 6)))  # wrong size
    _mask(root / "masks" / "orphan.png", np.zeros((4, 6)))  # no image
    (root / "labels.txt").write_text("background\nperson\ncat\n")
    return root


def test_images_and_masks_are_a_semantic_ground_truth_like_voc(tmp_path: Path) -> None:
    ds = open_dataset(_image_masks(tmp_path / "d"))
    assert ds.layout == "image_masks" and ds.labels == ("background", "person", "cat")
    assert [s.name for s in ds.samples] == ["a.jpg", "b.png", "c.jpg"]
    assert [ds.has_class_mask(s) for s in ds.samples] == [True, False, False] and ds.annotated
    np.testing.assert_array_equal(ds.class_mask(ds.samples[0]), [[0, 1, 2, 255, 1, 0]] * 4)
    assert _reasons(ds) == {"mask 6x3 for an image of 6x4 (image kept without ground truth)": ["masks/c.png"],
                            "a mask without an image of the same stem in images/": ["masks/orphan.png"]}
    assert ds.annotation_file == tmp_path / "d" / "labels.txt" and ds.annotation_file in ds.files


def test_images_and_masks_refuse_rgb_masks_and_read_split_folders(tmp_path: Path) -> None:
    root = tmp_path / "d"
    for split in ("train", "val"):
        _image(root / "images" / split / "x.jpg", 4, 6)
    (root / "masks" / "val").mkdir(parents=True)
    Image.new("RGB", (6, 4)).save(root / "masks" / "val" / "x.png")
    (root / "masks" / "val" / "x.jpg").write_bytes(b"lossy")
    (root / "labels.txt").write_text("background\n")
    ds = open_dataset(root)  # val by default
    assert [s.name for s in ds.samples] == ["x.jpg"] and not ds.annotated
    assert _reasons(ds) == {"mask must be a palette or greyscale PNG, got mode RGB (image kept without ground truth)":
                            ["masks/val/x.png"], "not a PNG mask (masks are lossless PNG)": ["masks/val/x.jpg"]}
    assert open_dataset(root, "train").samples[0].path == root / "images" / "train" / "x.jpg"
    with pytest.raises(DatasetError, match=r"no split folder '\.\./images'; have: train, val"):
        open_dataset(root, "../images")


@pytest.mark.parametrize(("text", "words"), [(None, "labels.txt: missing"), (b"\xff\xfe", "not UTF-8"),
                                             ("a\n" * 256, "256 class names, but 8-bit masks hold class ids 0..254")])
def test_a_bad_labels_txt_is_one_line_naming_it(tmp_path: Path, text: str | bytes | None, words: str) -> None:
    root = _image_masks(tmp_path / "d")
    labels = root / "labels.txt"
    labels.unlink() if text is None else labels.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DatasetError, match=words) as info:
        open_dataset(root)
    assert "labels.txt" in str(info.value) and "\n" not in str(info.value)


def test_images_and_masks_do_not_take_voc_coco_or_yolo_roots(tmp_path: Path) -> None:
    yolo = _image_masks(tmp_path / "yolo")
    (yolo / "labels").mkdir()
    (yolo / "data.yaml").write_text("names: [person]\nval: images\n")
    assert open_dataset(yolo).layout == "yolo"
    voc = _image_masks(tmp_path / "voc")
    _image(voc / "JPEGImages" / "v.jpg", 4, 6)
    _mask(voc / "SegmentationClass" / "v.png", np.zeros((4, 6)))
    assert open_dataset(voc).layout == "voc"
    only_images = tmp_path / "photos"
    _image(only_images / "images" / "p.jpg", 4, 6)
    assert open_dataset(only_images).layout == "images"


# --- Cityscapes -------------------------------------------------------------------------------------------------------

LABEL_IDS = np.array([[0, 7, 8, 11, 26, 33, 14, 255], [24, 25, 23, 6, 9, 31, 40, 1]])
TRAIN_IDS = np.array([[255, 0, 1, 2, 13, 18, 255, 255], [11, 12, 10, 255, 255, 16, 40, 255]])  # 40: no label id


def _cityscapes(root: Path, splits: tuple[str, ...] = ("val",)) -> Path:
    for split in splits:
        stem = f"{split}/aachen/aachen_000000_000019"
        _image(root / "leftImg8bit" / f"{stem}_leftImg8bit.png", 2, 8)
        _mask(root / "gtFine" / f"{stem}_gtFine_labelIds.png", LABEL_IDS)
        _mask(root / "gtFine" / f"{stem}_gtFine_color.png", LABEL_IDS)  # the other gtFine files are not read
    return root


def test_cityscapes_label_ids_become_the_19_train_ids(tmp_path: Path) -> None:
    ds = open_dataset(_cityscapes(tmp_path / "cs"))
    assert ds.layout == "cityscapes" and ds.labels == CITYSCAPES and len(CITYSCAPES) == 19
    (sample,) = ds.samples
    assert sample.name == "aachen/aachen_000000_000019_leftImg8bit.png" and ds.has_class_mask(sample)
    np.testing.assert_array_equal(ds.class_mask(sample), TRAIN_IDS)
    card = build_card({**CARD, "labels": list(CITYSCAPES)}, {}, card_vocabulary())
    truth = semantic_truth(ds, card, 19)
    expected = np.where(TRAIN_IDS < 19, TRAIN_IDS, 255)  # the id past the labels is void, and counted as unknown
    np.testing.assert_array_equal(truth.masks[0], expected)


def test_cityscapes_splits_and_what_is_dropped(tmp_path: Path) -> None:
    root = _cityscapes(tmp_path / "cs", ("train", "val"))
    _image(root / "leftImg8bit" / "val" / "aachen" / "notes.png", 2, 8)
    _image(root / "leftImg8bit" / "val" / "bonn" / "bonn_000000_000001_leftImg8bit.png", 3, 8)
    _mask(root / "gtFine" / "val" / "bonn" / "bonn_000000_000001_gtFine_labelIds.png", np.zeros((2, 8)))
    _mask(root / "gtFine" / "val" / "bonn" / "bonn_000000_000002_gtFine_labelIds.png", np.zeros((2, 8)))
    ds = open_dataset(root)
    assert [s.key for s in ds.samples] == ["aachen__aachen_000000_000019_leftImg8bit",
                                           "bonn__bonn_000000_000001_leftImg8bit"]
    assert [s.annotation is not None for s in ds.samples] == [True, False]
    assert _reasons(ds) == {
        "not a Cityscapes image (*_leftImg8bit.png)": ["aachen/notes.png"],
        "mask 8x2 for an image of 8x3 (image kept without ground truth)":
            ["gtFine/val/bonn/bonn_000000_000001_gtFine_labelIds.png"],
        "label ids without an image in leftImg8bit": ["gtFine/val/bonn/bonn_000000_000002_gtFine_labelIds.png"]}
    assert len(open_dataset(root, "train")) == 1


@pytest.mark.parametrize(("splits", "split", "words"), [
    (("train", "test"), None, r"several splits \(test, train\) and none is 'val': choose one with --split"),
    (("val",), "../gtFine", r"no split folder '\.\./gtFine'; have: val"),
    ((), None, r"no split folders"),
])
def test_cityscapes_split_errors_name_the_folder(tmp_path: Path, splits: tuple[str, ...], split: str | None,
                                                 words: str) -> None:
    root = _cityscapes(tmp_path / "cs", splits)
    (root / "leftImg8bit").mkdir(parents=True, exist_ok=True)
    with pytest.raises(DatasetError, match=words) as info:
        open_dataset(root, split)
    assert "leftImg8bit" in str(info.value)


def test_cityscapes_only_split_is_the_default(tmp_path: Path) -> None:
    assert len(open_dataset(_cityscapes(tmp_path / "cs", ("train",)))) == 1


# --- YOLO and COCO polygons drawn as class masks ---------------------------------------------------------------------

def _yolo(root: Path, labels: dict[str, str | None], names: str = "[person, cat, dog]", h: int = 40,
          w: int = 80) -> Path:
    (root / "labels" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text(f"names: {names}\nval: images/val\n")
    for stem, text in labels.items():
        _image(root / "images" / "val" / f"{stem}.jpg", h, w)
        if text is not None:
            (root / "labels" / "val" / f"{stem}.txt").write_text(text)
    return root


def test_a_polygon_square_is_drawn_on_its_exact_pixels(tmp_path: Path) -> None:
    """x 0.25..0.75 of 80 = 20..60, y 0.25..0.75 of 40 = 10..30: columns 20..59 and rows 10..29, as COCO rasterises."""
    ds = open_dataset(_yolo(tmp_path / "y", {"a": "1 0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75\n", "b": None}))
    assert ds.drawn and ds.mask_labels == ("person", "cat", "dog", "background")
    expected = np.full((40, 80), 3, np.uint8)  # background: the id after the names
    expected[10:30, 20:60] = 1
    a, b = ds.samples
    np.testing.assert_array_equal(ds.class_mask(a), expected)
    assert ds.has_class_mask(b) and (ds.class_mask(b) == 3).all()  # no label file: an image without objects
    assert not (tmp_path / "y" / "labels" / "val" / "a.png").exists()  # drawn in memory, nothing written


def test_the_smaller_object_is_on_top_whatever_the_line_order(tmp_path: Path) -> None:
    small, large = "0 0.25 0.25 0.5 0.25 0.5 0.5 0.25 0.5", "2 0 0 1 0 1 1 0 1"
    ds = open_dataset(_yolo(tmp_path / "y", {"a": f"{small}\n{large}\n", "b": f"{large}\n{small}\n"}))
    for sample in ds.samples:
        mask = ds.class_mask(sample)
        assert (mask[10:20, 20:40] == 0).all() and (mask == 0).sum() == 200 and (mask == 2).sum() == 40 * 80 - 200


def test_background_is_the_models_background_by_name_else_ignored(tmp_path: Path) -> None:
    ds = open_dataset(_yolo(tmp_path / "y", {"a": "1 0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75\n"}))
    with_background, unmapped = label_lut(ds.mask_labels, ("background", "person", "cat"))
    assert with_background[:4].tolist() == [1, 2, 0, 0] and unmapped == ["dog"]  # dog: the model's background
    without, unmapped = label_lut(ds.mask_labels, ("person", "cat"))
    assert without[:4].tolist() == [0, 1, 255, 255] and unmapped == ["dog", "background"]


def test_coco_crowd_regions_are_void_and_no_annotations_means_no_drawn_masks(tmp_path: Path) -> None:
    root = tmp_path / "c"
    _image(root / "images" / "a.jpg", 10, 10)
    crowd = np.zeros((10, 10), np.uint8, order="F")
    crowd[5:, :] = 1
    rle = mask_utils.encode(crowd)
    data = {"images": [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}],
            "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "iscrowd": 0,
                             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
                            {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 1,
                             "segmentation": {"size": [10, 10], "counts": rle["counts"].decode()}}]}
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data))
    ds = open_dataset(root)
    mask = ds.class_mask(ds.samples[0])
    assert (mask[:5] == 1).all() and (mask[5:] == 255).all()  # car = category index 1; crowd void over it
    data["annotations"] = []
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data))
    ds = open_dataset(root)
    assert not ds.drawn and not ds.has_class_mask(ds.samples[0])  # nothing says where objects are: no truth


def test_the_semantic_report_scores_a_yolo_set_against_its_drawn_masks(tmp_path: Path) -> None:
    """End to end through SemanticJob's comparison, with a tiny model (background, person, cat): the parent predicts
    the drawn truth exactly, the optimized model background everywhere."""
    person = "0 0 0 0.5 0 0.5 0.5 0 0.5"  # rows 0..9, columns 0..9 of 20x20
    ds = open_dataset(_yolo(tmp_path / "y", {"a": f"{person}\n1 0.5 0.5 1 0.5 1 1 0.5 1\n"}, h=20, w=20))
    project = Project(tmp_path / "project")
    from tiny_models import semantic_model

    save_ir(semantic_model(size=8), project.parent_xml)
    card = build_card({**CARD, "labels": ["background", "person", "cat"]}, {}, card_vocabulary())
    job = SemanticJob(project, ds, card, DetectionLimits())
    truth = np.zeros((20, 20), np.uint8)
    truth[:10, :10], truth[10:, 10:] = 1, 2
    key = ds.samples[0].key
    save_class_map(prediction_path(project.predictions("parent"), key), truth)
    save_class_map(prediction_path(project.predictions("optimized"), key), np.zeros((20, 20), np.uint8))
    from tutorial_runs import compare_saved

    compared = compare_saved(job)
    ground_truth = compared["ground_truth"]
    # With the parent's map as the truth, the optimized map scores what it scores against the drawn truth here.
    assert compared["comparison"]["agreement_mean_iou"] == pytest.approx(0.5 / 3)
    assert compared["comparison"]["agreement_per_class_iou"] == {"background": 0.5, "person": 0.0, "cat": 0.0}
    assert ground_truth["images"] == 1 and ground_truth["unmapped_classes"] == ["dog"]
    assert ground_truth["parent"]["mean_iou"] == 1.0
    assert ground_truth["optimized"]["mean_iou"] == pytest.approx(0.5 / 3)  # background 200/400, person 0, cat 0
    assert ground_truth["unknown_ids"] == {}


def test_drawn_yolo_masks_agree_with_the_voc_layout_of_coco96(zoo_fixtures: Path) -> None:
    """The same photos and objects in two layouts: the YOLO polygons drawn and matched to VOC's names (COCO's
    airplane, motorcycle, couch and tv are VOC's aeroplane, motorbike, sofa and tvmonitor) give the VOC masks' class
    on more than 99.5 % of the pixels (12 images) that VOC labels with a class (its void covers the objects that are
    no VOC class)."""
    yolo, voc = (open_dataset(zoo_fixtures / f"datasets/coco96-{layout}") for layout in ("yolo", "voc"))
    lut, unmapped = label_lut(yolo.mask_labels, VOC_LABELS)
    assert not {"airplane", "motorcycle", "couch", "tv"} & set(unmapped)
    named = np.zeros(256, bool)
    named[:len(VOC_LABELS)] = True
    by_stem = {s.path.stem: s for s in yolo.samples}
    agree = total = 0
    for sample in [s for s in voc.samples if s.annotation][:12]:
        drawn, given = lut[yolo.class_mask(by_stem[sample.path.stem])], voc.class_mask(sample)
        both = named[given] & (drawn != 255)
        agree, total = agree + int((drawn[both] == given[both]).sum()), total + int(both.sum())
    assert total > 1_000_000 and agree / total > 0.995
