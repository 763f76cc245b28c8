"""Inference-configuration explorer: throughput and latency over a grid of streams x batch, cached per cell.

Each cell compiles the IR with an explicit ``NUM_STREAMS`` and a batch set by reshaping the image input, and is
measured like :func:`segwb.measure.benchmark.benchmark` (async queue with the optimal number of requests, warm-up
excluded, fixed duration). One JSON file per (model digest, device, streams, batch, precision) keeps the result, so
a cell is measured once; the points feed a throughput-vs-latency chart and its "sweet spot".
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from ..core.compile import DEFAULT_DEVICE, compiled_properties, core
from ..core.devices import device_name, execution_devices
from ..core.errors import Cancelled, ModelError, SegwbError, first_line
from ..core.storage import read_json, write_json
from ..io.model_file import ir_digest
from ..io.model_inspect import image_input, port_name
from .benchmark import run_queue
from .inputs import random_input

log = logging.getLogger("segwb")

Progress = Callable[[int, int], None]

DEFAULT_MAX_BATCH = 8
MAX_BATCH = 256  # the Workbench's upper bound for batch
DEFAULT_SECONDS = 5.0
# Estimate of compile + warm-up for a model with no measured cell yet; measured cells replace it.
# (Compiling the 513x513 deeplabv3 fixture takes about 0.1 s here; 1 s leaves room for larger models.)
OVERHEAD_PRIOR_SECONDS = 1.0


@dataclass(frozen=True, order=True)
class Cell:
    """One configuration of the grid."""

    streams: int
    batch: int


@dataclass(frozen=True)
class Estimate:
    """How long running a selection should take, and what that figure assumes."""

    seconds: float
    to_run: int
    cached: int
    assumptions: str


class ExplorationCancelled(Cancelled):
    """Cancelled part-way; ``results`` holds the cells that finished (they are also cached on disk)."""

    def __init__(self, message: str, results: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.results = results


def cpu_cores(device: str = DEFAULT_DEVICE) -> int:
    """Streams ``device`` can run at once (its ``RANGE_FOR_STREAMS`` upper bound; AUTO, MULTI and HETERO do not say,
    so the CPU's), else ``os.cpu_count()``."""
    for asked in dict.fromkeys((device, DEFAULT_DEVICE)):
        try:
            return int(core().get_property(asked, "RANGE_FOR_STREAMS")[1])
        except Exception:  # an older plugin without the property: the OS count is the next best guess
            continue
    return os.cpu_count() or 1


def max_streams(device: str = DEFAULT_DEVICE) -> int:
    """The grid's stream limit, 2 x cores as in the Workbench (the plugin may use fewer; results record it)."""
    return 2 * cpu_cores(device)


def batch_sizes(max_batch: int = DEFAULT_MAX_BATCH) -> list[int]:
    """Powers of two from 1 up to ``max_batch``."""
    _check_range("batch limit", max_batch, 1, MAX_BATCH)
    return [1 << i for i in range(max_batch.bit_length()) if 1 << i <= max_batch]


def grid(max_batch: int = DEFAULT_MAX_BATCH, streams_limit: int | None = None,
         device: str = DEFAULT_DEVICE) -> list[Cell]:
    """Every cell: streams 1 … ``streams_limit`` (default :func:`max_streams`) x batch 1, 2, 4 … ``max_batch``."""
    limit = max_streams(device) if streams_limit is None else streams_limit
    _check_range("streams limit", limit, 1, max_streams(device))
    return [Cell(s, b) for s in range(1, limit + 1) for b in batch_sizes(max_batch)]


def _check_range(what: str, value: int, low: int, high: int, path: Path | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SegwbError(f"{what} must be an integer from {low} to {high}, got {value!r}", path)


def check_cells(cells: Iterable[Cell], xml: Path | None = None, device: str = DEFAULT_DEVICE) -> list[Cell]:
    """The selection without duplicates, in order; a cell out of range is a one-line error naming ``xml``."""
    unique = list(dict.fromkeys(cells))
    if not unique:
        raise SegwbError("no configuration selected: pick at least one streams x batch cell", xml)
    for cell in unique:
        _check_range("streams", cell.streams, 1, max_streams(device), xml)
        _check_range("batch", cell.batch, 1, MAX_BATCH, xml)
    return unique


def cell_config(streams: int, precision: str | None) -> dict[str, str]:
    """Compile properties of a cell: explicit streams, and a pinned precision when asked (None = plugin default).

    No ``PERFORMANCE_HINT``: an explicit ``NUM_STREAMS`` wins over a hint anyway, and leaving the hint out keeps
    it from choosing other settings behind the cell's back. The plugin caps streams at its core count; the result
    records the streams it actually used.
    """
    config = {"NUM_STREAMS": str(streams)}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return config


def cache_file(cache: Path, digest: str, cell: Cell, precision: str | None, device: str = DEFAULT_DEVICE) -> Path:
    """Where a cell's result is kept: ``<cache>/<digest16>-s<streams>-b<batch>-<precision|default>.json`` on the CPU
    (the name cells had before other devices), ``<digest16>-<device>-s…`` on any other device."""
    where = "" if device == DEFAULT_DEVICE else "-" + re.sub(r"[^A-Za-z0-9]+", "_", device)
    return Path(cache) / f"{digest[:16]}{where}-s{cell.streams}-b{cell.batch}-{precision or 'default'}.json"


def sample_input(xml: Path, input_tensor: np.ndarray | None = None) -> np.ndarray:
    """One image for input 0 with batch 1: ``input_tensor`` checked against the model, else seeded random data."""
    model = core().read_model(xml)
    inp = image_input(model, xml)
    shape = inp.get_partial_shape()
    dtype = inp.get_element_type().to_dtype()
    if input_tensor is not None:
        tensor = np.asarray(input_tensor)
        if tensor.ndim == 3:
            tensor = tensor[np.newaxis]
        if tensor.ndim != 4 or tensor.shape[0] != 1 or not shape.compatible(ov.PartialShape(list(tensor.shape))):
            raise ModelError(f"the input tensor has shape {list(tensor.shape)}; the model's input "
                             f"'{port_name(inp, 0, 'input')}' takes {shape} (one image expected)", xml)
        return tensor.astype(dtype, copy=False)
    if any(d.is_dynamic for d in list(shape)[1:]):
        raise ModelError(f"input '{port_name(inp, 0, 'input')}' has a dynamic shape {shape}: pass an input tensor "
                         "(an image prepared for the model) to fix its size", xml)
    return random_input([1] + [d.get_length() for d in list(shape)[1:]], dtype)


def batched_model(xml: Path, batch: int, sample: np.ndarray) -> ov.Model:
    """A fresh copy of the IR with the image input reshaped to ``batch`` x the sample's other dimensions."""
    model = core().read_model(xml)
    inp = image_input(model, xml)
    try:
        model.reshape({inp: ov.PartialShape([batch, *sample.shape[1:]])})
    except Exception as exc:  # shape inference rejects the batch (e.g. a Reshape to a constant shape)
        raise ModelError(f"input '{port_name(inp, 0, 'input')}' cannot take batch {batch}: {first_line(exc)}", xml) from None
    return model


def measure(model: ov.Model, config: dict[str, str], tensor: np.ndarray, seconds: float,
            cancel: threading.Event | None = None, device: str = DEFAULT_DEVICE) -> dict[str, Any]:
    """Compile ``model`` for ``device`` with ``config`` and run it like benchmark_app; throughput is in images per
    second.

    The loop is :func:`segwb.measure.benchmark.run_queue`, as for the tutorials' benchmark; only the compile config differs.
    """
    start = time.perf_counter()
    compiled = core().compile_model(model, device, config)
    compile_seconds = time.perf_counter() - start
    run = run_queue(compiled, tensor, seconds, cancel, what="exploration")
    batch = int(tensor.shape[0])
    return {
        "throughput": run.iterations * batch / run.seconds,
        "inferences_per_second": run.iterations / run.seconds,
        "latency_ms": run.latency_ms(),
        "iterations": run.iterations, "seconds": run.seconds, "requests": run.requests,
        "compile_seconds": compile_seconds, "warmup_seconds": run.warmup_seconds,
        "input_shape": [int(d) for d in compiled.input(0).get_shape()],
        "properties": compiled_properties(compiled),
    }


def _usable(record: dict[str, Any], digest: str, seconds: float, device: str) -> bool:
    """A cached cell counts if it is of this model, device and OpenVINO, and measured for at least ``seconds``."""
    return (record.get("digest") == digest and record.get("openvino_version") == ov.__version__
            and record.get("device", DEFAULT_DEVICE) == device and record.get("seconds_requested", 0) >= seconds)


def _cached(path: Path, digest: str, seconds: float, device: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        record = read_json(path)
    except ValueError:  # unreadable (hand-edited) record: measure again rather than fail the run
        return None
    return record if _usable(record, digest, seconds, device) else None


def explore(xml: str | Path, cells: Sequence[Cell], cache: str | Path, precision: str | None = None,
            seconds: float = DEFAULT_SECONDS, input_tensor: np.ndarray | None = None, force: bool = False,
            progress: Progress | None = None, cancel: threading.Event | None = None,
            device: str = DEFAULT_DEVICE) -> list[dict[str, Any]]:
    """Measure each selected cell on ``device`` (or reuse its cached result) and return one result per cell, in order.

    ``precision``: ``"f32"`` pins the precision (the FP32 parent baseline), None keeps the plugin's default.
    Every input is checked (cells, duration, tensor, each batch's reshape) before anything runs, so bad input
    writes nothing. Cancel raises :class:`ExplorationCancelled` carrying the finished cells.
    """
    xml = Path(xml)
    if not xml.is_file():
        raise ModelError("no such model file", xml)
    if not seconds > 0:
        raise SegwbError(f"the measuring duration must be positive, got {seconds!r} s", xml)
    cells = check_cells(cells, xml, device)
    digest = ir_digest(xml)
    sample = sample_input(xml, input_tensor)
    files = {cell: cache_file(Path(cache), digest, cell, precision, device) for cell in cells}
    cached = {cell: None if force else _cached(files[cell], digest, seconds, device) for cell in cells}
    models = {batch: batched_model(xml, batch, sample) for batch in sorted({c.batch for c in cells if cached[c] is None})}
    results: list[dict[str, Any]] = []

    def cancelled() -> ExplorationCancelled:
        return ExplorationCancelled(f"exploration cancelled after {len(results)} of {len(cells)} cells; "
                                    "finished cells are kept", results)

    if progress:
        progress(0, len(cells))
    for cell in cells:
        record = cached[cell]
        if record is None:
            if cancel is not None and cancel.is_set():
                raise cancelled()
            log.info("explore: %d stream(s), batch %d (%s precision, %.1f s)", cell.streams, cell.batch,
                     precision or "default", seconds)
            try:
                record = _measure_cell(xml, Path(cache), digest, cell, precision, seconds, models[cell.batch], sample,
                                       cancel, device)
            except Cancelled:
                raise cancelled() from None
            write_json(files[cell], record)
        results.append({**record, "cached": cached[cell] is not None})
        if progress:
            progress(len(results), len(cells))
    return results


def _measure_cell(xml: Path, cache: Path, digest: str, cell: Cell, precision: str | None, seconds: float,
                  model: ov.Model, sample: np.ndarray, cancel: threading.Event | None, device: str) -> dict[str, Any]:
    started = time.perf_counter()
    config = cell_config(cell.streams, precision)
    tensor = np.repeat(sample, cell.batch, axis=0)
    try:
        measured = measure(model, config, tensor, seconds, cancel, device)
    except RuntimeError as exc:  # OpenVINO's compile/infer errors: one line naming the model
        raise ModelError(f"{cell.streams} stream(s), batch {cell.batch}: {first_line(exc)}", xml) from None
    return {
        # relative to the cache folder (inside the project), so a moved project's cells still name their model
        "model": Path(os.path.relpath(xml.resolve(), cache.resolve())).as_posix(), "digest": digest, "streams": cell.streams, "batch": cell.batch,
        "streams_used": _streams_used(measured["properties"]),
        "precision_requested": precision, "config": config, "seconds_requested": seconds,
        **measured,
        "overhead_seconds": time.perf_counter() - started - measured["seconds"],
        "device": device, "device_name": device_name(device, execution_devices(measured["properties"])),
        "openvino_version": ov.__version__,
    }


def _streams_used(properties: dict[str, str]) -> int | None:
    """The streams the plugin ran; None when not reported or reported per device (MULTI over several devices)."""
    streams = properties.get("NUM_STREAMS", "")
    return int(streams) if streams.isdigit() and int(streams) > 0 else None


def load_results(xml: str | Path, cache: str | Path, device: str = DEFAULT_DEVICE) -> list[dict[str, Any]]:
    """Every cached cell of this model on ``device`` (all precisions), ordered by precision, streams, batch."""
    digest = ir_digest(Path(xml))
    results = []
    for path in sorted(Path(cache).glob(f"{digest[:16]}-*s*-b*.json")):
        record = _cached(path, digest, 0.0, device)
        if record is not None:
            results.append({**record, "cached": True})
    return sorted(results, key=lambda r: (r.get("precision_requested") or "", r["streams"], r["batch"]))


def estimate(xml: str | Path, cells: Sequence[Cell], cache: str | Path, precision: str | None = None,
             seconds: float = DEFAULT_SECONDS, force: bool = False, device: str = DEFAULT_DEVICE) -> Estimate:
    """Expected wall time of :func:`explore` on ``cells``: per cell to run, its overhead plus ``seconds``.

    Overhead (read, reshape, compile, warm-up, draining the queue) is the median measured over this model's
    cached cells, scaled by batch for the warm-up part; without any, ``OVERHEAD_PRIOR_SECONDS``.
    """
    xml = Path(xml)
    cells = check_cells(cells, xml, device)
    digest = ir_digest(xml)
    known = load_results(xml, cache, device)
    to_run = [c for c in cells
              if force or _cached(cache_file(Path(cache), digest, c, precision, device), digest, seconds, device) is None]
    if known:
        setup = statistics.median(r["compile_seconds"] for r in known)
        # The rest of the overhead is about two inferences (warm-up round, drain), each ~batch x the per-image time.
        per_image = statistics.median(max(r["overhead_seconds"] - r["compile_seconds"], 0.0) / r["batch"] for r in known)
        total = sum(seconds + setup + per_image * c.batch for c in to_run)
        basis = (f"compile {setup:.2f} s and warm-up {per_image:.3f} s per image of batch, medians of "
                 f"{len(known)} measured cell(s) of this model")
    else:
        total = len(to_run) * (seconds + OVERHEAD_PRIOR_SECONDS)
        basis = f"{OVERHEAD_PRIOR_SECONDS:g} s for compile and warm-up (no cell of this model measured yet)"
    assumptions = (f"{seconds:g} s of measurement per cell plus {basis}; cached cells cost nothing"
                   f"{' (forced: all cells re-run)' if force else ''}; assumes {device} is otherwise idle.")
    return Estimate(seconds=total, to_run=len(to_run), cached=len(cells) - len(to_run), assumptions=assumptions)


def point(result: dict[str, Any]) -> dict[str, Any]:
    """A chart point: throughput (images/s) against median latency (ms per inference), and its configuration."""
    return {"streams": result["streams"], "batch": result["batch"], "streams_used": result.get("streams_used"),
            "precision": result.get("precision_requested") or "default",
            "throughput": result["throughput"], "latency_ms": result["latency_ms"]["median"]}


def sweet_spot(results: Sequence[dict[str, Any]], threshold_ms: float) -> dict[str, Any] | None:
    """The highest throughput whose median latency is at or under ``threshold_ms``; None when no result is.

    Ties in throughput go to the lower latency, then to fewer streams and a smaller batch (cheaper to deploy).
    """
    under = [r for r in results if r["latency_ms"]["median"] <= threshold_ms]
    if not under:
        return None
    return min(under, key=lambda r: (-r["throughput"], r["latency_ms"]["median"], r["streams"], r["batch"]))


def summary(results: Sequence[dict[str, Any]], threshold_ms: float | None = None) -> dict[str, Any]:
    """Points, the best throughput overall and the sweet spot under ``threshold_ms`` (None: no threshold set)."""
    best = sweet_spot(results, float("inf")) if results else None
    spot = sweet_spot(results, threshold_ms) if threshold_ms is not None else None
    return {"cells": len(results), "threshold_ms": threshold_ms, "points": [point(r) for r in results],
            "best_throughput": point(best) if best else None, "sweet_spot": point(spot) if spot else None}
