"""The dashboard's AccuracyAware controls: its own project, checks before running, and Default vs AccuracyAware side by side."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tiny_models import write_model
from widgets.dashboard import Dashboard


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dashboard:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(11)
    for i in range(10):  # AccuracyAware needs at least 10 images to rank layers
        image = rng.integers(0, 60, (40, 52, 3)).astype(np.uint8)
        cv2.circle(image, (26, 20), 6 + i, (250, 250, 250), -1)
        cv2.imwrite(str(photos / f"p{i}.jpg"), image)
    monkeypatch.setenv("SEGWB_DASHBOARD_MODEL", str(write_model(tmp_path / "model", "scores")))
    monkeypatch.setenv("SEGWB_DASHBOARD_DATASET", str(photos))
    monkeypatch.setenv("SEGWB_DASHBOARD_BENCH_SECONDS", "0.2")
    return Dashboard(tmp_path / "projects")


def test_accuracy_target_shown_only_for_accuracy_aware(app: Dashboard) -> None:
    assert app.accuracy_box.layout.display == "none"
    default_project = app.project
    app.method.value = "accuracy_aware"
    assert app.accuracy_box.layout.display is None
    assert app.project != default_project and app.project.name.split("-")[-2] == "aa"
    app.max_drop.value = 12
    assert not app.run_step("quantize")
    assert "max accuracy drop must be between 0.1 and 10 points (absolute), got 12" in app.form_message.value


def test_both_methods_side_by_side(app: Dashboard) -> None:
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    assert "with the AccuracyAware method too" in app.methods.value
    app.method.value = "accuracy_aware"
    app.metric.value = "agreement"
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    table = app.methods.value
    assert "<th>Default</th><th>AccuracyAware</th>" in table
    assert "AccuracyAware mean Optimized Model Average Result (parent → result)" in table
    assert "AccuracyAware: mean Optimized Model Average Result against the parent model on 10 images" in app.optimize_info.value
    assert "--method accuracy-aware --max-drop 0.5 --drop-type absolute --metric agreement" in app.next_steps.value
    app.method.value = "default"  # back to the Default project's own results, without recomputing
    assert "AccuracyAware:" not in app.optimize_info.value and app.table.visible_rows()
