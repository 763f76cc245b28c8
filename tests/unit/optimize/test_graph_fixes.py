"""Graph rewrites around NNCF: weight folding and the TopK tail layout change nothing the model computes."""

from __future__ import annotations

import logging

import nncf
import numpy as np
import openvino as ov
import openvino.opset11 as ops
import pytest
from openvino.utils.node_factory import NodeFactory

from segwb.core.compile import core
from segwb.optimize import graph_fixes
from segwb.optimize.graph_fixes import (
    fold_weight_constants,
    keep_tail_rewrite,
    sink_tail_transposes,
)

CHANNELS = 8


def depthwise_model() -> ov.Model:
    """A depthwise conv whose kernel is stored HWC and reaches the layer through Transpose/Reshape, as TF converters leave it."""
    x = ops.parameter([1, CHANNELS, 16, 16], np.float32, name="x")
    kernel = np.random.default_rng(0).normal(size=(3, 3, CHANNELS)).astype(np.float32)
    w = ops.transpose(ops.constant(kernel), ops.constant(np.array([2, 0, 1], np.int64)))
    w = ops.reshape(w, ops.constant(np.array([CHANNELS, 1, 1, 3, 3], np.int64)), False)
    y = ops.group_convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1])
    y = ops.convolution(ops.relu(y), ops.constant(np.ones((4, CHANNELS, 1, 1), np.float32)), [1, 1], [0, 0], [0, 0], [1, 1])
    return ov.Model([y], [x], "depthwise")


def tail_model(interpolate: str = "v11", k: int = 1, softmax: bool = False, values_used: bool = False) -> ov.Model:
    """conv -> Transpose to NHWC -> Interpolate on H, W -> (Softmax on C) -> TopK on C, the channels-last tail."""
    x = ops.parameter([1, 3, 12, 12], np.float32, name="x")
    scores = ops.convolution(x, ops.constant(np.random.default_rng(1).normal(size=(5, 3, 1, 1)).astype(np.float32)),
                             [1, 1], [0, 0], [0, 0], [1, 1])
    y = ops.transpose(scores, ops.constant(np.array([0, 2, 3, 1], np.int64)))
    sizes, axes = ops.constant(np.array([30, 30], np.int64)), ops.constant(np.array([1, 2], np.int64))
    if interpolate == "v11":
        y = ops.interpolate(y, sizes, "linear_onnx", "sizes", coordinate_transformation_mode="align_corners", axes=axes)
    else:
        scales = ops.constant(np.array([2.5, 2.5], np.float32))
        y = NodeFactory("opset4").create("Interpolate", [y.output(0), sizes.output(0), scales.output(0), axes.output(0)], {
            "mode": "linear", "shape_calculation_mode": "sizes", "coordinate_transformation_mode": "half_pixel",
            "nearest_mode": "round_prefer_floor", "antialias": False, "pads_begin": [0] * 4, "pads_end": [0] * 4,
            "cube_coeff": -0.75})
    if softmax:
        y = ops.softmax(y, -1)
    topk = ops.topk(y, ops.constant(np.int64(k)), 3, "max", "value", "i64", True)
    outputs = [ops.squeeze(topk.output(1), ops.constant(np.array([3], np.int64))).output(0)]
    if values_used:
        outputs.append(topk.output(0))
    return ov.Model(outputs, [x], "tail")


def run(model: ov.Model, x: np.ndarray, precision: str = "f32") -> list[np.ndarray]:
    compiled = core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": precision})
    return [np.array(v) for v in compiled(x).values()]


def types_feeding(model: ov.Model, kind: str) -> set[str]:
    return {op.input(0).get_source_output().get_node().get_type_name()
            for op in model.get_ordered_ops() if op.get_type_name() == kind}


def test_fold_gives_constant_weights_and_same_outputs():
    model = depthwise_model()
    x = np.random.default_rng(2).normal(size=(1, CHANNELS, 16, 16)).astype(np.float32)
    before = run(model, x)
    fix = fold_weight_constants(model)
    assert fix is not None and fix.name == "fold-weight-constants"
    assert len(fix.nodes) == 1 and "GroupConvolution" in fix.summary
    conv = next(op for op in model.get_ordered_ops() if op.get_type_name() == "GroupConvolution")
    assert conv.input(1).get_source_output().get_node().get_type_name() == "Constant"
    np.testing.assert_array_equal(run(model, x)[0], before[0])


def test_after_folding_nncf_quantizes_the_depthwise_weights():
    def weight_quantized(model: ov.Model) -> bool:
        """NNCF leaves quantized weights as a FakeQuantize or as int8 constants with a dequantizing Multiply."""
        conv = next(op for op in model.get_ordered_ops() if op.get_type_name() == "GroupConvolution")
        stack = [conv.input(1).get_source_output().get_node()]
        while stack:
            node = stack.pop()
            if node.get_type_name() == "FakeQuantize" or node.get_output_element_type(0) in (ov.Type.i8, ov.Type.u8):
                return True
            stack.extend(i.get_source_output().get_node() for i in node.inputs())
        return False

    data = nncf.Dataset([np.random.default_rng(i).normal(size=(1, CHANNELS, 16, 16)).astype(np.float32) for i in range(3)])
    logging.getLogger("nncf").setLevel(logging.ERROR)
    plain = nncf.quantize(depthwise_model(), data, subset_size=3, fast_bias_correction=True)
    folded_model = depthwise_model()
    fold_weight_constants(folded_model)
    folded = nncf.quantize(folded_model, data, subset_size=3, fast_bias_correction=True)
    assert not weight_quantized(plain), "NNCF learned to see through constant subgraphs: the fold may be unnecessary now"
    assert weight_quantized(folded)


def test_fold_reports_nothing_when_weights_are_constants():
    model = tail_model()
    assert fold_weight_constants(model) is None


@pytest.mark.parametrize(("interpolate", "k", "softmax", "values_used"),
                         [("v11", 1, False, False), ("v4", 1, False, False), ("v11", 2, True, True)])
def test_sinking_the_transpose_keeps_every_output(interpolate, k, softmax, values_used):
    model = tail_model(interpolate, k, softmax, values_used)
    rng = np.random.default_rng(3)
    # integer inputs make many exact ties between classes: the first index must still win, as before
    inputs = [rng.normal(size=(1, 3, 12, 12)).astype(np.float32), rng.integers(0, 2, size=(1, 3, 12, 12)).astype(np.float32)]
    before = [run(model, x, p) for x in inputs for p in ("f32", "bf16")]
    assert len(sink_tail_transposes(model)) == 1
    assert "Transpose" not in types_feeding(model, "TopK") and "Transpose" not in types_feeding(model, "Interpolate")
    after = [run(model, x, p) for x in inputs for p in ("f32", "bf16")]
    for outs_before, outs_after in zip(before, after, strict=True):
        for b, a in zip(outs_before, outs_after, strict=True):
            assert a.shape == b.shape and a.dtype == b.dtype
            if np.issubdtype(a.dtype, np.integer):
                np.testing.assert_array_equal(a, b)
            else:  # a kernel for another memory order may round the last bit differently
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_transpose_with_other_consumers_is_left_alone():
    model = tail_model()
    transpose = next(op for op in model.get_ordered_ops() if op.get_type_name() == "Transpose")
    model.add_results([ops.result(transpose.output(0))])
    assert sink_tail_transposes(model) == []


def test_keep_tail_rewrite_records_checks_and_timing():
    model = tail_model()
    x = [np.random.default_rng(4).normal(size=(1, 3, 12, 12)).astype(np.float32)]
    result, fix = keep_tail_rewrite(model, x, seconds=0.2)
    assert fix is not None and fix.name == "tail-layout"
    for precision in ("default", "f32"):
        assert fix.measured[precision]["identical_share"] == 1.0
        assert fix.measured[precision]["latency_ms_before"] > 0 and fix.measured[precision]["latency_ms_after"] > 0
    assert (result is not model) == fix.measured["kept"]


def test_keep_tail_rewrite_refuses_a_rewrite_that_changes_outputs(monkeypatch):
    monkeypatch.setattr(graph_fixes, "_identical_share", lambda a, b: 0.999)
    model = tail_model()
    result, fix = keep_tail_rewrite(model, [np.zeros((1, 3, 12, 12), np.float32)], seconds=0.1)
    assert result is model
    assert fix.measured["kept"] is False and "outputs differed" in fix.summary


def test_a_model_without_the_pattern_is_returned_as_is():
    model = depthwise_model()
    result, fix = keep_tail_rewrite(model, [np.zeros((1, CHANNELS, 16, 16), np.float32)])
    assert result is model and fix is None
