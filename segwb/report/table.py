"""The accuracy report as a table: the task's columns per mode, sorting, numeric filters and pagination.

The columns are the task's (:attr:`segwb.tasks.base.Task.tables`), shared by the dashboard, ``report.html`` and
the CLI. The dashboard's table widget only displays what this module returns, so sorting and filtering are tested
here (and through the widget) without a browser; ``report.html`` sorts in the page by the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..tasks import get as get_task
from ..tasks.base import MODES, Column

__all__ = ["Column", "MODES", "Page", "Query", "columns", "default_sort", "format_value", "run_query", "sort_rows",
           "table_rows"]


def columns(task: str, mode: str) -> tuple[Column, ...]:
    """The columns of ``task``'s report in ``mode`` ("basic" or "advanced")."""
    if mode not in MODES:
        raise ValueError(f"no table in mode {mode!r}; modes: {', '.join(MODES)}")
    return get_task(task).tables[mode].columns


def default_sort(task: str, mode: str) -> tuple[str, bool]:
    """The column a table opens sorted on, worst first, and whether descending."""
    table = get_task(task).tables[mode]
    return table.sort_key, table.descending


def table_rows(report: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    """The rows of ``report.json``'s comparison in ``mode`` (copies: the table never changes the report)."""
    return get_task(report["task"]).table_rows(report["comparison"], mode)


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
