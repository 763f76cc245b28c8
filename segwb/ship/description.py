"""``description.txt`` of a project archive: what the project is, its best throughput with latency, batch and
streams (as the Workbench's export said), the parent baseline, the result summary and the tool versions."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.errors import SegwbError
from ..core.storage import read_json
from ..measure import explorer
from ..report.summary import accuracy_aware_facts
from ..tasks import get as get_task


def best_throughput(root: Path, performance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The INT8 model's highest throughput, the better of the tutorial's benchmark (batch 1, streams chosen by
    the THROUGHPUT hint) and the explorer's fastest cell; None when neither measured it."""
    candidates = []
    if performance:
        run = performance["optimized"]
        candidates.append({"fps": run["fps"], "latency_ms": run["latency_ms"]["median"],
                           "batch": (performance.get("input_shape") or [1])[0],
                           "streams": run["properties"].get("NUM_STREAMS", "?"),
                           "precision": run.get("inference_precision") or performance.get("optimized_precision"),
                           "source": "the tutorial's benchmark (THROUGHPUT hint)"})
    xml, cache = root / "models" / "optimized" / "model.xml", root / "explorer"
    if xml.is_file() and cache.is_dir():
        results = explorer.load_results(xml, cache)
        if results:
            cell = explorer.sweet_spot(results, float("inf"))
            assert cell is not None  # no threshold: some cell always qualifies
            candidates.append({"fps": cell["throughput"], "latency_ms": cell["latency_ms"]["median"],
                               "batch": cell["batch"], "streams": cell.get("streams_used") or cell["streams"],
                               "precision": cell["properties"].get("INFERENCE_PRECISION_HINT")
                               or cell.get("precision_requested") or "default",
                               "source": f"the inference-configuration explorer ({len(results)} configurations)"})
    return max(candidates, key=lambda c: c["fps"], default=None)


def describe(root: Path, report: dict[str, Any] | None, dataset_included: bool) -> str:
    """``description.txt``: what the project is, its best throughput with latency, batch and streams, the parent
    baseline, the accuracy summary and the versions of the tools that produced the results."""
    report = report or {}
    performance = report.get("performance") or (read_optional(root / "steps" / "benchmark.json") or {}).get("result")
    ds = report.get("dataset")
    lines = [f"segwb project: {root.resolve().name}",
             f"Task: {report.get('task', 'not recorded (no report yet)')} segmentation",
             f"Model: {report.get('model_choice', 'models/parent/model.xml').removeprefix('model: ')}"]
    if ds:
        where = ("the embedded photos ship with segwb" if ds["layout"] == "embedded" else
                 "included under dataset/" if dataset_included else "not included in this archive")
        lines.append(f"Dataset: {ds['path']} ({ds['layout']}, {ds['images']} images, "
                     f"{'annotated' if ds['annotated'] else 'not annotated'}); {where}")
    if optimized := report.get("optimized"):
        lines.append(f"Optimization: {optimized.get('method', 'Default')}, {optimized.get('preset', '?')} preset, "
                     f"{optimized.get('subset_size', '?')} calibration images")
        lines += [f"  {fact.line()}" for fact in accuracy_aware_facts(optimized.get("accuracy_aware"))]
    best = best_throughput(root, performance)
    if best is None:
        lines.append("Best throughput: not measured yet")
    else:
        lines += [f"Best throughput: {best['fps']:.2f} FPS at a median latency of {best['latency_ms']:.3f} ms",
                  (f"  batch {best['batch']}, streams {best['streams']}, {best['precision']} inference precision, "
                   f"INT8 model, measured by {best['source']}")]
    if performance and best:
        parent = performance["parent"]
        lines.append(f"Parent model (f32): {parent['fps']:.2f} FPS at a median latency of "
                     f"{parent['latency_ms']['median']:.3f} ms; best throughput / parent: "
                     f"{best['fps'] / parent['fps']:.2f}x on {performance.get('device', 'CPU')}")
    if "comparison" in report:
        lines += ["Accuracy (parent as reference):"] + [
            f"  {fact.line()}" for fact in get_task(report["task"]).facts(report["comparison"], report.get("ground_truth"))]
    nncf = ((read_optional(root / "steps" / "quantize.json") or {}).get("inputs") or {}).get("nncf", "not recorded")
    versions = (f"Tool versions: segwb {report.get('segwb_version', __version__)}, OpenVINO "
                f"{(performance or {}).get('openvino_version', 'not recorded')}, NNCF {nncf}, "
                f"Python {platform.python_version()}")
    lines += ["", versions, f"Exported: {now()} with segwb {__version__}"]
    return "\n".join(lines) + "\n"


def now() -> str:
    """The time in UTC, to the second (ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_optional(path: Path) -> dict[str, Any] | None:
    """A JSON record, or None when there is none; an unreadable one is a one-line error naming it."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except ValueError as exc:
        raise SegwbError(f"not readable JSON ({exc})", path) from None
