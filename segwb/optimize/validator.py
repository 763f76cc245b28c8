"""The ``validation_fn`` of NNCF's accuracy control: a compiled model's predictions of the validation images,
scored by the task's metric in points (0–100).

The metric's reference is the ground truth when the dataset annotates the model's classes, else the parent model
itself (:meth:`segwb.tasks.base.Task.agreement_metric`), so a folder of unannotated images still bounds the drift.
It returns the metric and one value per image (NNCF picks the images that changed most to rank layers on).
"""

from __future__ import annotations

import logging
import threading
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
        scored = [self.metric.image(i, p) for i, p in zip(indices, self.predict(compiled, indices), strict=True)]
        return self.metric.combine(indices, [s for s, _ in scored]), [v for _, v in scored]


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
    return task.agreement_metric(validator.reference_predictions(parent_xml), card, parent_xml)
