"""Next steps: the deployment package and the project archive, made in the background, offered as download links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from segwb.deploy import build_package
from segwb.project_archive import export_project

from .common import escape, note_html
from .runner import Task, TaskRunner


def download_link(path: Path, root: Path) -> str:
    """A link Voila serves (its files handler, relative to ``root``, the folder it was started in), and the path.

    voila.json allows only ``deploy/*.zip`` and ``export/*.tar.gz`` besides pictures; a file outside ``root``
    cannot be served, so the path is the fallback.
    """
    root = root.resolve()
    path = path.resolve()
    where = f"<code>{escape(path)}</code> ({path.stat().st_size / 1e6:.1f} MB)"
    if not path.is_relative_to(root):
        return f"<p>{where}</p>"
    href = "/voila/files/" + path.relative_to(root).as_posix()
    return f'<p><a class="segwb-download" href="{escape(href)}" download="{escape(path.name)}">Download {escape(path.name)}</a> — {where}</p>'


class PackageView:
    """Buttons for ``segwb deploy`` and ``segwb export`` on the current project."""

    def __init__(self, runner: TaskRunner, root: Path) -> None:
        self.runner, self.root, self.project = runner, root, None
        self.deploy_button = w.Button(description="Create deployment package", layout=w.Layout(width="240px"))
        self.export_button = w.Button(description="Export project (.tar.gz)", layout=w.Layout(width="240px"))
        self.with_dataset = w.Checkbox(value=False, description="include the dataset", indent=False)
        self.deploy_button.add_class("segwb-deploy")
        self.export_button.add_class("segwb-export")
        self.deploy_button.on_click(lambda _: self._start("Deployment package", lambda p: build_package(p)))
        self.export_button.on_click(lambda _: self._start(
            "Export project", lambda p: export_project(p, include_dataset=self.with_dataset.value)))
        self.result = w.HTML("")
        self.widget = w.VBox([
            w.HTML("<h3>Deploy and share</h3>" + note_html(
                "The deployment package: the INT8 IR and its card, a standalone infer.py (the same pre- and post-processing "
                "as segwb, without segwb), pinned requirements.txt and a README. The project archive: models, settings, "
                "report and predictions, with description.txt; `segwb import` re-creates the project.")),
            w.HBox([self.deploy_button, self.export_button, self.with_dataset]), self.result])
        self.set_project(None)

    def set_project(self, project: Path | None, has_report: bool = False) -> None:
        """Both need a finished report (the package runs at the precision it measured)."""
        self.project = project if has_report else None
        self.set_busy(self.runner.busy)
        if self.project is None:
            self.result.value = note_html("Create the accuracy report first.")
        elif not self.runner.busy:
            self.result.value = ""

    def set_busy(self, busy: bool) -> None:
        for button in (self.deploy_button, self.export_button):
            button.disabled = busy or self.project is None

    def _start(self, name: str, make: Callable[[Path], Path]) -> None:
        project = self.project
        if project is None:
            return

        def work(task: Task) -> Path:
            return make(project)

        self.runner.start(name, work, on_done=lambda path: setattr(self.result, "value", download_link(path, self.root)),
                          cancellable=False)
