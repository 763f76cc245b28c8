"""The task runner and the dashboard in-process: cancel leaves nothing half-written, errors are one line, cache reloads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dashboard_helpers import Setup, small_setup
from segwb.errors import ModelError
from widgets.dashboard import Dashboard
from widgets.runner import Task, TaskRunner


@pytest.fixture
def dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Dashboard, Setup]:
    setup = small_setup(tmp_path / "data")
    for name, value in setup.dashboard_env(0.2).items():
        monkeypatch.setenv(name, value)
    return Dashboard(tmp_path / "projects"), setup


def test_runner_states_and_one_line_errors() -> None:
    runner = TaskRunner(tick=0.05)
    gate = threading.Event()
    assert runner.start("Wait", lambda task: gate.wait(10))
    assert runner.busy and not runner.start("Second", lambda task: None)  # one step at a time
    gate.set()
    assert runner.wait(10) and runner.state == "done" and 'data-state="done"' in runner.status.value

    def broken(task: Task) -> None:
        raise ModelError("unsupported model format '.txt'", "notes.txt")

    runner.start("Import", broken)
    runner.wait(10)
    assert runner.state == "failed" and "notes.txt: unsupported model format" in runner.error.value
    assert "<details>" in runner.error.value and "Traceback" in runner.error.value
    runner.start("Crash", lambda task: 1 / 0)
    runner.wait(10)
    assert "unexpected ZeroDivisionError: division by zero" in runner.error.value


def test_cancel_leaves_nothing_half_written_then_resumes(dashboard: tuple[Dashboard, Setup]) -> None:
    app, _ = dashboard
    # Cancel as soon as the first image is predicted, the way a user's click would arrive.
    cancel_once = {"done": False}

    def watch(change: dict) -> None:  # the image counter appears once prediction has started
        if "images" in change["new"] and not cancel_once["done"]:
            cancel_once["done"] = True
            app.runner.cancel()

    app.runner.tick = 0.02
    app.runner.count.observe(watch, "value")
    assert app.run_step("report")
    assert app.runner.wait(300)
    app.runner.count.unobserve(watch, "value")
    project = app.project
    assert app.runner.state == "cancelled", (app.runner.status.value, app.runner.error.value)
    assert not (project / "report.json").exists()
    assert not list(project.rglob("*.tmp")) and not list(project.rglob(".*.tmp"))
    assert (project / "steps" / "quantize.json").is_file() and (project / "steps" / "benchmark.json").is_file()
    assert not (project / "steps" / "compare.json").exists()
    assert app.performance.performance is not None  # the finished benchmark is shown
    start = time.monotonic()
    assert app.run_step("report") and app.runner.wait(300)
    assert app.runner.state == "done" and (project / "report.json").is_file()
    assert time.monotonic() - start < 60


def test_reload_shows_cached_results_and_form_errors(dashboard: tuple[Dashboard, Setup], tmp_path: Path) -> None:
    app, setup = dashboard
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    start = time.monotonic()
    again = Dashboard(tmp_path / "projects")
    assert time.monotonic() - start < 5
    assert again.project == app.project and again.table.visible_rows()
    assert again.performance.performance["speedup"] > 0 and "× faster" in again.performance.speedup.value
    assert again.viewer.image.value == again.table.visible_rows()[0]["image"]
    assert "segwb tutorial semantic" in again.next_steps.value
    again.subset.value = "lots"
    assert not again.run_step("quantize") and "subset size &#x27;lots&#x27; must be" in again.form_message.value
    again.picker.model_path.value = ""
    assert not again.run_step("quantize") and "no model file given" in again.form_message.value
