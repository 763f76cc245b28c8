"""Accuracy report: the result summary (the same facts as the CLI and ``report.html``), how the numbers are
defined, the overview charts (a bar of the per-image histogram filters the table to its images) and the table of
the parent-vs-optimized comparison."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.report.html import facts_html
from segwb.report.summary import dropped_lines

from ..common import escape, note_html
from ..overview import OverviewCharts
from ..state import DashboardState, Results
from ..table import ReportTable

TITLE = "Accuracy report"
NO_REPORT = "No report yet."


def dropped_html(report: dict[str, Any]) -> str:
    """What the dataset reader left out (the lines report.html shows), as escaped text: the names are the user's."""
    items = "".join(f"<li>{escape(line)}</li>" for line in dropped_lines(report.get("dataset") or {}))
    return f'<ul class="segwb-dropped segwb-note">{items}</ul>'


def summary_html(report: dict[str, Any], stale: bool = False) -> str:
    """The report's facts, what the dataset left out, how its numbers are defined, and a warning when it is of an
    earlier INT8 model."""
    notes = tasks.get(report["task"]).method_notes(report["comparison"])
    html = ('<div class="segwb-report-summary">' + facts_html(report) + dropped_html(report)
            + "".join(f"<p class=segwb-note>{escape(n)}</p>" for n in notes)
            + note_html("Click a bar of the histogram to list its images, a header to sort, View to open the image in "
                        "the Visualize tab.") + "</div>")
    if stale:
        html += note_html("This report is from an earlier INT8 model: create the accuracy report again.")
    return html


class ReportTab:
    """The summary above the report table; ``on_select(image)`` is what a row's View button does."""

    title = TITLE

    def __init__(self, state: DashboardState, on_select: Callable[[str], None] | None = None) -> None:
        self.summary = w.HTML(note_html(NO_REPORT))
        self.table = ReportTable(on_select=on_select)
        self.overview = OverviewCharts(on_bin=self.filter_bin)
        self.table.filter_listeners.append(self._table_filtered)
        self.widget = w.VBox([self.summary, self.overview.widget, self.table.widget])
        state.on_results(self.show)

    def set_visible(self, visible: bool) -> None:
        """The tab was shown or hidden: the charts are attached only while it is shown."""
        self.overview.set_visible(visible)

    def show(self, results: Results) -> None:
        """The summary, the charts and the rows of ``results``' report (or that there is none yet)."""
        report = results.report
        self.summary.value = summary_html(report, results.stale_report) if report else note_html(NO_REPORT)
        self.overview.show(report)
        self.table.show(report)

    def filter_bin(self, index: int | None) -> None:
        """Show the images of histogram bin ``index`` in the table (None: every row), in the current mode."""
        measure = self.table.measure
        if index is None or measure is None:
            self.table.clear_filters()
        else:
            self.table.filter_range(measure.key, self.overview.bin_bounds(index), self.overview.bin_description(index))

    def _table_filtered(self, filters: dict[str, tuple[float | None, float | None]]) -> None:
        """The table's filters changed (Clear, a number typed, another mode): the bar stays selected only while its
        range is the filter."""
        selected, measure = self.overview.selected, self.table.measure
        if selected is not None and (measure is None or filters != {measure.key: self.overview.bin_bounds(selected)}):
            self.overview.select(None)
