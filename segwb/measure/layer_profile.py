"""Per-layer execution profile of a compiled model: OpenVINO's performance counters averaged over many inferences."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ..core.compile import DEFAULT_DEVICE, compiled_properties, core
from ..core.errors import Cancelled
from .inputs import random_input

PRECISION = re.compile(r"_(i8|u8|i4|u4|f32|bf16|f16|i32|i64)$", re.IGNORECASE)


@dataclass(frozen=True)
class Layer:
    """One executed layer of the runtime graph: its average time per inference and the precision it ran in."""

    name: str
    type: str
    exec_type: str
    precision: str  # from the kernel name, e.g. brgconv_avx512_amx_1x1_i8 → i8; "unknown" when it does not say
    ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def runtime_precision(exec_type: str) -> str:
    """The precision a kernel ran in, read from its name (OpenVINO's CPU kernels end with it)."""
    match = PRECISION.search(exec_type)
    return match.group(1).lower() if match else "unknown"


def profile(model: Path | ov.Model, precision: str | None, tensor: np.ndarray | None = None, inferences: int = 50,
            warmup: int = 5, cancel: threading.Event | None = None,
            device: str = DEFAULT_DEVICE) -> tuple[list[Layer], dict[str, str]]:
    """Executed layers on ``device`` with their mean time over ``inferences`` runs (after ``warmup``), and the
    compiled properties.

    One synchronous request under the LATENCY hint, so a layer's time is its own, not shared with other streams.
    """
    compiled = core_compile(model, precision, device)
    request = compiled.create_infer_request()
    port = compiled.input(0)
    data = random_input(port.get_shape(), port.get_element_type().to_dtype()) if tensor is None else tensor
    for _ in range(warmup):
        request.infer({0: data})
    totals: dict[str, float] = {}
    kinds: dict[str, tuple[str, str]] = {}
    for _ in range(inferences):
        if cancel is not None and cancel.is_set():
            raise Cancelled("profiling cancelled")
        request.infer({0: data})
        for info in request.profiling_info:
            if info.status != ov.ProfilingInfo.Status.EXECUTED:
                continue
            totals[info.node_name] = totals.get(info.node_name, 0.0) + info.real_time.total_seconds() * 1e3
            kinds[info.node_name] = (info.node_type, info.exec_type)
    layers = [Layer(name, kinds[name][0], kinds[name][1], runtime_precision(kinds[name][1]), total / inferences)
              for name, total in totals.items()]
    return layers, compiled_properties(compiled)


def core_compile(model: Path | ov.Model, precision: str | None, device: str = DEFAULT_DEVICE) -> ov.CompiledModel:
    """Compile for profiling on ``device``: performance counters on, LATENCY hint, the precision asked (None = default)."""
    config = {"PERF_COUNT": True, "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return core().compile_model(model, device, config)
