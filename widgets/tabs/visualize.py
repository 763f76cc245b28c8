"""Visualize: the overlay viewer on the report's images."""

from __future__ import annotations

from ..overlay_viewer import OverlayViewer
from ..state import DashboardState, Results

TITLE = "Visualize"


class VisualizeTab:
    """Parent | optimized | the task's third panel, for the project shown."""

    title = TITLE

    def __init__(self, state: DashboardState) -> None:
        self.viewer = OverlayViewer()
        self.widget = self.viewer.widget
        state.on_results(self.show)

    def show(self, results: Results) -> None:
        """Load the images of ``results``' report (none without a report)."""
        self.viewer.show(results.report, results.project if results.report else None)
