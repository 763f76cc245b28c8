"""segwb.measure.benchmark: measured like benchmark_app (optimal number of requests, input set once, warm-up round
excluded, fixed duration), with the compiled properties each figure was measured with."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from tiny_models import write_model

from segwb.core.compile import compile_model
from segwb.core.errors import Cancelled
from segwb.measure.benchmark import benchmark, run_queue
from segwb.measure.inputs import random_input


@pytest.fixture
def xml(tmp_path: Path) -> Path:
    return write_model(tmp_path / "m")


def test_benchmark_reports_speed_and_settings(xml: Path) -> None:
    tensor = random_input([1, 64, 64, 3], np.dtype(np.uint8))
    result = benchmark(xml, tensor, "f32", seconds=0.3)
    assert result.fps == pytest.approx(result.iterations / result.seconds) and result.seconds >= 0.3
    lat = result.latency_ms
    assert 0 < lat["min"] <= lat["median"] <= lat["max"] and lat["min"] <= lat["average"] <= lat["max"]
    assert result.precision_requested == "f32" and result.inference_precision == "f32"
    assert result.properties["PERFORMANCE_HINT"] == "THROUGHPUT" and int(result.properties["NUM_STREAMS"]) >= 1
    assert result.to_dict()["inference_precision"] == "f32"


def test_warm_up_is_excluded_and_every_timed_request_counted(xml: Path) -> None:
    compiled = compile_model(xml, "f32")
    run = run_queue(compiled, random_input([1, 64, 64, 3], np.dtype(np.uint8)), 0.2)
    assert run.requests == int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    assert len(run.latencies_ms) == run.iterations > 0 and run.warmup_seconds > 0


def test_cancel_stops_the_run(xml: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="benchmark cancelled"):
        run_queue(compile_model(xml, "f32"), random_input([1, 64, 64, 3], np.dtype(np.uint8)), 5.0, cancel)


def test_random_input_is_fixed_data_of_the_input_type() -> None:
    a, b = random_input([1, 3, 4, 4], np.dtype(np.float32)), random_input([1, 3, 4, 4], np.dtype(np.float32))
    assert a.dtype == np.float32 and np.array_equal(a, b) and 0 <= a.min() and a.max() <= 1
    pixels = random_input([2, 5], np.dtype(np.uint8))
    assert pixels.dtype == np.uint8 and pixels.shape == (2, 5)


@pytest.mark.parametrize("device", ["CPU", "AUTO"])
def test_benchmark_records_the_device_asked_and_the_one_that_ran(xml: Path, device: str) -> None:
    """On AUTO the f32 pin reaches the CPU it picks, and the result says both what was asked and what ran."""
    result = benchmark(xml, random_input([1, 64, 64, 3], np.dtype(np.uint8)), "f32", seconds=0.2, device=device)
    assert result.device == device and result.to_dict()["device"] == device and result.fps > 0
    assert result.properties["EXECUTION_DEVICES"] == "CPU" and result.inference_precision == "f32"
    assert int(result.properties["NUM_STREAMS"]) >= 1 and result.properties["PERFORMANCE_HINT"] == "THROUGHPUT"
