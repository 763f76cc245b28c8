"""Default vs AccuracyAware side by side (widgets.methods), from the dashboard: each method its own project, the
rows the result summary's facts."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from segwb.core.storage import read_json
from segwb.report.summary import summary
from tiny_models import write_model
from widgets.common import escape
from widgets.dashboard import Dashboard
from widgets.methods import method_name, methods_html


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


def test_one_report_is_not_a_comparison() -> None:
    assert "with the Default and AccuracyAware method too" in methods_html({"default": None, "accuracy_aware": None})
    assert method_name("accuracy_aware") == "AccuracyAware"


def test_both_methods_side_by_side(app: Dashboard) -> None:
    tab = app.optimize_tab
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    assert "with the AccuracyAware method too" in tab.methods.value
    default_report = read_json(app.project / "report.json")
    tab.method.value = "accuracy_aware"
    tab.metric.value = "agreement"
    assert app.run_step("report") and app.runner.wait(300) and app.runner.state == "done", app.runner.error.value
    table = tab.methods.value
    assert "<th>Default</th><th>AccuracyAware</th>" in table
    aa_facts = summary(read_json(app.project / "report.json"))
    for fact in summary(default_report) + aa_facts:  # every row is a fact of the result summary
        assert f"<td>{escape(fact.label)}</td>" in table and f"<td>{escape(fact.value)}</td>" in table
    assert any(f.label == "AccuracyAware mean IoU against the parent model" for f in aa_facts)
    assert "AccuracyAware: mean IoU against the parent model on 10 images" in tab.optimize_info.value
    assert "--method accuracy-aware --max-drop 0.5 --drop-type absolute --metric agreement" in app.next_steps_tab.text.value
    tab.method.value = "default"  # back to the Default project's own results, without recomputing
    assert "AccuracyAware:" not in tab.optimize_info.value and app.table.visible_rows()
