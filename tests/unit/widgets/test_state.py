"""The dashboard's shared state: where projects live, what a project folder holds, saved settings, notifications."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard_helpers import write_instance_project
from segwb.core.errors import SegwbError
from segwb.tutorial.options import TutorialOptions
from widgets.runner import JobRunner
from widgets.serve import VOILA_ROOT
from widgets.state import DashboardState, Results, project_folder, projects_root, served_root


def test_projects_root_is_the_environment_or_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGWB_PROJECTS", str(tmp_path / "mine"))
    assert projects_root() == tmp_path / "mine"
    monkeypatch.delenv("SEGWB_PROJECTS")
    monkeypatch.delenv(VOILA_ROOT, raising=False)
    monkeypatch.chdir(tmp_path)
    assert projects_root() == tmp_path / "projects" / "dashboard"
    assert DashboardState(tmp_path / "p", JobRunner()).served == tmp_path  # download links are relative to it
    # Under Voila the kernel runs in the notebook's folder; widgets.serve says where Voila itself started
    monkeypatch.setenv(VOILA_ROOT, str(tmp_path / "repo"))
    assert served_root() == tmp_path / "repo" and projects_root() == tmp_path / "repo" / "projects" / "dashboard"


def test_project_folder_per_task_model_dataset_and_method(tmp_path: Path) -> None:
    default = project_folder(tmp_path, "semantic", "/m/deeplab.xml", None, {}, "/data/photos")
    assert default.parent == tmp_path and default.name.startswith("semantic-deeplab-photos-")
    aa = project_folder(tmp_path, "semantic", "/m/deeplab.xml", None, {}, "/data/photos", "accuracy_aware")
    assert aa.name.startswith("semantic-deeplab-photos-aa-") and aa != default
    assert project_folder(tmp_path, "instance", "/m/deeplab.xml", None, {}, "/data/photos").name.startswith("instance-")
    assert project_folder(tmp_path, "semantic", "/m/deeplab.xml", None, {"mean": 1.0}, "/data/photos") != default


def test_results_of_a_folder(tmp_path: Path) -> None:
    missing = Results.read(tmp_path / "missing")
    assert missing.report is None and missing.performance is None and missing.explorer_model is None
    assert not (tmp_path / "missing").exists()  # looking creates nothing
    report = write_instance_project(tmp_path)
    results = Results.read(tmp_path, opened=True)
    assert results.opened and results.report == report and results.performance == report["performance"]
    assert not results.stale_report and results.explorer_model is None
    measured = {**report["performance"], "parent": {**report["performance"]["parent"], "fps": 11.0}}
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "benchmark.json").write_text(json.dumps({"result": measured}))
    (steps / "quantize.json").write_text(json.dumps({"result": {"digest": "y"}}))
    newer = Results.read(tmp_path)
    assert newer.performance == measured and newer.stale_report  # benchmarked and quantized again after the report
    xml = tmp_path / "models" / "parent" / "model.xml"
    xml.parent.mkdir(parents=True)
    xml.write_text("<net/>")
    assert Results.read(tmp_path).explorer_model == xml


def test_settings_are_saved_and_restored(tmp_path: Path) -> None:
    state = DashboardState(tmp_path, JobRunner())
    with pytest.raises(SegwbError, match="no form"):
        state.options()
    form = {"value": 1}
    restored: list = []
    state.keep_settings("form", lambda: dict(form), restored.append)
    state.provide_options(lambda: TutorialOptions(out=tmp_path / f"p{form['value']}"))
    state.restore()  # nothing saved yet: None, and the form's project is shown
    assert restored == [None] and state.project == tmp_path / "p1" and not state.state_file.exists()
    form["value"] = 2
    state.use_project(state.options().out)
    assert json.loads(state.state_file.read_text()) == {"form": {"value": 2}, "project": str(tmp_path / "p2"), "opened": None}
    again = DashboardState(tmp_path, JobRunner())
    again.keep_settings("form", dict, restored.append)
    again.restore()
    assert restored[-1] == {"value": 2}


def test_settings_of_an_earlier_version_are_kept(tmp_path: Path) -> None:
    """Earlier dashboards saved the Optimize settings at the top level, beside the picker's section."""
    (tmp_path / "dashboard-state.json").write_text(json.dumps(
        {"picker": {"task": "semantic"}, "method": "accuracy_aware", "max_drop": 1.0, "project": None, "opened": None}))
    got: dict = {}
    state = DashboardState(tmp_path, JobRunner())
    state.keep_settings("picker", dict, lambda saved: got.update(picker=saved))
    state.keep_settings("optimize", dict, lambda saved: got.update(optimize=saved))
    state.provide_options(lambda: TutorialOptions(out=tmp_path / "p"))
    state.restore()
    assert got["picker"] == {"task": "semantic"}
    assert got["optimize"]["method"] == "accuracy_aware" and got["optimize"]["max_drop"] == 1.0


def test_every_listener_hears_the_results_even_if_one_fails(tmp_path: Path) -> None:
    state = DashboardState(tmp_path, JobRunner())
    heard: list = []

    def broken(results: Results) -> None:
        raise RuntimeError("cannot show")

    state.on_results(broken)
    state.on_results(heard.append)
    write_instance_project(tmp_path / "imported")
    with pytest.raises(RuntimeError, match="cannot show"):
        state.open_project(tmp_path / "imported")
    assert heard and heard[0].opened and heard[0].report["task"] == "instance" and state.opened == tmp_path / "imported"


def test_an_opened_project_is_reopened_until_the_form_is_used(tmp_path: Path) -> None:
    write_instance_project(tmp_path / "imported")
    state = DashboardState(tmp_path, JobRunner())
    state.provide_options(lambda: TutorialOptions(out=tmp_path / "form"))
    state.open_project(tmp_path / "imported")
    again = DashboardState(tmp_path, JobRunner())
    again.provide_options(lambda: TutorialOptions(out=tmp_path / "form"))
    again.restore()
    assert again.opened == again.project == tmp_path / "imported" and again.results.report is not None
    again.show_form_project()
    assert again.opened is None and again.project == tmp_path / "form" and again.results.report is None
    last = DashboardState(tmp_path, JobRunner())
    last.provide_options(lambda: TutorialOptions(out=tmp_path / "form"))
    last.restore()
    assert last.opened is None
