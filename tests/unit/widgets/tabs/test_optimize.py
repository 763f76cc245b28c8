"""The Optimize tab: the form's options, one project per method, checks before running, a run and what it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.core.errors import SegwbError
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
