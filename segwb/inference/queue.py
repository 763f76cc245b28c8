"""Running a compiled model over many images: an async queue fed ahead by an :class:`InputFeed`, each finished
request handed to a callback, errors and cancel surfaced after the queue drains."""

from __future__ import annotations

import functools
import logging
import threading
import traceback
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import openvino as ov

from ..core.errors import Cancelled
from ..io.model_inspect import port_name
from .feed import InputFeed
from .preprocess import Geometry

Progress = Callable[[int, int], None]  # (images done, images in all)
# Called with the finished request, the image's index and its geometry, on OpenVINO's threads, several at once: it
# must only touch its own image's data (e.g. one slot per index), or take a lock.
OnResult = Callable[[ov.InferRequest, int, Geometry], None]
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


def run_over(compiled: ov.CompiledModel, feed: InputFeed, on_result: OnResult, progress: Progress | None = None,
             cancel: threading.Event | None = None, cancelled: str = "prediction cancelled") -> None:
    """Infer every image of ``feed`` and call ``on_result`` for each; the first error a callback raised is raised
    here once the queue is empty, and a cancel raises :class:`Cancelled` with the message ``cancelled``."""
    input_type = compiled.input(0).get_element_type().to_dtype()
    errors: list[BaseException] = []
    done = 0
    lock = threading.Lock()
    total = len(feed.paths)

    def finished(request: ov.InferRequest, userdata: tuple[int, Geometry]) -> None:
        nonlocal done
        try:
            on_result(request, *userdata)
        except BaseException as exc:  # surfaced after wait_all: OpenVINO would swallow it
            errors.append(exc)
        with lock:
            done += 1
            if progress:
                progress(done, total)

    def feed_all(queue: ov.AsyncInferQueue) -> None:
        for index, tensor, geometry in feed.stream(input_type, cancel):
            queue.start_async({0: tensor}, (index, geometry))

    with_queue(compiled, prediction_requests(compiled), finished, feed_all, errors)
    if errors:
        raise errors[0]
    # A small dataset can be in flight whole before a cancel arrives: the request wins either way.
    if cancel is not None and cancel.is_set():
        raise Cancelled(cancelled)


def output_arrays(request: ov.InferRequest) -> dict[str, Any]:
    """A finished request's outputs by tensor name (views into the request's tensors: use them in the callback)."""
    return {port_name(port, i): request.get_output_tensor(i).data for i, port in enumerate(request.model_outputs)}


def output_array(request: ov.InferRequest, name: str | None) -> Any:
    """One output of a finished request: the one named ``name``, else the first."""
    return request.get_tensor(name).data if name else request.get_output_tensor(0).data

