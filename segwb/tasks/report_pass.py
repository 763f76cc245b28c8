"""One pass over the dataset for a report: each image read once, inferred by every model still to predict it, and
compared in a thread pool while the next chunk is inferred, so the comparison costs little more than the two
models' inference (issue 19: at 960 images the comparison after both predictions took 17 % of the report).

The predictions of a model an earlier run made are read back instead (:meth:`ReportJob.saved`). Overlay pictures
are drawn for the ``OVERLAYS`` worst images only, the ones the report's table opens on: drawn for every image they
cost about a third of the inference on two cores, and 0.6 GB of JPEGs at 4800 images, while the dashboard's
Visualize tab draws any image on demand.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openvino as ov

from ..core.errors import ModelError
from ..core.project import Project
from ..inference.feed import FeedItem, InputFeed
from ..inference.preprocess import Geometry
from ..inference.queue import CHUNK_LIMITS, Progress, chunk_size, run_models
from ..io.images import load_image
from .base import ImageResult, ReportJob

OVERLAYS = 100  # worst images (the Basic table's first rows) drawn as overlay pictures; report.js names the number


@dataclass
class PassResult:
    """What a pass did: the tally's comparison, each predicted role's step extras, and where the time went."""

    compared: dict[str, Any]
    extras: dict[str, dict[str, Any]]
    model_seconds: dict[str, float]
    compare_tail: float  # comparison and overlays after the last inference (what the pass could not hide)
    total: float


def report_pass(job: ReportJob, models: dict[str, ov.CompiledModel], feed: InputFeed, progress: Progress | None = None,
                cancel: threading.Event | None = None, cancelled: str = "prediction cancelled") -> PassResult:
    """Predict every image with ``models`` (by role; the other roles' predictions are read back from disk), compare
    parent and optimized image by image, and draw the overlays of the worst images."""
    start = time.perf_counter()
    index_of = {image.name: n for n, image in enumerate(job.images)}
    held: dict[str, dict[int, Any]] = {role: {} for role in models}  # a chunk's predictions until it is compared
    lock = threading.Lock()
    tally = job.tally()
    pending: deque[Future[ImageResult]] = deque()
    chunk = chunk_size(next(iter(models.values()))) if models else CHUNK_LIMITS[1]

    def on_result(role: str, request: ov.InferRequest, index: int, geometry: Geometry) -> None:
        try:
            prediction = job.decode(role, request, index, geometry)
        except ModelError as exc:  # an output the adapter refuses (NaN, class -1): say which model gave it
            if exc.path is not None or exc.reason.startswith(f"the {role} model"):
                raise
            raise ModelError(f"the {role} model: {exc.reason}") from exc
        job.keep(role, index, prediction)
        with lock:
            held[role][index] = prediction

    def prediction(role: str, index: int) -> Any:
        if role in held:
            with lock:
                return held[role].pop(index)
        return job.saved(role, index)

    every = len(job.images) <= OVERLAYS  # every image gets its picture: draw it beside the inference too
    paths = job.image_paths()

    def compare(index: int, parent: Any, optimized: Any) -> ImageResult:
        result = job.compare_image(index, parent, optimized)
        if every:
            path = job.project.overlay(job.images[index].key)
            job.draw_overlay(index, parent, optimized, load_image(paths[index]), result.row, path)
            result.row["overlay"] = job.project.relative(path)
        return result

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        def on_chunk(items: list[FeedItem]) -> None:
            for role in models:
                job.chunk_kept(role, [item.index for item in items])
            for item in items:
                pending.append(pool.submit(compare, item.index, prediction("parent", item.index),
                                           prediction("optimized", item.index)))
            while len(pending) > 2 * chunk:  # at most two chunks waiting: memory stays flat
                tally.add(pending.popleft().result())

        try:
            seconds = run_models(models, feed, on_result, on_chunk, progress, cancel, cancelled, chunk=chunk)
            inferred = time.perf_counter()
            while pending:
                tally.add(pending.popleft().result())
            extras = {role: job.end_predictions(role) for role in models}
        except BaseException:
            for future in pending:
                future.cancel()
            job.discard_predictions()
            raise
        compared = tally.finish()
        rows = compared["comparison"]["basic"][:OVERLAYS]
        if not every:
            draw_overlays(job, rows, pool)
        remove_other_overlays(job.project, {job.project.overlay(job.images[index_of[r["image"]]].key) for r in rows})
    end = time.perf_counter()
    return PassResult(compared, extras, seconds.models, end - inferred, end - start)


def draw_overlays(job: ReportJob, rows: list[dict[str, Any]], pool: ThreadPoolExecutor) -> None:
    """The overlay pictures of ``rows``' images, each row given its ``overlay`` path."""
    index_of = {image.name: n for n, image in enumerate(job.images)}
    paths = job.image_paths()
    project = job.project

    def draw(row: dict[str, Any]) -> None:
        index = index_of[row["image"]]
        path = project.overlay(job.images[index].key)
        job.draw_overlay(index, job.saved("parent", index), job.saved("optimized", index), load_image(paths[index]),
                         row, path)
        row["overlay"] = project.relative(path)

    list(pool.map(draw, rows))


def remove_other_overlays(project: Project, kept: set[Path]) -> None:
    """Delete the overlay pictures in the project's ``overlays/`` folder that are not in ``kept`` (an earlier run's
    pictures of other images: the report would not name them)."""
    if not project.overlays.is_dir():
        return
    for picture in project.overlays.rglob("*.jpg"):
        if picture not in kept and picture.is_file() and not picture.is_symlink():
            picture.unlink()
