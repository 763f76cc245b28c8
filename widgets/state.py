"""What the dashboard's tabs share: the projects root, the job runner, the project shown (the form's, or one opened by
itself), the form's options, the saved settings, and the results of the project, read once and handed to every tab.

A tab registers what it needs: :meth:`DashboardState.on_results` to be shown a project's :class:`Results`,
:meth:`DashboardState.keep_settings` to have its settings saved with the last run. The Optimize tab provides the
form's :class:`~segwb.tutorial.options.TutorialOptions` (:meth:`DashboardState.provide_options`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segwb.core.errors import SegwbError
from segwb.core.storage import read_json, write_json
from segwb.tutorial.options import TutorialOptions

from .common import existing_project
from .runner import JobRunner
from .serve import VOILA_ROOT

log = logging.getLogger("segwb")
STATE_FILE = "dashboard-state.json"


def served_root() -> Path:
    """The folder Voila serves files from: the working directory it was started in (``$SEGWB_VOILA_ROOT``, set by
    :mod:`widgets.serve`: a Voila kernel runs in the notebook's folder), else this process's working directory."""
    return Path(os.environ.get(VOILA_ROOT) or Path.cwd())


def projects_root() -> Path:
    """Where dashboard projects live: ``$SEGWB_PROJECTS``, else ``projects/dashboard`` under the working directory
    Voila was started in (``make app`` starts it in the repository)."""
    return Path(os.environ.get("SEGWB_PROJECTS") or served_root() / "projects" / "dashboard")


def project_folder(root: Path, task: str, model: str | None, card: str | None, overrides: dict[str, Any],
                   dataset: str, method: str = "default", optimized: str | None = None) -> Path:
    """One folder per task, model, dataset and method (so Default and AccuracyAware models sit side by side), and
    per given optimized model (so a comparison with one never replaces segwb's own INT8); segwb's step cache handles
    changed settings inside it."""
    spec = [task, model, card, overrides, dataset] + ([method] if method != "default" else []) + \
        ([{"optimized": optimized}] if optimized is not None else [])
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{Path(model).stem if model else 'default'}-{Path(dataset).name}")[:60]
    suffix = "-given" if optimized is not None else "-aa" if method == "accuracy_aware" else ""
    return root / f"{task}-{name}{suffix}-{digest}"


def read_report(folder: Path) -> dict[str, Any] | None:
    """``report.json`` of a project folder, or None when there is none (or it cannot be read)."""
    path = folder / "report.json"
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Results:
    """What a project folder holds: the quantize and benchmark step records, and the report."""

    project: Path | None = None
    opened: bool = False  # a project opened by itself (e.g. imported), not the form's
    quantized: dict[str, Any] | None = None
    measured: dict[str, Any] | None = None
    report: dict[str, Any] | None = None

    @classmethod
    def read(cls, folder: Path | None, opened: bool = False) -> Results:
        """Read ``folder`` (which may not exist yet: then it holds nothing)."""
        project = existing_project(folder)
        if project is None:
            return cls(folder, opened)
        return cls(folder, opened, project.record("quantize"), project.record("benchmark"), read_report(project.root))

    @property
    def performance(self) -> dict[str, Any] | None:
        """The newest measurement: the report's, unless the benchmark ran again after it."""
        measured, report = self.measured, self.report
        if measured and (not report or measured.get("parent", {}).get("fps") != report["performance"]["parent"]["fps"]):
            return measured
        return report["performance"] if report else measured

    @property
    def stale_report(self) -> bool:
        """True when the report is of an earlier INT8 model than the one quantized last."""
        return bool(self.report and self.quantized
                    and self.report["optimized"].get("digest") != self.quantized.get("digest"))

    @property
    def explorer_model(self) -> Path | None:
        """The IR the explorer measures: the INT8 model, else the parent, else None."""
        project = existing_project(self.project)
        if project is None:
            return None
        return next((xml for xml in (project.optimized_xml, project.parent_xml) if xml.is_file()), None)


class DashboardState:
    """The shared state of one dashboard page; ``served`` is the folder Voila serves files from."""

    def __init__(self, root: Path, runner: JobRunner, served: Path | None = None) -> None:
        self.root = Path(root)
        self.runner = runner
        self.served = served or served_root()
        self.state_file = self.root / STATE_FILE
        self.project: Path | None = None  # the project shown
        self.opened: Path | None = None  # set when the project shown was opened by itself, not made by the form
        self.results = Results()
        self._options: Callable[[], TutorialOptions] | None = None
        self._settings: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any] | None], None]]] = {}
        self._listeners: list[Callable[[Results], None]] = []

    # --- the form ----------------------------------------------------------------------------------

    def provide_options(self, options: Callable[[], TutorialOptions]) -> None:
        """Where :meth:`options` comes from (the Optimize tab, which reads the Model & data tab too)."""
        self._options = options

    def options(self) -> TutorialOptions:
        """TutorialOptions from the form; a bad value raises SegwbError with a one-line message."""
        if self._options is None:
            raise SegwbError("the dashboard has no form")
        return self._options()

    def form_project(self) -> Path | None:
        """The project folder the form's settings name, or None while the form is invalid."""
        try:
            return self.options().out
        except SegwbError:
            return None

    # --- saved settings ----------------------------------------------------------------------------

    def keep_settings(self, name: str, get: Callable[[], dict[str, Any]], put: Callable[[dict[str, Any] | None], None]) -> None:
        """Save ``get()`` under ``name`` with the last run; :meth:`restore` hands it back to ``put`` (None when
        nothing was saved)."""
        self._settings[name] = (get, put)

    def save(self) -> None:
        """Write the settings and the project shown, so a reload shows the same."""
        write_json(self.state_file, {**{name: get() for name, (get, _) in self._settings.items()},
                                     "project": str(self.project) if self.project else None,
                                     "opened": str(self.opened) if self.opened else None})

    def restore(self) -> None:
        """Put back the last run's settings and show its results (an opened project again, if it still exists)."""
        saved: dict[str, Any] = {}
        if self.state_file.is_file():
            try:
                saved = read_json(self.state_file)
            except (OSError, ValueError):
                saved = {}
        for name, (_, put) in self._settings.items():
            # earlier versions kept the Optimize settings at the top level: a tab without its section takes those
            put(saved[name] if name in saved else (saved or None))
        opened = saved.get("opened")
        if opened and (Path(opened) / "report.json").is_file():
            try:
                self.open_project(Path(opened))
                return
            except Exception:  # a project this version cannot show must not keep the page from loading
                log.exception("cannot reopen %s", opened)
        self.show_form_project()

    # --- the project shown -------------------------------------------------------------------------

    def on_results(self, listener: Callable[[Results], None]) -> None:
        """Call ``listener(results)`` whenever the results are (re)read."""
        self._listeners.append(listener)

    def load_results(self) -> Results:
        """Read the project shown and hand its results to every listener (each one, even if another fails)."""
        self.results = Results.read(self.project, self.opened is not None)
        failure: Exception | None = None
        for listener in self._listeners:
            try:
                listener(self.results)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return self.results

    def open_project(self, folder: Path) -> None:
        """Show a project folder by itself (e.g. one just imported) until a step runs or the method changes."""
        self.opened = self.project = Path(folder)
        self.load_results()
        self.save()  # only once it showed: a reload must not fail on it

    def show_form_project(self) -> None:
        """Show the results of the project the form's settings name (none while the form is invalid)."""
        if self.opened:
            self.opened = None
            self.save()  # a reload must not reopen what the user left
        self.project = self.form_project()
        self.load_results()

    def use_project(self, folder: Path) -> None:
        """A job is about to run on the form's project ``folder``: show it (if it is not shown yet) and save."""
        changed = self.opened is not None or self.project != folder
        self.opened, self.project = None, folder
        self.save()
        if changed:
            self.load_results()
