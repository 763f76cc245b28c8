"""``report.html``: one self-contained page (no network, no server) with the summary, sortable tables and overlays,
rendered from Jinja2 templates with autoescape, so every value a user can influence (file and class names, the
dataset path, layers) is escaped; the page's data is JSON that cannot end its ``<script>``, and its script writes
values as text (``textContent``), never as markup.

The overview charts (:mod:`segwb.report.overview`) are PNG pictures drawn by matplotlib's Agg renderer, inlined as
base64 ``data:`` URLs: a class name is pixels in them, never markup (math text and TeX off), and the picture is a
CSS background of a ``role=img`` element, so the page holds no ``<img>``, ``<svg>`` of ours either."""

from __future__ import annotations

import base64
import io
import json
import unicodedata
import warnings
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..core.storage import write_text
from ..tasks import get as get_task
from ..tasks.base import MODES
from . import overview
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


# The dashboard's colours (widgets/performance.py): the parent grey, the optimized model green.
PARENT_COLOUR, OPTIMIZED_COLOUR = "#7f8c9a", "#0b8a3e"
CHART_DPI = 100
NAME_CHARS = 32  # longer class names are cut in the picture (the table below it has them whole)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _png(draw: Any, size: tuple[float, float]) -> dict[str, Any]:
    """A matplotlib figure of ``size`` inches drawn by ``draw(figure)`` as base64 PNG, with its size in CSS pixels.

    The user's matplotlibrc cannot make a class name TeX or math text (``text.usetex`` off, labels drawn with
    ``parse_math=False``); missing glyphs only warn."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"text.usetex": False, "font.size": 9, "axes.titlesize": 10}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure = Figure(figsize=size, dpi=CHART_DPI, layout="constrained")
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=2 * CHART_DPI, metadata={"Software": None})
    width, height = (round(v * CHART_DPI) for v in size)
    return {"png": base64.b64encode(buffer.getvalue()).decode("ascii"), "width": width, "height": height}


def histogram_chart(found: overview.Histogram) -> dict[str, Any]:
    """The distribution of the per-image result as a picture, its alternative text and the numbers of its bins."""
    def draw(figure: Any) -> None:
        ax = figure.add_subplot()
        lows, width = found.edges[:-1], found.edges[1] - found.edges[0]
        ax.bar(lows, found.counts, width=width, align="edge", color=OPTIMIZED_COLOUR, edgecolor="white", linewidth=0.6)
        ax.set_xlim(found.edges[0], found.edges[-1])
        ax.set_xlabel(found.measure.title, parse_math=False)
        ax.set_ylabel("images")
        ax.set_title(f"Per-image result of {found.total} images", parse_math=False)
        ax.spines[["top", "right"]].set_visible(False)

    chart = _png(draw, (6.4, 3.0))
    peak = max(range(len(found.counts)), key=lambda i: found.counts[i]) if found.total else None
    chart.update(
        alt=f"Histogram of the {found.measure.title} over {found.total} images in {len(found.counts)} bins"
            + (f"; the most in {found.label(peak)} ({found.counts[peak]})" if peak is not None else ""),
        note=found.note(), bins=[(found.label(i), c) for i, c in enumerate(found.counts)], title=found.measure.title)
    return chart


def per_class_chart(found: overview.PerClass) -> dict[str, Any]:
    """Parent and optimized per-class results as side-by-side horizontal bars (in %), the most hurt class on top."""
    pairs = found.pairs

    def draw(figure: Any) -> None:
        ax = figure.add_subplot()
        rows = range(len(pairs))
        for offset, role, colour, label in ((-0.2, "parent", PARENT_COLOUR, "Parent (f32)"),
                                             (0.2, "optimized", OPTIMIZED_COLOUR, "Optimized (INT8)")):
            values = [100 * getattr(p, role) if getattr(p, role) is not None else 0.0 for p in pairs]
            ax.barh([r + offset for r in rows], values, height=0.4, color=colour, label=label)
        ax.set_yticks(list(rows))
        ax.set_yticklabels([_short(p.name) for p in pairs], parse_math=False)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"{found.metric} (%)")
        figure.suptitle(f"Per-class {found.metric} against the annotations, most lost by INT8 on top", fontsize=10)
        figure.legend(loc="outside lower center", ncols=2, fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)

    chart = _png(draw, (6.4, max(2.6, 1.2 + 0.28 * len(pairs))))
    chart.update(alt=f"Bar chart of the per-class {found.metric} of the parent and the optimized model, "
                     f"{len(pairs)} classes; the table above has the numbers",
                 note=(f"No {found.metric} for: {', '.join(found.undefined)}." if found.undefined else ""),
                 bins=[], title=f"Per-class {found.metric}")
    return chart


def overview_charts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """report.html's pictures: ``histogram`` and ``per_class``, each the chart's data or ``{"reason": line}``."""
    task = get_task(report["task"])
    measure = overview.measure_for(c.key for c in task.tables["basic"].columns)
    if measure is None:
        histogram = {"reason": "This task's rows have no per-image result to chart."}
    else:
        found = overview.histogram(task.table_rows(report["comparison"], "basic"), measure)
        histogram = histogram_chart(found) if found.total else {
            "reason": f"No image has a {measure.title}: no histogram. {found.note()}".strip()}
    classes = overview.per_class(report.get("ground_truth"))
    return {"histogram": histogram, "per_class": {"reason": classes} if isinstance(classes, str) else per_class_chart(classes)}


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
        charts=overview_charts(report),
        style=asset("report.css"), script=asset("report.js"))


def write_report_html(report: dict[str, Any], path: Path) -> None:
    """Write ``report.html`` atomically."""
    write_text(path, render(report))
