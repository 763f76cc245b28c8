"""The report table: sorting (N/A last), numeric filters, pagination, the columns of each task (segwb.report.table;
the dashboard's widget is tested in tests/unit/widgets/test_table.py)."""

from __future__ import annotations

import pytest

from dashboard_helpers import semantic_rows_report
from segwb.core.errors import SegwbError
from segwb.report.table import (
    Query,
    columns,
    default_sort,
    format_value,
    run_query,
    sort_rows,
    table_rows,
)


def test_sort_missing_values_last_both_ways() -> None:
    rows = [{"image": "a", "v": 0.5}, {"image": "b", "v": None}, {"image": "c", "v": 0.1}, {"image": "d", "v": 0.9}]
    assert [r["image"] for r in sort_rows(rows, "v")] == ["c", "a", "d", "b"]
    assert [r["image"] for r in sort_rows(rows, "v", descending=True)] == ["d", "a", "c", "b"]
    assert [r["image"] for r in sort_rows(rows, "image", descending=True)] == ["d", "c", "b", "a"]


def test_filters_and_pages() -> None:
    rows = table_rows(semantic_rows_report(), "basic")
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
    assert default_sort("semantic", "basic") == ("average_result", False)
    assert format_value(None, columns("semantic", "basic")[1]) == "N/A"
    assert format_value(0.123456, columns("semantic", "basic")[1]) == "0.1235"
    with pytest.raises(SegwbError, match="unknown task 'panoptic'"):
        columns("panoptic", "basic")
    with pytest.raises(ValueError):
        columns("semantic", "detailed")
