"""The overview charts of the Accuracy report tab (widgets.overview): the histogram's bars are the report's bins,
the per-class bars the parent's and INT8's values, a click selects a bin (again: unselects it), the figures are
attached only while the tab is shown, and a report without per-class values says why."""

from __future__ import annotations

from dashboard_helpers import semantic_rows_report
from segwb.report.overview import MEASURES, histogram
from widgets.overview import OverviewCharts, short_labels


def annotated_report() -> dict:
    report = semantic_rows_report(20)
    report["ground_truth"] = {"parent": {"mean_iou": 0.7, "per_class_iou": {"cat": 0.8, "person": 0.9, "sofa": None}},
                              "optimized": {"mean_iou": 0.6, "per_class_iou": {"cat": 0.5, "person": 0.85, "sofa": None}}}
    return report


def test_bars_are_the_bins_and_the_classes() -> None:
    charts = OverviewCharts()
    report = annotated_report()
    charts.show(report)
    expected = histogram(report["comparison"]["basic"], MEASURES[0])
    assert list(charts.bars.y) == list(expected.counts) == [1] * 20
    assert list(charts.bars.x) == list(expected.edges[:-1])
    assert "1 image without a value" in charts.note.value
    assert list(charts.class_bars.x) == ["cat", "person"]  # most lost first; sofa has no IoU on either side
    assert [list(v) for v in charts.class_bars.y] == [[80.0, 90.0], [50.0, 85.0]]
    assert "No IoU for: sofa." in charts.class_note.value
    assert charts.figures.children == ()  # not attached until the tab is shown
    charts.set_visible(True)
    assert charts.figures.children == (charts.histogram_figure, charts.class_figure)
    charts.set_visible(False)
    assert charts.figures.children == ()


def test_a_click_selects_a_bin_and_a_second_unselects_it() -> None:
    picked: list = []
    charts = OverviewCharts(on_bin=picked.append)
    charts.show(annotated_report())
    assert charts.show_all.disabled
    charts._clicked(charts.bars, {"event": "element_click", "data": {"index": 3}})
    assert picked == [3] and list(charts.bars.selected) == [3] and not charts.show_all.disabled
    assert charts.bin_bounds(3)[0] == 0.15 and charts.bin_description(3) == (
        "the 1 image with Optimized Model Average Result in [0.15, 0.20)")
    charts._clicked(charts.bars, {"event": "element_click", "data": {"x": 0.15}})  # the same bar, by its edge
    assert picked == [3, None] and charts.bars.selected is None and charts.show_all.disabled
    charts.click(19)
    charts.show_all.click()
    assert picked == [3, None, 19, None]
    charts.click(25)  # no such bin: nothing happens
    assert picked == [3, None, 19, None]


def test_without_per_class_values_or_a_report() -> None:
    charts = OverviewCharts()
    report = semantic_rows_report(5)
    report["ground_truth"] = {"parent": {"mean_iou": 0.5}, "optimized": {"mean_iou": 0.4}}  # an earlier version
    charts.show(report)
    charts.set_visible(True)
    assert charts.figures.children == (charts.histogram_figure,)
    assert "no per-class results (written by an earlier version" in charts.class_note.value
    charts.show(None)
    assert charts.figures.children == () and charts.histogram is None and charts.note.value == ""


def test_long_class_names_are_cut_and_stay_distinct() -> None:
    assert short_labels(["person", "a" * 30, "a" * 25 + "b", "</script>"], limit=10) == [
        "person", "aaaaaaaaa…", "aaaaaaaaa… (2)", "</script>"]
