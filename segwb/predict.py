"""Run a compiled model over a dataset and save class maps at the original image size."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import openvino as ov

from .datasets import Dataset
from .errors import Cancelled
from .feed import InputFeed
from .modelcard import ModelCard
from .runtime import DEVICE, compiled_cache_dir, core
from .semantic import class_map
from .storage import write_bytes

Progress = Callable[[int, int], None]


def compile_config(precision: str | None, hint: str = "THROUGHPUT") -> dict[str, str]:
    """OpenVINO properties for a run: a performance hint, and a pinned precision when asked."""
    config = {"PERFORMANCE_HINT": hint}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    return config


def compile_model(xml: Path | ov.Model, precision: str | None, hint: str = "THROUGHPUT",
                  cached: bool = False) -> ov.CompiledModel:
    """Compile for the CPU with :func:`compile_config`.

    ``cached`` keeps the compiled blob in OpenVINO's model cache (keyed by model, configuration and
    version): for models the tutorial compiles again and again, the benchmark rounds and the report's
    predictions. Loading a blob of the INT8 YOLO took 0.16 s against 0.67 s to compile it.
    """
    config = compile_config(precision, hint)
    if cached:
        config["CACHE_DIR"] = str(compiled_cache_dir())
    return core().compile_model(xml, DEVICE, config)


def prediction_queue(compiled: ov.CompiledModel) -> ov.AsyncInferQueue:
    """An async queue with twice the plugin's optimal number of requests, for runs that post-process in callbacks.

    A request stays busy until its callback returns, so the spares keep every stream fed meanwhile: on 96 photos
    with the YOLO fixture, 1.06 → 1.00 s (parent) and 0.62 → 0.55 s (INT8). The benchmark keeps the optimal
    number, as benchmark_app does.
    """
    return ov.AsyncInferQueue(compiled, 2 * int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))


def prediction_path(folder: Path, key: str) -> Path:
    """Where the class map of the image with ``key`` is stored."""
    return folder / f"{key}.png"


def save_class_map(path: Path, ids: np.ndarray) -> None:
    """A class map as a lossless PNG (uint8, or uint16 past 256 classes), written atomically."""
    ok, buf = cv2.imencode(".png", ids)
    if not ok:
        raise RuntimeError(f"PNG encoding failed for {path}")
    write_bytes(path, buf.tobytes())


def load_class_map(path: Path) -> np.ndarray:
    """A class map saved by :func:`save_class_map`."""
    ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if ids is None:
        raise FileNotFoundError(path)
    return ids


def predict_semantic(compiled: ov.CompiledModel, card: ModelCard, dataset: Dataset, out_dir: Path,
                     progress: Progress | None = None, cancel: threading.Event | None = None,
                     feed: InputFeed | None = None) -> None:
    """Infer every image with an async queue and save its class map.

    ``feed`` (made here when not given) preprocesses ahead of the queue; pass one to share its inputs
    between models.
    """
    input_type = compiled.input(0).get_element_type().to_dtype()
    output = compiled.output(card.output) if card.output else compiled.output(0)
    errors: list[BaseException] = []
    done = 0
    lock = threading.Lock()

    def finished(request: ov.InferRequest, userdata: tuple) -> None:
        nonlocal done
        key, geometry = userdata
        try:
            save_class_map(prediction_path(out_dir, key), class_map(request.get_tensor(output).data, card, geometry))
        except BaseException as exc:  # surfaced after wait_all: OpenVINO would swallow it
            errors.append(exc)
        with lock:
            done += 1
            if progress:
                progress(done, len(dataset))

    queue = prediction_queue(compiled)
    queue.set_callback(finished)
    feed = feed or InputFeed([sample.path for sample in dataset.samples], card)
    for index, tensor, geometry in feed.stream(input_type, cancel):
        queue.start_async({0: tensor}, (dataset.samples[index].key, geometry))
    queue.wait_all()
    if errors:
        raise errors[0]
    # A small dataset can be in flight whole before a cancel arrives: the request wins either way.
    if cancel is not None and cancel.is_set():
        raise Cancelled("prediction cancelled; completed class maps are kept, the step will resume")
