"""The accuracy report as a table: columns per task and mode, sorting, numeric filters and pagination.

The dashboard's table widget only displays what this module returns, so sorting and filtering are tested here
(and through the widget) without a browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MODES = ("basic", "advanced")


@dataclass(frozen=True)
class Column:
    """One report column: the row key, its title (the Workbench's wording) and whether it holds numbers."""

    key: str
    title: str
    numeric: bool = True
    digits: int = 4  # decimals shown for floats


COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("semantic", "basic"): (
        Column("image", "Image Name", numeric=False),
        Column("average_result", "Optimized Model Average Result"),
        Column("pixel_agreement", "Pixel Agreement"),
    ),
    ("semantic", "advanced"): (
        Column("image", "Image Name", numeric=False),
        Column("class_id", "Class Predicted by Optimized Model", digits=0),
        Column("class_name", "Class Name", numeric=False),
        Column("result", "Optimized Model Result"),
    ),
    ("instance", "basic"): (
        Column("image", "Image Name", numeric=False),
        Column("optimized_detections", "Optimized Model Detections (A)", digits=0),
        Column("parent_detections", "Parent Model Detections (B)", digits=0),
        Column("matches", "Matches between A and B", digits=0),
        Column("agreement", "Agreement (2 × Matches / (A + B))"),
    ),
    ("instance", "advanced"): (
        Column("image", "Image Name", numeric=False),
        Column("class_id", "Class Predicted by Optimized Model", digits=0),
        Column("class_name", "Class Name", numeric=False),
        Column("optimized_detections", "Optimized Model Detections (A)", digits=0),
        Column("parent_detections", "Parent Model Detections (B)", digits=0),
        Column("matches", "Matches between A and B", digits=0),
        Column("average_precision", "Predicted Class Average Precision"),
        Column("precision", "Predicted Class Precision"),
    ),
}

# Worst first, as the dashboard opens: the lowest result, agreement or AP first.
DEFAULT_SORT: dict[tuple[str, str], tuple[str, bool]] = {
    ("semantic", "basic"): ("average_result", False),
    ("semantic", "advanced"): ("result", False),
    ("instance", "basic"): ("agreement", False),
    ("instance", "advanced"): ("average_precision", False),
}


def columns(task: str, mode: str) -> tuple[Column, ...]:
    """The columns of ``task`` ("semantic" or "instance") in ``mode`` ("basic" or "advanced")."""
    try:
        return COLUMNS[(task, mode)]
    except KeyError:
        raise ValueError(f"no table for task {task!r} in mode {mode!r}") from None


def table_rows(report: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    """The rows of ``report.json``'s comparison in ``mode`` (copies: the table never changes the report)."""
    rows = [dict(r) for r in report["comparison"][mode]]
    if report["task"] == "instance" and mode == "basic":
        for r in rows:  # reports written before the instance tutorial stored it: the same definition
            if "agreement" not in r:
                a, b, m = r["optimized_detections"], r["parent_detections"], r["matches"]
                r["agreement"] = 2 * m / (a + b) if a + b else None
    return rows


@dataclass
class Query:
    """What the user asked the table for: sort, filters and the page."""

    sort_key: str
    descending: bool = False
    filters: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # key -> (min, max), inclusive
    text: str = ""  # image name contains (case-insensitive)
    page: int = 0
    page_size: int = 10


@dataclass(frozen=True)
class Page:
    """One page of filtered, sorted rows."""

    rows: list[dict[str, Any]]
    matching: int  # rows that pass the filters
    page: int  # 0-based, clamped to the pages there are
    pages: int


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _passes(row: dict[str, Any], query: Query) -> bool:
    if query.text and query.text.lower() not in str(row.get("image", "")).lower():
        return False
    for key, (low, high) in query.filters.items():
        if low is None and high is None:
            continue
        value = row.get(key)
        if _is_missing(value):  # N/A cannot satisfy a numeric bound
            return False
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool = False) -> list[dict[str, Any]]:
    """Rows sorted by ``key``; N/A (None) always last; ties keep image and class order for a stable view."""
    present = [r for r in rows if not _is_missing(r.get(key))]
    missing = [r for r in rows if _is_missing(r.get(key))]
    tie = sorted(present, key=lambda r: (str(r.get("image", "")), r.get("class_id", -1)))
    ordered = sorted(tie, key=lambda r: r[key], reverse=descending)
    return ordered + sorted(missing, key=lambda r: (str(r.get("image", "")), r.get("class_id", -1)))


def run_query(rows: list[dict[str, Any]], query: Query) -> Page:
    """Filter, sort and cut ``rows`` into the requested page."""
    if query.page_size < 1:
        raise ValueError("page size must be at least 1")
    kept = sort_rows([r for r in rows if _passes(r, query)], query.sort_key, query.descending)
    pages = max(1, math.ceil(len(kept) / query.page_size))
    page = min(max(query.page, 0), pages - 1)
    return Page(kept[page * query.page_size:(page + 1) * query.page_size], len(kept), page, pages)


def format_value(value: Any, column: Column) -> str:
    """A cell's text: N/A for missing values, floats with the column's decimals."""
    if _is_missing(value):
        return "N/A"
    if isinstance(value, float) and column.numeric:
        return f"{value:.{column.digits}f}"
    return str(value)
