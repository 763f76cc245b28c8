"""The adapter matrix (docs/adapters.md), one test per row: a model built in code with the exporter's exact
signature is described from its graph alone (or with the card keys the row names), run through OpenVINO on a
photo-like image, and decoded; the expected boxes and masks are known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import pytest
from export_signatures import mask_rcnn, semantic, torchvision_mask_rcnn, yolact, yolo

from segwb.core.compile import core
from segwb.core.errors import ModelError
from segwb.inference.preprocess import to_tensor
from segwb.io.model_file import save_ir
from segwb.tasks import get
from segwb.tasks.instance.adapters import output_fields
from segwb.tasks.model_import import describe


def _image(h: int = 32, w: int = 32) -> np.ndarray:
    """A BGR photo stand-in: the left half bright, the right half dark."""
    image = np.full((h, w, 3), 20, np.uint8)
    image[:, : w // 2] = 230
    return image


def _run(model: ov.Model, tmp_path: Path, image: np.ndarray, name: str = "model.xml", labels: str | None = None,
         **card: object):
    """Save ``model``, describe it (graph + ``card`` overrides), infer ``image`` and decode it with the task."""
    xml = tmp_path / name
    save_ir(model, xml)
    if labels is not None:
        (tmp_path / "labels.txt").write_text(labels)
    return _run_file(xml, image, **card)


def _run_file(xml: Path, image: np.ndarray, **card: object):
    described, resolved = describe(xml, None, dict(card))
    compiled = core().compile_model(described, "CPU")
    tensor, geometry = to_tensor(image, resolved, described.input(0).get_element_type().to_dtype())
    request = compiled.create_infer_request()
    request.infer({0: tensor})
    task = get(resolved.task)
    if resolved.task == "semantic":
        return resolved, task.decoder(resolved, None)(request, geometry)
    from segwb.tasks.base import DetectionLimits

    return resolved, task.decoder(resolved, DetectionLimits(0.1, 100))(request, geometry)


def _left_half(found, i: int, h: int = 32, w: int = 32) -> float:
    """IoU of instance ``i``'s mask with the image's bright left half inside its box."""
    mask = found.decode(i).astype(bool)
    x1, y1, x2, y2 = np.round(found.boxes[i]).astype(int)
    expected = np.zeros((h, w), bool)
    expected[y1:y2, x1:min(x2, w // 2)] = True
    return np.count_nonzero(mask & expected) / max(np.count_nonzero(mask | expected), 1)


# --- Ultralytics YOLO-seg ------------------------------------------------------------------------------------------

E2E = np.float32([[2, 4, 30, 28, 0.9, 1, 1, 0], [0, 0, 8, 8, 0.05, 0, 1, 0]])  # x1,y1,x2,y2,score,class, K=2


@pytest.mark.parametrize("proto_layout", ["NCHW", "NHWC"])
def test_yolo26_end_to_end_prototypes_either_layout(tmp_path: Path, proto_layout: str) -> None:
    """YOLO26 [1,N,6+K] with prototypes channels first (OpenVINO, ONNX) or last (TFLite): found from the graph."""
    card, found = _run(yolo(E2E, 2, proto_layout=proto_layout), tmp_path, _image(), labels="person\ncat\n")
    assert (card.adapter, card.proto_layout, card.color_order, card.resize) == ("yolo_e2e", proto_layout, "RGB", "letterbox")
    assert found.class_ids.tolist() == [1] and found.scores.tolist() == pytest.approx([0.9])
    np.testing.assert_allclose(found.boxes, [[2, 4, 30, 28]], atol=1e-3)
    assert _left_half(found, 0) > 0.9


def _raw_rows(classes: int, k: int, anchors: int = 6) -> np.ndarray:
    """[A,4+C+K] anchors: one strong detection of class 1 (cx,cy,w,h = 16,16,28,24), a weaker duplicate NMS drops."""
    rows = np.zeros((anchors, 4 + classes + k), np.float32)
    rows[:, :4] = [4, 4, 2, 2]
    rows[0, :4], rows[0, 4 + 1], rows[0, 4 + classes] = [16, 16, 28, 24], 0.8, 1
    rows[1, :4], rows[1, 4 + 1], rows[1, 4 + classes] = [16, 16, 27, 24], 0.7, 1
    return rows


@pytest.mark.parametrize("proto_layout", ["NCHW", "NHWC"])
def test_yolo11_raw_head_either_prototype_layout(tmp_path: Path, proto_layout: str) -> None:
    """YOLOv8/YOLO11 [1,4+C+K,A]: class-aware NMS keeps one of the two overlapping boxes, either prototype layout
    (the TFLite export's [1,160,160,32] was refused before)."""
    card, found = _run(yolo(_raw_rows(3, 2).T, 2, proto_layout=proto_layout), tmp_path, _image(), labels="a\nb\nc\n")
    assert (card.adapter, card.proto_layout) == ("yolo_raw", proto_layout)
    assert found.class_ids.tolist() == [1]
    np.testing.assert_allclose(found.boxes, [[2, 4, 30, 28]], atol=1e-3)
    assert _left_half(found, 0) > 0.9


def test_yolo_end_to_end_unnamed(tmp_path: Path) -> None:
    """Ultralytics' INT8 OpenVINO export leaves its outputs unnamed (it used to crash segwb)."""
    card, found = _run(yolo(E2E, 2, names=(None, None)), tmp_path, _image(), labels="person\ncat\n")
    assert card.adapter == "yolo_e2e" and found.class_ids.tolist() == [1]


def test_yolo_raw_transposed_and_unnamed(tmp_path: Path) -> None:
    """[1,A,4+C+K] with unnamed outputs (Ultralytics' INT8 IR has none): the feature axis is found by its length."""
    card, found = _run(yolo(_raw_rows(3, 2, anchors=40), 2, names=(None, None)), tmp_path, _image(),
                       labels="a\nb\nc\n")
    assert card.adapter == "yolo_raw" and found.class_ids.tolist() == [1]


def test_tflite_boxes_are_fractions_of_the_input(tmp_path: Path) -> None:
    """Ultralytics' TFLite exports divide boxes by the input size: inferred for .tflite files, settable in the card."""
    rows = _raw_rows(3, 2)
    rows[:, :4] /= 32
    card, found = _run(yolo(rows.T, 2, input_layout="NHWC", proto_layout="NHWC"), tmp_path, _image(),
                       labels="a\nb\nc\n", box_units="normalized")
    assert (card.layout, card.box_units) == ("NHWC", "normalized")
    np.testing.assert_allclose(found.boxes, [[2, 4, 30, 28]], atol=1e-3)
    model = yolo(rows.T, 2, input_layout="NHWC", proto_layout="NHWC")
    assert output_fields(model, {"adapter": "yolo_raw"}, Path("yolo11n-seg_float32.tflite"))["box_units"] == "normalized"
    assert "box_units" not in output_fields(model, {"adapter": "yolo_raw"}, Path("yolo11n-seg.xml"))


def test_f16_ir_and_dynamic_input(tmp_path: Path) -> None:
    """An FP16-compressed IR of a dynamic-size export: the card's input size fixes it; numbers match the f32 IR."""
    _, f32 = _run(yolo(E2E, 2, dynamic=True), tmp_path, _image(), labels="person\ncat\n", input_size=[32, 32])
    xml = tmp_path / "f16.xml"
    ov.save_model(yolo(E2E, 2, dynamic=True), xml, compress_to_fp16=True)
    model, card = describe(xml, None, {"input_size": [32, 32]})
    assert card.adapter == "yolo_e2e" and card.input_size == (32, 32)
    assert any(op.get_type_name() == "Constant" and op.get_element_type() == ov.Type.f16 for op in model.get_ops())
    _, f16 = _run_file(xml, _image(), input_size=[32, 32])
    assert f16.class_ids.tolist() == f32.class_ids.tolist()
    np.testing.assert_allclose(f16.boxes, f32.boxes, atol=0.05)
    assert (f16.decode(0) == f32.decode(0)).mean() > 0.99


def test_yolo_prototypes_that_fit_both_layouts_ask_for_the_key(tmp_path: Path) -> None:
    """A square 8x8x8 prototype tensor on a 32x32 input fits both layouts: the error names 'proto_layout'."""
    xml = tmp_path / "sq.xml"
    save_ir(yolo(np.zeros((2, 6 + 8), np.float32), 8, size=(32, 32)), xml)
    with pytest.raises(ModelError, match="proto_layout") as err:
        describe(xml, None, {"proto_layout": None, "adapter": "yolo_e2e", "task": "instance", "labels": ["a"]})
    # 8 channels of 8x8 prototypes: NCHW K=8 fits 6+K=14; NHWC K=8 too → only the card can say
    assert "fit both" in str(err.value)
    card = describe(xml, None, {"proto_layout": "NCHW", "labels": ["a"]})[1]
    assert card.proto_layout == "NCHW"


# --- Mask R-CNN family ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, heatmap", [((768, 1024), 28), ((608, 608), 28), ((320, 544), 224)],
                         ids=["security-0002", "security-1040", "person-0007"])
def test_open_model_zoo_mask_rcnn(tmp_path: Path, size: tuple[int, int], heatmap: int) -> None:
    """boxes [N,5], labels [N], masks [N,M,M]: 0002/0091/0228/1040 have M=28, person-0007 M=224."""
    h, w = size
    boxes = np.float32([[w * 0.25, h * 0.25, w * 0.75, h * 0.75, 0.9]])
    card, found = _run(mask_rcnn(boxes, np.int32([0]), np.ones((1, heatmap, heatmap), np.float32), size), tmp_path,
                       _image(h // 8, w // 8), labels="person\n", mean=0, scale=1, color_order="BGR", resize="fit_pad")
    assert card.adapter == "mask_rcnn" and card.input_size == size
    np.testing.assert_allclose(found.boxes, [[w / 32, h / 32, 3 * w / 32, 3 * h / 32]], atol=0.2)
    assert 0.8 < found.areas()[0] / ((w / 16) * (h / 16)) < 1.25


def test_mask_rcnn_unnamed_outputs_by_shape(tmp_path: Path) -> None:
    model = mask_rcnn(np.float32([[4, 4, 20, 20, 0.9]]), np.int32([0]), np.ones((1, 28, 28), np.float32), (32, 32),
                      named=False)
    card, found = _run(model, tmp_path, _image(), labels="person\n", mean=0, scale=1, color_order="BGR",
                       resize="fit_pad")
    assert card.adapter == "mask_rcnn" and len(found.scores) == 1


@pytest.mark.parametrize("named", [True, False])
def test_torchvision_mask_rcnn_onnx(tmp_path: Path, named: bool) -> None:
    """[3,H,W] input gains a batch axis; masks [N,1,H,W] are probabilities at the input size, cut to the content."""
    model = torchvision_mask_rcnn(np.float32([[0, 0, 32, 16], [0, 0, 4, 4]]), np.int64([1, 2]), np.float32([0.95, 0.05]),
                                  named=named)
    card, found = _run(model, tmp_path, _image(16, 32), labels="__background__\nperson\ncar\n", input_size=[32, 32])
    assert (card.adapter, card.layout, card.color_order, card.scale) == ("torchvision_mask_rcnn", "NCHW", "RGB", (255.0,) * 3)
    assert found.class_ids.tolist() == [1]
    np.testing.assert_allclose(found.boxes, [[0, 0, 32, 16]], atol=1e-3)
    mask = found.decode(0).astype(bool)  # brightness 230/255 > 0.5 on the left half, 20/255 on the right
    assert mask.shape == (16, 32) and mask[:, :16].all() and not mask[:, 16:].any()


# --- YOLACT ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("named", [True, False])
def test_yolact(tmp_path: Path, named: bool) -> None:
    """Background-first confidences, boxes as fractions, channels-last prototypes."""
    boxes = np.float32([[2 / 32, 4 / 32, 30 / 32, 28 / 32], [0, 0, 0.25, 0.25]])
    conf = np.float32([[0.1, 0.1, 0.8], [0.9, 0.05, 0.05]])  # the second anchor is background
    coeffs = np.float32([[1, 0], [1, 0]])
    card, found = _run(yolact(boxes, conf, coeffs, named=named), tmp_path, _image(), labels="person\ncat\n",
                       color_order="RGB", mean=[123.675, 116.28, 103.53], scale=[58.395, 57.12, 57.375], resize="stretch")
    assert (card.adapter, card.proto_layout) == ("yolact", "NHWC")
    assert found.class_ids.tolist() == [1] and found.scores.tolist() == pytest.approx([0.8])
    np.testing.assert_allclose(found.boxes, [[2, 4, 30, 28]], atol=1e-3)


# --- Semantic -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("id_type, axes, scale", [(ov.Type.i64, "NHW", 1), (ov.Type.i32, "NHW", 4),
                                                  (ov.Type.i32, "NCHW", 1), (ov.Type.i64, "NHWC", 2),
                                                  (ov.Type.i32, "HW", 4)],
                         ids=["i64 [1,H,W]", "i32 [1,H,W] at 1/4", "i32 [1,1,H,W]", "i64 [1,H,W,1] at 1/2", "i32 [H,W] at 1/4"])
def test_class_id_maps(tmp_path: Path, id_type: ov.Type, axes: str, scale: int) -> None:
    """Pixels 230 - 128 on the left make class 2 win (weight 3), 20 - 128 on the right class 0 (weight 1): the map,
    at the input size or lower, comes back at the image size with exactly those halves."""
    card, ids = _run(semantic("ids", 3, id_type=id_type, id_axes=axes, scale=scale), tmp_path, _image(),
                     labels="a\nb\nc\n", mean=128, scale=1, color_order="RGB", resize="stretch")
    assert card.adapter == "class_map" and ids.shape == (32, 32)
    assert (ids[:, :16] == 2).all() and (ids[:, 16:] == 0).all()


@pytest.mark.parametrize("layout, scale", [("NCHW", 1), ("NHWC", 1), ("NCHW", 4)], ids=["NCHW", "NHWC", "1/4 size"])
def test_per_class_scores(tmp_path: Path, layout: str, scale: int) -> None:
    """Scores at the input size or at 1/4 (SegFormer), upsampled before the arg-max; channel 2 (weight 3) wins."""
    card, ids = _run(semantic("scores", 3, layout=layout, scale=scale), tmp_path, _image(), labels="a\nb\nc\n",
                     mean=0, scale=1, color_order="RGB", resize="stretch")
    assert (card.adapter, card.output_layout) == ("scores", layout)
    assert (ids == 2).all()


@pytest.mark.parametrize("last_op, activation", [("sigmoid", "none"), ("none", "sigmoid")])
def test_one_channel_probability_or_logit(tmp_path: Path, last_op: str, activation: str) -> None:
    """A one-channel output after a Sigmoid is a probability; without one it is a logit (activation: sigmoid)."""
    card, ids = _run(semantic("scores", 1, last_op=last_op), tmp_path, _image(), labels="background\nperson\n",
                     mean=125, scale=350, color_order="RGB", resize="stretch")
    assert card.activation == activation
    # the output is 0.3 on the left and -0.3 on the right (as a logit), or sigmoid of those (0.57, 0.43): either way
    # left is foreground only if it is read as it is meant; a logit read as a probability would lose the left half
    # (0.3 < 0.5), a probability read as a logit would take both halves (0.43 > 0)
    assert ids[:, :16].all() and not ids[:, 16:].any()


def test_two_channel_softmax(tmp_path: Path) -> None:
    card, ids = _run(semantic("scores", 2, last_op="softmax"), tmp_path, _image(), labels="background\nroad\n",
                     mean=0, scale=1, color_order="RGB", resize="stretch")
    assert card.adapter == "scores" and (ids == 1).all()


def test_labels_from_rt_info(tmp_path: Path) -> None:
    """OpenVINO Model API keeps the names in rt_info model_info/labels: used when no card, labels.txt or metadata."""
    model = semantic("scores", 3)
    model.set_rt_info("background road car", ["model_info", "labels"])
    card, _ = _run(model, tmp_path, _image(), mean=0, scale=1, color_order="RGB", resize="stretch")
    assert card.labels == ("background", "road", "car")
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    assert describe(tmp_path / "model.xml", None, {"mean": 0, "scale": 1, "color_order": "RGB",
                                                   "resize": "stretch"})[1].labels == ("a", "b", "c")


def test_tflite_full_integer_io_reads_as_real_values(tmp_path: Path) -> None:
    """Ultralytics' full-integer TFLite as OpenVINO's frontend reads it: int8 input (s = 1/255, zp = -128, so
    q = pixel - 128) and int8 outputs; made float on the same grid (what ``describe`` does for .tflite files), the
    detections decode to the float model's boxes and classes."""
    from export_signatures import tflite_full_integer

    from segwb.io.integer_io import float_io

    dets = np.float32([[2, 4, 30, 28, 0.9, 1, 1, 0]]) / 40  # inside the output grid: 256 steps of 1/40 around 0
    quantized = tflite_full_integer(yolo(dets, 2, input_layout="NHWC", proto_layout="NHWC"), 1 / 255, -128, 1 / 40, 0)
    model, fields = float_io(quantized)
    assert fields == {} and model.input(0).get_element_type() == ov.Type.f32
    assert [o.get_element_type() for o in model.outputs] == [ov.Type.f32, ov.Type.f32]
    assert [o.get_any_name() for o in model.outputs] == ["output0", "output1"]  # order and names kept
    compiled = core().compile_model(model, "CPU")
    image = _image()
    out = compiled(image[np.newaxis, ..., ::-1].astype(np.float32) / 255)
    np.testing.assert_allclose(out[0][0, 0], dets[0], atol=1 / 40)


def test_u8_full_integer_input_keeps_raw_pixels() -> None:
    """A u8 quantized input (s = 1/127.5, zp = 128: Coral's DeepLab) takes raw pixels: mean 128, scale 127.5."""
    from export_signatures import tflite_full_integer

    from segwb.io.integer_io import float_io

    quantized = tflite_full_integer(semantic("scores", 3, layout="NHWC"), 1 / 127.5, 128, 0.05, 0, ov.Type.u8)
    quantized.set_rt_info("a b c", ["model_info", "labels"])
    model, fields = float_io(quantized)
    assert fields["mean"] == pytest.approx(128) and fields["scale"] == pytest.approx(127.5)
    assert model.has_rt_info(["model_info", "labels"])  # changed in place: Model API's labels survive


def test_an_int8_ir_keeps_its_integer_input(tmp_path: Path) -> None:
    """The TFLite rewrite is for .tflite files only: an IR whose first FakeQuantize spans 0..255 after a u8 input
    (NNCF's INT8 of a raw-pixel model) is read as it is, u8 input and all."""
    from export_signatures import tflite_full_integer

    xml = tmp_path / "int8.xml"
    save_ir(tflite_full_integer(semantic("scores", 3, layout="NHWC"), 1 / 127.5, 128, 0.05, 0, ov.Type.u8), xml)
    model, card = describe(xml, None, {"color_order": "RGB", "resize": "stretch", "labels": ["a", "b", "c"],
                                       "adapter": "scores", "output_layout": "NHWC"})
    assert model.input(0).get_element_type() == ov.Type.u8 and card.mean == (0, 0, 0)
