"""The process-wide OpenVINO Core (creating one per call costs time and plugin state) and how segwb compiles a
model for a run: a performance hint, a pinned precision when asked, OpenVINO's model cache for repeated runs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import openvino as ov

from .cache import compiled_cache_dir

DEFAULT_DEVICE = "CPU"
REPORTED_PROPERTIES = ("PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT", "NUM_STREAMS",
                       "OPTIMAL_NUMBER_OF_INFER_REQUESTS", "INFERENCE_NUM_THREADS", "EXECUTION_DEVICES")


@lru_cache(maxsize=1)
def core() -> ov.Core:
    """The shared :class:`openvino.Core`."""
    return ov.Core()


def compile_config(precision: str | None, hint: str = "THROUGHPUT") -> dict[str, str]:
    """OpenVINO properties for a run: a performance hint, and a pinned precision when asked."""
    config = {"PERFORMANCE_HINT": hint}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return config


def compile_model(xml: Path | ov.Model, precision: str | None, hint: str = "THROUGHPUT",
                  cached: bool = False, device: str = DEFAULT_DEVICE) -> ov.CompiledModel:
    """Compile for ``device`` (checked by :func:`segwb.core.devices.check_device`) with :func:`compile_config`.

    AUTO, MULTI and HETERO pass the precision hint on to the device they run the model on.

    ``cached`` keeps the compiled blob in OpenVINO's model cache (keyed by model, configuration and
    version): for models the tutorial compiles again and again, the benchmark rounds and the report's
    predictions. Loading a blob of the INT8 YOLO took 0.16 s against 0.67 s to compile it.
    """
    config = compile_config(precision, hint)
    if cached:
        config["CACHE_DIR"] = str(compiled_cache_dir())
    return core().compile_model(xml, device, config)


def compiled_properties(compiled: ov.CompiledModel) -> dict[str, str]:
    """The properties that decide speed, read back from the compiled model (not what was asked), as text.

    AUTO, MULTI and HETERO do not report precision, streams or threads themselves: those come from the devices the
    model runs on (``DEVICE_PROPERTIES``), one value when they agree, else ``"GPU:f16,CPU:f32"``. Read it after
    running: AUTO may start on the CPU while another device compiles, and ``EXECUTION_DEVICES`` says which runs now.
    """
    props: dict[str, str] = {}
    devices: dict[str, dict[str, object]] | None = None
    for name in REPORTED_PROPERTIES:
        try:
            props[name] = _text(compiled.get_property(name))
            continue
        except Exception:  # a plugin may not report every property; record what it does
            pass
        if devices is None:
            devices = _executing_device_properties(compiled)
        values = {device: _text(own[name]) for device, own in devices.items() if name in own}
        if values:
            distinct = set(values.values())
            props[name] = distinct.pop() if len(distinct) == 1 else ",".join(f"{d}:{v}" for d, v in values.items())
    return props


def _executing_device_properties(compiled: ov.CompiledModel) -> dict[str, dict[str, object]]:
    """The properties of each device the compiled model runs on, as a virtual device reports them (else none)."""
    try:
        per_device = compiled.get_property("DEVICE_PROPERTIES")
        executing = list(compiled.get_property("EXECUTION_DEVICES"))
    except Exception:  # a physical device's compiled model has no DEVICE_PROPERTIES
        return {}
    return {device: dict(per_device[device]) for device in executing if device in per_device}


def _text(value: object) -> str:
    """A property value as text: an element type by its short name, a list comma-separated, an enum by its name."""
    if isinstance(value, ov.Type):
        return value.get_type_name()
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    name = getattr(value, "name", None)  # OpenVINO's property enums (PerformanceMode.THROUGHPUT) are not Python enums
    return name if isinstance(name, str) and not isinstance(value, str) else str(value)
