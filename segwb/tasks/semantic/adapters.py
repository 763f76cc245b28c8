"""Semantic output adapters: raw model output → class map at the original image size (``class_map`` for an id map,
``scores`` for per-class scores), and what the graph's output says about them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import openvino as ov

from ...core.compile import core
from ...core.errors import ModelError
from ...io.model_card import ModelCard, logit_cut
from ...io.model_inspect import dims, port_name, select_output
from ...inference.preprocess import Geometry
from ...inference.queue import output_array

ADAPTERS = ("class_map", "scores")


def _content(array: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Crop the part of an output map (any resolution) that covers the original image."""
    out_h, out_w = array.shape[:2]
    in_h, in_w = geometry.input_size
    sy, sx = out_h / in_h, out_w / in_w
    top, left = int(round(geometry.top * sy)), int(round(geometry.left * sx))
    bottom = max(top + 1, int(round((geometry.top + geometry.height) * sy)))
    right = max(left + 1, int(round((geometry.left + geometry.width) * sx)))
    return array[top:bottom, left:right]


def _resize_channels(scores: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of an HxWxC float map; OpenCV handles at most 512 channels per call."""
    h, w = size
    parts = [cv2.resize(scores[..., i:i + 512], (w, h), interpolation=cv2.INTER_LINEAR)
             for i in range(0, scores.shape[2], 512)]
    parts = [p[..., np.newaxis] if p.ndim == 2 else p for p in parts]
    return np.concatenate(parts, axis=2)


def class_map(output: np.ndarray, card: ModelCard, geometry: Geometry) -> np.ndarray:
    """The model's class-id map at the original image size (uint8, or uint16 past 256 classes)."""
    orig_h, orig_w = geometry.original_size
    if card.adapter == "class_map":
        ids = output[0] if output.ndim in (3, 4) and output.shape[0] == 1 else output
        if ids.ndim == 3:  # [1,1,H,W] or [1,H,W,1]; a map of one row or column keeps its 2 axes
            ids = ids[0] if ids.shape[0] == 1 else ids[..., 0] if ids.shape[2] == 1 else ids
        if ids.ndim != 2:
            raise ModelError(f"the class_map adapter needs one map [1,H,W] of class ids, got an output of shape "
                             f"{list(output.shape)}")
        ids = ids.astype(np.int64)
        ids = _content(ids, geometry)
        dtype = np.uint8 if ids.max(initial=0) < 256 else np.uint16
        return cv2.resize(ids.astype(dtype), (orig_w, orig_h), interpolation=cv2.INTER_NEAREST)
    scores = output[0].transpose(1, 2, 0) if card.output_layout == "NCHW" else output[0]
    if not np.isfinite(scores).all():  # arg-max over NaN is class 0 everywhere: both models would "agree" perfectly
        raise ModelError("the model's scores hold NaN or infinite values: its output cannot be compared")
    scores = _resize_channels(_content(scores.astype(np.float32), geometry), (orig_h, orig_w))
    if scores.shape[2] == 1:  # a foreground probability (e.g. person vs background), or its logit
        cut = logit_cut(card.threshold) if card.activation == "sigmoid" else card.threshold
        return (scores[..., 0] > cut).astype(np.uint8)
    ids = scores.argmax(axis=2)
    return ids.astype(np.uint8 if scores.shape[2] <= 256 else np.uint16)


def decoder(card: ModelCard) -> Callable[[ov.InferRequest, Geometry], np.ndarray]:
    """The class map of a finished request, at the original image size."""
    def decode(request: ov.InferRequest, geometry: Geometry) -> np.ndarray:
        return class_map(output_array(request, card.output), card, geometry)

    return decode


def class_labels(card: ModelCard, classes: int) -> tuple[str, ...]:
    """The card's labels, else "class <id>" for each of the adapter's ``classes``."""
    return card.labels or tuple(f"class {i}" for i in range(classes))


def num_classes(card: ModelCard, output_shape: tuple[int, ...]) -> int:
    """Number of classes the adapter can emit (labels win; else channels; else 256 ids)."""
    if card.labels:
        return len(card.labels)
    if card.adapter == "scores":
        channels = output_shape[1] if card.output_layout == "NCHW" else output_shape[3]
        return 2 if channels == 1 else channels
    return 256


def recognise(model: ov.Model) -> dict[str, Any]:
    """``task: semantic`` when the model has a single per-pixel output (rank 3 or 4; an id map of rank 2), else {}."""
    if len(model.outputs) != 1:
        return {}
    out = model.outputs[0]
    shape = out.get_partial_shape()
    ranks = (2, 3, 4) if out.get_element_type().is_integral() else (3, 4)  # a float [1,C] is a classifier
    return {"task": "semantic"} if shape.rank.is_static and shape.rank.get_length() in ranks else {}


# A one-channel output is read as a logit only when the op that makes it is a linear layer; after anything else
# (Sigmoid, Softmax, Clamp, a quantizer...) it is taken as a probability. Reading a probability as a logit would cut
# it at 0 and mark every pixel foreground; the other mistake only moves the cut from 0.5 to logit 0.5.
LOGIT_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul", "Add", "Subtract", "Multiply")
SHAPE_OPS = ("Result", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Convert", "Interpolate", "FakeQuantize",
             "Slice", "StridedSlice", "Gather", "Concat")


def _activation(out: ov.Output) -> str:
    """"sigmoid" when the output comes straight from a linear layer (through reshapes, resizes and quantizers), else
    "none"."""
    node = out.get_node()
    while node.get_type_name() in SHAPE_OPS:
        node = node.input_value(0).get_node()
    return "sigmoid" if node.get_type_name() in LOGIT_OPS else "none"


def output_fields(model: ov.Model, fields: dict[str, Any], path: Path) -> dict[str, Any]:
    """Adapter and output layout from the output's type and shape (given fields win)."""
    out = select_output(model, fields.get("output"), path)
    shape = out.get_partial_shape()
    found: dict[str, Any] = {}
    if shape.rank.is_dynamic:
        return found
    integer = out.get_element_type().is_integral()
    found["adapter"] = "class_map" if integer else "scores"
    sizes = [d.get_length() if d.is_static else None for d in shape]
    if not integer and len(sizes) == 4 and "input_size" in fields:
        found.update(_score_layout(sizes, fields["input_size"]))
    layout = fields.get("output_layout", found.get("output_layout"))
    channels = sizes[1] if layout == "NCHW" else sizes[3] if layout == "NHWC" else None
    if not integer and len(sizes) == 4 and channels == 1:
        found["activation"] = _activation(out)
    return found


def _score_layout(sizes: list[int | None], input_size: list[int]) -> dict[str, str]:
    """NCHW or NHWC for a score tensor, by which pair of dims has the input's aspect ratio."""
    aspect = input_size[0] / input_size[1]

    def fits(h: int | None, w: int | None, c: int | None) -> bool:
        return bool(h and w and c) and abs(h / w - aspect) < 0.1 * aspect and c < min(h, w)  # type: ignore[operator]

    nchw, nhwc = fits(sizes[2], sizes[3], sizes[1]), fits(sizes[1], sizes[2], sizes[3])
    return {"output_layout": "NCHW" if nchw else "NHWC"} if nchw != nhwc else {}


def check_outputs(model: ov.Model, card: ModelCard, path: Path) -> None:
    """Refuse an output whose shape does not fit the card's adapter."""
    out = select_output(model, card.output, path)
    shape = dims(out)
    name = port_name(out, 0)
    if card.adapter == "class_map":
        ok = len(shape) in (2, 3) or (len(shape) == 4 and (shape[1] == 1 or shape[3] == 1))
        if not ok or (len(shape) > 2 and shape[0] not in (1, -1)):
            raise ModelError(f"output '{name}' has shape {shape}; adapter class_map expects [1,H,W] class ids", path)
    elif card.adapter == "scores":
        if len(shape) != 4 or shape[0] not in (1, -1):
            raise ModelError(f"output '{name}' has shape {shape}; adapter scores expects [1,C,H,W] or [1,H,W,C]", path)
        channels = shape[1] if card.output_layout == "NCHW" else shape[3]
        if card.labels and channels not in (-1, len(card.labels)) and not (channels == 1 and len(card.labels) == 2):
            raise ModelError(f"output '{name}' has {channels} class channels but the model card has {len(card.labels)} labels", path)


def output_classes(xml: Path, card: ModelCard) -> int:
    """How many classes the adapter of the IR ``xml`` can produce."""
    out = select_output(core().read_model(xml), card.output, xml)
    return num_classes(card, tuple(out.get_partial_shape().get_min_shape()))
