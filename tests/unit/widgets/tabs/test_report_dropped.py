"""The Accuracy report tab says what the dataset reader dropped (the lines report.html shows), as text: reasons and
file names come from the user's dataset, or from someone else's report.json in an imported archive."""

from __future__ import annotations

import html
from pathlib import Path

from dashboard_helpers import write_instance_project
from segwb.report.summary import dropped_lines
from widgets.runner import JobRunner
from widgets.state import DashboardState, Results
from widgets.tabs.report import ReportTab, dropped_html, summary_html

REASON = "<img src=x onerror=window.__pwned=1>"
EXAMPLE = '<script>window.__pwned=2</script>".jpg'
LAYOUT = "<svg onload=window.__pwned=3>"


def _report(root: Path) -> dict:
    report = write_instance_project(root)
    report["dataset"].update(layout=LAYOUT, dropped=[
        {"what": "image", "reason": REASON, "count": 2, "examples": [EXAMPLE, "b.jpg"]},
        {"what": "annotation", "reason": "no segmentation", "count": 1, "examples": ["7"]}])
    report["optimized"]["accuracy_aware"] = None
    return report


def test_dropped_lines_are_shown_escaped(tmp_path: Path) -> None:
    report = _report(tmp_path)
    lines = dropped_lines(report["dataset"])
    assert lines == [f"Dropped 2 images ({REASON}): {EXAMPLE}, b.jpg", "Dropped 1 annotation (no segmentation): 7"]
    shown = dropped_html(report)
    assert shown == ('<ul class="segwb-dropped segwb-note">'
                     + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>")
    summary = summary_html(report)
    assert shown in summary
    for raw in (REASON, EXAMPLE, LAYOUT):
        assert raw not in summary, raw
    assert html.escape(LAYOUT) in summary  # the Dataset fact


def test_nothing_dropped_and_older_reports(tmp_path: Path) -> None:
    report = _report(tmp_path)
    report["dataset"]["dropped"] = []
    assert "<li>Nothing was dropped.</li>" in summary_html(report)
    del report["dataset"]["dropped"]
    report["dataset"]["skipped"] = ["<b>x</b>.jpg"]  # report.json before "dropped"
    assert "<li>Dropped 1 image (skipped while reading the dataset): &lt;b&gt;x&lt;/b&gt;.jpg</li>" in summary_html(report)


def test_the_tab_shows_them(tmp_path: Path) -> None:
    report = _report(tmp_path / "project")
    tab = ReportTab(DashboardState(tmp_path / "projects", JobRunner()))
    tab.show(Results(tmp_path / "project", report=report))
    assert dropped_html(report) in tab.summary.value and "Dropped 1 annotation (no segmentation): 7" in tab.summary.value
    assert REASON not in tab.summary.value and EXAMPLE not in tab.summary.value
