"""Small pieces shared by the widgets: the page style, message and error panels, taking an upload, opening a
project folder."""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb.core.errors import describe
from segwb.core.project import Project
from segwb.io.uploads import check_sizes, upload_limit

STYLE = """
<style>
.segwb-title{font-size:1.5em;font-weight:600;margin:.2em 0}
.segwb-note{color:#555;font-size:.92em}
.segwb-error{border:1px solid #d33;background:#fff0f0;padding:.5em .8em;border-radius:4px;color:#900}
.segwb-error pre{white-space:pre-wrap;font-size:.8em;color:#333;max-height:20em;overflow:auto}
.segwb-input-error{color:#b00;font-weight:500}
.segwb-ok{color:#0b6e2e}
.segwb-speedup{font-size:2.6em;font-weight:700;color:#0b6e2e;line-height:1.1}
.segwb-kv td,.segwb-kv th{padding:2px 10px;border-bottom:1px solid #eee;text-align:left;font-size:.92em}
.segwb-kv td.num{text-align:right;font-variant-numeric:tabular-nums}
.segwb-cell{font-size:.92em;padding:2px 6px;display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.segwb-cell.num{text-align:right;font-variant-numeric:tabular-nums}
.segwb-cell.sel{background:#fff3c4}
.segwb-state-done{color:#0b6e2e}.segwb-state-cancelled{color:#a60}.segwb-state-failed{color:#b00}
.segwb-report-summary table.facts th,.segwb-report-summary table.facts td{padding:2px 10px;border-bottom:1px solid #eee;
  text-align:left;font-size:.92em;vertical-align:top}
.segwb-report-summary table.facts th{font-weight:500;white-space:nowrap}
.segwb-reproduce{white-space:pre-wrap;word-break:break-all;font-family:var(--jp-code-font-family,monospace)}
.segwb-swatch{display:inline-block;width:.9em;height:.9em;border:1px solid #333;margin:0 .3em 0 .8em;vertical-align:middle}
</style>
"""


def style() -> w.HTML:
    """The dashboard's CSS, as a widget to place once on the page."""
    return w.HTML(STYLE)


def escape(text: object) -> str:
    """``text`` as HTML text (quotes too, so it can go into an attribute)."""
    return html.escape(str(text))


def one_line(exc: BaseException) -> str:
    """What the user reads about an error: the same line the command line prints (the traceback is in the details)."""
    return describe(exc)[0].replace("; run with --debug for the traceback", "; the details below have the traceback")


def error_html(exc: BaseException, action: str = "") -> str:
    """An error panel: one line, the details folded."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    prefix = f"{escape(action)} failed: " if action else ""
    return (f'<div class="segwb-error"><b>{prefix}</b>{escape(one_line(exc))}'
            f"<details><summary>details</summary><pre>{escape(details)}</pre></details></div>")


def input_error_html(message: str) -> str:
    """A bad-input message next to the control that caused it."""
    return f'<span class="segwb-input-error">{escape(message)}</span>'


def ok_html(message: str) -> str:
    """A success message."""
    return f'<span class="segwb-ok">{escape(message)}</span>'


def note_html(message: str) -> str:
    """A quiet explanatory line."""
    return f'<span class="segwb-note">{escape(message)}</span>'


def take_upload(upload: w.FileUpload, message: w.HTML, handle: Callable[[list[dict[str, Any]], int], None]) -> None:
    """Hand a FileUpload's files to ``handle(files, limit)`` once their sizes are within the upload limit; any failure
    becomes one line in ``message`` (an observer's exception would reach no one). The widget's bytes are dropped in
    any case (the kernel keeps no copy)."""
    files = upload.value
    if not files:
        return  # the reset below triggers the observer again
    limit = upload_limit()
    try:
        check_sizes(files, limit)  # refuse before touching the content
        handle(list(files), limit)
    except Exception as exc:  # the dashboard's error boundary for uploads: one line, as on the command line
        message.value = input_error_html(one_line(exc))
    finally:
        upload.value = ()


def existing_project(folder: Path | None) -> Project | None:
    """``folder`` as a :class:`Project` when it exists, else None: ``Project()`` creates its folder, and merely
    looking at the form's project must not."""
    return Project(folder) if folder is not None and folder.is_dir() else None
