"""The ``validation_fn`` of NNCF's accuracy control: a compiled model's predictions of the validation images,
scored by the task's metric in points (0–100).

The metric's reference is the ground truth when the dataset annotates the model's classes, else the parent model
itself (:meth:`segwb.tasks.base.Task.agreement_metric`: the ground-truth formula with the parent's predictions as the
truth), so a folder of unannotated images still bounds the drift. It returns the metric and one value per image
(NNCF picks the images that changed most to rank layers on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openvino as ov

from ..core.compile import DEFAULT_DEVICE, core
from ..core.errors import Cancelled, SegwbError
from ..inference.feed import InputFeed
from ..inference.preprocess import Geometry
from ..io.datasets import Dataset, Sample
from ..io.model_card import ModelCard
from ..tasks.base import DetectionLimits, Metric, Task

log = logging.getLogger("segwb")
METRICS = ("auto", "ground_truth", "agreement")
# NNCF compiles every candidate on the CPU with an f32 precision hint and nothing else (whatever --device says): the
# parent's reference predictions are made the same way, so the parent scores exactly 100 against itself.
REFERENCE_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


class Validator:
    """NNCF's ``validation_fn``: runs a compiled model on images (given as indices) and scores the predictions."""

    def __init__(self, task: Task, card: ModelCard, samples: list[Sample], limits: DetectionLimits = DetectionLimits(),
                 cancel: threading.Event | None = None) -> None:
        self.task, self.card, self.samples, self.cancel = task, card, samples, cancel
        self.decode = task.decoder(card, limits)
        self.metric: Metric | None = None
        # The parent's predictions (agreement metric): made once, the reference of every validation and the parent's
        # own score (100) without predicting it again; and how long they took.
        self.reference: list[Any] | None = None
        self.reference_seconds: float | None = None
        self.calls = self.images = 0  # validations and the images they predicted, for the record
        # NNCF ranks each layer group on a subset of the images; a dataset-level metric of the subset alone weighs its
        # classes unlike the whole set's. While it ranks (``ranking``, set from its log), the images outside the subset
        # keep the statistics of the model it ranks from (``base``: the fully quantized model, the last one validated
        # on every image before the ranking), so each score estimates the whole set's metric.
        self.ranking = False
        self.base: list[Any] | None = None
        self._full: list[Any] | None = None  # statistics of every image from the last validation of all of them
        self._inputs = InputFeed([s.path for s in samples], card)  # NNCF validates the same images many times

    def predict(self, compiled: ov.CompiledModel, indices: list[int]) -> list[Any]:
        """Predictions of ``indices`` in order (the task's: class maps or Instances); the next image is prepared
        while one request runs.

        No AsyncInferQueue callback: a callback holding the compiled model could drop its last reference on an
        OpenVINO worker thread, whose executor then joins itself and aborts the process. NNCF compiles with
        the LATENCY default, where a queue would hold one request anyway.
        """
        dtype = compiled.input(0).get_element_type().to_dtype()
        request = compiled.create_infer_request()
        found: list[Any] = []
        running: Geometry | None = None
        for index in indices:
            if self.cancel is not None and self.cancel.is_set():
                if running is not None:
                    request.wait()
                raise Cancelled("accuracy-aware quantization cancelled; the parent model is unchanged")
            tensor, geometry = self._inputs.input(index, dtype)
            if running is not None:
                request.wait()
                found.append(self.decode(request, running))
            request.start_async({0: tensor})
            running = geometry
        if running is not None:
            request.wait()
            found.append(self.decode(request, running))
        return found

    def reference_predictions(self, xml: Any) -> list[Any]:
        """The parent's predictions of every image, compiled as NNCF compiles the models it validates."""
        return self.predict(core().compile_model(xml, DEFAULT_DEVICE, REFERENCE_CONFIG), list(range(len(self.samples))))

    def score(self, model: Any) -> float:
        """The metric of ``model`` (IR path or :class:`openvino.Model`) over every image, compiled as NNCF compiles."""
        return self(core().compile_model(model, DEFAULT_DEVICE, REFERENCE_CONFIG), range(len(self.samples)))[0]

    def __call__(self, compiled: ov.CompiledModel, items: Iterable[int]) -> tuple[float, list[float]]:
        if self.metric is None:
            raise RuntimeError("Validator.metric must be set before validation")
        indices = [int(i) for i in items]
        self.calls, self.images = self.calls + 1, self.images + len(indices)
        scored = [self.metric.image(i, p) for i, p in zip(indices, self.predict(compiled, indices), strict=True)]
        stats, values = [s for s, _ in scored], [v for _, v in scored]
        if self.ranking and self.base is not None:
            merged = list(self.base)
            for i, found in zip(indices, stats, strict=True):
                merged[i] = found
            return self.metric.combine(list(range(len(merged))), merged), values
        if not self.ranking and len(indices) == len(self.samples):
            self._full = [stats[indices.index(i)] for i in range(len(self.samples))]
        return self.metric.combine(indices, stats), values

    def phase(self, name: str) -> None:
        """What the accuracy restorer starts (its log tells): "ranking" from the fully quantized model (the last model
        validated on every image), or a "step" or the end ("done"), where scores are of the images given again. The
        restorer ranks once (:class:`segwb.optimize.accuracy_aware.NextGroupRestorer`)."""
        if name == "ranking":
            self.ranking, self.base = True, self._full
        else:
            self.ranking, self.base = False, None


def choose_metric(validator: Validator, dataset: Dataset, parent_xml: Path, wanted: str) -> Metric:
    """The metric for ``wanted`` ("auto": ground truth when the dataset annotates the model's classes)."""
    if wanted not in METRICS:
        raise SegwbError(f"metric must be one of {', '.join(METRICS)}, got {wanted!r}")
    task, card = validator.task, validator.card
    if wanted != "agreement":
        truth = task.truth_metric(dataset, card, parent_xml)
        if not isinstance(truth, str):
            return truth
        if wanted == "ground_truth":
            raise SegwbError(f"the ground-truth metric cannot be computed: {truth}")
        log.warning("AccuracyAware: agreement with the parent instead of the ground truth (%s)", truth)
    start = time.perf_counter()
    validator.reference = validator.reference_predictions(parent_xml)
    validator.reference_seconds = time.perf_counter() - start
    log.info("accuracy-aware: the parent's predictions of %d images made in %.1f s (the reference of every validation)",
             len(validator.reference), validator.reference_seconds)
    return task.agreement_metric(validator.reference, card, parent_xml)


def parent_scores(validator: Validator) -> tuple[float, list[float]]:
    """The parent's metric and per-image values against its own cached predictions (agreement: no inference)."""
    if validator.metric is None or validator.reference is None:
        raise RuntimeError("parent_scores needs the agreement metric and the parent's predictions")
    indices = list(range(len(validator.reference)))
    scored = [validator.metric.image(i, p) for i, p in zip(indices, validator.reference, strict=True)]
    return validator.metric.combine(indices, [s for s, _ in scored]), [v for _, v in scored]
