"""Inference-configuration explorer on tiny models: grid, estimate, cache, cancel, sweet spot, bad input."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest
from tiny_models import write_model

from segwb.core.errors import Cancelled, ModelError, SegwbError
from segwb.io.model_file import ir_digest, save_ir
from segwb.measure import explorer
from segwb.measure.explorer import Cell

SECONDS = 0.2


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One f32 run shared by several tests: batch 1 and 4 within the core count, and streams above it."""
    folder = tmp_path_factory.mktemp("explorer")
    xml = write_model(folder)
    cache = folder / "explorer"
    cores = explorer.cpu_cores()
    cells = [Cell(1, 1), Cell(min(2, cores), 4), Cell(explorer.max_streams(), 1)]
    calls: list[tuple[int, int]] = []
    results = explorer.explore(xml, cells, cache, precision="f32", seconds=SECONDS,
                               progress=lambda done, total: calls.append((done, total)))
    return {"xml": xml, "cache": cache, "cells": cells, "results": results, "calls": calls, "cores": cores}


def test_grid_is_streams_by_powers_of_two() -> None:
    cells = explorer.grid()
    assert {c.batch for c in cells} == {1, 2, 4, 8}
    assert {c.streams for c in cells} == set(range(1, 2 * explorer.cpu_cores() + 1))
    assert len(cells) == 4 * explorer.max_streams()
    assert explorer.batch_sizes(6) == [1, 2, 4]
    assert explorer.grid(max_batch=2, streams_limit=1) == [Cell(1, 1), Cell(1, 2)]
    for bad in ({"max_batch": 0}, {"max_batch": 512}, {"streams_limit": explorer.max_streams() + 1}):
        with pytest.raises(SegwbError, match="must be an integer"):
            explorer.grid(**bad)


def test_cells_record_batch_streams_and_cache(measured: dict[str, Any]) -> None:
    results, cores = measured["results"], measured["cores"]
    assert [(r["streams"], r["batch"]) for r in results] == [(c.streams, c.batch) for c in measured["cells"]]
    assert measured["calls"] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    for r in results:
        assert r["cached"] is False
        assert r["input_shape"] == [r["batch"], 64, 64, 3]
        assert r["throughput"] == pytest.approx(r["inferences_per_second"] * r["batch"])
        assert r["properties"]["INFERENCE_PRECISION_HINT"] == "f32"
        assert r["streams_used"] == int(r["properties"]["NUM_STREAMS"])
        assert r["requests"] == int(r["properties"]["OPTIMAL_NUMBER_OF_INFER_REQUESTS"])
        assert r["seconds"] >= SECONDS and r["latency_ms"]["median"] > 0
    # Within the core count the plugin honours the requested streams; above it, it records what it used.
    assert results[0]["streams_used"] == 1 and results[1]["streams_used"] == min(2, cores)
    assert 1 <= results[2]["streams_used"] <= results[2]["streams"]
    names = sorted(p.name for p in measured["cache"].iterdir())
    assert len(names) == 3 and all(n.endswith("-f32.json") for n in names)
    assert any(f"-s{min(2, cores)}-b4-f32.json" in n for n in names)


def test_cached_cells_are_not_measured_again(measured: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cached cell was measured again")

    monkeypatch.setattr(explorer, "measure", fail)
    again = explorer.explore(measured["xml"], measured["cells"], measured["cache"], precision="f32", seconds=SECONDS)
    assert all(r["cached"] for r in again)
    assert [r["throughput"] for r in again] == [r["throughput"] for r in measured["results"]]
    assert len(explorer.load_results(measured["xml"], measured["cache"])) == 3
    with pytest.raises(AssertionError, match="measured again"):  # force re-runs
        explorer.explore(measured["xml"], measured["cells"][:1], measured["cache"], precision="f32", seconds=SECONDS, force=True)
    with pytest.raises(AssertionError, match="measured again"):  # another precision is another configuration
        explorer.explore(measured["xml"], measured["cells"][:1], measured["cache"], precision=None, seconds=SECONDS)
    with pytest.raises(AssertionError, match="measured again"):  # a longer measurement than the cached one
        explorer.explore(measured["xml"], measured["cells"][:1], measured["cache"], precision="f32", seconds=2 * SECONDS)


def test_estimate_uses_measured_overhead(measured: dict[str, Any], tmp_path: Path) -> None:
    fresh = explorer.estimate(write_model(tmp_path), [Cell(1, 1), Cell(1, 2)], tmp_path / "cache", seconds=SECONDS)
    assert (fresh.to_run, fresh.cached) == (2, 0)
    assert fresh.seconds == pytest.approx(2 * (SECONDS + explorer.OVERHEAD_PRIOR_SECONDS))
    assert "no cell of this model measured yet" in fresh.assumptions
    cells = [*measured["cells"], Cell(1, 8)]
    learned = explorer.estimate(measured["xml"], cells, measured["cache"], precision="f32", seconds=SECONDS)
    assert (learned.to_run, learned.cached) == (1, 3)
    assert SECONDS < learned.seconds < SECONDS + explorer.OVERHEAD_PRIOR_SECONDS
    assert "medians of 3 measured cell(s)" in learned.assumptions
    forced = explorer.estimate(measured["xml"], cells, measured["cache"], precision="f32", seconds=SECONDS, force=True)
    assert forced.to_run == 4 and "forced" in forced.assumptions


def test_cancel_between_cells_keeps_finished(tmp_path: Path) -> None:
    xml, cache, cancel = write_model(tmp_path), tmp_path / "explorer", threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 1:
            cancel.set()

    with pytest.raises(Cancelled, match="after 1 of 3 cells") as info:
        explorer.explore(xml, [Cell(1, 1), Cell(1, 2), Cell(1, 4)], cache, seconds=SECONDS, progress=progress, cancel=cancel)
    assert [(r["streams"], r["batch"]) for r in info.value.results] == [(1, 1)]
    assert [p.name for p in cache.iterdir()] == [explorer.cache_file(cache, info.value.results[0]["digest"], Cell(1, 1), None).name]
    assert len(explorer.load_results(xml, cache)) == 1


def test_cancel_during_a_cell_writes_nothing(tmp_path: Path) -> None:
    xml, cache, cancel = write_model(tmp_path), tmp_path / "explorer", threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    start = time.perf_counter()
    with pytest.raises(Cancelled, match="after 0 of 1 cells"):
        explorer.explore(xml, [Cell(1, 1)], cache, seconds=30.0, cancel=cancel)
    timer.join()
    assert time.perf_counter() - start < 5
    assert not cache.exists() or not list(cache.iterdir())


def _result(streams: int, batch: int, fps: float, latency: float) -> dict[str, Any]:
    return {"streams": streams, "batch": batch, "throughput": fps, "latency_ms": {"median": latency}}


def test_sweet_spot_on_hand_made_points() -> None:
    points = [_result(1, 1, 100, 10), _result(2, 1, 180, 11), _result(2, 4, 300, 40), _result(4, 8, 320, 90)]
    assert explorer.sweet_spot(points, 40)["batch"] == 4  # at the threshold counts
    assert explorer.sweet_spot(points, 39.9)["streams"] == 2 and explorer.sweet_spot(points, 39.9)["batch"] == 1
    assert explorer.sweet_spot(points, 5) is None
    assert explorer.sweet_spot([], 100) is None
    ties = [_result(3, 1, 200, 20), _result(2, 2, 200, 15), _result(1, 2, 200, 15)]
    assert (explorer.sweet_spot(ties, 50)["streams"], explorer.sweet_spot(ties, 50)["batch"]) == (1, 2)
    s = explorer.summary(points, 12)
    assert s["best_throughput"]["throughput"] == 320 and s["sweet_spot"]["throughput"] == 180
    assert len(s["points"]) == 4 and s["points"][0] == {"streams": 1, "batch": 1, "streams_used": None,
                                                        "precision": "default", "throughput": 100, "latency_ms": 10}
    assert explorer.summary(points, 1)["sweet_spot"] is None
    assert explorer.summary([], 10) == {"cells": 0, "threshold_ms": 10, "points": [], "best_throughput": None,
                                        "sweet_spot": None}


def _unbatchable(folder: Path) -> Path:
    """An image model that flattens to a constant [1, 768]: any batch but 1 fails shape inference."""
    image = ops.parameter([1, 16, 16, 3], ov.Type.u8, name="image")
    flat = ops.reshape(ops.convert(image, ov.Type.f32), ops.constant(np.int64([1, 768])), special_zero=False)
    xml = folder / "flat.xml"
    save_ir(ov.Model([flat], [image], "flat"), xml)
    return xml


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    xml, cache = write_model(tmp_path), tmp_path / "explorer"
    for cells, problem in (([Cell(0, 1)], "streams"), ([Cell(explorer.max_streams() + 1, 1)], "streams"),
                           ([Cell(1, 0)], "batch"), ([Cell(1, 512)], "batch"), ([], "no configuration")):
        with pytest.raises(SegwbError, match=problem) as info:
            explorer.explore(xml, cells, cache, seconds=SECONDS)
        assert str(xml) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SegwbError, match="duration must be positive"):
        explorer.explore(xml, [Cell(1, 1)], cache, seconds=0)
    with pytest.raises(ModelError, match=r"input tensor has shape \[1, 32, 32, 3\]"):
        explorer.explore(xml, [Cell(1, 1)], cache, seconds=SECONDS, input_tensor=np.zeros((32, 32, 3), np.uint8))
    flat = _unbatchable(tmp_path)
    with pytest.raises(ModelError, match="input 'image' cannot take batch 2") as info:
        explorer.explore(flat, [Cell(1, 1), Cell(1, 2)], cache, seconds=SECONDS)  # checked before cell 1 runs
    assert str(info.value).startswith(str(flat)) and "\n" not in str(info.value)
    assert not cache.exists()


def test_cells_are_cached_per_device(tmp_path: Path) -> None:
    """A cell measured on the CPU is not reused for AUTO: each device has its file, its record and its chart."""
    xml, cache = write_model(tmp_path / "m"), tmp_path / "explorer"
    cpu = explorer.explore(xml, [Cell(1, 1)], cache, "f32", 0.1)
    auto = explorer.explore(xml, [Cell(1, 1)], cache, "f32", 0.1, device="AUTO")
    assert not auto[0]["cached"] and (cpu[0]["device"], auto[0]["device"]) == ("CPU", "AUTO")
    assert auto[0]["device_name"].startswith("executed on CPU: ") and auto[0]["streams_used"] == 1
    digest = ir_digest(xml)[:16]
    assert {p.name for p in cache.iterdir()} == {f"{digest}-s1-b1-f32.json", f"{digest}-AUTO-s1-b1-f32.json"}
    assert [r["device"] for r in explorer.load_results(xml, cache, "AUTO")] == ["AUTO"]
    assert explorer.explore(xml, [Cell(1, 1)], cache, "f32", 0.1)[0]["cached"]
    assert explorer.estimate(xml, [Cell(1, 1)], cache, "f32", 0.1, device="AUTO").cached == 1
