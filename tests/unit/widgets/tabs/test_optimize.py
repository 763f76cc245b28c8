"""The Optimize tab: the form's options, one project per method, checks before running, a run and what it shows."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from segwb.core.errors import SegwbError
from segwb.optimize.settings import QuantizeSettings
from tiny_models import write_model
from widgets.runner import JobRunner
from widgets.state import DashboardState, project_folder
from widgets.tabs.model_data import ModelDataTab
from widgets.tabs.optimize import OptimizeTab


@pytest.fixture
def tab(tmp_path: Path) -> OptimizeTab:
    state = DashboardState(tmp_path / "projects", JobRunner(tick=0.05))
    picker = ModelDataTab(state).picker
    picker.model_source.value, picker.model_path.value = "file", str(write_model(tmp_path / "model"))
    tab = OptimizeTab(state, picker)
    tab.bench_seconds.value = 0.2
    return tab


def test_options_from_the_form(tab: OptimizeTab, tmp_path: Path) -> None:
    tab.ignored.value = " conv1, ,conv2 "
    tab.preset.value, tab.subset.value, tab.no_bf16.value = "mixed", "50%", True
    options = tab.state.options()
    model = tab.picker.model_path.value
    assert options.out == project_folder(tmp_path / "projects", "semantic", model, None, {}, "embedded")
    assert (options.task, options.model, options.dataset, options.bench_seconds, options.no_bf16) == \
           ("semantic", model, "embedded", 0.2, True)
    q = options.quantize
    assert (q.method, q.preset, q.subset, q.ignored_names) == ("default", "mixed", "50%", ("conv1", "conv2"))
    tab.picker.task.value = "instance"
    assert tab.state.options().task == "instance" and tab.state.options().out.name.startswith("instance-")
    tab.subset.value = "lots"
    with pytest.raises(SegwbError, match="subset size 'lots'"):
        tab.options()
    assert not tab.run_step("quantize") and "subset size" in tab.form_message.value
    assert tab.estimate("benchmark parent") == pytest.approx(2.2) and tab.estimate("quantizing") is None


def test_each_method_has_its_project_and_its_target(tab: OptimizeTab) -> None:
    assert tab.accuracy_box.layout.display == "none"
    default = tab.state.project
    tab.method.value = "accuracy_aware"
    assert tab.accuracy_box.layout.display is None
    assert tab.state.project != default and "-aa-" in tab.state.project.name
    tab.max_drop.value = 12
    assert not tab.run_step("quantize")
    assert "max accuracy drop must be between 0.1 and 10 points (absolute), got 12" in tab.form_message.value
    saved = tab.settings()
    tab.method.value, tab.max_drop.value = "default", 0.5
    tab.restore(saved)
    assert tab.method.value == "accuracy_aware" and tab.max_drop.value == 12


def test_quantize_shows_what_it_did_and_buttons_wait_for_the_job(tab: OptimizeTab) -> None:
    states: list = []
    tab.state.runner.on_busy(lambda busy: states.append((busy, tab.buttons["report"].disabled, tab.method.disabled)))
    assert tab.run_step("quantize")
    assert not tab.run_step("benchmark") and "another job is running" in tab.form_message.value
    assert tab.state.runner.wait(120) and tab.state.runner.state == "done", tab.state.runner.error.value
    assert states == [(True, True, True), (False, False, False)]
    assert tab.optimize_info.value.startswith('<p class="segwb-quantized">INT8 model ready: ')
    assert "with the Default and AccuracyAware method too" in tab.methods.value  # no report yet
    assert (tab.state.project / "steps" / "quantize.json").is_file()
    assert not (tab.state.project / "steps" / "benchmark.json").exists()  # only up to the step asked for


def _upload(name: str, data: bytes) -> dict:
    return {"name": name, "type": "", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.now(timezone.utc)}


def test_an_optimized_model_i_already_have(tab: OptimizeTab, tmp_path: Path) -> None:
    """The choice hides NNCF's settings, names the model as ``optimized`` in the run options (NNCF's settings at
    their defaults: they do not apply) and gives it its own project; an upload fills the path."""
    nncf_project = tab.state.project
    tab.method.value = "accuracy_aware"  # would be refused with a given model: the choice leaves NNCF's method out
    tab.source.value = "given"
    assert tab.nncf_box.layout.display == "none" and tab.given_box.layout.display is None
    with pytest.raises(SegwbError, match="no optimized model given"):
        tab.options()
    assert not tab.run_step("report") and "no optimized model given" in tab.form_message.value
    given = write_model(tmp_path / "int8")
    tab.given_upload.value = tuple(_upload(p.name, p.read_bytes()) for p in (given, given.with_suffix(".bin")))
    assert Path(tab.given_path.value).is_relative_to(tab.picker.uploads_root / "optimized")
    assert "uploaded to" in tab.given_message.value and tab.given_upload.value == ()
    options = tab.options()
    assert options.optimized == tab.given_path.value and options.quantize == QuantizeSettings()
    assert "-given-" in options.out.name and options.out != nncf_project
    saved = tab.settings()
    tab.source.value, tab.given_path.value = "nncf", ""
    assert tab.options().optimized is None and tab.nncf_box.layout.display is None
    tab.restore(saved)
    assert (tab.source.value, tab.given_path.value) == ("given", saved["given_path"])


def test_a_given_model_runs_and_shows_where_it_came_from(tab: OptimizeTab, tmp_path: Path) -> None:
    tab.source.value, tab.given_path.value = "given", str(write_model(tmp_path / "given", seed=1))
    assert tab.run_step("quantize")
    assert tab.source.disabled and tab.given_path.disabled
    assert tab.state.runner.wait(120) and tab.state.runner.state == "done", tab.state.runner.error.value
    assert not tab.source.disabled
    info = tab.optimize_info.value
    assert info.startswith('<p class="segwb-quantized">Optimized model given: ') and "not quantized by segwb" in info
    assert "f32: no FakeQuantize" in info and "Default vs AccuracyAware" not in info
