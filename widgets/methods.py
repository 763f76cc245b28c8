"""Default vs AccuracyAware side by side: the two optimized models of one model and dataset, from their reports.

The rows are the result summary's facts (:func:`segwb.report.summary.summary`, the same lines the CLI prints and
``report.html`` shows), one column per method, so the table cannot say something the reports do not.
"""

from __future__ import annotations

from typing import Any

from segwb.optimize.settings import METHODS
from segwb.report.summary import summary

from .common import escape, note_html


def method_name(method: str) -> str:
    """A method's short name: "Default" or "AccuracyAware"."""
    return METHODS[method].split(" (")[0]


def methods_html(reports: dict[str, dict[str, Any] | None]) -> str:
    """A table with one column per method that has a report (``reports``: method → report.json or None)."""
    done = {m: r for m, r in reports.items() if r}
    if len(done) < 2:
        missing = [method_name(m) for m, r in reports.items() if not r]
        return note_html(f"Run the accuracy report with the {' and '.join(missing)} method too to compare the two "
                         "optimized models side by side.")
    columns = {m: {f.label: f.value for f in summary(r)} for m, r in done.items()}
    labels = list(dict.fromkeys(label for facts in columns.values() for label in facts))
    head = "".join(f"<th>{escape(method_name(m))}</th>" for m in columns)
    body = "".join(f"<tr><td>{escape(label)}</td>" + "".join(f"<td>{escape(c.get(label, ''))}</td>" for c in columns.values())
                   + "</tr>" for label in labels)
    return f'<table class="segwb-methods segwb-kv"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
