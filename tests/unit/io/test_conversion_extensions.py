"""The MediaPipe ``Convolution2DTransposeBias`` translator computes MediaPipe's scatter formula exactly, checked
against NumPy on odd and even sizes (the real selfie model is checked in tests/integration/test_zoo_selfie.py)."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest
from openvino.frontend import ConversionExtension

from segwb.core.compile import core
from segwb.io.conversion_extensions import (
    _convert_transpose_conv_bias,
    _same_pads,
    mediapipe_extensions,
)


class Context:
    """What the translator asks of OpenVINO's NodeContext: its three inputs."""

    def __init__(self, *inputs: ov.Output) -> None:
        self.inputs = inputs

    def get_input(self, index: int) -> ov.Output:
        return self.inputs[index]


def _reference(x: np.ndarray, w: np.ndarray, bias: np.ndarray, stride: int = 2) -> np.ndarray:
    """MediaPipe's transpose_conv_bias: in[y] * w[f] scattered to out[y*s - pad + f], its SAME crop, plus bias (NHWC)."""
    _, h, wd, _ = x.shape
    o, k, _, _ = w.shape
    full = np.zeros((1, (h - 1) * stride + k, (wd - 1) * stride + k, o), np.float64)
    for y in range(h):
        for xx in range(wd):
            full[0, y * stride:y * stride + k, xx * stride:xx * stride + k] += np.einsum("i,okli->klo", x[0, y, xx], w)
    (top, bottom), (left, right) = _same_pads(h, k, stride), _same_pads(wd, k, stride)
    return full[:, top:full.shape[1] - bottom, left:full.shape[2] - right] + bias


@pytest.mark.parametrize("size", [(4, 6), (3, 5)])
def test_translation_equals_mediapipes_formula(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, *size, 3)).astype(np.float32)
    w = rng.normal(size=(2, 3, 3, 3)).astype(np.float32)  # OHWI, as TFLite stores it
    bias = np.float32([0.5, -1.0])
    data = ops.parameter(list(x.shape), ov.Type.f32)
    [out] = _convert_transpose_conv_bias(Context(data.output(0), ops.constant(w).output(0), ops.constant(bias).output(0)))
    compiled = core().compile_model(ov.Model([out.get_node()], [data]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled({0: x})[0]
    assert got.shape[1:3] == tuple((n - 1) * 2 + 3 - sum(_same_pads(n, 3, 2)) for n in size)
    np.testing.assert_allclose(got, _reference(x, w, bias), rtol=1e-5, atol=1e-5)


def test_same_padding_crops_like_mediapipe() -> None:
    assert _same_pads(4, 3, 2) == (0, 1) and _same_pads(3, 3, 2) == (1, 1) and _same_pads(4, 2, 2) == (0, 0)


def test_the_extension_names_the_custom_op() -> None:
    [extension] = mediapipe_extensions()
    assert isinstance(extension, ConversionExtension)
