"""Model & data: the task, the model (tutorial default, zoo or the user's file with its card) and the dataset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from segwb.zoo.catalog import ENTRIES, obtain

from ..picker import ModelDataPicker
from ..runner import Job
from ..state import DashboardState

TITLE = "Model & data"


def defaults_from_environment() -> dict[str, Any]:
    """The picker's settings from SEGWB_DASHBOARD_MODEL / _MODEL_CARD / _DATASET / _TASK (small settings for tests
    and demos), for a page with no saved settings."""
    state: dict[str, Any] = {}
    model = os.environ.get("SEGWB_DASHBOARD_MODEL")
    if model in ENTRIES:
        state.update(model_source="zoo", zoo_model=model)
    elif model:
        state.update(model_source="file", model_path=model, card_path=os.environ.get("SEGWB_DASHBOARD_MODEL_CARD", ""))
    dataset = os.environ.get("SEGWB_DASHBOARD_DATASET")
    if dataset == "embedded":
        state.update(dataset_source="embedded")
    elif dataset:
        state.update(dataset_source="folder", dataset_path=dataset)
    if os.environ.get("SEGWB_DASHBOARD_TASK"):
        state["task"] = os.environ["SEGWB_DASHBOARD_TASK"]
    return state


class ModelDataTab:
    """The picker, and fetching a zoo model through the runner."""

    title = TITLE

    def __init__(self, state: DashboardState) -> None:
        self.state = state
        self.picker = ModelDataPicker(state.root / "uploads", fetch=self.fetch)
        self.widget = self.picker.widget
        state.keep_settings("picker", self.picker.state, self._restore)
        state.runner.on_busy(self._busy)

    def fetch(self, name: str) -> bool:
        """Download a zoo model into the cache in the background; a cancelled download keeps its part and resumes
        next time. False if another job is running."""
        def work(job: Job) -> Path:
            path, _ = obtain(name, job.cancel)
            return path

        return self.state.runner.start(f"Fetch {name}", work, on_done=lambda _: self.picker.refresh_zoo())

    def _restore(self, saved: dict[str, Any] | None) -> None:
        self.picker.restore(saved or defaults_from_environment())

    def _busy(self, busy: bool) -> None:
        self.picker.fetch_button.disabled = busy
