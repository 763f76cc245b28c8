"""The Voila dashboard: Model & data → Optimize (INT8) → Performance → Accuracy report → Visualize → Next steps.

Nothing heavy runs while the page loads: the last run's settings and its cached results (``report.json``,
``steps/*.json`` in its project folder) are read back, and every long step runs from a button in a thread. Each tab
is a module of :mod:`widgets.tabs` built on one :class:`~widgets.state.DashboardState`; this module lays them out.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w

from segwb.tutorial.options import TutorialOptions

from .common import note_html, style
from .overlay_viewer import OverlayViewer
from .packages import PackageView
from .performance import PerformanceView
from .picker import ModelDataPicker
from .runner import JobRunner
from .state import DashboardState, Results, projects_root
from .table import ReportTable
from .tabs.model_data import ModelDataTab
from .tabs.next_steps import NextStepsTab
from .tabs.optimize import OptimizeTab
from .tabs.performance import PerformanceTab
from .tabs.report import ReportTab
from .tabs.visualize import VisualizeTab


class Dashboard:
    """The whole app; ``widget`` is what the notebook displays. ``root`` holds its projects (default
    :func:`~widgets.state.projects_root`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else projects_root()
        self.runner = JobRunner(estimate=lambda phase: self.optimize_tab.estimate(phase))
        self.state = DashboardState(self.root, self.runner)
        self.model_data_tab = ModelDataTab(self.state)
        self.optimize_tab = OptimizeTab(self.state, self.model_data_tab.picker)
        self.performance_tab = PerformanceTab(self.state)
        self.report_tab = ReportTab(self.state, on_select=self._open_in_viewer)
        self.visualize_tab = VisualizeTab(self.state)
        self.next_steps_tab = NextStepsTab(self.state)
        order = (self.model_data_tab, self.optimize_tab, self.performance_tab, self.report_tab, self.visualize_tab,
                 self.next_steps_tab)
        self.titles = tuple(tab.title for tab in order)
        self.tabs = w.Tab(children=[tab.widget for tab in order], titles=self.titles)
        self.tabs.observe(self._tab_selected, "selected_index")
        self.project_label = w.HTML("")
        self.state.on_results(self._show_project)
        self.widget = w.VBox([style(), self.project_label, self.runner.widget, self.tabs])
        self.widget.add_class("segwb-dashboard")
        self.state.restore()

    # --- what notebooks and tests use --------------------------------------------------------------

    @property
    def picker(self) -> ModelDataPicker:
        """The Model & data tab's model, dataset and task choice."""
        return self.model_data_tab.picker

    @property
    def performance(self) -> PerformanceView:
        """The Performance tab's throughput and latency charts."""
        return self.performance_tab.performance

    @property
    def table(self) -> ReportTable:
        """The Accuracy report tab's table."""
        return self.report_tab.table

    @property
    def viewer(self) -> OverlayViewer:
        """The Visualize tab's overlay viewer."""
        return self.visualize_tab.viewer

    @property
    def packages(self) -> PackageView:
        """The Next steps tab's deployment, export and import."""
        return self.next_steps_tab.packages

    @property
    def project(self) -> Path | None:
        """The project folder shown."""
        return self.state.project

    @property
    def opened(self) -> Path | None:
        """The project shown when it was opened by itself (e.g. imported), else None."""
        return self.state.opened

    def options(self) -> TutorialOptions:
        """TutorialOptions from the form; a bad value raises SegwbError with a one-line message."""
        return self.state.options()

    def run_step(self, until: str) -> bool:
        """Start ``until`` ("quantize", "benchmark" or "report") in the background; False if it could not start."""
        return self.optimize_tab.run_step(until)

    def load_results(self) -> Results:
        """Show whatever the project folder holds: quantize and benchmark records, the report."""
        return self.state.load_results()

    def open_project(self, folder: Path) -> None:
        """Show a project folder by itself (e.g. one just imported) until a step runs or the method changes."""
        self.state.open_project(folder)

    # --- internals ---------------------------------------------------------------------------------

    def _tab_selected(self, change: dict) -> None:
        """Charts are attached only while their tab is shown (bqplot cannot lay out in a hidden one)."""
        for tab in (self.performance_tab, self.report_tab):
            tab.set_visible(change["new"] == self.titles.index(tab.title))

    def _show_project(self, results: Results) -> None:
        self.project_label.value = "" if results.project is None else note_html(
            f"{'Opened project' if results.opened else 'Project folder'}: {results.project}")

    def _open_in_viewer(self, image: str) -> None:
        self.viewer.open(image)
        self.tabs.selected_index = self.titles.index(self.visualize_tab.title)
