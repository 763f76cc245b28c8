"""The Model & data tab: the picker's defaults from the environment, its saved settings, fetching a zoo model."""

from __future__ import annotations

from pathlib import Path

import pytest

from segwb.zoo.catalog import ENTRIES
from widgets.runner import JobRunner
from widgets.state import DashboardState
from widgets.tabs import model_data
from widgets.tabs.model_data import ModelDataTab, defaults_from_environment


@pytest.fixture
def tab(tmp_path: Path) -> ModelDataTab:
    return ModelDataTab(DashboardState(tmp_path, JobRunner(tick=0.05)))


def test_defaults_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL", "MODEL_CARD", "DATASET", "TASK"):
        monkeypatch.delenv(f"SEGWB_DASHBOARD_{name}", raising=False)
    assert defaults_from_environment() == {}
    zoo_model = next(iter(ENTRIES))
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", zoo_model)
    monkeypatch.setenv("SEGWB_DASHBOARD_DATASET", "embedded")
    assert defaults_from_environment() == {"model_source": "zoo", "zoo_model": zoo_model, "dataset_source": "embedded"}
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", "/m/model.xml")
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL_CARD", "/m/card.yml")
    monkeypatch.setenv("SEGWB_DASHBOARD_DATASET", "/photos")
    monkeypatch.setenv("SEGWB_DASHBOARD_TASK", "instance")
    assert defaults_from_environment() == {"model_source": "file", "model_path": "/m/model.xml", "card_path": "/m/card.yml",
                                           "dataset_source": "folder", "dataset_path": "/photos", "task": "instance"}


def test_saved_settings_win_over_the_environment(tab: ModelDataTab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", "/m/model.xml")
    tab.state.restore()
    assert tab.picker.model_source.value == "file" and tab.picker.model_path.value == "/m/model.xml"
    tab.state.save()
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", "/m/other.xml")
    again = ModelDataTab(DashboardState(tab.state.root, JobRunner()))
    again.state.restore()
    assert again.picker.model_path.value == "/m/model.xml" and tab.widget is tab.picker.widget


def test_fetch_runs_in_the_runner_and_refreshes_the_zoo(tab: ModelDataTab, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list = []

    def obtain(name: str, cancel: object) -> tuple[Path, dict]:  # no network in tests
        fetched.append(name)
        return tmp_path / "model.xml", {}

    monkeypatch.setattr(model_data, "obtain", obtain)
    refreshed: list = []
    monkeypatch.setattr(tab.picker, "refresh_zoo", lambda: refreshed.append(True))
    tab.picker.fetch_choice.value = next(iter(ENTRIES))
    tab.picker.fetch_button.click()
    assert tab.state.runner.wait(10) and tab.state.runner.state == "done"
    assert fetched == [tab.picker.fetch_choice.value] and refreshed == [True]
    assert "Finished: Fetch" in tab.state.runner.status.value and not tab.picker.fetch_button.disabled
