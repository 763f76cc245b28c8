"""Performance: parent vs INT8 throughput and latency, the per-layer comparison of both models, and the explorer
of inference configurations (streams x batch)."""

from __future__ import annotations

import ipywidgets as w

from segwb.core.compile import DEFAULT_DEVICE

from ..explorer_view import ExplorerView
from ..performance import PerformanceView
from ..performance_comparison import PerformanceComparisonView
from ..state import DashboardState, Results

TITLE = "Performance"


class PerformanceTab:
    """The benchmark's figures, Compare performance and the explorer, for the project shown."""

    title = TITLE

    def __init__(self, state: DashboardState) -> None:
        self.performance = PerformanceView()
        self.comparison = PerformanceComparisonView(state.runner)
        self.explorer = ExplorerView(state.runner)
        self.widget = w.VBox([self.performance.widget,
                              w.HTML("<h3>Where the time goes: parent (f32) vs INT8, layer by layer</h3>"),
                              self.comparison.widget, w.HTML("<h3>Explore inference configurations</h3>"),
                              self.explorer.widget])
        self.set_visible(False)
        state.on_results(self.show)
        state.runner.on_busy(self._busy)

    def set_visible(self, visible: bool) -> None:
        """Charts are attached only while the tab shows: bqplot laid out in a hidden tab logs errors."""
        self.performance.set_visible(visible)
        self.explorer.set_visible(visible)

    def show(self, results: Results) -> None:
        """The newest measurement, the saved comparison and the explorer's cached cells of ``results``' project."""
        self.performance.show(results.performance)
        self.comparison.set_project(results.project)
        # The explorer measures on the device the project's benchmark ran on, so its cells compare with it.
        device = str((results.performance or {}).get("device", DEFAULT_DEVICE))
        self.explorer.set_model(results.explorer_model, results.project / "explorer" if results.project else None, device)

    def _busy(self, busy: bool) -> None:
        self.comparison.run_button.disabled = self.explorer.run_button.disabled = busy
