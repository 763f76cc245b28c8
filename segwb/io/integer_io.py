"""Integer inputs and outputs of fully quantized exports (TFLite full-integer) made float, with the same values.

OpenVINO's TFLite frontend turns a quantized tensor into a FakeQuantize (``TFLQuantizeReplacer``): an int8 input
becomes ``Parameter(i8) → Convert(f32) → FakeQuantize(low..high → (low−zp)·s..(high−zp)·s)`` and an int8 output
``x → FakeQuantize((low−zp)·s..(high−zp)·s → low..high) → Convert(i8)``. segwb's adapters want the real values, so
both ends are replaced by a float tensor through a FakeQuantize of the same grid mapped onto itself: the model computes
exactly what it did, and its outputs are ``(q − zp)·s``, as TFLite's own dequantization gives them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops

INTEGER = (ov.Type.i8, ov.Type.u8)


def _constants(fq: ov.Node) -> list[np.ndarray] | None:
    """The four range inputs of a FakeQuantize when they are constants."""
    values = []
    for i in range(1, 5):
        node = fq.input_value(i).get_node()
        if node.get_type_name() != "Constant":
            return None
        values.append(node.get_data().astype(np.float64))
    return values


def _grid(low: np.ndarray, high: np.ndarray, levels: int) -> bool:
    """Whether low..high is the whole integer range of an 8-bit type (−128..127 or 0..255)."""
    return levels == 256 and np.all(high - low == 255) and (np.all(low == -128) or np.all(low == 0))


def _input_fq(param: ov.Node) -> ov.Node | None:
    """The FakeQuantize that dequantizes an integer Parameter (through one Convert to f32), or None."""
    targets = list(param.output(0).get_target_inputs())
    if len(targets) != 1 or targets[0].get_node().get_type_name() != "Convert":
        return None
    convert = targets[0].get_node()
    after = list(convert.output(0).get_target_inputs())
    if len(after) != 1 or after[0].get_node().get_type_name() != "FakeQuantize":
        return None
    fq = after[0].get_node()
    ranges = _constants(fq)
    if ranges is None or not _grid(ranges[0], ranges[1], fq.get_attributes()["levels"]):
        return None
    return fq


def _output_fq(result: ov.Node) -> ov.Node | None:
    """The FakeQuantize that quantizes an integer output (through one Convert), or None."""
    convert = result.input_value(0).get_node()
    if convert.get_type_name() != "Convert" or convert.get_output_element_type(0) not in INTEGER:
        return None
    fq = convert.input_value(0).get_node()
    if fq.get_type_name() != "FakeQuantize":
        return None
    ranges = _constants(fq)
    if ranges is None or not _grid(ranges[2], ranges[3], fq.get_attributes()["levels"]):
        return None
    return fq


def _float_result(result: ov.Node) -> ov.Node:
    """``result`` itself, or a new Result of the real values when it is a quantized integer output."""
    fq = _output_fq(result)
    if fq is None:
        return result
    low, high, _, _ = _constants(fq)  # type: ignore[misc]
    grid = [ops.constant(v.astype(np.float32)) for v in (low, high, low, high)]
    same = ops.fake_quantize(fq.input_value(0), *grid, 256)
    names = result.input_value(0).get_names()
    result.input_value(0).set_names(set())
    same.output(0).set_names(names)
    return ops.result(same)


def float_io(model: ov.Model) -> tuple[ov.Model, dict[str, Any]]:
    """``model`` (changed in place) with its quantized integer inputs and outputs made float, and the card fields that
    follow: a u8 input of raw pixels keeps its meaning as ``mean = zp``, ``scale = 1 / s`` (per channel if need be)."""
    fields: dict[str, Any] = {}
    for index, param in enumerate(model.get_parameters()):
        fq = _input_fq(param) if param.get_element_type() in INTEGER else None
        if fq is None:
            continue
        _, _, out_low, out_high = _constants(fq)  # type: ignore[misc]
        new = ops.parameter(param.get_partial_shape(), ov.Type.f32, name=param.get_friendly_name())
        names = param.output(0).get_names()
        param.output(0).set_names(set())
        new.output(0).set_names(names)
        same = ops.fake_quantize(new, ops.constant(out_low.astype(np.float32)), ops.constant(out_high.astype(np.float32)),
                                 ops.constant(out_low.astype(np.float32)), ops.constant(out_high.astype(np.float32)), 256)
        for target in list(fq.output(0).get_target_inputs()):
            target.replace_source_output(same.output(0))
        if param.get_element_type() == ov.Type.u8:  # raw pixels go in: float = (pixel - zp) * s per channel
            step = (out_high - out_low).reshape(-1) / 255
            zero = -out_low.reshape(-1) / step
            fields.update(mean=[float(v) for v in zero] if zero.size == 3 else float(zero[0]),
                          scale=[float(1 / v) for v in step] if step.size == 3 else float(1 / step[0]))
        model.replace_parameter(index, new)  # in place, so the model keeps its rt_info
    results = list(model.get_results())
    if any(_output_fq(r) is not None for r in results):
        for result in results:  # all removed and added back, so that the outputs keep their order
            model.remove_result(result)
        model.add_results([_float_result(r) for r in results])
    model.validate_nodes_and_infer_types()
    return model, fields
