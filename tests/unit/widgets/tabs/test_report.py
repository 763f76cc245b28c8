"""The Accuracy report tab: the summary's facts and method notes of each task, and the table of its report."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_helpers import tiny_project
from segwb import tasks
from segwb.report.summary import summary
from widgets.common import escape
from widgets.runner import JobRunner
from widgets.state import DashboardState, Results
from widgets.tabs.report import ReportTab


@pytest.fixture(scope="module", params=tasks.names())
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return tiny_project(tmp_path_factory.mktemp(request.param), request.param)


def test_summary_and_table_of_each_task(tiny: tuple[Path, dict], tmp_path: Path) -> None:
    root, report = tiny
    opened: list = []
    tab = ReportTab(DashboardState(tmp_path, JobRunner()), on_select=opened.append)
    assert "No report yet" in tab.summary.value
    tab.show(Results.read(root))
    for fact in summary(report):  # the same facts as the CLI and report.html
        assert f"<th>{escape(fact.label)}</th><td>{escape(fact.value)}</td>" in tab.summary.value
    for note in tasks.get(report["task"]).method_notes(report["comparison"]):
        assert escape(note) in tab.summary.value
    assert "earlier INT8 model" not in tab.summary.value
    assert tab.table.task == report["task"] and len(tab.table.rows) == len(report["comparison"]["basic"])
    tab.table.select(tab.table.visible_rows()[0]["image"])
    assert opened == [tab.table.visible_rows()[0]["image"]]
    stale = Results(root, report=report, quantized={"digest": "another model"})
    tab.show(stale)
    assert "This report is from an earlier INT8 model" in tab.summary.value
    tab.show(Results(root))
    assert "No report yet" in tab.summary.value and tab.table.rows == []
