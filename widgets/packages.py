"""Next steps: the deployment package and the project archive, made in the background, offered as download links;
and the way back in: import an archive (uploaded, or a path on this machine) and open it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from segwb.io.uploads import safe_name
from segwb.ship.archive_export import export_project
from segwb.ship.archive_import import import_project
from segwb.ship.deploy import build_package

from .common import escape, input_error_html, note_html, take_upload
from .runner import Job, JobRunner

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def import_destination(imported_root: Path, archive: Path) -> Path:
    """A new folder under ``imported_root`` named after the archive (``-2``, ``-3``… when taken)."""
    stem = archive.name
    for suffix in ARCHIVE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    base = imported_root / (safe_name(stem) or "project")
    dest, n = base, 1
    while dest.exists():
        n += 1
        dest = base.with_name(f"{base.name}-{n}")
    return dest


def download_link(path: Path, root: Path) -> str:
    """A link Voila serves (its files handler, relative to ``root``, the folder it serves files from: the working
    directory it was started in), and the path.

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
    """Buttons for ``segwb deploy`` and ``segwb export`` on the current project, and importing an archive.

    ``served`` is the folder Voila serves files from (download links are relative to it), ``projects`` the
    dashboard's projects root (imports and uploaded archives go under it).
    """

    def __init__(self, runner: JobRunner, served: Path, projects: Path, on_import: Callable[[Path], None]) -> None:
        self.runner, self.served = runner, served
        self.project: Path | None = None
        self.shown: Path | None = None  # the project whose link the result line shows
        self.projects, self.on_import = projects, on_import
        self.deploy_button = w.Button(description="Create deployment package", layout=w.Layout(width="240px"))
        self.export_button = w.Button(description="Export project (.tar.gz)", layout=w.Layout(width="240px"))
        self.with_dataset = w.Checkbox(value=False, description="include the dataset", indent=False)
        self.deploy_button.add_class("segwb-deploy")
        self.export_button.add_class("segwb-export")
        self.deploy_button.on_click(lambda _: self._start("Deployment package", lambda p: build_package(p)))
        self.export_button.on_click(lambda _: self._start(
            "Export project", lambda p: export_project(p, include_dataset=self.with_dataset.value)))
        self.result = w.HTML("")
        self.archive_path = w.Text(placeholder="/path/to/project.tar.gz", description="Archive",
                                   layout=w.Layout(width="520px"))
        self.import_button = w.Button(description="Import and open", layout=w.Layout(width="160px"))
        self.import_button.add_class("segwb-import")
        self.import_button.on_click(lambda _: self.import_path())
        self.archive_upload = w.FileUpload(accept=".gz,.tgz", multiple=False, description="Upload .tar.gz")
        self.archive_upload.add_class("segwb-archive-upload")
        self.archive_upload.observe(lambda _: self._uploaded(), "value")
        self.import_message = w.HTML("")
        self.widget = w.VBox([
            w.HTML("<h3>Deploy and share</h3>" + note_html(
                "The deployment package: the INT8 IR and its card, a standalone infer.py (the same pre- and post-processing "
                "as segwb, without segwb), pinned requirements.txt and a README. The project archive: models, settings, "
                "report and predictions, with description.txt; `segwb import` re-creates the project.")),
            w.HBox([self.deploy_button, self.export_button, self.with_dataset]), self.result,
            w.HTML("<h3>Open a project archive</h3>" + note_html(
                "An archive from Export (or `segwb export`) is checked, unpacked into a new project folder and opened "
                "with its results as recorded; nothing is recomputed. Its photos show only if the archive includes the "
                "dataset or the images are still where they were.")),
            w.HBox([self.archive_path, self.import_button, self.archive_upload]), self.import_message])
        self.set_project(None)

    def set_project(self, project: Path | None, has_report: bool = False) -> None:
        """Both need a finished report (the package runs at the precision it measured).

        The line under the buttons follows the project, not the runner: results are shown while the job that made
        them is still ending, and a line decided by "busy" then kept the old text after the report existed.
        """
        self.project = project if has_report else None
        self.set_busy(self.runner.busy)
        if self.project is None:
            self.result.value = note_html("Create the accuracy report first.")
            self.shown = None
        elif self.shown != self.project:
            self.result.value = note_html("The accuracy report is ready: create the deployment package or export the project.")
            self.shown = None

    def set_busy(self, busy: bool) -> None:
        """Disable the buttons while a job runs (and deploy/export without a report)."""
        for button in (self.deploy_button, self.export_button):
            button.disabled = busy or self.project is None
        self.import_button.disabled = self.archive_upload.disabled = busy

    def import_path(self, upload: Path | None = None) -> bool:
        """Import the path typed in, or an ``upload`` (deleted afterwards, with its folder), in the background,
        then open it; False if it did not start."""
        text = self.archive_path.value.strip()
        if upload is None and not text:
            self.import_message.value = input_error_html("type the path of a .tar.gz, or upload one")
            return False
        source = upload or Path(text).expanduser()
        dest = import_destination(self.projects / "imported", source)

        def work(job: Job) -> Path:
            try:
                return import_project(source, dest)
            finally:
                if upload is not None:
                    shutil.rmtree(upload.parent, ignore_errors=True)  # the imported folder holds everything it had

        self.import_message.value = ""
        if self.runner.start("Import project", work, on_done=self._imported, cancellable=False):
            return True
        if upload is not None:
            shutil.rmtree(upload.parent, ignore_errors=True)
        self.import_message.value = input_error_html("another step is running: import when it has finished")
        return False

    def _imported(self, project: Path) -> None:
        self.import_message.value = note_html(f"Imported into {project}.")
        self.on_import(project)

    def _uploaded(self) -> None:
        def handle(files: list[dict[str, Any]], limit: int) -> None:
            folder = self.projects / "uploads" / "archives"
            folder.mkdir(parents=True, exist_ok=True)
            # its own folder: an upload never replaces another, and errors name the file the user picked
            path = Path(tempfile.mkdtemp(dir=folder)) / safe_name(files[0]["name"])
            path.write_bytes(files[0]["content"])
            self.import_path(path)

        take_upload(self.archive_upload, self.import_message, handle)

    def _start(self, name: str, make: Callable[[Path], Path]) -> None:
        project = self.project
        if project is None:
            return

        def work(job: Job) -> Path:
            return make(project)

        def done(path: Path) -> None:
            self.result.value = download_link(path, self.served)
            self.shown = project

        self.runner.start(name, work, on_done=done, cancellable=False)
