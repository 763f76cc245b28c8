"""The report table: sorting (N/A last), numeric filters, pagination, from segwb.report_table and the widget."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_helpers import write_instance_project
from segwb.report_table import DEFAULT_SORT, Query, columns, format_value, run_query, sort_rows, table_rows
from widgets.table import ReportTable


def _semantic_report(n: int = 23) -> dict:
    basic = [{"image": f"img{i:02d}.jpg", "average_result": (i * 37 % n) / n, "pixel_agreement": 1 - i / 100,
              "overlay": f"overlays/img{i:02d}.png"} for i in range(n)]
    basic.append({"image": "blank.jpg", "average_result": None, "pixel_agreement": None, "overlay": "overlays/blank.png"})
    advanced = [{"image": r["image"], "class_id": c, "class_name": ["background", "person", "cat"][c],
                 "result": None if r["average_result"] is None else (r["average_result"] + c / 10) % 1}
                for r in basic for c in range(3)]
    return {"task": "semantic", "comparison": {"basic": basic, "advanced": advanced}}


def test_sort_missing_values_last_both_ways() -> None:
    rows = [{"image": "a", "v": 0.5}, {"image": "b", "v": None}, {"image": "c", "v": 0.1}, {"image": "d", "v": 0.9}]
    assert [r["image"] for r in sort_rows(rows, "v")] == ["c", "a", "d", "b"]
    assert [r["image"] for r in sort_rows(rows, "v", descending=True)] == ["d", "a", "c", "b"]
    assert [r["image"] for r in sort_rows(rows, "image", descending=True)] == ["d", "c", "b", "a"]


def test_filters_and_pages() -> None:
    rows = table_rows(_semantic_report(), "basic")
    page = run_query(rows, Query("average_result", filters={"average_result": (0.2, 0.6)}, page_size=5))
    kept = [r for r in rows if r["average_result"] is not None and 0.2 <= r["average_result"] <= 0.6]
    assert page.matching == len(kept) and page.pages == -(-len(kept) // 5)
    assert all(0.2 <= r["average_result"] <= 0.6 for r in page.rows)
    last = run_query(rows, Query("average_result", page=99, page_size=5))
    assert last.page == last.pages - 1 == 4 and len(last.rows) == 24 - 20  # clamped to the last page
    assert run_query(rows, Query("average_result", text="IMG1", page_size=50)).matching == 10
    assert run_query(rows, Query("average_result", filters={"average_result": (None, None)})).matching == 24


def test_columns_and_defaults_per_task() -> None:
    assert [c.title for c in columns("semantic", "basic")][1] == "Optimized Model Average Result"
    assert "Predicted Class Average Precision" in [c.title for c in columns("instance", "advanced")]
    assert DEFAULT_SORT[("semantic", "basic")] == ("average_result", False)
    assert format_value(None, columns("semantic", "basic")[1]) == "N/A"
    assert format_value(0.123456, columns("semantic", "basic")[1]) == "0.1235"
    with pytest.raises(ValueError):
        columns("panoptic", "basic")


def test_widget_sort_filter_paginate_select() -> None:
    opened: list[str] = []
    table = ReportTable(on_select=opened.append)
    table.show(_semantic_report())
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
    rows = table.visible_rows()
    assert [(r["image"], r["agreement"]) for r in rows] == [("street.jpg", 0.5), ("park.png", 2 / 3)]  # worst first
    table.set_mode("advanced")
    aps = [r["average_precision"] for r in table.visible_rows()]
    assert aps == [0.0, 1.0, 1.0, None]  # worst first, N/A last
