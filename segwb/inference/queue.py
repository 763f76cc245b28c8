"""Running compiled models over many images: async queues fed ahead by an :class:`InputFeed`, each image read once
for all the models, each finished request handed to a callback, errors and cancel surfaced after the queues
drain."""

from __future__ import annotations

import functools
import time
import logging
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import openvino as ov

from ..core.errors import Cancelled
from ..io.model_inspect import port_name
from .feed import FeedItem, InputFeed
from .preprocess import Geometry

Progress = Callable[[int, int], None]  # (images done, images in all)
T = TypeVar("T")
FREED_SECONDS = 5.0  # how long to wait for OpenVINO to drop its copies of a callback (it takes well under 1 ms)
log = logging.getLogger("segwb")


def prediction_requests(compiled: ov.CompiledModel) -> int:
    """Twice the plugin's optimal number of requests, for runs that post-process in callbacks.

    A request stays busy until its callback returns, so the spares keep every stream fed meanwhile: on 96 photos
    with the YOLO fixture, 1.06 → 1.00 s (parent) and 0.62 → 0.55 s (INT8). The benchmark keeps the optimal
    number, as benchmark_app does.
    """
    return 2 * int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))


def with_queue(compiled: ov.CompiledModel, requests: int, callback: Callable[[ov.InferRequest, Any], None],
               work: Callable[[ov.AsyncInferQueue], T], errors: Sequence[BaseException] = ()) -> T:
    """``work(queue)`` on an async queue of ``requests`` (0: the optimal number) that calls ``callback`` for each
    finished request; the queue is gone when this returns, and so are OpenVINO's copies of the callback.

    On AUTO, MULTI and HETERO those copies are dropped on the compiled model's worker threads after the queue is
    released, and dropping a Python object takes the GIL: a compiled model released meanwhile joins those threads
    while holding it, and the process hangs (every time within a few dozen benchmark runs on OpenVINO 2026.4).
    Waiting here, without the GIL, until the callback is freed leaves the workers nothing to do. So nothing may keep
    a request: ``work`` not the queue, ``callback`` not its request; ``errors``, where the callback keeps what it
    raised, have their tracebacks' frames (which hold the requests) cleared once the queue drains.
    """
    freed = threading.Event()
    # A new callable that only the queue holds, so its end says OpenVINO let go of every copy; a partial, not a
    # function, so that no Python frame of its own (kept by the traceback of an error a callback saved) holds it.
    relay = functools.partial(callback)
    weakref.finalize(relay, freed.set)
    queue = ov.AsyncInferQueue(compiled, requests)
    queue.set_callback(relay)
    del relay
    try:
        return work(queue)
    except BaseException as exc:
        traceback.clear_frames(exc.__traceback__)  # the failed work's frame would keep the queue alive
        raise
    finally:
        queue.wait_all()
        for error in errors:
            traceback.clear_frames(error.__traceback__)
        del queue
        if not freed.wait(FREED_SECONDS):
            log.debug("OpenVINO still holds a queue callback after %g s; going on", FREED_SECONDS)


# Called with the model's role, the finished request, the image's index and its geometry, on OpenVINO's threads,
# several at once: it must only touch its own image's data (e.g. one slot per index), or take a lock.
OnModelResult = Callable[[str, ov.InferRequest, int, Geometry], None]
# Called with a chunk's feed items once every model has finished them (in order, on the caller's thread).
OnChunk = Callable[[list[FeedItem]], None]
# Images each model infers in turn: the inputs of a chunk are held until the last model has them, and the next chunk's
# are made meanwhile (twice this budget in all). A queue drains at the end of each chunk (its last requests run with
# the streams half idle), so chunks are as long as the budget allows: 42 deeplabv3 inputs (513x513 f32), 109 YOLO
# ones at 320x320, never fewer than 16.
CHUNK_BYTES = 128 << 20
CHUNK_LIMITS = (16, 256)


def chunk_size(compiled: ov.CompiledModel) -> int:
    """Images per chunk for a model's input (its static shape; the smallest chunk for a dynamic one)."""
    shape = compiled.input(0).get_partial_shape()
    if shape.is_dynamic:
        return CHUNK_LIMITS[0]
    nbytes = int(np.prod([d.get_length() for d in shape])) * compiled.input(0).get_element_type().size
    return int(min(max(CHUNK_BYTES // max(nbytes, 1), CHUNK_LIMITS[0]), CHUNK_LIMITS[1]))


@dataclass
class RunSeconds:
    """Where a :func:`run_models` pass spent its time: each model's inference of its chunks, and the whole pass."""

    models: dict[str, float]
    total: float


def run_models(models: dict[str, ov.CompiledModel], feed: InputFeed, on_result: OnModelResult, on_chunk: OnChunk,
               progress: Progress | None = None, cancel: threading.Event | None = None,
               cancelled: str = "prediction cancelled", chunk: int | None = None) -> RunSeconds:
    """Infer every image of ``feed`` with each of ``models`` (which take the same input), a chunk at a time: each
    image is read and preprocessed once, each model infers the chunk (:func:`chunk_size` images unless ``chunk``)
    alone on the device (as it was benchmarked),
    and ``on_chunk`` receives the chunk's items, e.g. to compare them in a pool while the next chunk is inferred.

    With no model it hands over the indices only. The first error a callback raised is raised once the queues are empty;
    a cancel raises :class:`Cancelled` with the message ``cancelled``.
    """
    roles = list(models)
    chunk = chunk or (chunk_size(models[roles[0]]) if roles else CHUNK_LIMITS[1])
    types = {models[r].input(0).get_element_type().to_dtype() for r in roles}
    if len(types) > 1:
        raise ValueError(f"the models take different input types: {sorted(map(str, types))}")
    dtype = types.pop() if types else None
    errors: list[BaseException] = []
    done, lock, total = 0, threading.Lock(), len(feed.paths)
    seconds = dict.fromkeys(roles, 0.0)
    start = time.perf_counter()

    def finished(role: str) -> Callable[[ov.InferRequest, tuple[int, Geometry]], None]:
        def call(request: ov.InferRequest, userdata: tuple[int, Geometry]) -> None:
            nonlocal done
            try:
                on_result(role, request, *userdata)
            except BaseException as exc:  # surfaced after wait_all: OpenVINO would swallow it
                errors.append(exc)
            with lock:
                done += 1
                if progress:  # images, each counted in equal parts by every model
                    progress(done // len(roles), total)
        return call

    def passes(queues: dict[str, ov.AsyncInferQueue]) -> None:
        items: list[FeedItem] = []
        began = 0.0  # the first model's clock runs from its chunk's first image: it is fed as the items arrive

        def flush() -> None:
            nonlocal began
            for n, role in enumerate(roles):
                if n:
                    began = time.perf_counter()
                    for item in items:
                        queues[role].start_async({0: item.tensor}, (item.index, item.geometry))
                queues[role].wait_all()
                seconds[role] += time.perf_counter() - began
                if errors:
                    return
            on_chunk(items[:])
            items.clear()

        for item in feed.items(dtype, cancel, ahead=chunk):
            if roles:
                if not items:
                    began = time.perf_counter()
                queues[roles[0]].start_async({0: item.tensor}, (item.index, item.geometry))
            items.append(item)
            if len(items) == chunk:
                flush()
                if errors:
                    return
        if items and not errors:
            flush()

    def nest(remaining: list[str], queues: dict[str, ov.AsyncInferQueue]) -> None:
        if not remaining:
            passes(queues)
            return
        role = remaining[0]
        with_queue(models[role], prediction_requests(models[role]), finished(role),
                   lambda queue: nest(remaining[1:], {**queues, role: queue}), errors)

    nest(roles, {})
    if errors:
        raise errors[0]
    if cancel is not None and cancel.is_set():
        raise Cancelled(cancelled)
    return RunSeconds(seconds, time.perf_counter() - start)


def output_arrays(request: ov.InferRequest) -> dict[str, Any]:
    """A finished request's outputs by tensor name (views into the request's tensors: use them in the callback)."""
    return {port_name(port, i): request.get_output_tensor(i).data for i, port in enumerate(request.model_outputs)}


def output_array(request: ov.InferRequest, name: str | None) -> Any:
    """One output of a finished request: the one named ``name``, else the first."""
    return request.get_tensor(name).data if name else request.get_output_tensor(0).data

