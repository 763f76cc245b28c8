"""The Workbench's AccuracyAware method: NNCF's ``quantize_with_accuracy_control`` with a metric per task.

NNCF quantizes the whole model, then ranks groups of quantized layers by how much of the drop each causes
and reverts them to floating point, most harmful first, until the metric is within ``max_drop`` of the
parent's. We check every input before that long work, and record what NNCF did (the layers it reverted in
its ranking order, the drop after each step) from its log, which is its only report.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov
from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters

from ..core.errors import SegwbError
from ..io.datasets import Dataset
from ..io.model_card import ModelCard
from ..tasks import of_card
from ..tasks.base import MIN_VALIDATION_IMAGES, DetectionLimits
from .settings import AccuracyTarget, check_drop
from .validator import Validator, choose_metric

log = logging.getLogger("segwb")
NNCF_DROP_TYPES = {"absolute": nncf.DropType.ABSOLUTE, "relative": nncf.DropType.RELATIVE}
MAX_VALIDATION_IMAGES = 300


def check_target(target: AccuracyTarget, dataset: Dataset) -> None:
    """Refuse, before any long work, a drop out of range, an unknown drop type or a set too small to rank."""
    check_drop(target)
    if len(dataset) < MIN_VALIDATION_IMAGES:
        raise SegwbError(f"{dataset.root}: {len(dataset)} images are too few to rank layers by their harm to accuracy; "
                         f"AccuracyAware needs at least {MIN_VALIDATION_IMAGES}")


def validation_subset(dataset: Dataset) -> Dataset:
    """At most ``MAX_VALIDATION_IMAGES`` images, spread evenly over the dataset."""
    if len(dataset) <= MAX_VALIDATION_IMAGES:
        return dataset
    indices = np.linspace(0, len(dataset) - 1, num=MAX_VALIDATION_IMAGES).round().astype(int)
    return replace(dataset, samples=[dataset.samples[i] for i in sorted(set(indices.tolist()))])


def prepare_validator(parent_xml: Path, card: ModelCard, dataset: Dataset, target: AccuracyTarget,
                      limits: DetectionLimits = DetectionLimits(), cancel: threading.Event | None = None) -> Validator:
    """The validation function with its metric chosen (and, for agreement, the parent's predictions made)."""
    check_target(target, dataset)
    task = of_card(card)
    subset = validation_subset(dataset if target.metric == "agreement" else task.validation_dataset(dataset, card, parent_xml))
    validator = Validator(task, card, subset.samples, limits, cancel)
    validator.metric = choose_metric(validator, subset, parent_xml, target.metric)
    return validator


@dataclass
class RestorerLog:
    """What NNCF's accuracy restorer said, parsed from its log records; its milestones are re-logged as segwb lines
    (the CLI prints them, the dashboard shows them as the current phase: NNCF's own progress bars show neither)."""

    initial: float | None = None
    quantized: float | None = None
    quantized_operations: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None  # why NNCF ended without reaching the drop

    def add(self, message: str) -> None:
        if m := re.match(r"Metric of (initial|quantized) model: (\S+)", message):
            setattr(self, m.group(1), float(m.group(2)))
            log.info("accuracy-aware: %s model's metric %.2f", m.group(1), float(m.group(2)))
        elif m := re.match(r"Total number of quantized operations in the model: (\d+)", message):
            self.quantized_operations = int(m.group(1))
        elif message.startswith("Number of parallel workers to rank"):  # NNCF's last word before its first ranking
            log.info("accuracy-aware: ranking the quantized layer groups by their share of the drop")
        elif m := re.match(r"Reverted (\d+) operations to the floating-point precision: \n(.*)", message, re.S):
            names = [n.strip() for n in m.group(2).splitlines() if n.strip()]
            self.steps.append({"rank": len(self.steps) + 1, "operations": names, "drop_after": None, "kept": True})
            log.info("accuracy-aware: step %d: reverting %s", len(self.steps), ", ".join(names)[:120])
        elif m := (re.match(r"Accuracy drop with the new quantization scope is (\S+) \((\S+)\)", message)
                   or re.match(r"Algorithm completed: achieved required accuracy drop (\S+) \((\S+)\)", message)):
            if self.steps:  # NNCF's relative drop is a fraction; ours is in percent
                self.steps[-1]["drop_after"] = float(m.group(1)) * (100 if "relative" in m.group(2).lower() else 1)
                log.info("accuracy-aware: step %d: drop %.2f", len(self.steps), self.steps[-1]["drop_after"])
        elif message.startswith("Re-calculating ranking scores") and self.steps:
            self.steps[-1]["kept"] = False  # NNCF undoes a step that made the drop worse, then re-ranks
            log.info("accuracy-aware: step %d made the drop worse: undone; re-ranking the remaining groups", len(self.steps))
        elif message.startswith("Maximum number of iteration was reached"):
            # NNCF says so after its last allowed step even when that step found no group left: keep the first reason
            self.stopped = self.stopped or "max_iterations"
        elif message.startswith("All layers have been checked"):
            self.stopped = "all_layers_checked"

    @property
    def reverted(self) -> list[str]:
        return [name for step in self.steps if step["kept"] for name in step["operations"]]


@contextmanager
def restorer_log() -> Iterator[RestorerLog]:
    """Collect NNCF's INFO records for the duration of the block."""
    parsed = RestorerLog()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            parsed.add(record.getMessage())

    logger = logging.getLogger("nncf")
    saved = logger.handlers[:], logger.level, logger.propagate
    # Only ours while NNCF talks: its records are summarised in the report, and the CLI stays quiet.
    logger.handlers, logger.propagate = [Handler(logging.INFO)], False
    logger.setLevel(logging.INFO)
    try:
        yield parsed
    finally:
        logger.handlers, level, logger.propagate = saved
        logger.setLevel(level)


def quantize_with_accuracy_control(model: ov.Model, calibration: nncf.Dataset, validator: Validator,
                                   target: AccuracyTarget, **quantize_args: Any) -> tuple[ov.Model, dict[str, Any]]:
    """NNCF's accuracy-controlled quantization of ``model``; returns the model and what was done, for the report."""
    metric = validator.metric
    assert metric is not None
    start = time.perf_counter()
    with restorer_log() as nncf_log:
        quantized = nncf.quantize_with_accuracy_control(
            model, calibration, nncf.Dataset(list(range(len(validator.samples)))), validator,
            max_drop=target.max_drop if target.drop_type == "absolute" else target.max_drop / 100,
            drop_type=NNCF_DROP_TYPES[target.drop_type],
            # NNCF would rank on as many images as were calibrated on; rank on every validation image instead
            advanced_accuracy_restorer_parameters=AdvancedAccuracyRestorerParameters(
                ranking_subset_size=len(validator.samples), max_num_iterations=target.max_iterations or sys.maxsize),
            **quantize_args)
    final = validator.score(quantized)
    # NNCF's log is its only report of the parent's metric; measure it when the log did not say it.
    initial = nncf_log.initial if nncf_log.initial is not None else validator.score(model)
    drop = initial - final if target.drop_type == "absolute" else 100 * (initial - final) / initial if initial else 0.0
    return quantized, {
        "metric": metric.name, "reference": metric.reference, "unit": "points (0-100)",
        "max_drop": target.max_drop, "drop_type": target.drop_type, "requested_metric": target.metric,
        "validation_images": len(validator.samples), "precision": "f32",
        "parent_metric": initial, "default_int8_metric": nncf_log.quantized, "final_metric": final, "drop": drop,
        "within_drop": drop <= target.max_drop + 1e-9,
        "max_iterations": target.max_iterations, "iterations": len(nncf_log.steps),
        "stopped": None if drop <= target.max_drop + 1e-9 else nncf_log.stopped,
        "quantized_operations": nncf_log.quantized_operations,
        "reverted_operations": nncf_log.reverted, "steps": nncf_log.steps,
        "seconds": time.perf_counter() - start,
    }

