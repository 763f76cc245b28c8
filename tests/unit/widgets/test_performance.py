"""The performance view: one bar per configuration, the speedup, the settings of each figure, charts only when shown."""

from __future__ import annotations

from widgets.performance import PerformanceView, chart_data, configurations, settings_table


def _run(fps: float, median: float, precision: str) -> dict:
    return {"fps": fps, "latency_ms": {"median": median, "average": median + 1, "min": median - 1, "max": median + 5},
            "inference_precision": precision,
            "properties": {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": "2", "OPTIMAL_NUMBER_OF_INFER_REQUESTS": "2",
                           "INFERENCE_NUM_THREADS": "2"}}


PERFORMANCE = {"parent": _run(10.0, 190.0, "f32"), "parent_default": _run(14.0, 140.0, "bf16"),
               "optimized_runs": {"default": _run(30.0, 60.0, "bf16"), "f32": _run(25.0, 75.0, "f32")},
               "optimized": _run(30.0, 60.0, "bf16"), "optimized_precision": "default", "speedup": 3.0,
               "seconds_per_run": 0.5, "device": "CPU", "openvino_version": "2025.x", "input_shape": [1, 64, 64, 3]}


def test_one_bar_per_configuration() -> None:
    assert [label for _, label, _ in configurations(PERFORMANCE)] == [
        "Parent, f32 (pinned baseline)", "Parent, default precision (bf16)", "INT8, default precision hint",
        "INT8, f32 precision hint"]
    fps = chart_data(PERFORMANCE, "fps")
    assert fps["x"] == ["Parent f32", "Parent default", "INT8 default", "INT8 f32"] and fps["y"] == [10.0, 14.0, 30.0, 25.0]
    assert fps["colors"][0] == fps["colors"][1] != fps["colors"][2] == fps["colors"][3]  # parents grey, INT8 green
    assert chart_data(PERFORMANCE, "latency")["y"] == [190.0, 140.0, 60.0, 75.0]
    table = settings_table(PERFORMANCE)
    assert table.count("<tr>") == 5 and "THROUGHPUT" in table and "0.5 s per configuration" in table


def test_view_shows_the_speedup_and_attaches_charts_only_when_visible() -> None:
    view = PerformanceView()
    view.show(None)
    assert "No measurement yet" in view.speedup.value and view.settings.value == ""
    view.show(PERFORMANCE)
    assert 'data-speedup="3.0000"' in view.speedup.value and "3.00× faster" in view.speedup.value
    assert list(view.fps_bars.y) == [10.0, 14.0, 30.0, 25.0] and "<table" in view.settings.value
    view.set_visible(False)
    assert view.figures.children == ()
    view.set_visible(True)
    assert view.figures.children == (view.fps_figure, view.latency_figure)
