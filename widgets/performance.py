"""Parent vs INT8 throughput and latency: bqplot grouped bars, the speedup in large type, the settings of each figure."""

from __future__ import annotations

from typing import Any

import bqplot as bq
import ipywidgets as w

from segwb.core.devices import device_label

from .common import escape

COLOURS = {"parent": "#7f8c9a", "optimized": "#0b8a3e"}


def configurations(performance: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(role, label, run) of every measurement: parent f32, parent at its default precision, INT8 under each hint."""
    rows = [("parent", "Parent, f32 (pinned baseline)", performance["parent"])]
    if performance.get("parent_default"):
        rows.append(("parent_default", f"Parent, default precision ({performance['parent_default']['inference_precision']})",
                     performance["parent_default"]))
    for hint, run in performance.get("optimized_runs", {"best": performance["optimized"]}).items():
        rows.append((f"optimized_{hint}", f"INT8, {hint} precision hint", run))
    return rows


def chart_data(performance: dict[str, Any], metric: str) -> dict[str, Any]:
    """One bar per configuration for ``metric`` ("fps" or "latency"), parents grey and INT8 runs green.

    (Two-dimensional ``type="grouped"`` data draws zero-height bars with bqplot 0.13.1 in Voila 0.5, checked in
    Chromium; one bar per configuration, coloured by model, shows the same comparison.)
    """
    value = (lambda r: r["fps"]) if metric == "fps" else (lambda r: r["latency_ms"]["median"])
    rows = configurations(performance)
    short = {"parent": "Parent f32", "parent_default": "Parent default"}
    labels = [short.get(role, f"INT8 {role.removeprefix('optimized_')}") for role, _, _ in rows]
    return {"x": labels, "y": [value(r) for _, _, r in rows],
            "colors": [COLOURS["optimized"] if role.startswith("optimized") else COLOURS["parent"] for role, _, _ in rows]}


def _figure(title: str, label: str) -> tuple[bq.Figure, bq.Bars]:
    x, y = bq.OrdinalScale(), bq.LinearScale(min=0)
    bars = bq.Bars(x=["—"], y=[0.0], scales={"x": x, "y": y}, padding=0.25, color_mode="element",
                   tooltip=bq.Tooltip(fields=["x", "y"], formats=["", ".2f"]))
    figure = bq.Figure(marks=[bars], axes=[bq.Axis(scale=x), bq.Axis(scale=y, orientation="vertical", label=label,
                                                                     tick_format=".1f")],
                       title=title, 
                       layout=w.Layout(width="520px", height="360px"), fig_margin={"top": 50, "bottom": 40, "left": 60, "right": 10})
    return figure, bars


class PerformanceView:
    """Shows ``report.json``'s ``performance`` section (or the benchmark step's result)."""

    def __init__(self) -> None:
        self.speedup = w.HTML('<span class="segwb-note">No measurement yet: run Benchmark in the Optimize (INT8) tab.</span>')
        self.fps_figure, self.fps_bars = _figure("Throughput (higher is better)", "FPS")
        self.latency_figure, self.latency_bars = _figure("Latency, median (lower is better)", "ms")
        self.settings = w.HTML("")
        self.figures = w.HBox([self.fps_figure, self.latency_figure])
        self.widget = w.VBox([self.speedup, self.figures, self.settings])
        self.widget.add_class("segwb-performance")
        self.performance: dict[str, Any] | None = None

    def set_visible(self, visible: bool) -> None:
        """Attach the charts only while their tab is shown: bqplot laid out in a hidden (zero-size) tab draws
        negative rectangles and floods the browser console with errors."""
        wanted = (self.fps_figure, self.latency_figure) if visible else ()
        if self.figures.children != wanted:
            self.figures.children = wanted

    def show(self, performance: dict[str, Any] | None) -> None:
        """Draw a measurement; None clears the view."""
        self.performance = performance
        if not performance:
            self.speedup.value = '<span class="segwb-note">No measurement yet.</span>'
            self.settings.value = ""
            return
        for bars, metric in ((self.fps_bars, "fps"), (self.latency_bars, "latency")):
            data = chart_data(performance, metric)
            with bars.hold_sync():
                bars.x, bars.y, bars.colors = data["x"], data["y"], data["colors"]
        self.speedup.value = (
            f'<div class="segwb-speedup" data-speedup="{performance["speedup"]:.4f}">'
            f'{performance["speedup"]:.2f}× faster</div>'
            f'<div class="segwb-note">Best optimized-model throughput ({escape(performance["optimized_precision"])} precision hint) '
            f'over the parent pinned to f32: {performance["optimized"]["fps"]:.1f} vs {performance["parent"]["fps"]:.1f} FPS. '
            "The parent at the CPU's default precision is shown too: it is what you get without quantizing.</div>")
        self.settings.value = settings_table(performance)


def settings_table(performance: dict[str, Any]) -> str:
    """Every figure with the settings it was measured with (read back from the compiled model)."""
    runs = [("Parent, f32 (pinned baseline)", performance["parent"])]
    if performance.get("parent_default"):
        runs.append(("Parent, default precision", performance["parent_default"]))
    runs += [(f"INT8, {k} precision hint", v) for k, v in performance.get("optimized_runs", {}).items()]
    head = ("<tr><th>Configuration</th><th>FPS</th><th>Latency median (ms)</th><th>mean</th><th>min</th><th>max</th>"
            "<th>Inference precision</th><th>Hint</th><th>Streams</th><th>Requests</th><th>Threads</th></tr>")
    body = ""
    for name, r in runs:
        props, lat = r.get("properties", {}), r["latency_ms"]
        body += (f"<tr><td>{escape(name)}</td><td class=num>{r['fps']:.2f}</td><td class=num>{lat['median']:.2f}</td>"
                 f"<td class=num>{lat['average']:.2f}</td><td class=num>{lat['min']:.2f}</td><td class=num>{lat['max']:.2f}</td>"
                 f"<td>{escape(r['inference_precision'])}</td><td>{escape(props.get('PERFORMANCE_HINT', ''))}</td>"
                 f"<td>{escape(props.get('NUM_STREAMS', ''))}</td>"
                 f"<td>{escape(props.get('OPTIMAL_NUMBER_OF_INFER_REQUESTS', ''))}</td>"
                 f"<td>{escape(props.get('INFERENCE_NUM_THREADS', ''))}</td></tr>")
    foot = (f"<p class=segwb-note>{performance.get('seconds_per_run', 0):.1f} s per configuration after a warm-up, "
            f"AsyncInferQueue with the optimal number of requests, on {escape(device_label(performance))} "
            f"with OpenVINO {escape(performance.get('openvino_version', ''))}; input shape "
            f"{escape(performance.get('input_shape', ''))}. Speedup = best INT8 FPS / parent f32 FPS.</p>")
    return f'<table class="segwb-kv">{head}{body}</table>{foot}'
