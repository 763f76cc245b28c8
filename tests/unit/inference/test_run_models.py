"""segwb.inference.queue.run_models: each image read once, inferred by every model in turn a chunk at a time, the
chunk handed over only when all models have finished it; errors and cancel as in run_over."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tiny_models import write_model

from segwb.core.compile import compile_model
from segwb.core.errors import Cancelled
from segwb.inference.feed import InputFeed
from segwb.inference.queue import output_array, run_models
from segwb.io.datasets import open_dataset
from segwb.tasks.model_import import describe


@pytest.fixture
def setup(tmp_path: Path, photo_folder: Path):
    xml = write_model(tmp_path / "m")
    _, card = describe(xml)
    paths = [s.path for s in open_dataset(photo_folder).samples]
    return {"parent": compile_model(xml, "f32"), "optimized": compile_model(xml, "f32")}, InputFeed(paths, card), len(paths)


def test_every_image_by_every_model_before_its_chunk(setup) -> None:
    models, feed, n = setup
    finished: dict[tuple[str, int], tuple[int, ...]] = {}
    chunks: list[list[int]] = []
    lock = threading.Lock()

    def on_result(role, request, index, geometry) -> None:
        with lock:
            finished[role, index] = output_array(request, None).shape

    def on_chunk(items) -> None:
        assert all((role, item.index) in finished for item in items for role in models)  # both models are done
        assert all(item.tensor is not None and item.geometry is not None for item in items)
        chunks.append([item.index for item in items])

    progress: list[tuple[int, int]] = []
    seconds = run_models(models, feed, on_result, on_chunk, lambda d, t: progress.append((d, t)), chunk=2)
    assert sorted(finished) == sorted((r, i) for r in models for i in range(n))
    assert [i for c in chunks for i in c] == list(range(n)) and all(len(c) <= 2 for c in chunks)
    assert sorted(progress)[-1] == (n, n) and all(t == n for _, t in progress)
    assert set(seconds.models) == set(models) and seconds.total >= sum(seconds.models.values()) > 0


def test_no_model_hands_over_the_indices_only(setup) -> None:
    _, feed, n = setup
    seen = []
    run_models({}, feed, lambda *a: pytest.fail("no inference"), lambda items: seen.extend(items))
    assert [i.index for i in seen] == list(range(n)) and all(i.tensor is None for i in seen)


def test_a_callback_error_stops_the_pass(setup) -> None:
    models, feed, _ = setup
    chunks = []

    def fail(role, request, index, geometry) -> None:
        if role == "optimized":
            raise ValueError(f"bad output of {index}")

    with pytest.raises(ValueError, match="bad output of"):
        run_models(models, feed, fail, chunks.append, chunk=2)
    assert not chunks  # a chunk with an error is never compared


def test_cancel(setup) -> None:
    models, feed, _ = setup
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="stopped"):
        run_models(models, feed, lambda *a: None, lambda items: None, cancel=cancel, cancelled="stopped")
