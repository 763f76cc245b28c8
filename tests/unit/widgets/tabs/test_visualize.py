"""The Visualize tab: the overlay viewer on the report of the project shown, nothing without a report."""

from __future__ import annotations

from pathlib import Path

from dashboard_helpers import write_semantic_project
from widgets.runner import JobRunner
from widgets.state import DashboardState, Results
from widgets.tabs.visualize import VisualizeTab


def test_shows_the_report_images(tmp_path: Path) -> None:
    tab = VisualizeTab(DashboardState(tmp_path, JobRunner()))
    assert tab.widget is tab.viewer.widget and "No report yet" in tab.viewer.info.value
    write_semantic_project(tmp_path / "p")
    tab.show(Results.read(tmp_path / "p"))
    assert tab.viewer.image.value == "photo.png" and len(tab.viewer.parent_image.value) > 0
    tab.show(Results(tmp_path / "p"))  # e.g. the form's project before its report
    assert tab.viewer.image.options == () and "No report yet" in tab.viewer.info.value
