"""The device dropdown of the Optimize tab: this machine's devices and AUTO with their full names, CPU by default,
passed into the run's options and kept with the saved settings; the explorer measures on the project's device."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import write_model

from segwb.core.devices import device_choices
from segwb.core.storage import read_json
from segwb.measure.explorer import Cell
from widgets.explorer_view import ExplorerView
from widgets.runner import JobRunner
from widgets.state import DashboardState
from widgets.tabs.model_data import ModelDataTab
from widgets.tabs.optimize import OptimizeTab


@pytest.fixture
def tab(tmp_path: Path) -> OptimizeTab:
    state = DashboardState(tmp_path / "projects", JobRunner(tick=0.05))
    picker = ModelDataTab(state).picker
    picker.model_source.value, picker.model_path.value = "file", str(write_model(tmp_path / "model"))
    return OptimizeTab(state, picker)


def test_the_dropdown_lists_the_devices_and_feeds_the_options(tab: OptimizeTab) -> None:
    assert list(tab.device.options) == device_choices() and tab.device.value == "CPU"
    assert tab.device.options[0][0].startswith("CPU (") and tab.device.options[-1][1] == "AUTO"
    assert tab.state.options().device == "CPU"
    tab.device.value = "AUTO"
    assert tab.state.options().device == "AUTO"


def test_the_device_is_saved_and_restored(tab: OptimizeTab) -> None:
    tab.device.value = "AUTO"
    tab.state.save()
    assert read_json(tab.state.state_file)["optimize"]["device"] == "AUTO"
    tab.device.value = "CPU"
    tab.state.restore()
    assert tab.device.value == "AUTO"
    tab.restore({"device": "GPU.9"})  # saved on a machine that had it: the dropdown keeps what it shows
    assert tab.device.value == "AUTO"


def test_the_explorer_measures_on_the_device_it_is_given(tmp_path: Path) -> None:
    view = ExplorerView(JobRunner(tick=0.05))
    view.set_model(write_model(tmp_path), tmp_path / "explorer", "AUTO")
    view.select([Cell(1, 1)])
    assert view.device == "AUTO" and "on AUTO for 1 cell(s)" in view.estimate.value
