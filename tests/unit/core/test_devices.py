"""segwb.core.devices: --device checked in one place (present, absent, AUTO, HETERO:/MULTI:/AUTO: lists, malformed),
the full names a record keeps, and what a compiled model on AUTO reports about the device that ran it."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from segwb.core.compile import compile_model, compiled_properties, core
from segwb.core.devices import (
    check_device,
    device_choices,
    device_label,
    device_name,
    device_names,
    execution_devices,
)
from segwb.core.errors import SegwbError


def tiny_model() -> ov.Model:
    """f32 NCHW 1x3x16x16 → 3x3 convolution to 4 channels → ReLU."""
    x = ops.parameter([1, 3, 16, 16], np.float32, name="x")
    w = ops.constant(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32))
    return ov.Model([ops.relu(ops.convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1]))], [x], "tiny")


@pytest.mark.parametrize("spec", ["CPU", "AUTO", "AUTO:CPU", "MULTI:CPU", "HETERO:CPU"])
def test_devices_of_this_machine_pass_unchanged(spec: str) -> None:
    assert check_device(spec) == spec


@pytest.mark.parametrize(("spec", "message"), [
    ("NOPE", "--device NOPE: not on this machine; available: CPU ("),
    ("GPU.7", "--device GPU.7: not on this machine; available: CPU ("),
    ("cpu", "--device cpu: not on this machine (did you mean CPU?); available: CPU ("),
    ("auto", "--device auto: not on this machine (did you mean AUTO?); available: CPU ("),
    ("HETERO:NOPE,CPU", "--device HETERO:NOPE,CPU: NOPE not on this machine; available: CPU ("),
    ("MULTI:CPU,NOPE,NPX", "--device MULTI:CPU,NOPE,NPX: NOPE, NPX not on this machine; available: CPU ("),
    ("AUTO:NOPE", "--device AUTO:NOPE: NOPE not on this machine"),
])
def test_an_absent_device_is_one_line_listing_the_present_ones(spec: str, message: str) -> None:
    with pytest.raises(SegwbError) as info:
        check_device(spec)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text
    assert text.endswith(", AUTO") and all(f"{d} ({name})" in text for d, name in device_names().items())


@pytest.mark.parametrize(("spec", "words"), [
    ("", "must name an OpenVINO device"),
    (" CPU", "must name an OpenVINO device"),
    ("CPU\n", "must name an OpenVINO device"),
    ("\x1b[31mCPU", "must name an OpenVINO device"),
    ("HETERO:", "--device 'HETERO:': lists no devices; e.g. HETERO:CPU"),
    ("MULTI", "--device MULTI: needs the devices to use, e.g. MULTI:CPU"),
    ("HETERO:,CPU", "'' is not a device name"),
    ("MULTI:CPU,", "'' is not a device name"),
    ("MULTI:CPU,CPU", "names a device twice"),
    ("AUTO:AUTO", "AUTO runs on other devices"),
    ("HETERO:MULTI:CPU", "'MULTI:CPU' is not a device name"),
    ("CPU:0", "only AUTO, MULTI, HETERO take a list of devices after ':'"),
    ("C P U", "'C P U' is not a device name"),
])
def test_malformed_specs_are_refused(spec: str, words: str) -> None:
    with pytest.raises(SegwbError, match=words.replace("(", r"\(").replace("[", r"\[")) as info:
        check_device(spec)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value)


def test_names_and_choices_list_this_machine_and_auto() -> None:
    names = device_names()
    assert set(names) == set(core().available_devices) and "CPU" in names and all(names.values())
    choices = device_choices()
    assert [value for _, value in choices] == [*names, "AUTO"]
    assert choices[0] == (f"CPU ({names['CPU']})", "CPU") and choices[-1][0].startswith("AUTO (OpenVINO picks among")


def test_a_record_names_the_device_and_for_auto_the_one_that_ran() -> None:
    cpu = device_names()["CPU"]
    assert device_name("CPU", ["CPU"]) == cpu
    assert device_name("AUTO", ["CPU"]) == f"executed on CPU: {cpu}"
    assert device_label({"device": "AUTO", "device_name": f"executed on CPU: {cpu}"}) == f"AUTO (executed on CPU: {cpu})"
    assert device_label({"device": "CPU"}) == "CPU" and device_label({}) == "CPU"  # reports from before device names


@pytest.mark.parametrize("device", ["CPU", "AUTO"])
def test_auto_reports_what_the_cpu_runs(device: str) -> None:
    """AUTO forwards the precision hint to the device it picks and does not report precision or streams itself:
    they are read from that device (DEVICE_PROPERTIES), beside EXECUTION_DEVICES."""
    compiled = compile_model(tiny_model(), "f32", "LATENCY", device=device)
    compiled({"x": np.zeros((1, 3, 16, 16), np.float32)})
    props = compiled_properties(compiled)
    assert props["INFERENCE_PRECISION_HINT"] == "f32" and props["PERFORMANCE_HINT"] == "LATENCY"
    assert props["NUM_STREAMS"].isdigit() and execution_devices(props) == ["CPU"]
    with pytest.raises(RuntimeError):  # an unknown hint reaches the CPU plugin through AUTO too
        compile_model(tiny_model(), "nonsense", device=device)
