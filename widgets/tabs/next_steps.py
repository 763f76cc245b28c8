"""Next steps: the command that reproduces the run, where its files are, what to try next, and the deployment
package and project archive (made, downloaded, imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb import tasks
from segwb.cli.parser import command_line
from segwb.core.errors import SegwbError
from segwb.core.project import Project
from segwb.tutorial.options import TutorialOptions

from ..common import escape, input_error_html, note_html, one_line
from ..packages import PackageView
from ..state import DashboardState, Results

TITLE = "Next steps"
LOW_AGREEMENT = 0.9  # below this headline agreement with the parent, the hints suggest AccuracyAware
SLOW_SPEEDUP = 1.2


def reproduce_html(options: TutorialOptions) -> str:
    """The ``segwb tutorial`` command for the form's settings: :func:`segwb.cli.parser.command_line`, so it takes
    exactly the flags the parser accepts."""
    html = f'<h3>Reproduce this run from a terminal</h3><pre class="segwb-reproduce">{escape(command_line(options))}</pre>'
    if "labels" in options.card_overrides:
        html += note_html("The class names come from the form's labels file: add --labels with that file.")
    return html


def files_html(project: Path) -> str:
    """Where the INT8 model, the report page and the report data are."""
    folder = Project(project)  # the models are where the project keeps them, whatever an older report recorded
    return (f"<h3>Files</h3><ul><li>INT8 model (OpenVINO IR): <code>{escape(folder.optimized_xml)}</code></li>"
            f"<li>Standalone report page: <code>{escape(folder.report_html)}</code></li>"
            f"<li>Report data: <code>{escape(folder.report_json)}</code></li></ul>")


def hints_html(report: dict[str, Any], method: str) -> str:
    """What to try next, from the speedup and the agreement with the parent; ``method`` "given" (a model the user
    gave with ``--optimized``) gets no advice on NNCF's methods."""
    hints = []
    if report["performance"]["speedup"] < SLOW_SPEEDUP:
        hints.append("The INT8 model is barely faster: see which layers still run in floating point, and measure "
                     "with a longer benchmark (Benchmark seconds) before deciding.")
    agreement = tasks.get(report["task"]).headline(report["comparison"])
    if agreement is not None and agreement < LOW_AGREEMENT and method == "default":
        hints.append("Accuracy dropped: use the AccuracyAware method (Optimize tab), which reverts the layers that "
                     "hurt most to floating point until the drop is within your limit; with no annotations it "
                     "bounds the agreement with the parent. Or try the Mixed preset, or Ignore layers.")
    hints.append("Deploy: the package below runs the INT8 model with OpenVINO Runtime and the precision hint shown in "
                 "the Performance tab, without segwb.")
    return "<h3>What to try next</h3><ul>" + "".join(f"<li>{escape(h)}</li>" for h in hints) + "</ul>"


def opened_html(project: Path, report: dict[str, Any] | None) -> str:
    """An opened project shows what it recorded; its own settings, not the form's, made it."""
    parts = [note_html(f"Showing the opened project {project} as recorded. Running a step (Optimize tab) uses the "
                       "form's model and dataset instead; to re-run this one, pass --out with its folder to "
                       "`segwb tutorial`, which reuses every step that still matches.")]
    if report:
        optimized = report["optimized"]
        method = "given" if optimized.get("source") == "given" else optimized["settings"].get("method", "default")
        parts += [files_html(project), hints_html(report, method)]
    return "".join(parts)


class NextStepsTab:
    """The text above, and the deployment and archive buttons; refreshed whenever the results are read, which
    includes the end of every run."""

    title = TITLE

    def __init__(self, state: DashboardState) -> None:
        self.state = state
        self.text = w.HTML("")
        self.text.add_class("segwb-next-steps")
        self.packages = PackageView(state.runner, state.served, state.root, on_import=state.open_project)
        self.widget = w.VBox([self.text, self.packages.widget])
        state.on_results(self.show)
        state.runner.on_busy(self.packages.set_busy)

    def show(self, results: Results) -> None:
        """The text and the buttons for ``results``' project."""
        self.packages.set_project(results.project, has_report=results.report is not None)
        self.text.value = self._text(results)

    def _text(self, results: Results) -> str:
        if results.opened and results.project is not None:
            return opened_html(results.project, results.report)
        try:
            options = self.state.options()
        except SegwbError as exc:
            return input_error_html(one_line(exc))
        parts = [reproduce_html(options)]
        if results.report and results.project is not None:
            parts += [files_html(results.project),
                      hints_html(results.report, "given" if options.optimized else options.quantize.method)]
        return "".join(parts)
