"""OpenVINO conversion extensions for MediaPipe's custom TFLite ops.

MediaPipe's selfie-segmentation model ends in ``Convolution2DTransposeBias``, a
custom op that OpenVINO's TFLite frontend has no translator for. Usage::

    import openvino as ov
    from segwb.io.conversion_extensions import mediapipe_extensions

    model = ov.convert_model("selfie_segmentation.tflite",
                             extension=mediapipe_extensions())
"""

from __future__ import annotations

from typing import Any

import openvino as ov
import openvino.opset13 as ops
from openvino.frontend import ConversionExtension, NodeContext

__all__ = ["mediapipe_extensions"]

# MediaPipe stores this op's options as a raw ``TfLiteTransposeConvParams``
# struct (int32 padding, stride_w, stride_h; selfie_segmentation.tflite holds
# 01000000 02000000 02000000 = SAME, 2, 2). OpenVINO's TFLite frontend parses
# every custom-options blob as a FlexBuffer map, so for this op
# ``NodeContext.has_attribute`` is False for every name and the raw bytes are
# not reachable from Python. Nor is the output shape, from which the stride
# could otherwise be inferred. Hence fixed values: both models in mediapipe
# 0.10.21 that use this op (selfie_segmentation and its _landscape variant)
# store exactly SAME / 2 / 2, using it as a 2x upsampler.
_STRIDE = 2
_SAME_PADDING = True

# TFLite tensors stay NHWC in this frontend; OpenVINO convolutions are NCHW.
_NHWC_TO_NCHW = [0, 3, 1, 2]
_NCHW_TO_NHWC = [0, 2, 3, 1]
# TFLite transposed-conv weights are OHWI; ConvolutionBackpropData wants IOHW.
_OHWI_TO_IOHW = [3, 0, 1, 2]


def _same_pads(in_size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Begin/end crop that MediaPipe's kernel applies for SAME padding."""
    # Mirrors transpose_conv_bias.cc (not TF's SAME rule), so output sizes
    # match MediaPipe exactly, odd input sizes included.
    total = max(0, kernel - (in_size - 1) % stride - 1) if _SAME_PADDING else 0
    return total // 2, total - total // 2


def _static_dim(shape: ov.PartialShape, axis: int, what: str) -> int:
    dim = shape[axis]
    if not dim.is_static:
        raise ValueError(f"Convolution2DTransposeBias needs a static {what}, got {shape}")
    return dim.get_length()


def _convert_transpose_conv_bias(ctx: NodeContext) -> list[Any]:
    """Translate Convolution2DTransposeBias to ConvolutionBackpropData + Add."""
    data, weights, bias = ctx.get_input(0), ctx.get_input(1), ctx.get_input(2)

    # The padding crop is a static attribute, so it needs known sizes.
    data_shape, w_shape = data.get_partial_shape(), weights.get_partial_shape()
    in_h = _static_dim(data_shape, 1, "input height")
    in_w = _static_dim(data_shape, 2, "input width")
    k_h = _static_dim(w_shape, 1, "kernel height")
    k_w = _static_dim(w_shape, 2, "kernel width")
    pad_h, pad_w = _same_pads(in_h, k_h, _STRIDE), _same_pads(in_w, k_w, _STRIDE)

    # No kernel flip: MediaPipe scatters in[y] * w[f] to out[y*s - pad + f],
    # which is exactly ConvolutionBackpropData's definition.
    deconv = ops.convolution_backprop_data(
        ops.transpose(data, ops.constant(_NHWC_TO_NCHW)),
        ops.transpose(weights, ops.constant(_OHWI_TO_IOHW)),
        strides=[_STRIDE, _STRIDE],
        pads_begin=[pad_h[0], pad_w[0]],
        pads_end=[pad_h[1], pad_w[1]],
        dilations=[1, 1],
    )
    # Bias is [O]; in NHWC it broadcasts along the trailing channel axis.
    out = ops.add(ops.transpose(deconv, ops.constant(_NCHW_TO_NHWC)), bias)
    return [out.output(0)]


def mediapipe_extensions() -> list:
    """Conversion extensions for MediaPipe's custom TFLite ops (Convolution2DTransposeBias)."""
    return [ConversionExtension("Convolution2DTransposeBias", _convert_transpose_conv_bias)]
