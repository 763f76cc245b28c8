"""What precision a graph holds, on models built in code: FakeQuantize, int8 weights with their decompression,
f16-compressed weights, and f32 weights that merely carry int8 rounding (as the fixtures' do)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from segwb.io.model_precision import precision_summary

WEIGHTS = np.random.default_rng(0).normal(0, 0.05, (4, 3, 3, 3)).astype(np.float32)


def _conv_model(weights: ov.Node, fake_quantize: bool = False) -> ov.Model:
    image = ops.parameter([1, 3, 16, 16], ov.Type.f32, name="image")
    x: ov.Node = image
    if fake_quantize:  # an activation quantizer, as NNCF inserts before a convolution
        low, high = ops.constant(np.float32(0)), ops.constant(np.float32(1))
        x = ops.fake_quantize(x, low, high, low, high, 256)
    conv = ops.convolution(x, weights, [1, 1], [1, 1], [1, 1], [1, 1])
    return ov.Model([ops.relu(conv)], [image], "conv")


def _int8_weights(zero_point: bool = False) -> ov.Node:
    """i8 constant → Convert → (Subtract a u8 zero point) → Multiply by a per-channel scale: weight decompression."""
    scale = np.abs(WEIGHTS).max(axis=(1, 2, 3), keepdims=True) / 127
    x: ov.Node = ops.convert(ops.constant(np.round(WEIGHTS / scale).astype(np.int8)), ov.Type.f32)
    if zero_point:
        x = ops.subtract(x, ops.convert(ops.constant(np.zeros((4, 1, 1, 1), np.uint8)), ov.Type.f32))
    return ops.multiply(x, ops.constant(scale.astype(np.float32)))


def test_fake_quantize_is_int8() -> None:
    found = precision_summary(_conv_model(ops.constant(WEIGHTS), fake_quantize=True))
    assert (found["kind"], found["quantized"], found["fake_quantize"], found["int8_weights"]) == ("int8", True, 1, 0)
    assert found["description"] == "INT8: 1 FakeQuantize"


def test_int8_weights_with_their_decompression_are_int8() -> None:
    found = precision_summary(_conv_model(_int8_weights()))
    assert (found["kind"], found["quantized"], found["fake_quantize"], found["int8_weights"]) == ("int8", True, 0, 1)
    assert found["description"] == "INT8: 1 int8 weight"
    # a zero point is not a weight of its own
    assert precision_summary(_conv_model(_int8_weights(zero_point=True)))["int8_weights"] == 1


def test_an_fp16_compressed_ir_is_fp16(tmp_path: Path) -> None:
    ov.save_model(_conv_model(ops.constant(WEIGHTS)), tmp_path / "f16.xml", compress_to_fp16=True)
    found = precision_summary(ov.Core().read_model(tmp_path / "f16.xml"))
    assert (found["kind"], found["quantized"], found["f16_weights"]) == ("fp16", False, 1)
    assert found["description"] == "FP16 weights: 1 f16 constant"


def test_f32_weights_on_an_int8_grid_are_f32() -> None:
    """Rebuilt from an INT8 export, the weights are f32 constants that happen to hold 255 values: not quantized."""
    scale = np.abs(WEIGHTS).max() / 127
    found = precision_summary(_conv_model(ops.constant((np.round(WEIGHTS / scale) * scale).astype(np.float32))))
    assert (found["kind"], found["quantized"], found["fake_quantize"], found["int8_weights"], found["f16_weights"]) == \
           ("f32", False, 0, 0, 0)


def test_int8_constants_that_are_not_weights_do_not_count() -> None:
    """A u8 lookup table added to the output is not a convolution's weight."""
    model = _conv_model(ops.constant(WEIGHTS))
    table = ops.convert(ops.constant(np.arange(4, dtype=np.uint8).reshape(1, 4, 1, 1)), ov.Type.f32)
    model = ov.Model([ops.add(model.get_results()[0].input_value(0), table)], model.get_parameters(), "lut")
    assert precision_summary(model)["kind"] == "f32"
