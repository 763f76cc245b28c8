"""Clicking a histogram bar filters the report table to that bin's images, with the table's own numeric filter: in
Basic and Advanced mode, for the semantic Average Result and the instance Matches / B; Clear, Show all, a number in
the filter boxes or another mode end it (and unselect the bar); the image-name box still applies."""

from __future__ import annotations

from pathlib import Path

from dashboard_helpers import semantic_rows_report, write_instance_project
from segwb.report.overview import bin_edges, images_in_bin, measure_for
from segwb.report.table import columns
from widgets.runner import JobRunner
from widgets.state import DashboardState
from widgets.tabs.report import ReportTab


def tab_showing(report: dict, tmp_path: Path) -> ReportTab:
    tab = ReportTab(DashboardState(tmp_path, JobRunner()))
    tab.overview.show(report)
    tab.table.show(report)
    return tab


def shown_images(tab: ReportTab) -> list[str]:
    table, seen = tab.table, []
    for page in range(table.query.page + 1000):
        table.go(page)
        rows = table.visible_rows()
        if table.query.page != page:
            break
        seen += [r["image"] for r in rows]
    table.go(0)
    return seen


def test_a_bar_filters_the_table_to_its_images(tmp_path: Path) -> None:
    report = semantic_rows_report(40)
    tab = tab_showing(report, tmp_path)
    measure = measure_for(c.key for c in columns("semantic", "basic"))
    for index in (0, 7, 19):
        tab.overview.click(index)
        expected = images_in_bin(report["comparison"]["basic"], measure, bin_edges(20), index)
        assert sorted(shown_images(tab)) == sorted(expected) and expected
        assert f"({len(expected)} of 41 rows)" in tab.table.page_label.value
        assert "Showing the 2 images with Optimized Model Average Result in" in tab.table.message.value
        assert tab.overview.selected == index and tab.table.filter_min.value == tab.table.filter_max.value == ""
    tab.table.filter_text.value = "img1"  # the name box narrows the bin
    narrowed = [name for name in expected if "img1" in name]
    assert shown_images(tab) == narrowed and 0 < len(narrowed) < len(expected) and tab.overview.selected == 19
    tab.table.clear_button.click()
    assert len(shown_images(tab)) == 41 and tab.overview.selected is None and tab.table.message.value == ""


def test_a_typed_number_or_another_mode_ends_the_bar(tmp_path: Path) -> None:
    tab = tab_showing(semantic_rows_report(40), tmp_path)
    tab.overview.click(5)
    tab.table.filter_min.value = "0.5"
    tab.table.apply_filters()
    assert tab.overview.selected is None and all(r["average_result"] >= 0.5 for r in tab.table.visible_rows())
    assert tab.table.message.value == ""
    tab.overview.click(5)
    tab.overview.click(5)  # the same bar again: every row
    assert "(41 of 41 rows)" in tab.table.page_label.value and tab.overview.selected is None
    tab.overview.click(2)
    tab.table.mode_toggle.value = "advanced"
    assert tab.overview.selected is None and "(123 of 123 rows)" in tab.table.page_label.value


def test_in_advanced_mode_a_bar_shows_the_rows_of_its_images(tmp_path: Path) -> None:
    report = semantic_rows_report(40)
    tab = tab_showing(report, tmp_path)
    tab.table.mode_toggle.value = "advanced"
    tab.overview.click(19)
    images = {r["image"] for r in report["comparison"]["basic"]
              if r["average_result"] is not None and r["average_result"] >= 0.95}
    rows = shown_images(tab)
    assert set(rows) == images and len(rows) == 3 * len(images)  # every class row of those images
    assert [c.key for c in tab.table.columns] == ["image", "class_id", "class_name", "result"]


def test_instance_bins_are_matches_over_parent_detections(tmp_path: Path) -> None:
    report = write_instance_project(tmp_path / "p")  # street 1/2, park 1/1
    tab = tab_showing(report, tmp_path)
    assert tab.overview.histogram is not None and tab.overview.histogram.total == 2
    tab.overview.click(10)  # [0.50, 0.55)
    assert shown_images(tab) == ["street.jpg"]
    tab.overview.click(19)  # [0.95, 1.00]: 1.0 is in the last bin
    assert shown_images(tab) == ["park.png"]
    assert "with Matches / B (of the parent&#x27;s detections) in [0.95, 1.00]" in tab.table.message.value
    tab.table.set_mode("advanced")
    tab.overview.click(19)
    assert shown_images(tab) == ["park.png", "park.png"]
