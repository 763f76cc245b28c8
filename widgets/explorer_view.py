"""Inference-configuration explorer: a streams x batch grid to select, its time estimate, and the
throughput-vs-latency chart with the latency threshold and the sweet spot marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bqplot as bq
import ipywidgets as w

from segwb.core.compile import DEFAULT_DEVICE
from segwb.core.errors import SegwbError
from segwb.measure import explorer

from .common import escape, input_error_html, note_html, one_line
from .runner import Job, JobRunner


class ExplorerView:
    """Select cells, run them through ``runner`` (progress, cancel), and plot every cached cell of the model."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.xml: Path | None = None
        self.cache: Path | None = None
        self.device = DEFAULT_DEVICE
        self.results: list[dict[str, Any]] = []
        self.max_batch = w.BoundedIntText(value=explorer.DEFAULT_MAX_BATCH, min=1, max=explorer.MAX_BATCH,
                                          description="Max batch")
        self.precision = w.Dropdown(options=[("f32 (pinned, the FP32 baseline)", "f32"), ("device default", "default")],
                                    value="f32", description="Precision")
        self.seconds = w.BoundedFloatText(value=explorer.DEFAULT_SECONDS, min=0.1, max=600, description="Seconds/cell")
        self.threshold = w.BoundedFloatText(value=100.0, min=0.0, max=1e6, description="Latency ≤ ms")
        self.cells: dict[explorer.Cell, w.ToggleButton] = {}
        self.grid = w.VBox()
        self.estimate = w.HTML("")
        self.message = w.HTML("")
        self.run_button = w.Button(description="Run selected", icon="play", button_style="primary")
        self.spot = w.HTML("")
        x, y = bq.LinearScale(min=0), bq.LinearScale(min=0)
        tooltip = bq.Tooltip(fields=["x", "y", "name"], formats=[".2f", ".1f", ""], labels=["latency ms", "images/s", ""])
        self.points = bq.Scatter(x=[], y=[], names=[], display_names=False, scales={"x": x, "y": y}, tooltip=tooltip,
                                 colors=["#7f8c9a"])
        self.best = bq.Scatter(x=[], y=[], scales={"x": x, "y": y}, colors=["#0b8a3e"], default_size=200, marker="diamond")
        self.limit = bq.Lines(x=[0, 0], y=[0, 0], scales={"x": x, "y": y}, colors=["#d33"], line_style="dashed")
        self.figure = bq.Figure(marks=[self.points, self.limit, self.best], title="Throughput vs latency",
                                axes=[bq.Axis(scale=x, label="latency, median (ms)"),
                                      bq.Axis(scale=y, orientation="vertical", label="images/s", tick_format=".0f")],
                                layout=w.Layout(width="560px", height="380px"))
        self.chart = w.Box()
        self.max_batch.observe(lambda _: self._build_grid(), "value")
        for control in (self.precision, self.seconds):
            control.observe(lambda _: self._update_estimate(), "value")
        self.threshold.observe(lambda _: self._draw(), "value")
        self.run_button.on_click(lambda _: self.run())
        self._build_grid()
        self.widget = w.VBox([w.HBox([self.max_batch, self.precision]), w.HBox([self.seconds, self.threshold]),
                              self.grid, w.HBox([self.run_button, self.estimate]), self.message, self.chart, self.spot])
        self.widget.add_class("segwb-explorer")

    def set_visible(self, visible: bool) -> None:
        """Attach the chart only while its tab shows (bqplot in a hidden tab draws garbage, as in PerformanceView)."""
        wanted = (self.figure,) if visible else ()
        if self.chart.children != wanted:
            self.chart.children = wanted

    def set_model(self, xml: Path | None, cache: Path | None, device: str = DEFAULT_DEVICE) -> None:
        """The IR to explore, its cache folder (e.g. ``<project>/explorer``) and the device to measure on (the
        project's benchmark device); shows its cached cells on that device."""
        rebuild = device != self.device  # the stream limit is the device's
        self.xml, self.cache, self.device = xml, cache, device
        if rebuild:
            self._build_grid()
        self.results = explorer.load_results(xml, cache, device) if xml and cache and xml.is_file() else []
        self._update_estimate()
        self._draw()

    def selected(self) -> list[explorer.Cell]:
        """The cells whose buttons are on."""
        return [cell for cell, button in self.cells.items() if button.value]

    def select(self, cells: list[explorer.Cell]) -> None:
        """Select exactly ``cells`` (for notebooks and tests)."""
        for cell, button in self.cells.items():
            button.value = cell in cells

    def run(self) -> bool:
        """Measure the selected cells in the background; False (with a message) if it could not start."""
        if self.xml is None or self.cache is None:
            self.message.value = input_error_html("No model yet: import a model in the Model & data tab.")
            return False
        xml, cache, cells, device = self.xml, self.cache, self.selected(), self.device
        precision, seconds = self._precision(), float(self.seconds.value)
        try:
            explorer.check_cells(cells, xml, device)
        except SegwbError as exc:
            self.message.value = input_error_html(one_line(exc))
            return False
        self.message.value = ""

        def work(job: Job) -> list[dict[str, Any]]:
            return explorer.explore(xml, cells, cache, precision, seconds, progress=job.progress, cancel=job.cancel,
                                    device=device)

        # Finished cells are cached even on cancel or failure, so reloading them shows whatever was measured.
        return self.runner.start(f"Explore configurations on {device}", work,
                                 on_finish=lambda: self.set_model(xml, cache, device))

    def _precision(self) -> str | None:
        # ipywidgets reads a None value as "nothing selected", so the dropdown says "default" for the plugin's own
        return None if self.precision.value == "default" else self.precision.value

    def _build_grid(self) -> None:
        try:
            cells = explorer.grid(int(self.max_batch.value), device=self.device)
        except SegwbError as exc:
            self.message.value = input_error_html(one_line(exc))
            return
        previous = set(self.selected())
        self.cells = {c: w.ToggleButton(value=c in previous, description=f"b{c.batch}", tooltip=f"{c.streams} stream(s), "
                                        f"batch {c.batch}", layout=w.Layout(width="56px")) for c in cells}
        for button in self.cells.values():
            button.observe(lambda _: self._update_estimate(), "value")
        rows = sorted({c.streams for c in cells})
        self.grid.children = [w.HBox([w.Label(f"{s} stream(s)", layout=w.Layout(width="90px")),
                                      *(b for c, b in self.cells.items() if c.streams == s)]) for s in rows]
        self._update_estimate()

    def _update_estimate(self) -> None:
        cells = self.selected()
        if not cells or self.xml is None or self.cache is None:
            self.estimate.value = note_html("Select cells to see the estimated time.")
            return
        try:
            e = explorer.estimate(self.xml, cells, self.cache, self._precision(), float(self.seconds.value),
                                  device=self.device)
        except SegwbError as exc:
            self.estimate.value = input_error_html(one_line(exc))
            return
        self.estimate.value = (f'<span data-estimate="{e.seconds:.2f}">about {e.seconds:.0f} s on {escape(self.device)} '
                               f"for {e.to_run} cell(s){f', {e.cached} cached' if e.cached else ''}</span> "
                               f'<span class="segwb-note" title="{escape(e.assumptions)}">(how?)</span>')

    def _draw(self) -> None:
        threshold = float(self.threshold.value)
        summary = explorer.summary(self.results, threshold)
        points = summary["points"]
        label = [f"{p['streams']}s" + (f"→{p['streams_used']}" if p["streams_used"] not in (None, p["streams"]) else "")
                 + f" b{p['batch']} {p['precision']}" for p in points]
        with self.points.hold_sync():
            self.points.x, self.points.y = [p["latency_ms"] for p in points], [p["throughput"] for p in points]
            self.points.names = label
        top = max((p["throughput"] for p in points), default=0.0)
        self.limit.x, self.limit.y = [threshold, threshold], [0, top * 1.05]
        spot = summary["sweet_spot"]
        with self.best.hold_sync():
            self.best.x, self.best.y = ([spot["latency_ms"]], [spot["throughput"]]) if spot else ([], [])
        if not points:
            self.spot.value = note_html("No configuration measured yet.")
        elif spot is None:
            self.spot.value = note_html(f"No configuration has a median latency at or under {threshold:g} ms.")
        else:
            # the cells are read back from the project's explorer cache, which an imported archive may carry
            streams, batch = escape(spot["streams"]), escape(spot["batch"])
            self.spot.value = (f'<div data-sweet-spot="s{streams}-b{batch}">Sweet spot: '
                               f'{spot["throughput"]:.1f} images/s at {spot["latency_ms"]:.2f} ms — {streams} '
                               f'stream(s), batch {batch}, {escape(spot["precision"])} precision</div>')
