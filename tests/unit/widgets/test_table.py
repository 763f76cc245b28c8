"""The report table widget: Basic/Advanced, sort by header, numeric filters, pages, a View button per row; the
columns are the report task's."""

from __future__ import annotations

from pathlib import Path

from dashboard_helpers import semantic_rows_report, write_instance_project
from segwb.report.table import columns
from widgets.table import ReportTable


def test_widget_sort_filter_paginate_select() -> None:
    opened: list[str] = []
    table = ReportTable(on_select=opened.append)
    table.show(semantic_rows_report())
    shown = table.visible_rows()
    assert len(shown) == 10 and table.page_label.value.count("24 of 24 rows") == 1
    values = [r["average_result"] for r in shown]
    assert values == sorted(values) and values[0] == 0.0  # worst first
    table.sort_by("pixel_agreement")
    assert [r["pixel_agreement"] for r in table.visible_rows()] == sorted(r["pixel_agreement"] for r in table.visible_rows())
    assert table._header[2].description.endswith("▲")
    table.sort_by("pixel_agreement")
    assert table._header[2].description.endswith("▼") and table.visible_rows()[0]["image"] == "img00.jpg"
    table.filter_column.value = "average_result"
    table.filter_min.value, table.filter_max.value = "0.5", ""
    table.apply_filters()
    assert all(r["average_result"] >= 0.5 for r in table.visible_rows())
    table.filter_min.value = "abc"
    table.apply_filters()
    assert "not a number" in table.message.value
    table.clear_filters()
    table.go(2)
    assert len(table.visible_rows()) == 4 and table.next_button.disabled and not table.prev_button.disabled
    assert "N/A" in table._cells[3][1].value  # the blank image's missing result, last
    table._on_view(table._views[0])
    assert opened == [table.visible_rows()[0]["image"]] and "sel" in table._cells[0][0].value
    table.mode_toggle.value = "advanced"
    assert [c.key for c in table.columns] == ["image", "class_id", "class_name", "result"]
    assert table.query.page == 0 and len(table.visible_rows()) == 10
    assert 'data-col="class_name"' in table._cells[0][2].value


def test_widget_instance_columns(tmp_path: Path) -> None:
    table = ReportTable()
    table.show(write_instance_project(tmp_path))
    assert [b.description.rstrip(" ▲▼") for b in table._header] == [c.title for c in columns("instance", "basic")]
    rows = table.visible_rows()
    assert [(r["image"], r["agreement"]) for r in rows] == [("street.jpg", 0.5), ("park.png", 2 / 3)]  # worst first
    table.set_mode("advanced")
    aps = [r["average_precision"] for r in table.visible_rows()]
    assert aps == [0.0, 1.0, 1.0, None]  # worst first, N/A last


def test_no_report_clears_the_table() -> None:
    table = ReportTable()
    table.show(semantic_rows_report())
    table.show(None)
    assert table.rows == [] and table.visible_rows() == [] and table.empty.layout.display is None
    assert "0 of 0 rows" in table.page_label.value
