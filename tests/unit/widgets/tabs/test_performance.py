"""The Performance tab: the newest measurement, the project's saved comparison and explorer cells, charts when shown."""

from __future__ import annotations

import shutil
from pathlib import Path

from dashboard_helpers import write_instance_project
from tiny_models import write_model
from widgets.runner import JobRunner
from widgets.state import DashboardState, Results
from widgets.tabs.performance import PerformanceTab


def test_shows_the_project_and_waits_for_jobs(tmp_path: Path) -> None:
    runner = JobRunner()
    tab = PerformanceTab(DashboardState(tmp_path, runner))
    assert tab.performance.figures.children == () and tab.explorer.chart.children == ()  # hidden at first
    tab.show(Results())
    assert "No measurement yet" in tab.performance.speedup.value and tab.explorer.xml is None
    report = write_instance_project(tmp_path)
    xml = write_model(tmp_path / "tiny")
    (tmp_path / "models" / "parent").mkdir(parents=True)
    for suffix in (".xml", ".bin"):
        shutil.copy(xml.with_suffix(suffix), tmp_path / "models" / "parent" / f"model{suffix}")
    tab.show(Results.read(tmp_path))
    assert tab.performance.performance == report["performance"] and "2.00× faster" in tab.performance.speedup.value
    assert tab.comparison.project == tmp_path and "No performance comparison yet" in tab.comparison.findings.value
    assert tab.explorer.xml == tmp_path / "models" / "parent" / "model.xml" and tab.explorer.cache == tmp_path / "explorer"
    tab.set_visible(True)
    assert tab.performance.figures.children and tab.explorer.chart.children
    for listener in runner._listeners:
        listener(True)
    assert tab.comparison.run_button.disabled and tab.explorer.run_button.disabled
