"""Throughput and latency measured like benchmark_app: async queue, warm-up excluded, fixed duration."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ..core.compile import DEFAULT_DEVICE, compile_model, compiled_properties
from ..core.errors import Cancelled
from ..inference.queue import with_queue


@dataclass(frozen=True)
class BenchmarkResult:
    """One measurement and the compiled properties it was measured with."""

    fps: float
    latency_ms: dict[str, float]  # median, average, min, max
    iterations: int
    seconds: float
    precision_requested: str | None  # None = the plugin's default
    properties: dict[str, str]
    device: str  # as asked (e.g. AUTO); properties["EXECUTION_DEVICES"] says which device ran it

    @property
    def inference_precision(self) -> str:
        return self.properties.get("INFERENCE_PRECISION_HINT", "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["inference_precision"] = self.inference_precision
        return d


@dataclass(frozen=True)
class QueueRun:
    """What one timed run of an async queue measured."""

    iterations: int
    seconds: float
    warmup_seconds: float
    requests: int
    latencies_ms: np.ndarray

    def latency_ms(self) -> dict[str, float]:
        lat = self.latencies_ms
        return {"median": float(np.median(lat)), "average": float(lat.mean()), "min": float(lat.min()),
                "max": float(lat.max())}


def run_queue(compiled: ov.CompiledModel, input_tensor: np.ndarray, seconds: float,
              cancel: threading.Event | None = None, what: str = "benchmark") -> QueueRun:
    """Run ``compiled`` for ``seconds`` like benchmark_app: the optimal number of requests, inputs filled once,
    the first round of requests (one per request) a warm-up that is excluded."""
    warmup_start = time.perf_counter()
    # Each request holds the input from the start, as benchmark_app's inference-only mode does: passing it with
    # every start_async copied it each time and cost a few percent of throughput.
    tensor = ov.Tensor(np.ascontiguousarray(input_tensor))
    latencies: list[float] = []

    def timed(queue: ov.AsyncInferQueue) -> QueueRun:
        for request in queue:
            request.set_input_tensor(0, tensor)
        for _ in range(len(queue)):
            queue.start_async()
        queue.wait_all()
        latencies.clear()
        start = time.perf_counter()
        deadline = start + seconds
        iterations = 0
        while time.perf_counter() < deadline:
            if cancel is not None and cancel.is_set():
                queue.wait_all()
                raise Cancelled(f"{what} cancelled")
            queue.start_async()
            iterations += 1
        queue.wait_all()
        return QueueRun(iterations, time.perf_counter() - start, start - warmup_start, len(queue),
                        np.asarray(latencies))

    return with_queue(compiled, 0, lambda request, _: latencies.append(request.latency), timed)


def benchmark(model: Path | ov.Model, input_tensor: np.ndarray, precision: str | None, seconds: float = 10.0,
              hint: str = "THROUGHPUT", cancel: threading.Event | None = None,
              device: str = DEFAULT_DEVICE) -> BenchmarkResult:
    """Run ``model`` on ``device`` for ``seconds`` with the optimal number of requests and report FPS and latency.

    The properties (precision, streams, ``EXECUTION_DEVICES``) are read back after the run, from the device that ran it.
    """
    compiled = compile_model(model, precision, hint, cached=True, device=device)
    run = run_queue(compiled, input_tensor, seconds, cancel)
    return BenchmarkResult(
        fps=run.iterations / run.seconds, latency_ms=run.latency_ms(), iterations=run.iterations,
        seconds=run.seconds, precision_requested=precision, properties=compiled_properties(compiled), device=device,
    )
