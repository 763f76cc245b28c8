"""Tiny models built in code with exactly the output signatures of real exporters (names or none, shapes, dtypes,
layouts), for the adapter matrix (docs/adapters.md). Each takes a constant detection table, so the expected
boxes are known, and computes its masks from the image, so they follow the photo through the real pipeline."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops


def _name(node: ov.Node, name: str | None) -> ov.Node:
    if name:
        node.output(0).set_names({name})
    return node


def _depends(value: np.ndarray, image: ov.Node, dtype: type = np.float32) -> ov.Node:
    """A constant output that still hangs off the image (OpenVINO folds a graph without one)."""
    zero = ops.multiply(ops.reduce_mean(image, ops.constant(np.int64(list(range(image.get_output_partial_shape(0).rank.get_length())))), False),
                        ops.constant(np.float32(0)))
    out = ops.add(ops.constant(np.asarray(value, np.float32)), zero)
    return ops.convert(out, ov.Type.i64) if dtype is np.int64 else out


def _protos(image: ov.Node, k: int, layout_in: str, layout_out: str) -> ov.Node:
    """K prototypes at 1/4 of the input from a strided conv: channel 0 positive on bright pixels, the rest on dark."""
    x = ops.transpose(image, ops.constant(np.int64([0, 3, 1, 2]))) if layout_in == "NHWC" else image
    weights = np.full((k, 3, 4, 4), -10 / 48, np.float32)
    weights[0] = 10 / 48
    bias = np.float32([-5] + [5] * (k - 1)).reshape(1, k, 1, 1)
    protos = ops.add(ops.convolution(x, ops.constant(weights), [4, 4], [0, 0], [0, 0], [1, 1]), ops.constant(bias))
    return ops.transpose(protos, ops.constant(np.int64([0, 2, 3, 1]))) if layout_out == "NHWC" else protos


def yolo(detections: np.ndarray, k: int, size: tuple[int, int] = (32, 32), input_layout: str = "NCHW",
         proto_layout: str = "NCHW", names: tuple[str | None, str | None] = ("output0", "output1"),
         dynamic: bool = False) -> ov.Model:
    """An Ultralytics YOLO-seg export: ``detections`` is the first output as given (e2e [N,6+K], raw [4+C+K,A]
    or its transpose), with a batch axis added; prototypes [1,K,h,w] or [1,h,w,K]."""
    h, w = size
    shape = [1, 3, h, w] if input_layout == "NCHW" else [1, h, w, 3]
    if dynamic:
        shape = [1, 3, -1, -1] if input_layout == "NCHW" else [1, -1, -1, 3]
    image = ops.parameter(ov.PartialShape(shape), ov.Type.f32, name="images")
    dets = _name(_depends(np.asarray(detections, np.float32)[np.newaxis], image), names[0])
    protos = _name(_protos(image, k, input_layout, proto_layout), names[1])
    return ov.Model([dets, protos], [image], "yolo_export")


def mask_rcnn(boxes: np.ndarray, labels: np.ndarray, masks: np.ndarray, size: tuple[int, int],
              named: bool = True) -> ov.Model:
    """Open Model Zoo's Mask R-CNN signature (input ``image`` BGR NCHW): boxes [N,5], labels [N] i32, masks [N,M,M]."""
    image = ops.parameter([1, 3, *size], ov.Type.f32, name="image")
    outs = [_depends(boxes, image), ops.convert(_depends(labels, image), ov.Type.i32), _depends(masks, image)]
    for node, name in zip(outs, ("boxes", "labels", "masks")):
        _name(node, name if named else None)
    return ov.Model(outs, [image], "omz_mask_rcnn")


def torchvision_mask_rcnn(boxes: np.ndarray, labels: np.ndarray, scores: np.ndarray,
                          named: bool = True) -> ov.Model:
    """torchvision's Mask R-CNN ONNX export: input [3,H,W] RGB 0..1 (dynamic); boxes [N,4], labels [N] i64,
    scores [N], masks [N,1,H,W]: here each mask is the image's mean brightness (so bright pixels are inside)."""
    image = ops.parameter(ov.PartialShape([3, -1, -1]), ov.Type.f32, name="image")
    n = len(scores)
    brightness = ops.unsqueeze(ops.reduce_mean(image, ops.constant(np.int64([0])), True), ops.constant(np.int64([0])))
    masks = ops.tile(brightness, ops.constant(np.int64([n, 1, 1, 1])))
    outs = [_depends(boxes, image), _depends(labels, image, np.int64), _depends(scores, image), masks]
    for node, name in zip(outs, ("boxes", "labels", "scores", "masks")):
        _name(node, name if named else None)
    return ov.Model(outs, [image], "torchvision_mask_rcnn")


def yolact(boxes: np.ndarray, conf: np.ndarray, coeffs: np.ndarray, size: int = 32, named: bool = True) -> ov.Model:
    """Open Model Zoo's YOLACT: boxes [1,A,4] (fractions of the input), conf [1,A,C+1], mask [1,A,K], proto
    [1,h,w,K] channels last."""
    image = ops.parameter([1, 3, size, size], ov.Type.f32, name="input.1")
    k = coeffs.shape[1]
    outs = [_depends(boxes[np.newaxis], image), _depends(conf[np.newaxis], image), _depends(coeffs[np.newaxis], image),
            _protos(image, k, "NCHW", "NHWC")]
    for node, name in zip(outs, ("boxes", "conf", "mask", "proto")):
        _name(node, name if named else None)
    return ov.Model(outs, [image], "yolact")


def semantic(output: str, channels: int, size: tuple[int, int] = (32, 32), scale: int = 1, layout: str = "NCHW",
             last_op: str = "none", id_type: ov.Type = ov.Type.i64, id_axes: str = "NHW") -> ov.Model:
    """A semantic model on a [1,3,H,W] image: per-class scores (NCHW or NHWC, at 1/``scale`` of the input, ending in
    ``last_op`` softmax/sigmoid/none; class c weighs colour channel c % 3 by c + 1) or an id map of those scores'
    arg-max (``id_type``, axes ``id_axes``: NHW, NCHW, NHWC or HW)."""
    h, w = size
    image = ops.parameter([1, 3, h, w], ov.Type.f32, name="input")
    weights = np.zeros((channels, 3, scale, scale), np.float32)
    for c in range(channels):
        weights[c, c % 3] = (c + 1) / (scale * scale)
    scores = ops.convolution(image, ops.constant(weights), [scale, scale], [0, 0], [0, 0], [1, 1])
    if output == "ids":
        ids = ops.topk(scores, ops.constant(np.int64(1)), 1, "max", "value", id_type).output(1)  # [1,1,h,w]
        if id_axes == "NHWC":
            node = ops.transpose(ids, ops.constant(np.int64([0, 2, 3, 1])))
        elif id_axes == "NCHW":
            node = ops.convert(ids, id_type)
        else:
            node = ops.squeeze(ids, ops.constant(np.int64([0, 1] if id_axes == "HW" else [1])))
        return ov.Model([_name(node, "ids")], [image], "ids")
    if last_op == "softmax":
        scores = ops.softmax(scores, 1)
    elif last_op == "sigmoid":
        scores = ops.sigmoid(scores)
    if layout == "NHWC":
        scores = ops.transpose(scores, ops.constant(np.int64([0, 2, 3, 1])))
    return ov.Model([_name(scores, "scores")], [image], "scores")


def tflite_full_integer(float_model: ov.Model, in_scale: float, in_zp: int, out_scale: float, out_zp: int,
                        input_type: ov.Type = ov.Type.i8) -> ov.Model:
    """``float_model`` as OpenVINO's TFLite frontend reads a full-integer export of it (TFLQuantizeReplacer): the
    input ``Parameter(i8|u8) → Convert(f32) → FakeQuantize`` and each output ``FakeQuantize → Convert(i8)``."""
    low = -128 if input_type == ov.Type.i8 else 0
    old = float_model.get_parameters()[0]
    param = ops.parameter(old.get_partial_shape(), input_type, name=old.get_friendly_name())
    c = lambda v: ops.constant(np.float32(v))  # noqa: E731
    dequant = ops.fake_quantize(ops.convert(param, ov.Type.f32), c(low), c(low + 255), c((low - in_zp) * in_scale),
                                c((low + 255 - in_zp) * in_scale), 256)
    for target in list(old.output(0).get_target_inputs()):
        target.replace_source_output(dequant.output(0))
    results = []
    for result in float_model.get_results():
        x = result.input_value(0)
        names = x.get_names()
        q = ops.fake_quantize(x, c((-128 - out_zp) * out_scale), c((127 - out_zp) * out_scale), c(-128), c(127), 256)
        out = ops.convert(q, ov.Type.i8)
        x.set_names(set())
        out.output(0).set_names(names)
        results.append(ops.result(out))
    return ov.Model(results, [param], "tflite_full_integer")
