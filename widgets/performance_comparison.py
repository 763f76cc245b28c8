"""Compare performance, in the Performance tab: per-layer profiles of the parent (f32) and the INT8 model, the
findings in words and the comparison page (the same as ``segwb compare-performance``)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb.core.storage import read_json
from segwb.measure.performance_comparison import COMPARISON_JSON, compare_project
from segwb.report.performance_page import render

from .common import existing_project, input_error_html, note_html
from .runner import Job, JobRunner

LABEL = "Compare performance"


class PerformanceComparisonView:
    """A button that profiles both models of the project through ``runner``, and the comparison page inline."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self.project: Path | None = None
        self.inferences = w.BoundedIntText(value=30, min=1, max=1000, description="Inferences")
        self.run_button = w.Button(description=LABEL, icon="microchip", button_style="primary",
                                   tooltip="Profile parent (f32) and INT8 layer by layer")
        self.run_button.add_class("segwb-compare-performance")
        self.message = w.HTML("")
        self.findings = w.HTML("")
        self.page = w.HTML("")
        self.run_button.on_click(lambda _: self.run())
        self.widget = w.VBox([w.HBox([self.run_button, self.inferences]), self.message, self.findings, self.page])
        self.widget.add_class("segwb-performance-comparison")

    def set_project(self, project: Path | None) -> None:
        """The project whose models are compared; shows its saved comparison if there is one."""
        self.project = project
        saved = project / COMPARISON_JSON if project else None
        self.show(read_json(saved) if saved and saved.is_file() else None)

    def show(self, result: dict[str, Any] | None) -> None:
        """Show a comparison (``performance-comparison.json``); None says there is none yet."""
        if result is None:
            self.findings.value = note_html("No performance comparison yet: it profiles both models, one request at a time.")
            self.page.value = ""
            return
        items = "".join(f"<li>{html.escape(line)}</li>" for line in result["findings"])
        self.findings.value = f'<ul class="segwb-findings">{items}</ul>'
        # the page has its own stylesheet: an iframe keeps it from restyling the dashboard
        self.page.value = (f'<iframe title="Performance comparison" srcdoc="{html.escape(render(result))}" '
                           'style="width:100%;height:620px;border:1px solid #ccc"></iframe>')

    def run(self) -> bool:
        """Profile both models in the background; False (with a message) if there is nothing to compare."""
        project = existing_project(self.project)
        if project is None or not project.optimized_xml.is_file():
            self.message.value = input_error_html("No INT8 model yet: run Optimize (INT8) first.")
            return False
        self.message.value = ""
        inferences = int(self.inferences.value)

        def work(job: Job) -> dict[str, Any]:
            return compare_project(project.root, inferences, job.cancel)

        return self.runner.start(LABEL, work, on_finish=lambda: self.set_project(project.root))
