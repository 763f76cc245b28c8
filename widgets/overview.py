"""The Accuracy report's overview charts (bqplot): the distribution of the per-image result, whose bars filter the
report table to their images, and, for an annotated report, the per-class results of the parent and the INT8 model
side by side. What is drawn is :mod:`segwb.report.overview`'s; this module only lays it out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bqplot as bq
import ipywidgets as w

from segwb.report import overview
from segwb.report.table import columns, table_rows

from .common import escape, note_html
from .performance import COLOURS

SELECTED_COLOUR = "#e67e22"
LEGEND = "".join(f'<span class="segwb-swatch" style="background:{COLOURS[role]}"></span>{label}'
                 for role, label in (("parent", "Parent (f32)"), ("optimized", "Optimized (INT8)")))
CLASS_ROW_PX = 22  # height per class of the per-class chart
NAME_CHARS = 22  # class names longer than this are cut on the chart's axis (the note and table have them whole)


def short_labels(names: list[str], limit: int = NAME_CHARS) -> list[str]:
    """``names`` cut to ``limit`` characters for an axis, still distinct (an ordinal axis merges equal labels)."""
    found: list[str] = []
    for name in names:
        label = name if len(name) <= limit else name[:limit - 1] + "…"
        base, n = label, 2
        while label in found:
            label, n = f"{base} ({n})", n + 1
        found.append(label)
    return found


def _histogram_figure() -> tuple[bq.Figure, bq.Bars]:
    # A linear x scale with each bar drawn from its bin's lower edge: the axis reads 0.0 .. 1.0, like the bins
    # (an ordinal axis would print all twenty bin labels over each other).
    x, y = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0)
    bars = bq.Bars(x=[0.0], y=[0], scales={"x": x, "y": y}, padding=0.08, align="right",
                   colors=[COLOURS["optimized"]], selected_style={"fill": SELECTED_COLOUR},
                   unselected_style={"opacity": 0.5},
                   tooltip=bq.Tooltip(fields=["x", "y"], labels=["from", "images"], formats=[".2f", ".0f"]))
    figure = bq.Figure(marks=[bars], axes=[bq.Axis(scale=x, tick_format=".1f"),
                                           bq.Axis(scale=y, orientation="vertical", label="images", tick_format=".0f")],
                       title="Per-image result", layout=w.Layout(width="560px", height="320px"),
                       fig_margin={"top": 50, "bottom": 50, "left": 60, "right": 20})
    figure.add_class("segwb-overview-histogram")
    return figure, bars


def _class_figure() -> tuple[bq.Figure, bq.Bars]:
    x, y = bq.OrdinalScale(reverse=True), bq.LinearScale(min=0, max=100)
    bars = bq.Bars(x=["—"], y=[[0.0], [0.0]], scales={"x": x, "y": y}, type="grouped", orientation="horizontal",
                   colors=[COLOURS["parent"], COLOURS["optimized"]], padding=0.2,
                   tooltip=bq.Tooltip(fields=["x", "y"], labels=["class", "%"], formats=["", ".2f"]))
    figure = bq.Figure(marks=[bars], axes=[bq.Axis(scale=x, orientation="vertical"), bq.Axis(scale=y, label="%")],
                       title="Per-class result", layout=w.Layout(width="560px", height="320px"),
                       fig_margin={"top": 50, "bottom": 50, "left": 150, "right": 20})
    figure.add_class("segwb-overview-classes")
    return figure, bars


class OverviewCharts:
    """The charts of one report; ``on_bin(index)`` is called with the bin a click selected, None when a click on
    the selected bin unselected it."""

    def __init__(self, on_bin: Callable[[int | None], None] | None = None) -> None:
        self.on_bin = on_bin
        self.histogram: overview.Histogram | None = None
        self.classes: overview.PerClass | None = None
        self.selected: int | None = None
        self.histogram_figure, self.bars = _histogram_figure()
        self.class_figure, self.class_bars = _class_figure()
        self.bars.on_element_click(self._clicked)
        self.note = w.HTML("")
        self.class_note = w.HTML("")
        self.show_all = w.Button(description="Show all", icon="times", tooltip="show every row of the table again",
                                 layout=w.Layout(width="110px"), disabled=True)
        self.show_all.add_class("segwb-show-all")
        self.show_all.on_click(lambda _: self.click(self.selected) if self.selected is not None else None)
        self.figures = w.HBox([], layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.visible = False
        self.widget = w.VBox([self.figures, w.HBox([self.show_all, self.note]), self.class_note])
        self.widget.add_class("segwb-overview")

    def set_visible(self, visible: bool) -> None:
        """Attach the figures only while their tab is shown (bqplot laid out in a hidden tab draws negative sizes
        and fills the console with errors, see :meth:`widgets.performance.PerformanceView.set_visible`)."""
        self.visible = visible
        wanted = tuple(f for f, shown in ((self.histogram_figure, self.histogram is not None),
                                          (self.class_figure, self.classes is not None)) if shown) if visible else ()
        if self.figures.children != wanted:
            self.figures.children = wanted

    def show(self, report: dict[str, Any] | None) -> None:
        """Draw ``report``'s charts (None clears them)."""
        self.histogram, self.classes, self.selected = None, None, None
        self.note.value = self.class_note.value = ""
        if report:
            measure = overview.measure_for(c.key for c in columns(report["task"], "basic"))
            if measure is None:
                self.note.value = note_html("This task's rows have no per-image result to chart.")
            else:
                self.histogram = overview.histogram(table_rows(report, "basic"), measure)
                self._draw_histogram()
            found = overview.per_class(report.get("ground_truth"))
            if isinstance(found, str):
                self.class_note.value = note_html(found)
            else:
                self.classes = found
                self._draw_classes()
        self._mark_selected()
        self.set_visible(self.visible)

    def select(self, index: int | None) -> None:
        """Highlight bin ``index`` (None: no bin) without calling ``on_bin``."""
        self.selected = index
        self._mark_selected()

    def bin_bounds(self, index: int) -> tuple[float, float]:
        """Bin ``index`` as the table's inclusive (min, max) filter."""
        assert self.histogram is not None
        return overview.bin_filter(self.histogram.edges, index)

    def bin_description(self, index: int) -> str:
        """"the 37 images with Optimized Model Average Result in [0.20, 0.25)"."""
        assert self.histogram is not None
        count = self.histogram.counts[index]
        return (f"the {count} image{'' if count == 1 else 's'} with {self.histogram.measure.title} in "
                f"{self.histogram.label(index)}")

    def click(self, index: int) -> None:
        """What clicking bar ``index`` does: select it (or unselect it when it is selected) and tell ``on_bin``."""
        if self.histogram is None or not 0 <= index < len(self.histogram.counts):
            return
        self.select(None if index == self.selected else index)
        if self.on_bin is not None:
            self.on_bin(self.selected)

    # --- internals -------------------------------------------------------------------------------

    def _clicked(self, _mark: bq.Bars, event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        index = data.get("index")
        if not isinstance(index, int) and self.histogram is not None and isinstance(data.get("x"), (int, float)):
            index = overview.bin_index(data["x"], self.histogram.edges)  # by the bar's lower edge
        if isinstance(index, int):
            self.click(index)

    def _draw_histogram(self) -> None:
        found = self.histogram
        assert found is not None
        with self.bars.hold_sync():
            self.bars.x, self.bars.y = list(found.edges[:-1]), list(found.counts)
        self.histogram_figure.axes[0].label = found.measure.title
        peak = max(found.counts)  # small counts: whole numbers only (else the ticks read 0 0 1 1 1)
        self.histogram_figure.axes[1].tick_values = list(range(peak + 1)) if 0 < peak <= 8 else None
        self.histogram_figure.title = f"Per-image result, {found.total} images"
        self.note.value = note_html(" ".join(filter(None, [
            "Click a bar to show its images in the table (again, or Show all, for every row).", found.note()])))

    def _draw_classes(self) -> None:
        found = self.classes
        assert found is not None
        names = short_labels([p.name for p in found.pairs])
        with self.class_bars.hold_sync():
            self.class_bars.x = names
            self.class_bars.y = [[100 * (p.parent or 0.0) for p in found.pairs],
                                 [100 * (p.optimized or 0.0) for p in found.pairs]]
        self.class_figure.axes[1].label = f"{found.metric} (%)"
        self.class_figure.title = f"Per-class {found.metric}, most lost by INT8 on top"
        self.class_figure.layout.height = f"{110 + CLASS_ROW_PX * len(names)}px"
        undefined = f" No {found.metric} for: {escape(', '.join(found.undefined))}." if found.undefined else ""
        self.class_note.value = f'<span class="segwb-note">Per-class {found.metric}: {LEGEND}.{undefined}</span>'


    def _mark_selected(self) -> None:
        self.bars.selected = None if self.selected is None else [self.selected]
        self.show_all.disabled = self.selected is None
