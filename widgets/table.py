"""The accuracy report table: Basic/Advanced, sortable columns, numeric filters, pages, a View button per row.

Cells are HTML (so their text is in the page, readable by people and browser tests); the columns, sorting and
filtering are :mod:`segwb.report.table`'s, the task's own tables.

At thousands of rows (4800 images, 24000 Advanced rows) an action must not redo what it does not change: each
mode's rows are read once per report, each sort order is computed once (:func:`~segwb.report.table.sort_rows`) and
the rows that pass the filters once per query, so a page is a slice; each mode keeps its own pool of cell widgets,
so switching modes re-creates none, and only the cells whose text changed are sent to the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.report import overview
from segwb.report.table import (Column, Page, Query, columns, default_sort, format_value, run_query, sort_rows,
                                table_rows)

from .common import escape, input_error_html, note_html

PAGE_SIZES = (10, 25, 50)


@dataclass
class Pool:
    """The widgets of one mode's table: its header buttons, a page of cells and View buttons, laid out in a grid."""

    header: list[w.Button]
    cells: list[list[w.HTML]]
    views: list[w.Button]
    layout: w.Layout
    children: tuple[w.Widget, ...]


class RowCache:
    """One mode's rows, each sort order of them, and the rows passing the last query, in its order."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self._orders: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        self._kept: tuple[Any, list[dict[str, Any]]] | None = None

    def kept(self, query: Query) -> list[dict[str, Any]]:
        """The rows that pass ``query``'s filters, sorted as it asks (what :func:`run_query` pages)."""
        token = (query.sort_key, query.descending, tuple(sorted(query.filters.items())), query.text)
        if self._kept is None or self._kept[0] != token:
            order = self._orders.get((query.sort_key, query.descending))
            if order is None:
                order = self._orders[(query.sort_key, query.descending)] = sort_rows(
                    self.rows, query.sort_key, query.descending)
            if query.text or any(b != (None, None) for b in query.filters.values()):
                order = run_query(order, replace(query, page=0, page_size=max(1, len(order)))).rows
            self._kept = (token, order)
        return self._kept[1]

    def page(self, query: Query) -> Page:
        """The page ``query`` asks for, the same as ``run_query(rows, query)``."""
        if query.page_size < 1:
            raise ValueError("page size must be at least 1")
        kept = self.kept(query)
        pages = max(1, math.ceil(len(kept) / query.page_size))
        page = min(max(query.page, 0), pages - 1)
        return Page(kept[page * query.page_size:(page + 1) * query.page_size], len(kept), page, pages)


class ReportTable:
    """A report's comparison rows; ``on_select(image_name)`` is called when a row's View button is clicked."""

    def __init__(self, on_select: Callable[[str], None] | None = None, page_size: int = 10) -> None:
        self.on_select = on_select
        self.report: dict[str, Any] | None = None
        self.task, self.mode = tasks.names()[0], "basic"  # until a report says which
        self.rows: list[dict[str, Any]] = []
        self.query = Query(*default_sort(self.task, self.mode), page_size=page_size)
        self.selected: str | None = None
        self.mode_toggle = w.ToggleButtons(options=[("Basic", "basic"), ("Advanced", "advanced")], value="basic",
                                           tooltips=["One row per image", "One row per image and class"])
        self.mode_toggle.observe(lambda ch: self.set_mode(ch["new"]), "value")
        self.filter_column = w.Dropdown(description="Filter", layout=w.Layout(width="340px"))
        self.filter_min = w.Text(placeholder="min", layout=w.Layout(width="90px"))
        self.filter_max = w.Text(placeholder="max", layout=w.Layout(width="90px"))
        self.filter_text = w.Text(placeholder="image name contains", layout=w.Layout(width="180px"))
        self.apply_button = w.Button(description="Apply", layout=w.Layout(width="70px"))
        self.clear_button = w.Button(description="Clear", layout=w.Layout(width="70px"))
        self.apply_button.on_click(lambda _: self.apply_filters())
        self.clear_button.on_click(lambda _: self.clear_filters())
        self.filter_text.observe(lambda _: self.apply_filters(), "value")
        self.message = w.HTML("")
        self.prev_button = w.Button(description="previous", icon="chevron-left", layout=w.Layout(width="110px"))
        self.next_button = w.Button(description="next", icon="chevron-right", layout=w.Layout(width="110px"))
        self.page_label = w.HTML("")
        self.page_size = w.Dropdown(options=PAGE_SIZES, value=page_size if page_size in PAGE_SIZES else 10,
                                    description="rows", layout=w.Layout(width="140px"))
        self.prev_button.on_click(lambda _: self.go(self.query.page - 1))
        self.next_button.on_click(lambda _: self.go(self.query.page + 1))
        self.page_size.observe(lambda ch: self._set_page_size(ch["new"]), "value")
        self.grid = w.GridBox([])
        self.grid.add_class("segwb-table")
        self.filter_listeners: list[Callable[[dict[str, tuple[float | None, float | None]]], None]] = []
        self.empty = w.HTML('<span class="segwb-note">No report yet: run the Accuracy report step.</span>')
        self.widget = w.VBox([self.mode_toggle,
                              w.HBox([self.filter_column, self.filter_min, self.filter_max, self.filter_text,
                                      self.apply_button, self.clear_button]),
                              self.message, self.empty, self.grid,
                              w.HBox([self.prev_button, self.page_label, self.next_button, self.page_size])])
        self._header: list[w.Button] = []
        self._cells: list[list[w.HTML]] = []
        self._views: list[w.Button] = []
        self._page_rows: list[dict[str, Any]] = []
        self._pools: dict[tuple[str, str, int], Pool] = {}
        self._caches: dict[str, RowCache] = {}  # per mode, for the report shown
        self.measure: overview.Measure | None = None  # the per-image result the overview bins
        self.range: tuple[str, tuple[float, float], str] | None = None  # a bar's filter: key, bounds, description

    # --- public ----------------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns of the report's task in the current mode."""
        return columns(self.task, self.mode)

    def show(self, report: dict[str, Any] | None) -> None:
        """Display a report (None clears); starts in Basic mode, worst first."""
        self.report = report
        self.empty.layout.display = "none" if report else None
        self.task = report["task"] if report else tasks.names()[0]
        self.selected = None
        self._caches = {}
        self.measure = overview.measure_for(c.key for c in columns(self.task, "basic"))
        if self.mode_toggle.value != "basic":
            self.mode_toggle.value = "basic"  # calls set_mode
        else:
            self.set_mode("basic")
        if report and "advanced" in report["comparison"]:
            self.prepare("advanced")

    def prepare(self, mode: str) -> None:
        """Make ``mode``'s rows, their default order and its cell widgets now, so that switching to it later only
        shows them (at 24000 Advanced rows the first switch would otherwise take about a second)."""
        shown = self.mode
        self.mode = mode
        try:
            key, descending = default_sort(self.task, mode)
            self._cache().kept(Query(key, descending, page_size=self.query.page_size))
            key = (self.task, mode, self.query.page_size)
            if key not in self._pools:
                self._pools[key] = self._new_pool()
        finally:
            self.mode = shown

    def set_mode(self, mode: str) -> None:
        """Switch Basic/Advanced: new columns, default (worst-first) order, first page, filters cleared."""
        self.mode = mode
        self.rows = self._cache().rows
        key, descending = default_sort(self.task, mode)
        self.query = Query(key, descending, page_size=self.query.page_size)
        numeric = [(c.title, c.key) for c in self.columns if c.numeric]
        self.filter_column.options = numeric
        self.filter_column.value = numeric[0][1] if numeric else None
        self.range = None
        self.filter_min.value = self.filter_max.value = self.filter_text.value = ""
        self.message.value = ""
        self._build()
        self.render()
        self._filters_changed()

    def sort_by(self, key: str) -> None:
        """What a header click does: sort by ``key`` ascending, or flip the direction if already sorted by it."""
        self.query.descending = not self.query.descending if self.query.sort_key == key else False
        self.query.sort_key = key
        self.query.page = 0
        self.render()

    def apply_filters(self) -> None:
        """Read the filter boxes; a bad number is a message, the table stays as it was."""
        bounds = []
        for box, name in ((self.filter_min, "min"), (self.filter_max, "max")):
            text = box.value.strip()
            try:
                bounds.append(float(text) if text else None)
            except ValueError:
                self.message.value = input_error_html(f"filter {name}: {text!r} is not a number")
                return
        key = self.filter_column.value
        if key and any(b is not None for b in bounds):  # a number in a box replaces a histogram bar's range
            self.range = None
            self.query.filters = {key: (bounds[0], bounds[1])}
        else:
            self.query.filters = {self.range[0]: self.range[1]} if self.range else {}
        self.message.value = self._range_note()
        self.query.text = self.filter_text.value.strip()
        self.query.page = 0
        self.render()
        self._filters_changed()

    def filter_range(self, key: str, bounds: tuple[float, float], description: str) -> None:
        """Show only the rows whose ``key`` is within the inclusive ``bounds`` (what a histogram bar does) with the
        table's own numeric filter: the min/max boxes are emptied (``description`` above the table says what is
        shown) and the image-name box still applies. A number typed in a box, or Clear, ends it."""
        self.range = (key, bounds, description)
        self.filter_min.value = self.filter_max.value = ""
        self.apply_filters()

    def clear_filters(self) -> None:
        """Empty the filter boxes and show every row."""
        self.range = None
        self.filter_min.value = self.filter_max.value = ""
        self.filter_text.value = ""  # triggers apply_filters
        self.apply_filters()

    def go(self, page: int) -> None:
        """Show page ``page`` (0-based; clamped to the pages there are)."""
        self.query.page = page
        self.render()

    def visible_rows(self) -> list[dict[str, Any]]:
        """The rows on the current page, as shown."""
        return list(self._page_rows)

    def select(self, image: str) -> None:
        """Highlight ``image``'s rows and open it in the viewer."""
        self.selected = image
        self.render()
        if self.on_select is not None:
            self.on_select(image)

    # --- drawing ---------------------------------------------------------------------------------

    def _set_page_size(self, size: int) -> None:
        self.query.page_size = size
        self.query.page = 0
        self._build()
        self.render()

    def _cache(self) -> RowCache:
        """The current mode's rows (read once per report), with the per-image result on each where it is missing."""
        cache = self._caches.get(self.mode)
        if cache is None:
            rows = table_rows(self.report, self.mode) if self.report else []
            if self.report and self.measure is not None:
                basic = rows if self.mode == "basic" else self._caches["basic"].rows if "basic" in self._caches \
                    else table_rows(self.report, "basic")
                overview.with_values(rows, overview.image_values(basic, self.measure), self.measure.key)
            cache = self._caches[self.mode] = RowCache(rows)
        return cache

    def _build(self) -> None:
        """Show the pool of header buttons and cell widgets of the task, mode and page size (made once each)."""
        key = (self.task, self.mode, self.query.page_size)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._new_pool()
        self._header, self._cells, self._views = pool.header, pool.cells, pool.views
        self.grid.layout = pool.layout
        self.grid.children = pool.children

    def _new_pool(self) -> Pool:
        cols = self.columns
        header = []
        for c in cols:
            button = w.Button(description=c.title, tooltip=f"sort by {c.title}", layout=w.Layout(width="auto"))
            button.add_class("segwb-sort")
            button.on_click(lambda _, key=c.key: self.sort_by(key))
            header.append(button)
        cells, views = [], []
        for _ in range(self.query.page_size):
            cells.append([w.HTML("") for _ in cols])
            view = w.Button(description="View", icon="eye", layout=w.Layout(width="80px"))
            view.add_class("segwb-view")
            view.on_click(self._on_view)
            views.append(view)
        children: list[w.Widget] = [*header, w.HTML("")]
        for row, view in zip(cells, views):
            children += [*row, view]
        widths = " ".join("minmax(120px, 1.6fr)" if not c.numeric else "minmax(90px, 1fr)" for c in cols)
        layout = w.Layout(grid_template_columns=f"{widths} 90px", grid_gap="2px 6px", width="100%")
        return Pool(header, cells, views, layout, tuple(children))

    def _range_note(self) -> str:
        return note_html(f"Showing {self.range[2]}. Clear (or Show all) shows every row.") if self.range else ""

    def _filters_changed(self) -> None:
        """Tell the listeners (the overview chart) the numeric filters now applied."""
        for listener in self.filter_listeners:
            listener(dict(self.query.filters))

    def _on_view(self, button: w.Button) -> None:
        index = self._views.index(button)
        if index < len(self._page_rows):
            self.select(self._page_rows[index]["image"])

    def render(self) -> None:
        """Fill the pool with the current page."""
        page = self._cache().page(self.query)
        self.query.page = page.page
        self._page_rows = page.rows
        cols = self.columns
        for i, (cells, view) in enumerate(zip(self._cells, self._views)):
            row = page.rows[i] if i < len(page.rows) else None
            for c, cell in zip(cols, cells):
                cell.layout.display = None if row is not None else "none"  # short pages collapse
                if row is None:
                    cell.value = ""
                    continue
                classes = "segwb-cell" + (" num" if c.numeric else "") + (" sel" if row["image"] == self.selected else "")
                text = format_value(row.get(c.key), c)
                cell.value = f'<span class="{classes}" data-col="{c.key}" title="{escape(text)}">{escape(text)}</span>'
            view.layout.display = None if row is not None else "none"
        self.page_label.value = (f'<span class="segwb-pageinfo">page {page.page + 1} of {page.pages} '
                                 f"({page.matching} of {len(self.rows)} rows)</span>")
        self.prev_button.disabled = page.page == 0
        self.next_button.disabled = page.page >= page.pages - 1
        # The arrows change last: the page shows the new order once the header says so.
        for c, button in zip(cols, self._header):
            arrow = (" ▼" if self.query.descending else " ▲") if c.key == self.query.sort_key else ""
            button.description = c.title + arrow
