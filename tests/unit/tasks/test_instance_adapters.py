"""Instance adapters on hand-made outputs: box scaling through letterbox/fit_pad, masks, filtering, NMS, detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tiny_models import mask_rcnn_model, yolo_e2e_model, yolo_raw_model

from segwb.core.errors import ModelError
from segwb.inference.preprocess import Geometry, resize
from segwb.io.model_card import build_card
from segwb.io.model_file import save_ir
from segwb.tasks import card_vocabulary
from segwb.tasks.instance.adapters import decode
from segwb.tasks.instance.adapters import recognise as infer_adapter
from segwb.tasks.model_import import describe

VOCAB = card_vocabulary()


def _card(adapter: str, resize_mode: str, size: tuple[int, int] = (32, 32), **extra) -> object:
    fields = {**dict(task="instance", layout="NCHW", color_order="RGB", mean=0, scale=255, resize=resize_mode,
                     input_size=list(size), adapter=adapter, labels=["person", "cat", "dog"]), **extra}
    return build_card(fields, {}, VOCAB)


def _geometry(card, original: tuple[int, int]) -> Geometry:
    return resize(np.zeros((*original, 3), np.uint8), card)[1]


def _mask(instances, i: int) -> np.ndarray:
    return instances.decode(i).astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def test_yolo_e2e_letterbox_boxes_and_masks() -> None:
    """A 40x80 image letterboxed into 32x32 sits at rows 8..24 (ratio 0.4): boxes and masks map back exactly.

    Prototype logits are +10 on the 4 left prototype columns (input x 0..16 → original x 0..40) and -10 on
    the rest, so a whole-image box gives the left half; a box over the right half gives an empty mask.
    """
    card = _card("yolo_e2e", "letterbox")
    geometry = _geometry(card, (40, 80))
    assert (geometry.top, geometry.left, geometry.height, geometry.width) == (8, 0, 16, 32)
    protos = np.full((1, 1, 8, 8), -10, np.float32)
    protos[..., :4] = 10
    dets = np.float32([[0, 8, 32, 24, 0.9, 1, 1.0],     # whole image, class cat
                       [16, 8, 32, 24, 0.8, 2, 1.0],    # right half, class dog
                       [0, 8, 8, 16, 0.05, 0, 1.0]])    # below min_score
    found = decode({"output0": dets[np.newaxis], "output1": protos}, card, geometry, 0.1, 100)
    assert found.class_ids.tolist() == [1, 2] and found.scores.tolist() == pytest.approx([0.9, 0.8])
    np.testing.assert_allclose(found.boxes, [[0, 0, 80, 40], [40, 0, 80, 40]], atol=1e-4)
    expected = np.zeros((40, 80), bool)
    expected[:, :40] = True
    assert _mask(found, 0).shape == (40, 80)
    assert _iou(_mask(found, 0), expected) > 0.97
    assert not _mask(found, 1).any()


def test_yolo_e2e_mask_is_cut_to_its_box() -> None:
    """Positive logits everywhere: the mask is exactly the pixels whose centre lies inside the box."""
    card = _card("yolo_e2e", "letterbox")
    geometry = _geometry(card, (32, 32))
    protos = np.full((1, 1, 8, 8), 10, np.float32)
    dets = np.float32([[4.0, 6.0, 20.0, 30.0, 0.7, 0, 1.0]])
    found = decode({"output0": dets[np.newaxis], "output1": protos}, card, geometry, 0.1, 100)
    expected = np.zeros((32, 32), bool)
    expected[6:30, 4:20] = True
    np.testing.assert_array_equal(_mask(found, 0), expected)
    assert found.areas().tolist() == [16 * 24]


def test_min_score_max_detections_and_ties() -> None:
    """Scores 0.5, 0.9, 0.5, 0.3 with max 2: 0.9 first, then the first of the tied 0.5s (model order kept)."""
    card = _card("yolo_e2e", "stretch")
    geometry = _geometry(card, (32, 32))
    protos = np.full((1, 1, 8, 8), 10, np.float32)
    dets = np.float32([[0, 0, 8, 8, 0.5, 0, 1], [0, 0, 16, 16, 0.9, 1, 1], [0, 0, 4, 4, 0.5, 2, 1], [0, 0, 2, 2, 0.3, 0, 1]])
    found = decode({"output0": dets[np.newaxis], "output1": protos}, card, geometry, 0.4, 2)
    assert found.class_ids.tolist() == [1, 0]
    none = decode({"output0": dets[np.newaxis], "output1": protos}, card, geometry, 0.95, 100)
    assert len(none) == 0 and none.image_size == (32, 32)


def test_mask_rcnn_fit_pad_paste() -> None:
    """fit_pad puts a 60x40 image at the top left of 32x48 as 32x21 pixels (scales 32/60 and 21/40, since the
    width is rounded): boxes map back through those scales; an all-ones heatmap fills its box."""
    card = _card("mask_rcnn", "fit_pad", size=(32, 48), color_order="BGR", mean=0, scale=1)
    geometry = _geometry(card, (60, 40))
    assert (geometry.top, geometry.left, geometry.height, geometry.width) == (0, 0, 32, 21)
    sx, sy = 21 / 40, 32 / 60
    boxes = np.float32([[5 * sx, 10 * sy, 25 * sx, 40 * sy, 0.95], [0, 0, 1, 1, 0.05]])
    heatmaps = np.ones((2, 28, 28), np.float32)
    found = decode({"boxes": boxes, "labels": np.int32([2, 0]), "masks": heatmaps}, card, geometry, 0.1, 100)
    assert found.class_ids.tolist() == [2]
    np.testing.assert_allclose(found.boxes[0], [5, 10, 25, 40], atol=1e-3)
    expected = np.zeros((60, 40), bool)
    expected[10:41, 5:26] = True
    assert _iou(_mask(found, 0), expected) > 0.9


def test_mask_rcnn_heatmap_threshold() -> None:
    """Only the heatmap's left half above 0.5: the mask covers about the box's left half."""
    card = _card("mask_rcnn", "fit_pad", size=(64, 64), color_order="BGR", mean=0, scale=1)
    geometry = _geometry(card, (64, 64))
    heatmap = np.zeros((1, 28, 28), np.float32)
    heatmap[:, :, :14] = 0.9
    found = decode({"boxes": np.float32([[8, 8, 56, 56, 0.9]]), "labels": np.int64([0]), "masks": heatmap},
                   card, geometry, 0.1, 100)
    mask = _mask(found, 0)
    expected = np.zeros((64, 64), bool)
    expected[8:57, 8:32] = True
    assert _iou(mask, expected) > 0.85


def test_yolo_raw_class_aware_nms() -> None:
    """Two overlapping boxes of one class keep the higher score; an overlapping box of another class stays."""
    card = _card("yolo_raw", "letterbox")
    geometry = _geometry(card, (32, 32))
    k = 1
    rows = np.zeros((4, 4 + 3 + k), np.float32)
    rows[0, :4], rows[0, 4 + 0] = [16, 16, 16, 16], 0.9   # person
    rows[1, :4], rows[1, 4 + 0] = [17, 16, 16, 16], 0.8   # person, IoU ≈ 0.88 with row 0: suppressed
    rows[2, :4], rows[2, 4 + 1] = [16, 17, 16, 16], 0.7   # cat, same place: kept
    rows[3, :4], rows[3, 4 + 2] = [4, 4, 4, 4], 0.05      # dog below min_score
    rows[:, -1] = 1.0
    protos = np.full((1, k, 8, 8), 10, np.float32)
    found = decode({"output0": rows.T[np.newaxis], "output1": protos}, card, geometry, 0.1, 100)
    assert found.class_ids.tolist() == [0, 1]
    assert found.scores.tolist() == pytest.approx([0.9, 0.7])
    np.testing.assert_allclose(found.boxes[0], [8, 8, 24, 24], atol=1e-4)


def test_adapters_inferred_from_the_graph(tmp_path: Path) -> None:
    """Each signature is recognised, with Ultralytics' input conventions for the YOLO ones; labels decide C."""
    e2e = yolo_e2e_model(np.zeros((3, 8), np.float32))
    raw = yolo_raw_model(np.zeros((10, 4 + 3 + 2), np.float32), 2)
    rcnn = mask_rcnn_model(np.zeros((2, 5)), np.zeros(2), np.zeros((2, 28, 28)))
    assert infer_adapter(e2e)["adapter"] == "yolo_e2e"
    assert infer_adapter(raw)["adapter"] == "yolo_raw"
    assert infer_adapter(rcnn) == {"task": "instance", "adapter": "mask_rcnn"}
    xml = tmp_path / "raw.xml"
    save_ir(raw, xml)
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    _, card = describe(xml)
    assert (card.task, card.adapter, card.color_order, card.resize, card.scale) == ("instance", "yolo_raw", "RGB", "letterbox", (255.0,) * 3)
    (tmp_path / "labels.txt").write_text("a\nb\n")
    with pytest.raises(ModelError, match="3 class scores but the model card has 2 labels"):
        describe(xml)


def test_wrong_adapter_for_the_outputs_is_one_line(tmp_path: Path) -> None:
    """A semantic model declared as mask_rcnn: the error names the file and the missing outputs."""
    from tiny_models import write_model

    xml = write_model(tmp_path, "scores")
    with pytest.raises(ModelError) as err:
        describe(xml, None, {"task": "instance", "adapter": "mask_rcnn"})
    assert str(xml) in str(err.value) and "needs outputs boxes [N,5], labels [N] and masks [N,M,M]; the model has scores [1, 3, 64, 64]" in str(err.value)
    assert "\n" not in str(err.value)


def test_box_warp_equals_resizing_the_whole_prototype() -> None:
    """The per-box affine warp gives the masks of the plain pipeline (prototype → input size → un-letterbox →
    original size, all bilinear) up to the rounding of two resizes versus one: ≥ 98 % IoU on smooth random logits."""
    import cv2

    card = _card("yolo_e2e", "letterbox", size=(64, 64))
    geometry = _geometry(card, (90, 150))
    rng = np.random.default_rng(3)
    proto = cv2.GaussianBlur(rng.normal(0, 4, (16, 16)).astype(np.float32), (5, 5), 1.5)
    dets = np.float32([[4, 14, 60, 50, 0.9, 0, 1.0]])
    found = decode({"output0": dets[np.newaxis], "output1": proto[np.newaxis, np.newaxis]}, card, geometry, 0.1, 100)
    full = cv2.resize(proto, (64, 64), interpolation=cv2.INTER_LINEAR)
    content = full[geometry.top:geometry.top + geometry.height, geometry.left:geometry.left + geometry.width]
    plain = cv2.resize(content, (150, 90), interpolation=cv2.INTER_LINEAR) > 0
    x1, y1, x2, y2 = found.boxes[0]
    box = np.zeros_like(plain)
    box[int(np.ceil(y1 - 0.5)):int(np.ceil(y2 - 0.5)), int(np.ceil(x1 - 0.5)):int(np.ceil(x2 - 0.5))] = True
    assert _iou(_mask(found, 0), plain & box) > 0.98


def test_mask_rcnn_ir_through_prediction(tmp_path: Path) -> None:
    """An IR with Open Model Zoo's Mask R-CNN signature, imported with the zoo entry's card, predicted on a photo:
    boxes come back in original pixels (fit_pad, right/bottom padding), labels and scores as the model gave them."""
    import cv2

    from segwb.core.compile import compile_model
    from segwb.core.project import Project
    from segwb.core.storage import read_json
    from segwb.inference.feed import InputFeed
    from segwb.io.datasets import open_dataset
    from segwb.tasks.base import DetectionLimits
    from segwb.tasks.instance.report_job import InstanceJob
    from segwb.zoo.catalog import ENTRIES

    boxes = np.float32([[8, 4, 24, 20, 0.97], [0, 0, 47, 31, 0.4], [1, 1, 2, 2, 0.01]])
    heatmaps = np.ones((3, 28, 28), np.float32)
    xml = tmp_path / "rcnn" / "model.xml"
    save_ir(mask_rcnn_model(boxes, np.int32([15, 0, 3]), heatmaps), xml)
    card_fields = {**ENTRIES["instance-segmentation-security-0002"].card, "input_size": [32, 48]}
    _, card = describe(xml, None, card_fields)
    assert (card.adapter, card.color_order, card.resize) == ("mask_rcnn", "BGR", "fit_pad")
    photos = tmp_path / "photos"
    photos.mkdir()
    cv2.imwrite(str(photos / "p.png"), np.full((64, 96, 3), 90, np.uint8))  # scale 0.5 into 32x48
    job = InstanceJob(Project(tmp_path / "project"), open_dataset(photos), card, DetectionLimits(0.1, 100))
    job.mapping = {15: 16}
    from tutorial_runs import predict_role

    predict_role(job, "parent", compile_model(xml, "f32"), InputFeed(job.image_paths(), card))
    results = read_json(job.predictions_file("parent"))
    assert [(r["class_id"], r["category_id"]) for r in results] == [(15, 16), (0, -1)]
    assert results[0]["score"] == pytest.approx(0.97)
    assert results[0]["bbox"] == pytest.approx([16, 8, 32, 32])
    assert results[1]["bbox"] == pytest.approx([0, 0, 94, 62])
