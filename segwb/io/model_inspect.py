"""What a model's graph says about itself: its image input (layout, size, raw u8 pixels), its outputs, and
reshaping the input to a fixed batch-1 size. Task-specific readings of the outputs live in each task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from ..core.errors import ModelError, first_line


def port_name(port: ov.Output, index: int = 0, kind: str = "output") -> str:
    """A tensor's name, or "output <index>" for the tensors some exporters leave unnamed (Ultralytics' INT8 IR):
    OpenVINO's ``get_any_name()`` raises on those."""
    names = port.get_names()
    return port.get_any_name() if names else f"{kind} {index}"


def with_batch_axis(model: ov.Model) -> ov.Model:
    """``model`` with a batch axis of 1 in front of a single rank-3 image input ([3,H,W] or [H,W,3], as torchvision's
    detection exports take one image); any other model unchanged. The new input keeps the old one's names."""
    params = model.get_parameters()
    shape = params[0].get_partial_shape() if len(params) == 1 else None
    if shape is None or shape.rank.is_dynamic or shape.rank.get_length() != 3:
        return model
    old = params[0]
    if not any(d.is_static and d.get_length() in (1, 3) for d in (shape[0], shape[2])):
        return model
    names = old.output(0).get_names()
    old.output(0).set_names(set())
    new = ops.parameter(ov.PartialShape([1, *shape]), old.get_element_type(), name=old.get_friendly_name())
    new.output(0).set_names(names)
    squeezed = ops.squeeze(new, ops.constant(np.int64([0])))
    for target in list(old.output(0).get_target_inputs()):
        target.replace_source_output(squeezed.output(0))
    model.replace_parameter(0, new)  # in place: the model keeps its rt_info (Model API's labels)
    model.validate_nodes_and_infer_types()
    return model


def image_input(model: ov.Model, path: Path) -> ov.Output:
    """The model's single image input; anything else is a clear error."""
    inputs = model.inputs
    if not inputs:
        raise ModelError("the model has no inputs", path)
    if len(inputs) > 1:
        names = ", ".join(port_name(p, n, "input") for n, p in enumerate(inputs))
        raise ModelError(f"the model has {len(inputs)} inputs ({names}); segwb feeds exactly one image input", path)
    inp = inputs[0]
    if inp.get_partial_shape().rank.is_dynamic or inp.get_partial_shape().rank.get_length() != 4:
        raise ModelError(f"input '{port_name(inp, 0, 'input')}' has shape {inp.get_partial_shape()}, not an image (N,C,H,W or N,H,W,C)", path)
    return inp


def input_fields(model: ov.Model, path: Path) -> dict[str, Any]:
    """Card fields that the image input determines: layout, input size, raw u8 scaling."""
    inp = image_input(model, path)
    dims = [d.get_length() if d.is_static else None for d in inp.get_partial_shape()]
    found: dict[str, Any] = {}
    channels_first, channels_last = dims[1] in (1, 3), dims[3] in (1, 3)
    if channels_first != channels_last:
        found["layout"] = "NCHW" if channels_first else "NHWC"
    if not channels_first and not channels_last:
        raise ModelError(f"input '{port_name(inp, 0, 'input')}' has shape {inp.get_partial_shape()}: no colour channel of size 1 or 3", path)
    layout = found.get("layout")
    if layout:
        h, w = (dims[2], dims[3]) if layout == "NCHW" else (dims[1], dims[2])
        if h is not None and w is not None:
            found["input_size"] = [h, w]
    if inp.get_element_type() == ov.Type.u8:
        found.update(mean=0, scale=1)
    return found


MAX_RT_LABELS = 10_000


def rt_info_labels(model: ov.Model) -> list[str] | None:
    """The class names OpenVINO Model API keeps in the IR's ``rt_info`` (``model_info/labels``, space-separated), or
    None when the model has none."""
    if not model.has_rt_info(["model_info", "labels"]):
        return None
    names = model.get_rt_info(["model_info", "labels"]).astype(str).split()
    if len(names) > MAX_RT_LABELS:  # said here: the card's own limit would blame a card the user never wrote
        raise ModelError(f"the model's rt_info model_info/labels holds {len(names)} names, over the limit of "
                         f"{MAX_RT_LABELS} classes")
    return names or None


def outputs_described(model: ov.Model) -> str:
    """The outputs as one line: ``name [shape] type`` each (names or ``output <i>``), for errors that must say what
    the model has."""
    return ", ".join(f"{port_name(o, i)} {o.get_partial_shape()} {o.get_element_type().get_type_name()}"
                     for i, o in enumerate(model.outputs)) or "none"


def dims(output: ov.Output) -> list[int]:
    """An output's shape with -1 for dynamic dimensions."""
    return [d.get_length() if d.is_static else -1 for d in output.get_partial_shape()]


def select_output(model: ov.Model, name: str | None, path: Path) -> ov.Output:
    """The output an adapter reads: the only one, or the one the card names."""
    outputs = model.outputs
    if name:
        for out in outputs:
            if name in out.get_names():
                return out
        names = ", ".join(port_name(o, n) for n, o in enumerate(outputs))
        raise ModelError(f"model card names output '{name}', but the model's outputs are {names}", path)
    if len(outputs) != 1:
        names = ", ".join(port_name(o, n) for n, o in enumerate(outputs))
        raise ModelError(f"the model has {len(outputs)} outputs ({names}): name the one to use in the model card field 'output'", path)
    return outputs[0]


def reshape_input(model: ov.Model, layout: str, input_size: Any, path: Path) -> None:
    """Give the image input the static batch-1 shape of ``input_size`` [height, width] in ``layout``."""
    inp = image_input(model, path)
    h, w = input_size
    channels = [d for i, d in enumerate(inp.get_partial_shape()) if i == (1 if layout == "NCHW" else 3)][0]
    c = channels.get_length() if channels.is_static else 3
    target = [1, c, h, w] if layout == "NCHW" else [1, h, w, c]
    if inp.get_partial_shape().is_static and list(inp.get_shape()) == target:
        return
    try:
        model.reshape({inp: ov.PartialShape(target)})
    except Exception as exc:
        raise ModelError(f"cannot reshape input '{port_name(inp, 0, 'input')}' to {target} ({first_line(exc)})", path) from exc
