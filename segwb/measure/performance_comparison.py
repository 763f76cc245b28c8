"""Compare Projects (workbench-behaviour §4): per-layer-type summary, precision distribution, kernel-level table
of model A against model B, and findings in words about where B loses or gains time."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..core.compile import DEFAULT_DEVICE
from ..core.devices import check_device, device_name, execution_devices
from ..core.errors import SegwbError
from ..core.project import Project
from ..core.storage import write_json
from .layer_profile import Layer, profile

COMPARISON_JSON = "performance-comparison.json"
QUANTIZER = re.compile(r"/fq_(?:output|weights)_\d+$")  # NNCF's FakeQuantize nodes are named <original>/fq_...


def summary(layers: list[Layer]) -> list[dict[str, Any]]:
    """Per layer type: total time, share of the model's time, layer count and counts per runtime precision."""
    total = sum(layer.ms for layer in layers) or 1.0
    by_type: dict[str, dict[str, Any]] = {}
    for layer in layers:
        row = by_type.setdefault(layer.type, {"type": layer.type, "ms": 0.0, "count": 0, "precisions": defaultdict(int)})
        row["ms"] += layer.ms
        row["count"] += 1
        row["precisions"][layer.precision] += 1
    rows = [{**r, "share": r["ms"] / total, "precisions": dict(r["precisions"])} for r in by_type.values()]
    return sorted(rows, key=lambda r: -r["ms"])


def precision_distribution(layers: list[Layer]) -> dict[str, float]:
    """Share of execution time per runtime precision (what fraction of the model actually runs in INT8)."""
    total = sum(layer.ms for layer in layers) or 1.0
    shares: dict[str, float] = defaultdict(float)
    for layer in layers:
        shares[layer.precision] += layer.ms / total
    return dict(sorted(shares.items(), key=lambda kv: -kv[1]))


def kernel_table(a: list[Layer], b: list[Layer]) -> list[dict[str, Any]]:
    """Per layer: time and precision in A and B, Delta = B − A (ms) and Ratio = B / A; None where one side lacks it.

    Layers match by runtime name. Quantization's own nodes in B (``<name>/fq_...``) are marked as such, since
    they have no counterpart in A; reorders that the runtime inserts differently in each model stay unmatched.
    """
    by_name_a = {layer.name: layer for layer in a}
    by_name_b = {layer.name: layer for layer in b}
    rows = []
    for name in list(by_name_a) + [n for n in by_name_b if n not in by_name_a]:
        la, lb = by_name_a.get(name), by_name_b.get(name)
        origin = "both" if la and lb else "A only" if la else ("quantization" if QUANTIZER.search(name) else "B only")
        rows.append({
            "name": name, "type": (lb or la).type, "origin": origin,  # type: ignore[union-attr]
            "ms_a": la.ms if la else None, "ms_b": lb.ms if lb else None,
            "precision_a": la.precision if la else None, "precision_b": lb.precision if lb else None,
            "exec_type_a": la.exec_type if la else None, "exec_type_b": lb.exec_type if lb else None,
            "delta_ms": lb.ms - la.ms if la and lb else None,
            "ratio": lb.ms / la.ms if la and lb and la.ms > 0 else None,
        })
    return sorted(rows, key=lambda r: -max(r["ms_a"] or 0, r["ms_b"] or 0))


def findings(a: list[Layer], b: list[Layer], top: int = 5) -> list[str]:
    """Sentences on where B's time goes: the largest layers, what is not INT8, and what got slower than in A."""
    total_a, total_b = sum(x.ms for x in a), sum(x.ms for x in b)
    if not b or total_b <= 0:
        return []
    table = kernel_table(a, b)
    lines = [f"B takes {total_b:.2f} ms per inference against {total_a:.2f} ms for A "
             f"({total_a / total_b:.2f}x as fast, one request, LATENCY hint)."]
    shares = precision_distribution(b)
    low = {p: s for p, s in shares.items() if p not in ("i8", "u8", "i4", "u4")}
    int8 = 1 - sum(low.values())
    lines.append(f"{100 * int8:.0f} % of B's time runs in INT8 kernels; the rest: "
                 + ", ".join(f"{p} {100 * s:.0f} %" for p, s in low.items() if s >= 0.005) + ".")
    for row in summary(b)[:3]:
        counts = ", ".join(f"{n} in {p}" for p, n in sorted(row["precisions"].items(), key=lambda kv: -kv[1]))
        lines.append(f"{row['type']} layers take {row['ms']:.2f} ms ({100 * row['share']:.0f} %) of B: "
                     f"{row['count']} layers, {counts}.")
    for row in [r for r in table if r["ms_b"] is not None][:top]:
        share = row["ms_b"] / total_b
        if share < 0.05:
            break
        where = (f"in A it takes {row['ms_a']:.2f} ms ({row['precision_a']})" if row["ms_a"] is not None
                 else "it has no counterpart in A")
        lines.append(f"{row['type']} {_short(row['name'])} takes {row['ms_b']:.2f} of {total_b:.2f} ms of B "
                     f"({100 * share:.0f} %, {row['precision_b']}); {where}.")
    by_type = defaultdict(float)
    for layer in b:
        if layer.precision not in ("i8", "u8") and layer.type in ("Convolution", "GroupConvolution", "MatMul",
                                                                   "FullyConnected", "ConvolutionBackpropData"):
            by_type[layer.type] += layer.ms
    for kind, ms in sorted(by_type.items(), key=lambda kv: -kv[1]):
        if ms / total_b >= 0.05:
            lines.append(f"{kind} layers that still run in floating point take {ms:.2f} ms ({100 * ms / total_b:.0f} %) of B.")
    slower = [r for r in table if r["delta_ms"] is not None and r["delta_ms"] > max(0.05 * total_b, 0.1)]
    for row in slower[:top]:
        lines.append(f"{row['type']} {_short(row['name'])} is slower in B: {row['ms_b']:.2f} ms ({row['precision_b']}) "
                     f"against {row['ms_a']:.2f} ms ({row['precision_a']}) in A.")
    added = sum(r["ms_b"] for r in table if r["origin"] in ("quantization", "B only"))
    if added / total_b >= 0.05:
        lines.append(f"Layers that exist only in B (quantizers, reorders) take {added:.2f} ms ({100 * added / total_b:.0f} %).")
    return lines


def _short(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


def compare(a: list[Layer], b: list[Layer]) -> dict[str, Any]:
    """Everything the Compare Projects view shows, as plain data."""
    return {
        "total_ms": {"a": sum(x.ms for x in a), "b": sum(x.ms for x in b)},
        "summary": {"a": summary(a), "b": summary(b)},
        "precision_distribution": {"a": precision_distribution(a), "b": precision_distribution(b)},
        "kernels": kernel_table(a, b),
        "findings": findings(a, b),
    }


def compare_models(a: Path, a_precision: str | None, b: Path, b_precision: str | None, inferences: int = 50,
                   cancel: threading.Event | None = None, device: str = DEFAULT_DEVICE) -> dict[str, Any]:
    """Profile both IRs on ``device`` (None precision = the device's default) and compare them; plain data for JSON
    and HTML."""
    layers_a, props_a = profile(a, a_precision, inferences=inferences, cancel=cancel, device=device)
    layers_b, props_b = profile(b, b_precision, inferences=inferences, cancel=cancel, device=device)
    executing = list(dict.fromkeys(execution_devices(props_a) + execution_devices(props_b)))
    return {
        "a": {"model": str(a), "precision": a_precision or "default", "properties": props_a,
              "layers": [x.to_dict() for x in layers_a]},
        "b": {"model": str(b), "precision": b_precision or "default", "properties": props_b,
              "layers": [x.to_dict() for x in layers_b]},
        "inferences": inferences, "hint": "LATENCY", "requests": 1,
        "device": device, "device_name": device_name(device, executing),
        **compare(layers_a, layers_b),
    }


def compare_project(root: Path, inferences: int = 50, cancel: threading.Event | None = None,
                    device: str | None = None) -> dict[str, Any]:
    """Parent (pinned f32) against the INT8 child at the precision its benchmark chose, on ``device`` (None: the one
    the benchmark ran on); saved as ``performance-comparison.json`` in the project and returned."""
    if not Path(root).is_dir():
        raise SegwbError("no such project folder", root)
    project = Project(root)
    for xml in (project.parent_xml, project.optimized_xml):
        if not xml.is_file():
            raise SegwbError(f"{root}: no {xml.relative_to(project.root)}; run `segwb quantize` on it first")
    measured = project.record("benchmark") or {}
    chosen = measured.get("optimized_precision", "default")
    device = check_device(device or measured.get("device", DEFAULT_DEVICE))  # an imported project's may not be here
    result = compare_models(project.parent_xml, "f32", project.optimized_xml, None if chosen == "default" else chosen,
                            inferences, cancel, device)
    for side, role in (("a", "parent"), ("b", "optimized")):  # recorded inside the project: it can move
        result[side]["model"] = project.relative(project.model_xml(role))
    write_json(project.root / COMPARISON_JSON, result)
    return result
