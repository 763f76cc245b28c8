"""The whole dashboard in-process: loading runs nothing, a finished run refreshes every tab, Cancel leaves nothing
half-written, a reload shows the cached results, form errors are one line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dashboard_helpers import Setup, small_setup
from segwb.cli.parser import command_line
from tiny_models import write_model
from widgets.common import escape
from widgets.dashboard import Dashboard


@pytest.fixture
def dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Dashboard, Setup]:
    setup = small_setup(tmp_path / "data")
    for name, value in setup.dashboard_env(0.2).items():
        monkeypatch.setenv(name, value)
    app = Dashboard(tmp_path / "projects")
    app.optimize_tab.fast_bias.value = True  # NNCF's full bias correction costs 9 s on deeplabv3 whatever the images
    return app, setup


@pytest.fixture
def tiny_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dashboard:
    """A dashboard on a tiny model and the embedded photos: a whole run takes a few seconds."""
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", str(write_model(tmp_path / "model")))
    monkeypatch.setenv("SEGWB_DASHBOARD_BENCH_SECONDS", "0.2")
    return Dashboard(tmp_path / "projects")


def test_loading_runs_nothing_and_writes_nothing(tiny_app: Dashboard, tmp_path: Path) -> None:
    assert tiny_app.project is not None and not tiny_app.project.exists()
    assert not (tmp_path / "projects").exists()
    assert tiny_app.titles == ("Model & data", "Optimize (INT8)", "Performance", "Accuracy report", "Visualize", "Next steps")
    assert tiny_app.tabs.children[0] is tiny_app.picker.widget and tiny_app.runner.state == "idle"
    assert tiny_app.options().out == tiny_app.project and "segwb-dashboard" in tiny_app.widget._dom_classes
    tiny_app.tabs.selected_index = tiny_app.titles.index("Performance")  # charts attach only while shown
    assert tiny_app.performance.figures.children
    tiny_app.tabs.selected_index = 0
    assert not tiny_app.performance.figures.children


def test_a_finished_report_refreshes_every_tab(tiny_app: Dashboard) -> None:
    """The user's report: the phase line kept the last phase, Cancel looked active, Next steps kept asking for the
    report after it was made."""
    app = tiny_app
    assert "Create the accuracy report first" in app.packages.result.value and app.packages.deploy_button.disabled
    cancel = app.runner.cancel_button
    assert cancel.disabled and cancel.button_style == ""
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    assert app.runner.phase.value == "" and app.runner.count.value == ""
    assert cancel.disabled and cancel.button_style == ""
    assert "Create the accuracy report first" not in app.packages.result.value
    assert not app.packages.deploy_button.disabled and not app.packages.export_button.disabled
    text = app.next_steps_tab.text.value
    assert "<h3>Files</h3>" in text and str(app.project / "models" / "optimized" / "model.xml") in text
    assert "Project folder: " in app.project_label.value and "INT8 model ready" in app.optimize_tab.optimize_info.value
    assert app.performance.performance is not None and len(app.table.visible_rows()) == 6
    assert "Mean Optimized Model Average Result" in app.report_tab.summary.value
    first = app.table.visible_rows()[0]["image"]
    assert app.viewer.image.value == first
    app.table.select(app.table.visible_rows()[1]["image"])  # a row's View button
    assert app.tabs.selected_index == app.titles.index("Visualize")
    assert app.viewer.image.value == app.table.visible_rows()[1]["image"]


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
    assert "Cancelled while: " in app.runner.phase.value
    assert not (project / "report.json").exists()
    assert not list(project.rglob("*.tmp")) and not list(project.rglob(".*.tmp"))
    assert (project / "steps" / "quantize.json").is_file() and (project / "steps" / "benchmark.json").is_file()
    assert not (project / "steps" / "compare.json").exists()
    assert app.performance.performance is not None  # the finished benchmark is shown
    start = time.monotonic()
    assert app.run_step("report") and app.runner.wait(300)
    assert app.runner.state == "done" and (project / "report.json").is_file()
    assert time.monotonic() - start < 60


def test_reload_shows_cached_results_and_form_errors(tiny_app: Dashboard, tmp_path: Path) -> None:
    app = tiny_app
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    start = time.monotonic()
    again = Dashboard(tmp_path / "projects")
    assert time.monotonic() - start < 5
    assert again.project == app.project and again.table.visible_rows()
    assert again.performance.performance["speedup"] > 0 and "× faster" in again.performance.speedup.value
    assert again.viewer.image.value == again.table.visible_rows()[0]["image"]
    assert escape(command_line(again.options())) in again.next_steps_tab.text.value
    again.optimize_tab.subset.value = "lots"
    assert not again.run_step("quantize") and "subset size &#x27;lots&#x27; must be" in again.optimize_tab.form_message.value
    again.picker.model_path.value = ""
    assert not again.run_step("quantize") and "no model file given" in again.optimize_tab.form_message.value
