"""``report.html``: one self-contained page (no network, no server) with the summary, sortable tables and overlays,
rendered from Jinja2 templates with autoescape, so every value a user can influence (file and class names, the
dataset path, layers) is escaped; the page's data is JSON that cannot end its ``<script>``, and its script writes
values as text (``textContent``), never as markup."""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..core.storage import write_text
from ..tasks import get as get_task
from ..tasks.base import MODES
from .summary import default_method_ignores, dropped_lines, given_model, missed_drop_reason, summary


def _num(number: float | None, digits: int = 2) -> str:
    return "N/A" if number is None else f"{number:.{digits}f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates of :mod:`segwb.report` (``templates/``), HTML-escaped by default."""
    env = Environment(loader=PackageLoader("segwb.report", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False)
    env.filters["num"] = _num
    env.filters["script_json"] = script_json
    return env


# A value in a <script> ends it with "</script>" or opens markup with "<!--"; U+2028/2029 end a JavaScript line.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> Markup:
    """``value`` as JSON to place inside a ``<script>`` element: no character of it can close the element."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return Markup("".join(_SCRIPT_ESCAPES.get(ch, ch) for ch in text))


def overlay_src(path: Any) -> str | None:
    """An overlay's path when it is relative and stays in the project folder (report.html is at its top), else None.

    report.json may come from someone else's archive: a ``javascript:`` URL, an absolute path or ``..`` would make the
    page load (or run) something outside the project."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or ":" in path:
        return None
    if any(part in ("", ".", "..") for part in path.split("/")) or any(unicodedata.category(c)[0] == "C" for c in path):
        return None
    return path


def _safe_row(row: dict[str, Any]) -> dict[str, Any]:
    if "overlay" in row and row["overlay"] is not None and overlay_src(row["overlay"]) is None:
        return {**row, "overlay": None}  # the page shows no picture for it
    return row


def asset(name: str) -> Markup:
    """A static file of the templates folder, placed in the page as it is (our own CSS and JavaScript)."""
    return Markup(files("segwb.report").joinpath("templates", name).read_text(encoding="utf-8"))


def performance_rows(perf: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, run) of every benchmarked configuration, parents first."""
    rows = [("Parent, f32 (pinned baseline)", perf["parent"]), ("Parent, default precision", perf.get("parent_default"))]
    rows += [(f"INT8, {'default' if k == 'default' else 'f32'} precision hint", v) for k, v in perf["optimized_runs"].items()]
    return [(name, {**run, "properties": {k: run["properties"].get(k, "") for k in
                                          ("NUM_STREAMS", "OPTIMAL_NUMBER_OF_INFER_REQUESTS", "INFERENCE_NUM_THREADS")}})
            for name, run in rows if run]


def _macro(name: str, *args: Any) -> str:
    return str(getattr(environment().get_template("macros.html.j2").module, name)(*args))


def graph_fixes_html(fixes: list[dict[str, Any]]) -> str:
    """What the optimization pipeline changed in the graph besides quantizing, one item per rewrite."""
    return _macro("graph_fixes", fixes)


def accuracy_aware_html(aa: dict[str, Any] | None) -> str:
    """What the AccuracyAware method did: the metric before and after, and the layers NNCF reverted, by rank."""
    if not aa:
        return ""
    return _macro("accuracy_aware", aa, None if aa["within_drop"] else missed_drop_reason(aa), default_method_ignores(aa))


def facts_html(report: dict[str, Any]) -> str:
    """The result summary as a two-column table."""
    return _macro("facts_table", summary(report))


def render(report: dict[str, Any]) -> str:
    """The report page as a string."""
    task = get_task(report["task"])
    opt, comp = report["optimized"], report["comparison"]
    aa = opt.get("accuracy_aware")
    tables = {mode: {"columns": [vars(c) for c in task.tables[mode].columns], "sort_key": task.tables[mode].sort_key,
                     "descending": task.tables[mode].descending} for mode in MODES}
    return environment().get_template("report.html.j2").render(
        task=task, report=report, opt=opt, perf=report["performance"], facts=summary(report),
        given=given_model(opt) if opt.get("source") == "given" else "",
        missed=None if not aa or aa["within_drop"] else missed_drop_reason(aa),
        flags=default_method_ignores(aa) if aa else "",
        performance_rows=performance_rows(report["performance"]), notes=task.method_notes(comp),
        filter_title=task.tables["basic"].title(task.tables["basic"].sort_key),
        ground_truth=task.ground_truth_section(report.get("ground_truth")), dropped=dropped_lines(report["dataset"]),
        rows={mode: [_safe_row(r) for r in task.table_rows(comp, mode)] for mode in MODES}, tables=tables,
        style=asset("report.css"), script=asset("report.js"))


def write_report_html(report: dict[str, Any], path: Path) -> None:
    """Write ``report.html`` atomically."""
    write_text(path, render(report))
