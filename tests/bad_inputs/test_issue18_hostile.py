"""Hostile outputs for the instance adapters and a hostile images-and-masks layout (issue 18): each was a traceback,
an internal error or a silently wrong number before. The adapters are fed arrays directly (what a finished request
gives), so every case is cheap; the graph-level ones build a tiny model and describe it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

import hostile_inputs as hi
from segwb.core.errors import ModelError
from segwb.inference.preprocess import Geometry, resize
from segwb.io.datasets import image_masks
from segwb.io.model_card import build_card
from segwb.io.model_file import save_ir
from segwb.tasks import card_vocabulary
from segwb.tasks.instance.adapters import decode
from segwb.tasks.model_import import describe

F = np.float32


def _card(adapter: str, **extra: object):
    fields = {**dict(task="instance", layout="NCHW", color_order="RGB", mean=0, scale=255, resize="stretch",
                     input_size=[32, 32], adapter=adapter, labels=["person", "cat"]), **extra}
    return build_card(fields, {}, card_vocabulary())


def _geometry(card) -> Geometry:
    return resize(np.zeros((32, 32, 3), np.uint8), card)[1]


def _decode(adapter: str, outputs: dict[str, np.ndarray], **extra: object):
    card = _card(adapter, **extra)
    return decode(outputs, card, _geometry(card), 0.1, 100)


def _mask_rcnn(boxes: np.ndarray, labels: np.ndarray, masks: np.ndarray) -> dict[str, np.ndarray]:
    return {"boxes": F(boxes), "labels": np.asarray(labels, np.int32), "masks": F(masks)}


# --- Mask R-CNN -------------------------------------------------------------------------------------------------------

def test_mask_rcnn_masks_of_size_zero_are_refused() -> None:
    """masks [N,0,0] divided by zero (ZeroDivisionError) when pasting."""
    with pytest.raises(ModelError, match="M >= 1"):
        _decode("mask_rcnn", _mask_rcnn([[2, 4, 30, 28, 0.9]], [1], np.ones((1, 0, 0))))


@pytest.mark.parametrize("labels, masks", [([1], np.ones((0, 28, 28))), ([1, 0], np.ones((1, 28, 28))),
                                           ([1], np.ones((2, 28, 28)))])
def test_mask_rcnn_outputs_of_different_counts_are_refused(labels: list[int], masks: np.ndarray) -> None:
    """fewer masks than boxes was an IndexError; more labels or masks paired detections silently by position."""
    with pytest.raises(ModelError, match="disagree on the number of detections"):
        _decode("mask_rcnn", _mask_rcnn([[2, 4, 30, 28, 0.9]], labels, masks))


def test_mask_rcnn_negative_class_id_is_refused() -> None:
    """class id -1 went into the report as a class without a name and into the predictions as category -1."""
    with pytest.raises(ModelError, match="class id -1"):
        _decode("mask_rcnn", _mask_rcnn([[2, 4, 30, 28, 0.9]], [-1], np.ones((1, 28, 28))))


def test_mask_rcnn_float_labels_are_rounded_not_truncated() -> None:
    outputs = {**_mask_rcnn([[2, 4, 30, 28, 0.9]], [0], np.ones((1, 28, 28))), "labels": F([0.9999])}
    assert _decode("mask_rcnn", outputs).class_ids.tolist() == [1]


# --- torchvision Mask R-CNN -------------------------------------------------------------------------------------------

def _torchvision(n_boxes: int = 1, n_labels: int = 1, n_scores: int = 1, size: int = 32, label: int = 1):
    return {"boxes": F([[2, 4, 30, 28]] * n_boxes), "labels": np.full(n_labels, label, np.int64),
            "scores": F([0.9] * n_scores), "masks": np.ones((n_boxes, 1, size, size), F)}


@pytest.mark.parametrize("counts", [(1, 1, 2), (1, 2, 1), (2, 1, 1)])
def test_torchvision_outputs_of_different_counts_are_refused(counts: tuple[int, int, int]) -> None:
    with pytest.raises(ModelError, match="disagree on the number of detections"):
        _decode("torchvision_mask_rcnn", _torchvision(*counts))


def test_torchvision_masks_not_at_the_input_size_are_refused() -> None:
    """masks [N,1,16,16] for a 32x32 input were cut with the input's letterbox: a silently wrong mask."""
    with pytest.raises(ModelError, match="at the input size"):
        _decode("torchvision_mask_rcnn", _torchvision(size=16))


def test_torchvision_negative_class_id_is_refused() -> None:
    with pytest.raises(ModelError, match="class id -3"):
        _decode("torchvision_mask_rcnn", _torchvision(label=-3))


def test_torchvision_named_scores_of_rank_two_are_refused() -> None:
    """scores [N,1] by name was an IndexError in select."""
    outputs = {**_torchvision(), "scores": F([[0.9]])}
    with pytest.raises(ModelError, match="torchvision_mask_rcnn needs"):
        _decode("torchvision_mask_rcnn", outputs)


# --- YOLACT -----------------------------------------------------------------------------------------------------------

def _yolact(conf: list[list[float]], n_boxes: int = 1, k: int = 2, proto_k: int = 2, boxes_rank: int = 3):
    boxes = F([[[0.1, 0.1, 0.9, 0.9]] * n_boxes])
    return {"boxes": boxes[0] if boxes_rank == 2 else boxes, "conf": F([conf]), "mask": np.ones((1, len(conf), k), F),
            "proto": np.ones((1, 8, 8, proto_k), F)}


def test_yolact_conf_with_only_the_background_column_is_refused() -> None:
    """conf [1,A,1] (no class at all) was 'attempt to get argmax of an empty sequence'."""
    with pytest.raises(ModelError, match="yolact needs"):
        _decode("yolact", _yolact([[0.9]]), labels=[])


def test_yolact_outputs_of_different_counts_are_refused() -> None:
    with pytest.raises(ModelError, match="disagree on the number of detections"):
        _decode("yolact", _yolact([[0.05, 0.05, 0.9], [0.1, 0.1, 0.8]], n_boxes=1), proto_layout="NHWC")


def test_yolact_named_boxes_of_rank_two_are_refused() -> None:
    with pytest.raises(ModelError, match="yolact needs"):
        _decode("yolact", _yolact([[0.05, 0.05, 0.9]], boxes_rank=2))


def test_yolact_coefficients_and_prototypes_of_different_k_are_refused() -> None:
    with pytest.raises(ModelError, match="yolact needs"):
        _decode("yolact", _yolact([[0.05, 0.05, 0.9]], k=3, proto_k=2), proto_layout="NHWC")


# --- YOLO -------------------------------------------------------------------------------------------------------------

def _yolo_outputs(row: list[float]) -> dict[str, np.ndarray]:
    return {"output0": F([[row]]), "output1": np.ones((1, 2, 8, 8), F)}


def test_yolo_negative_class_id_is_refused() -> None:
    with pytest.raises(ModelError, match="class id -1"):
        _decode("yolo_e2e", _yolo_outputs([2, 4, 30, 28, 0.9, -1, 1, 0]), proto_layout="NCHW")


def test_yolo_class_column_is_rounded_not_truncated() -> None:
    """a class id 0.9999 (f16 or quantized arithmetic) was read as class 0."""
    found = _decode("yolo_e2e", _yolo_outputs([2, 4, 30, 28, 0.9, 0.9999, 1, 0]), proto_layout="NCHW")
    assert found.class_ids.tolist() == [1]


def test_yolo_integer_detections_are_not_read_as_yolo(tmp_path: Path) -> None:
    """an i32 detection table truncated every score to 0: zero detections, silently."""
    image = ops.parameter([1, 3, 32, 32], ov.Type.f32, name="images")
    zero = ops.multiply(ops.reduce_mean(image, ops.constant(np.int64([0, 1, 2, 3])), False), ops.constant(F(0)))
    dets = ops.convert(ops.add(ops.constant(F([[[2, 4, 30, 28, 0.9, 1, 1, 0]]])), zero), ov.Type.i32)
    protos = ops.add(ops.constant(np.ones((1, 2, 8, 8), F)), zero)
    dets.output(0).set_names({"output0"})
    protos.output(0).set_names({"output1"})
    xml = tmp_path / "m.xml"
    save_ir(ov.Model([dets, protos], [image], "y"), xml)
    (tmp_path / "labels.txt").write_text("person\ncat\n")
    with pytest.raises(ModelError) as refused:
        describe(xml, None, {"task": "instance", "adapter": "yolo_e2e", "color_order": "RGB", "resize": "letterbox",
                             "mean": 0, "scale": 255})
    assert "m.xml" in str(refused.value) and "yolo_e2e needs" in str(refused.value)


# --- images and masks -------------------------------------------------------------------------------------------------

def test_image_masks_one_mask_for_two_images_of_the_same_stem_is_dropped(tmp_path: Path) -> None:
    """images/a.jpg and images/a.png (two different photos) were both annotated by masks/a.png."""
    root = tmp_path / "set"
    (root / "masks").mkdir(parents=True)
    (root / "labels.txt").write_text("background\nperson\n")
    hi.write_photo(root / "images" / "a.jpg", seed=1)
    hi.write_photo(root / "images" / "a.png", seed=2)
    hi.write_photo(root / "images" / "b.jpg", seed=3)
    for stem in ("a", "b"):
        cv2.imwrite(str(root / "masks" / f"{stem}.png"), np.ones((40, 56), np.uint8))
    dataset = image_masks.open(root)
    annotated = {s.name: s.annotation is not None for s in dataset.samples}
    assert annotated == {"a.jpg": False, "a.png": False, "b.jpg": True}
    assert any("same stem" in d["reason"] and "masks/a.png" in d["examples"] for d in dataset.dropped), dataset.dropped


def test_a_mirror_url_with_credentials_is_refused_without_echoing_them(monkeypatch) -> None:
    from segwb.core.errors import DownloadError
    from segwb.zoo.download import mirror_url

    monkeypatch.setenv("SEGWB_ZOO_MIRROR", "http://user:secretpw@127.0.0.1:9/zoo")
    with pytest.raises(DownloadError) as err:
        mirror_url("a.bin")
    assert "secretpw" not in str(err.value) and "user name or password" in str(err.value)
