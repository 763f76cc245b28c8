"""The explorer widget in-process: grid, estimate, a run through the job runner, chart and sweet spot."""

from __future__ import annotations

from pathlib import Path

from segwb.measure import explorer
from segwb.measure.explorer import Cell
from tiny_models import write_model
from widgets.explorer_view import ExplorerView
from widgets.runner import JobRunner


def test_explorer_view_runs_selected_cells(tmp_path: Path) -> None:
    runner = JobRunner(tick=0.05)
    view = ExplorerView(runner)
    view.max_batch.value = 2
    assert set(view.cells) == set(explorer.grid(2))
    assert not view.run() and "No model yet" in view.message.value
    xml, cache = write_model(tmp_path), tmp_path / "explorer"
    view.set_model(xml, cache)
    assert "No configuration measured yet" in view.spot.value
    view.seconds.value = 0.2
    assert not view.run() and "no configuration selected" in view.message.value
    view.select([Cell(1, 1), Cell(1, 2)])
    assert 'data-estimate="' in view.estimate.value and "for 2 cell(s)" in view.estimate.value
    assert view.run() and runner.wait(30) and runner.state == "done"
    assert [(r["streams"], r["batch"]) for r in view.results] == [(1, 1), (1, 2)]
    assert len(view.points.x) == 2 and len(view.best.x) == 1 and "data-sweet-spot" in view.spot.value
    assert "2 cached" in view.estimate.value
    view.threshold.value = 0.0
    assert "No configuration has a median latency" in view.spot.value and len(view.best.x) == 0
    view.set_visible(True)
    assert view.chart.children == (view.figure,)
