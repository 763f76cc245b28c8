"""What precision a model's graph holds: FakeQuantize nodes, int8 weights (with their decompression into floating
point), f16 weights, or plain f32. One reading, used for a parent that may already be quantized and for an
optimized model the user brings."""

from __future__ import annotations

from typing import Any

import openvino as ov

LOW_BIT = (ov.Type.u8, ov.Type.i8, ov.Type.u4, ov.Type.i4)
# The ops whose weights quantization or compression stores in fewer bits.
WEIGHTED = {"Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData", "MatMul"}
# What lies between a stored weight and the op that uses it: decompression (Convert, then the zero point and scale),
# the reshapes of grouped convolutions, and the FakeQuantize of a weight not yet folded into int8.
WEIGHT_PATH = {"Convert", "Subtract", "Multiply", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "FakeQuantize"}
VALUE_PORT_ONLY = {"Subtract", "FakeQuantize"}  # their other inputs are a zero point or ranges, not weights
MAX_PATH = 6  # a decompression chain is a handful of ops; a longer walk is leaving the weight


def _feeds_weighted_op(node: ov.Node, depth: int = 0) -> bool:
    """Whether ``node``'s value reaches a convolution's or matmul's input through weight-path ops only."""
    for output in node.outputs():
        for target in output.get_target_inputs():
            consumer = target.get_node()
            kind = consumer.get_type_name()
            if kind in VALUE_PORT_ONLY and target.get_index() != 0:
                continue
            if kind in WEIGHTED or (kind in WEIGHT_PATH and depth < MAX_PATH and _feeds_weighted_op(consumer, depth + 1)):
                return True
    return False


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def precision_summary(model: ov.Model) -> dict[str, Any]:
    """Counts of FakeQuantize ops and of int8 (u8/i8/u4/i4) and f16 weight constants feeding convolutions and
    matmuls; ``kind`` ("int8", "fp16" or "f32"), ``quantized`` and a one-line ``description``.

    A model whose f32 weights merely carry int8 rounding (rebuilt from an INT8 export) is f32: what the graph
    stores and computes is floating point, and NNCF can quantize it like any other."""
    fake_quantize, weights = 0, {"int8": 0, "f16": 0}
    for node in model.get_ops():
        kind = node.get_type_name()
        if kind == "FakeQuantize":
            fake_quantize += 1
        elif kind == "Constant" and node.get_output_partial_shape(0).rank.get_length() >= 1:
            element = node.get_element_type()
            bits = "int8" if element in LOW_BIT else "f16" if element == ov.Type.f16 else None
            if bits is not None and _feeds_weighted_op(node):
                weights[bits] += 1
    if fake_quantize or weights["int8"]:
        kind = "int8"
        parts = ([f"{fake_quantize} FakeQuantize"] if fake_quantize else []) + \
                ([_count(weights["int8"], "int8 weight")] if weights["int8"] else [])
        description = "INT8: " + ", ".join(parts)
    elif weights["f16"]:
        kind, description = "fp16", f"FP16 weights: {_count(weights['f16'], 'f16 constant')}"
    else:
        kind, description = "f32", "f32: no FakeQuantize, no int8 or f16 weights"
    return {"kind": kind, "quantized": kind == "int8", "fake_quantize": fake_quantize, "int8_weights": weights["int8"],
            "f16_weights": weights["f16"], "description": description}
