"""``description.txt`` of a project archive: what the project is, its best throughput with latency, batch and
streams (as the Workbench's export said), the parent baseline, the result summary and the tool versions.

The records it reads may have been edited or imported: a value of the wrong type is one line naming its file, and
every line is plain text (control characters, e.g. a newline or a terminal escape in a model name, are escaped)."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.compile import DEFAULT_DEVICE
from ..core.devices import device_label
from ..core.errors import SegwbError, first_line
from ..core.storage import read_json
from ..measure import explorer
from ..report.summary import accuracy_aware_facts, given_model
from ..tasks import REGISTRY as TASKS
from .archive_format import control_free


@contextmanager
def _values_of(source: Path) -> Iterator[None]:
    """A missing field or a value of the wrong type in ``source`` becomes one line naming it."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:  # 0 FPS too
        raise SegwbError(f"holds a value description.txt cannot show ({type(exc).__name__}: {first_line(exc)})",
                         source) from None


def best_throughput(root: Path, performance: dict[str, Any] | None,
                    source: Path | None = None) -> dict[str, Any] | None:
    """The INT8 model's highest throughput, the better of the tutorial's benchmark (batch 1, streams chosen by
    the THROUGHPUT hint) and the explorer's fastest cell on the same device; None when neither measured it.
    ``source``: the file ``performance`` came from, named by an error."""
    candidates = []
    device = DEFAULT_DEVICE
    if performance:
        with _values_of(source or root / "report.json"):
            run = performance["optimized"]
            device = str(performance.get("device", DEFAULT_DEVICE))
            candidates.append({"fps": float(run["fps"]), "latency_ms": float(run["latency_ms"]["median"]),
                               "batch": (performance.get("input_shape") or [1])[0],
                               "streams": run["properties"].get("NUM_STREAMS", "?"),
                               "precision": run.get("inference_precision") or performance.get("optimized_precision"),
                               "source": "the tutorial's benchmark (THROUGHPUT hint)"})
    xml, cache = root / "models" / "optimized" / "model.xml", root / "explorer"
    if xml.is_file() and cache.is_dir():
        with _values_of(cache):
            results = explorer.load_results(xml, cache, device)
            if results:
                cell = explorer.sweet_spot(results, float("inf"))
                assert cell is not None  # no threshold: some cell always qualifies
                candidates.append({"fps": float(cell["throughput"]), "latency_ms": float(cell["latency_ms"]["median"]),
                                   "batch": cell["batch"], "streams": cell.get("streams_used") or cell["streams"],
                                   "precision": cell["properties"].get("INFERENCE_PRECISION_HINT")
                                   or cell.get("precision_requested") or "default",
                                   "source": f"the inference-configuration explorer ({len(results)} configurations)"})
    return max(candidates, key=lambda c: c["fps"], default=None)


def describe(root: Path, report: dict[str, Any] | None, dataset_included: bool) -> str:
    """``description.txt``: what the project is, its best throughput with latency, batch and streams, the parent
    baseline, the accuracy summary and the versions of the tools that produced the results."""
    report = report or {}
    report_json, benchmark_json = root / "report.json", root / "steps" / "benchmark.json"
    performance, performance_json = report.get("performance"), report_json
    if not performance:
        performance, performance_json = (read_optional(benchmark_json) or {}).get("result"), benchmark_json
    with _values_of(report_json):
        ds = report.get("dataset")
        lines = [f"segwb project: {root.resolve().name}",
                 f"Task: {report.get('task', 'not recorded (no report yet)')} segmentation",
                 f"Model: {str(report.get('model_choice', 'models/parent/model.xml')).removeprefix('model: ')}"]
        if ds:
            where = ("the embedded photos ship with segwb" if ds["layout"] == "embedded" else
                     "included under dataset/" if dataset_included else "not included in this archive")
            lines.append(f"Dataset: {ds['path']} ({ds['layout']}, {ds['images']} images, "
                         f"{'annotated' if ds.get('annotated') else 'not annotated'}); {where}")
        if (optimized := report.get("optimized")) and optimized.get("source") == "given":
            lines.append(f"Optimized model: {given_model(optimized)}")
        elif optimized:
            lines.append(f"Optimization: {optimized.get('method', 'Default')}, {optimized.get('preset', '?')} preset, "
                         f"{optimized.get('subset_size', '?')} calibration images")
            lines += [f"  {fact.line()}" for fact in accuracy_aware_facts(optimized.get("accuracy_aware"))]
    best = best_throughput(root, performance, performance_json)
    with _values_of(performance_json):
        if best is None:
            lines.append("Best throughput: not measured yet")
        else:
            lines += [f"Best throughput: {best['fps']:.2f} FPS at a median latency of {best['latency_ms']:.3f} ms",
                      (f"  batch {best['batch']}, streams {best['streams']}, {best['precision']} inference precision, "
                       f"optimized model, measured by {best['source']}")]
        if performance and best:
            parent = performance["parent"]
            lines.append(f"Parent model (f32): {float(parent['fps']):.2f} FPS at a median latency of "
                         f"{float(parent['latency_ms']['median']):.3f} ms; best throughput / parent: "
                         f"{best['fps'] / float(parent['fps']):.2f}x on {device_label(performance)}")
    with _values_of(report_json):
        if "comparison" in report:
            task = TASKS.get(report.get("task"))  # type: ignore[arg-type]
            if task is None:
                raise ValueError(f"task {report.get('task')!r} is not one segwb knows")
            lines += ["Accuracy (parent as reference):"] + [
                f"  {fact.line()}" for fact in task.facts(report["comparison"], report.get("ground_truth"))]
    quantize_json = root / "steps" / "quantize.json"
    with _values_of(quantize_json):
        nncf = ((read_optional(quantize_json) or {}).get("inputs") or {}).get("nncf", "not recorded")
    if (report.get("optimized") or {}).get("source") == "given":
        nncf = "not used (optimized model given)"
    with _values_of(performance_json):
        versions = (f"Tool versions: segwb {report.get('segwb_version', __version__)}, OpenVINO "
                    f"{(performance or {}).get('openvino_version', 'not recorded')}, NNCF {nncf}, "
                    f"Python {platform.python_version()}")
    lines += ["", versions, f"Exported: {now()} with segwb {__version__}"]
    return "\n".join(control_free(line) for line in lines) + "\n"


def now() -> str:
    """The time in UTC, to the second (ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_optional(path: Path) -> dict[str, Any] | None:
    """A JSON record (an object), or None when there is none; an unreadable one is a one-line error naming it."""
    if not path.is_file():
        return None
    try:
        record = read_json(path)
    except (OSError, ValueError) as exc:
        raise SegwbError(f"not readable JSON ({first_line(exc)})", path) from None
    if not isinstance(record, dict):
        raise SegwbError("not a JSON object, as segwb writes its records", path)
    return record
