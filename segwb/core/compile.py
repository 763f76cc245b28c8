"""The process-wide OpenVINO Core (creating one per call costs time and plugin state) and how segwb compiles a
model for a run: a performance hint, a pinned precision when asked, OpenVINO's model cache for repeated runs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import openvino as ov

from .cache import compiled_cache_dir

DEVICE = "CPU"
REPORTED_PROPERTIES = ("PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT", "NUM_STREAMS",
                       "OPTIMAL_NUMBER_OF_INFER_REQUESTS", "INFERENCE_NUM_THREADS")


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
                  cached: bool = False) -> ov.CompiledModel:
    """Compile for the CPU with :func:`compile_config`.

    ``cached`` keeps the compiled blob in OpenVINO's model cache (keyed by model, configuration and
    version): for models the tutorial compiles again and again, the benchmark rounds and the report's
    predictions. Loading a blob of the INT8 YOLO took 0.16 s against 0.67 s to compile it.
    """
    config = compile_config(precision, hint)
    if cached:
        config["CACHE_DIR"] = str(compiled_cache_dir())
    return core().compile_model(xml, DEVICE, config)


def compiled_properties(compiled: ov.CompiledModel) -> dict[str, str]:
    """The properties that decide speed, read back from the compiled model (not what was asked)."""
    props = {}
    for name in REPORTED_PROPERTIES:
        try:
            value = compiled.get_property(name)
        except Exception:  # a plugin may not report every property; record what it does
            continue
        props[name] = value.get_type_name() if isinstance(value, ov.Type) else str(value)
    return props
