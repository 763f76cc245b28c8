"""The accuracy report table: Basic/Advanced, sortable columns, numeric filters, pages, a View button per row.

Cells are HTML (so their text is in the page, readable by people and browser tests); the columns, sorting and
filtering are :mod:`segwb.report.table`'s, the task's own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.report.table import Column, Query, columns, default_sort, format_value, run_query, table_rows

from .common import escape, input_error_html

PAGE_SIZES = (10, 25, 50)


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
        if self.mode_toggle.value != "basic":
            self.mode_toggle.value = "basic"  # calls set_mode
        else:
            self.set_mode("basic")

    def set_mode(self, mode: str) -> None:
        """Switch Basic/Advanced: new columns, default (worst-first) order, first page, filters cleared."""
        self.mode = mode
        self.rows = table_rows(self.report, mode) if self.report else []
        key, descending = default_sort(self.task, mode)
        self.query = Query(key, descending, page_size=self.query.page_size)
        numeric = [(c.title, c.key) for c in self.columns if c.numeric]
        self.filter_column.options = numeric
        self.filter_column.value = numeric[0][1] if numeric else None
        self.filter_min.value = self.filter_max.value = self.filter_text.value = ""
        self.message.value = ""
        self._build()
        self.render()

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
        self.message.value = ""
        key = self.filter_column.value
        self.query.filters = {key: (bounds[0], bounds[1])} if key and any(b is not None for b in bounds) else {}
        self.query.text = self.filter_text.value.strip()
        self.query.page = 0
        self.render()

    def clear_filters(self) -> None:
        """Empty the filter boxes and show every row."""
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

    def _build(self) -> None:
        """(Re)create the header buttons and a fixed pool of cell widgets for one page."""
        cols = self.columns
        self._header = []
        for c in cols:
            button = w.Button(description=c.title, tooltip=f"sort by {c.title}", layout=w.Layout(width="auto"))
            button.add_class("segwb-sort")
            button.on_click(lambda _, key=c.key: self.sort_by(key))
            self._header.append(button)
        self._cells, self._views = [], []
        for _ in range(self.query.page_size):
            self._cells.append([w.HTML("") for _ in cols])
            view = w.Button(description="View", icon="eye", layout=w.Layout(width="80px"))
            view.add_class("segwb-view")
            view.on_click(self._on_view)
            self._views.append(view)
        children: list[w.Widget] = [*self._header, w.HTML("")]
        for cells, view in zip(self._cells, self._views):
            children += [*cells, view]
        widths = " ".join("minmax(120px, 1.6fr)" if not c.numeric else "minmax(90px, 1fr)" for c in cols)
        self.grid.layout = w.Layout(grid_template_columns=f"{widths} 90px", grid_gap="2px 6px", width="100%")
        self.grid.children = children

    def _on_view(self, button: w.Button) -> None:
        index = self._views.index(button)
        if index < len(self._page_rows):
            self.select(self._page_rows[index]["image"])

    def render(self) -> None:
        """Fill the pool with the current page."""
        page = run_query(self.rows, self.query)
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
