"""segwb.inference.queue: every image through the async queue once, a callback's error raised after the queue
drains (OpenVINO would swallow it), cancel honoured even when the whole dataset is already in flight."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tiny_models import write_model

from segwb.core.compile import compile_model
from segwb.core.errors import Cancelled
from segwb.inference.feed import InputFeed
from segwb.inference.queue import (
    output_array,
    output_arrays,
    prediction_requests,
    run_models,
)
from segwb.io.datasets import open_dataset
from segwb.tasks.model_import import describe


@pytest.fixture
def setup(tmp_path: Path, photo_folder: Path):
    xml = write_model(tmp_path / "m")
    _, card = describe(xml)
    paths = [s.path for s in open_dataset(photo_folder).samples]
    return compile_model(xml, "f32"), InputFeed(paths, card), len(paths)


def test_every_image_once_with_progress(setup) -> None:
    compiled, feed, n = setup
    seen, progress = [], []
    lock = threading.Lock()

    def collect(request, index, geometry) -> None:
        with lock:
            seen.append((index, output_array(request, None).shape, set(output_arrays(request))))

    run_models({"m": compiled}, feed, lambda _, *a: collect(*a), lambda items: None,
               lambda done, total: progress.append((done, total)))
    assert sorted(i for i, _, _ in seen) == list(range(n))
    assert all(shape == (1, 64, 64) and names == {"class_ids"} for _, shape, names in seen)
    assert sorted(progress) == [(i, n) for i in range(1, n + 1)]


def test_a_callback_error_is_raised_after_the_queue_drains(setup) -> None:
    compiled, feed, n = setup
    calls = []

    def fail(request, index, geometry) -> None:
        calls.append(index)
        raise ValueError(f"bad output of {index}")

    with pytest.raises(ValueError, match="bad output of"):
        run_models({"m": compiled}, feed, lambda _, *a: fail(*a), lambda items: None)
    assert len(calls) == n  # the others still finished


def test_cancel_raises_with_the_message(setup) -> None:
    compiled, feed, _ = setup
    cancel = threading.Event()
    with pytest.raises(Cancelled, match="stopped here"):
        run_models({"m": compiled}, feed, lambda *a: cancel.set(), lambda items: None, cancel=cancel,
                   cancelled="stopped here")


def test_twice_the_optimal_number_of_requests(setup) -> None:
    compiled, _, _ = setup
    assert prediction_requests(compiled) == 2 * int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
