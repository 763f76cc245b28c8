"""The report table at scale: its cached sort orders and filtered rows give exactly run_query's pages for any sort,
filter, text and page; switching modes back and forth re-creates no widget; a new report's rows replace the cache."""

from __future__ import annotations

import itertools

from ipywidgets.widgets import widget

from dashboard_helpers import semantic_rows_report
from segwb.report.table import Query, run_query, table_rows
from widgets.table import ReportTable, RowCache


def test_cached_pages_are_run_query_pages() -> None:
    report = semantic_rows_report(23)
    for mode, keys in (("basic", ("image", "average_result", "pixel_agreement")),
                       ("advanced", ("image", "class_id", "class_name", "result"))):
        rows = table_rows(report, mode)
        cache = RowCache(rows)
        filters = [{}, {"average_result" if mode == "basic" else "result": (0.2, 0.7)}, {"class_id": (None, 1)},
                   {"pixel_agreement": (None, None)}]
        for key, descending, flt, text, page in itertools.product(keys, (False, True), filters, ("", "img1"),
                                                                  (0, 1, 7)):
            query = Query(key, descending, dict(flt), text, page, 4)
            assert cache.page(query) == run_query(rows, query), (mode, key, descending, flt, text, page)


def test_mode_switches_reuse_their_widgets() -> None:
    table = ReportTable()
    table.show(semantic_rows_report(30))  # prepares the Advanced rows and cells too
    made = len(widget._instances)
    for mode in ("advanced", "basic", "advanced", "basic"):
        table.mode_toggle.value = mode
        table.go(2)
        table.sort_by(table.columns[-1].key)
    assert len(widget._instances) == made
    assert table.visible_rows()[0]["pixel_agreement"] == min(r["pixel_agreement"] for r in table.rows
                                                              if r["pixel_agreement"] is not None)


def test_a_new_report_replaces_the_rows() -> None:
    table = ReportTable()
    table.show(semantic_rows_report(30))
    table.sort_by("image")
    table.show(semantic_rows_report(12))
    table.sort_by("image")
    assert len(table.rows) == 13 and "(13 of 13 rows)" in table.page_label.value
    assert [r["image"] for r in table.visible_rows()][:2] == ["blank.jpg", "img00.jpg"]
