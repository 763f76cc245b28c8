"""The Workbench's AccuracyAware method: NNCF's accuracy-controlled quantization with a metric per task.

NNCF quantizes the whole model, then ranks groups of quantized layers by how much of the drop each causes
and reverts them to floating point, most harmful first, until the metric is within ``max_drop`` of the
parent's. We check every input before that long work and drive NNCF's own pieces (its quantization, evaluator,
ranker and revert, as ``nncf.quantize_with_accuracy_control`` does) so that, between the quantization and the
restorer, the fully quantized model's metric (the Default method's INT8) is known: the drop for agreement with the
parent is set from it, and said, before the ranking starts. Against the parent, the parent's own score comes from
its cached predictions instead of a second run. The restorer ranks once (:class:`NextGroupRestorer`: after a step
that does not lower the drop, the next group of that ranking, where NNCF ranks every remaining group again; three
such steps in a row end the run). We record
what was done (the layers reverted in ranking order, the drop after each step) and the time of each phase from the
restorer's log.
"""

from __future__ import annotations

import logging
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov
from nncf.openvino.quantization.backend_parameters import BackendParameters
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
from nncf.common.factory import build_graph
from nncf.common.graph.utils import get_number_of_quantized_ops
from nncf.common.logging import nncf_logger
from nncf.common.quantization.quantizer_removal import revert_operations_to_floating_point_precision
from nncf.quantization.algorithms.accuracy_control.algorithm import (
    QuantizationAccuracyRestorer, QuantizationAccuracyRestorerReport, calculate_accuracy_drop)
from nncf.quantization.algorithms.accuracy_control.evaluator import Evaluator, MetricResults
from nncf.quantization.algorithms.accuracy_control.ranker import GroupToRank, Ranker
from openvino._offline_transformations import compress_quantize_weights_transformation

from ..core.errors import SegwbError
from ..io.datasets import Dataset
from ..io.model_card import ModelCard
from ..tasks import of_card
from ..tasks.base import MIN_VALIDATION_IMAGES, DetectionLimits
from .ptq import quantize_model
from .settings import PATIENCE, AccuracyTarget, check_drop
from .validator import Validator, choose_metric, parent_scores

log = logging.getLogger("segwb")
NNCF_DROP_TYPES = {"absolute": nncf.DropType.ABSOLUTE, "relative": nncf.DropType.RELATIVE}
MAX_VALIDATION_IMAGES = 300
# NNCF ranks each quantized layer group on the images the fully quantized model changed most: a sixth of the
# validation images (at least MIN_VALIDATION_IMAGES), the others scored as the model it ranks from predicted them
# (Validator.phase). Each group costs a compilation plus a validation of those images. On deeplabv3 and coco96, the
# scores of 16 images ranked the 56 groups as all 96 images do with a Spearman correlation of 0.94 (24: 0.97, 12: 0.86,
# the subset's own metric at 24: 0.84), the best group first in every case.
RANKING_SHARE = 1 / 6
# NNCF's ranker compiles the next group's model in a thread while the main thread validates the one before (its
# "parallel workers"); NNCF picks 1 worker when a compilation takes under a second and at most half the cores, so 1
# on 2 cores. Measured on 2 cores, 8 groups each (one run, same load): 2 workers took 2.12 s a group against 3.80 s
# for deeplabv3 (0.56x) and 2.92 s against 4.38 s for YOLO26n-seg (0.67x); the scores are the same.
RANKING_WORKERS = 2
PARENT = "parent model"
# Part of the AccuracyAware cache key (with the settings): bump when its metrics or the way it drives NNCF change.
# 2: dataset-level agreement metrics, the drop from the Default method's loss, ranking on a subset.
# 3: one ranking, an undone step followed by the next group of that ranking (no re-ranking), 2 ranking workers.
# 4: a step is kept only when it lowers the drop; PATIENCE undone steps in a row end the run.
VERSION = 4
UNDONE = "The step did not lower the accuracy drop: undone; going on with the next group of the ranking"
GAVE_UP = "Steps in a row that did not lower the accuracy drop: "
ALL_CHECKED = ("All layers have been checked and the AccuracyAwareQuantization will not be able to achieve the "
               "required accuracy drop")  # NNCF's words, which RestorerLog reads for both restorers


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


def ranking_size(images: int) -> int:
    """How many validation images NNCF ranks the layer groups on."""
    return min(images, max(MIN_VALIDATION_IMAGES, math.ceil(RANKING_SHARE * images)))


def drop_of(initial: float, value: float, drop_type: str) -> float:
    """How far ``value`` fell below ``initial``: points, or percent of ``initial`` (relative)."""
    if drop_type == "absolute":
        return initial - value
    return 100 * (initial - value) / initial if initial else 0.0


def aim_of(initial: float, max_drop: float, drop_type: str) -> float:
    """The lowest metric within ``max_drop`` of ``initial``."""
    return initial - max_drop if drop_type == "absolute" else initial * (1 - max_drop / 100)


def allowed_drop(target: AccuracyTarget, reference: str, parent: float, default_int8: float) -> tuple[float, str]:
    """The drop NNCF may leave, and where it comes from: the user's, the ground-truth default, or (agreement with
    the parent, none given) half of what the Default method's INT8 loses (0 when it loses nothing)."""
    if not target.auto_drop:
        return target.max_drop, "given"
    if reference == PARENT:
        return max(0.0, drop_of(parent, default_int8, target.drop_type)) / 2, "half the Default method's loss"
    return target.max_drop, "default"


class ScoredRanker(Ranker):
    """NNCF's ranker, keeping each group's ranking score (the metric validated with that group alone reverted)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scores: dict[int, float] = {}  # id(group) -> score

    def _keep(self, groups: list[GroupToRank], scores: list[float]) -> list[float]:
        self.scores.update({id(g): s for g, s in zip(groups, scores, strict=True)})
        return scores

    def _sequential_calculation_ranking_score(self, model: Any, graph: Any, groups: list[GroupToRank], *rest: Any
                                              ) -> list[float]:
        return self._keep(groups, super()._sequential_calculation_ranking_score(model, graph, groups, *rest))

    def _multithreading_calculation_ranking_score(self, model: Any, graph: Any, groups: list[GroupToRank], *rest: Any
                                                  ) -> list[float]:
        return self._keep(groups, super()._multithreading_calculation_ranking_score(model, graph, groups, *rest))


class NextGroupRestorer(QuantizationAccuracyRestorer):
    """NNCF's accuracy restorer with one ranking: after a step that does not lower the drop, the step is undone (the
    model before it is kept) and the next group of the same ranking is reverted, where NNCF 3.4 ranks every remaining
    group again (85-94 s a time for deeplabv3 and 245-257 s for YOLO26n-seg on coco96, most of the AccuracyAware time)
    and keeps the step after an undone one even when it makes the drop worse. ``patience`` undone steps in a row end
    the run (:data:`PATIENCE`).

    NNCF does the work: its graphs and original weights, its ranker (with ``num_ranking_workers``), its revert of a
    group, its evaluator and its drop. Only a step that lowers the drop is kept (a reverted group costs speed), so the
    model returned is the best one validated (the fully quantized model when no step helped). The log says what
    NNCF's says, with the undone step as :data:`UNDONE`, the end for lack of gain as :data:`GAVE_UP` and each group's
    ranking score before its step.
    """

    def __init__(self, *args: Any, patience: int = PATIENCE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if patience < 1:
            raise ValueError(f"patience must be at least 1, got {patience}")
        self.patience = patience

    def _apply(self, initial_model: Any, initial_metric_results: MetricResults, quantized_model: Any,
               quantized_metric_results: MetricResults, validation_dataset: nncf.Dataset, validation_dataset_size: int,
               evaluator: Evaluator, accuracy_drop: float, algo_backend: Any) -> Any:
        initial_graph, quantized_graph = build_graph(initial_model), build_graph(quantized_model)
        self._collect_original_biases_and_weights(initial_graph, quantized_graph, initial_model, algo_backend)
        report = QuantizationAccuracyRestorerReport()
        report.num_quantized_operations = get_number_of_quantized_ops(
            quantized_graph, algo_backend.get_quantizer_metatypes(), algo_backend.get_quantizable_metatypes())
        nncf_logger.info(f"Total number of quantized operations in the model: {report.num_quantized_operations}")
        workers = self.num_ranking_workers or 1
        nncf_logger.info(f"Number of parallel workers to rank quantized operations: {workers}")
        ranker = ScoredRanker(self.ranking_subset_size, validation_dataset, algo_backend, evaluator, workers,
                              restore_mode=self.restore_mode)
        ranked = ranker.rank_groups_of_quantizers(
            ranker.find_groups_of_quantizers_to_rank(quantized_graph), quantized_model, quantized_graph,
            initial_metric_results.values_for_each_item, quantized_metric_results.values_for_each_item)
        kept, kept_drop = quantized_model, accuracy_drop
        undone_in_row = 0
        report.num_iterations = 0
        nncf_logger.info("Changing the scope of quantizer nodes was started")
        for iteration in range(self.max_num_iterations):
            report.num_iterations = iteration
            if not ranked:  # no group to revert at all (a model NNCF left without quantizers)
                nncf_logger.info(ALL_CHECKED)
                report.removed_all = True
                break
            group = ranked.pop()  # the highest score: the most of the drop restored when reverted alone
            candidate = revert_operations_to_floating_point_precision(
                group.operations, group.quantizers, kept, quantized_graph, self.restore_mode,
                algo_backend.get_op_with_weights_metatypes(), algo_backend.is_node_with_weight,
                algo_backend.get_weight_tensor_port_ids)
            nncf_logger.info(f"Reverted {len(group.operations)} operations to the floating-point precision: \n"
                             + "\n".join(f"\t{node.node_name}" for node in group.operations))
            nncf_logger.info(f"Ranking score of the group: {ranker.scores.get(id(group))}")
            metric, _ = evaluator.validate(candidate, validation_dataset)
            done, drop = calculate_accuracy_drop(initial_metric_results.metric_value, metric, self.max_drop,
                                                 self.drop_type)
            if done:
                kept = candidate
                report.removed_groups.append(group)
                report.reached_required_drop = True
                self._print_completion_message(drop, self.drop_type)
                break
            nncf_logger.info(f"Accuracy drop with the new quantization scope is {drop} ({self.drop_type})")
            if drop < kept_drop:
                kept, kept_drop, undone_in_row = candidate, drop, 0
                report.removed_groups.append(group)
            else:
                nncf_logger.info(UNDONE)
                undone_in_row += 1
                if undone_in_row >= self.patience and ranked:  # none left: all_layers_checked below
                    nncf_logger.info(f"{GAVE_UP}{undone_in_row}; the groups left ranked lower")
                    break
            if not ranked:
                nncf_logger.info(ALL_CHECKED)
                report.removed_all = True
                break
        self._print_report(report, self.max_num_iterations)
        return kept


@dataclass
class RestorerLog:
    """What NNCF's accuracy restorer said, parsed from its log records, with the time of each of its phases; its
    milestones are re-logged as segwb lines (the CLI prints them, the dashboard shows them as the current phase:
    NNCF's own progress bars show neither)."""

    initial: float | None = None
    quantized: float | None = None
    quantized_operations: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None  # why NNCF ended without reaching the drop
    clock: Callable[[], float] = time.perf_counter
    restore_started: float | None = None  # set when the restorer is called
    on_phase: Callable[[str], None] | None = None  # told "ranking", "step" and "done" as the restorer starts them
    # "preparation": the restorer's graphs and original weights, before its ranking; "ranking": its first ranking
    timing: dict[str, float] = field(default_factory=dict)
    _open: tuple[dict[str, Any], str, float] | None = field(default=None, repr=False)  # a phase being timed

    def _time(self, into: dict[str, Any] | None = None, key: str = "") -> None:
        """Close the phase being timed, and open ``key`` of ``into`` (nothing when ``into`` is None)."""
        now = self.clock()
        if self._open is not None:
            target, name, since = self._open
            target[name] = (target.get(name) or 0.0) + now - since
        self._open = (into, key, now) if into is not None else None

    def add(self, message: str) -> None:
        if m := re.match(r"Metric of (initial|quantized) model: (\S+)", message):
            setattr(self, m.group(1), float(m.group(2)))
            log.info("accuracy-aware: %s model's metric %.2f", m.group(1), float(m.group(2)))
        elif m := re.match(r"Total number of quantized operations in the model: (\d+)", message):
            self.quantized_operations = int(m.group(1))
        elif message.startswith("Number of parallel workers to rank"):  # NNCF's last word before its first ranking
            if self.restore_started is not None:
                self.timing["preparation"] = self.clock() - self.restore_started
            self._time(self.timing, "ranking")
            self._tell("ranking")
            log.info("accuracy-aware: ranking the quantized layer groups by their share of the drop")
        elif message.startswith("Changing the scope of quantizer nodes was started"):
            self._time()
            self._tell("done")
            log.info("accuracy-aware: ranked in %.1f s", self.timing.get("ranking", 0.0))
        elif m := re.match(r"Reverted (\d+) operations to the floating-point precision: \n(.*)", message, re.S):
            names = [n.strip() for n in m.group(2).splitlines() if n.strip()]
            self.steps.append({"rank": len(self.steps) + 1, "operations": names, "drop_after": None, "kept": True})
            self._time(self.steps[-1], "seconds")
            self._tell("step")
            log.info("accuracy-aware: step %d: reverting %s", len(self.steps), ", ".join(names)[:120])
        elif m := (re.match(r"Accuracy drop with the new quantization scope is (\S+) \((\S+)\)", message)
                   or re.match(r"Algorithm completed: achieved required accuracy drop (\S+) \((\S+)\)", message)):
            if self.steps:  # NNCF's relative drop is a fraction; ours is in percent
                self._time()
                self.steps[-1]["drop_after"] = float(m.group(1)) * (100 if "relative" in m.group(2).lower() else 1)
                log.info("accuracy-aware: step %d: drop %.2f (%.1f s)", len(self.steps), self.steps[-1]["drop_after"],
                         self.steps[-1].get("seconds") or 0.0)
        elif (m := re.match(r"Ranking score of the group: (\S+)", message)) and self.steps:
            self.steps[-1]["ranking_score"] = None if m.group(1) == "None" else float(m.group(1))
        elif message.startswith(UNDONE) and self.steps:
            self.steps[-1]["kept"] = False  # the model before the step is kept: nothing to redo, nothing ranked again
            log.info("accuracy-aware: step %d did not lower the drop: undone; going on with the next group", len(self.steps))
        elif message.startswith(GAVE_UP):
            self.stopped = "no_gain"
            log.info("accuracy-aware: %s", message.lower())
        elif message.startswith("Re-calculating ranking scores") and self.steps:
            # NNCF's own restorer (segwb's does not re-rank): the step is undone, then every remaining group re-ranked
            self.steps[-1]["kept"] = False
            self._time(self.steps[-1], "reranking_seconds")
        elif message.startswith("Maximum number of iteration was reached"):
            # NNCF says so after its last allowed step even when that step found no group left: keep the first reason
            self.stopped = self.stopped or "max_iterations"
        elif message.startswith(ALL_CHECKED):
            self._time()
            self.stopped = "all_layers_checked"

    def _tell(self, phase: str) -> None:
        if self.on_phase is not None:
            self.on_phase(phase)

    def finish(self) -> None:
        """Close the phase still being timed (the restorer has returned)."""
        self._time()
        self._tell("done")

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
        parsed.finish()
        logger.handlers, level, logger.propagate = saved
        logger.setLevel(level)


def _timed(phases: dict[str, float], name: str, run: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    try:
        return run()
    finally:
        phases[name] = time.perf_counter() - start


def quantize_with_accuracy_control(model: ov.Model, calibration: nncf.Dataset, validator: Validator,
                                   target: AccuracyTarget, **quantize_args: Any) -> tuple[ov.Model, dict[str, Any], int | None]:
    """NNCF's accuracy-controlled quantization of ``model``; returns the model, what was done (for the report) and
    the full bias correction's images (:func:`segwb.optimize.ptq.quantize_model`).

    The steps of ``nncf.quantize_with_accuracy_control`` (NNCF 3.4, without its optional hyper-parameter tuning):
    quantize with the weights left as FakeQuantize (so layers can be reverted), validate the parent and the fully
    quantized model, run the accuracy restorer (:class:`NextGroupRestorer`, ranking once with
    :data:`RANKING_WORKERS`), compress the weights. Against the parent, its validation is its cached predictions
    scored against themselves.
    """
    metric = validator.metric
    assert metric is not None
    images = len(validator.samples)
    validation = nncf.Dataset(list(range(images)))
    evaluator = Evaluator(validator)
    phases: dict[str, float] = {}
    if validator.reference_seconds is not None:
        phases["reference_predictions"] = validator.reference_seconds
    calls_before = validator.calls, validator.images
    with restorer_log() as nncf_log:
        uncompressed = AdvancedQuantizationParameters(backend_params={BackendParameters.COMPRESS_WEIGHTS: False})
        quantized, bias_images = _timed(phases, "quantization", lambda: quantize_model(
            model, calibration, advanced_parameters=uncompressed, **quantize_args))
        start = time.perf_counter()
        if validator.reference is not None:
            initial_value, initial_items = parent_scores(validator)
            initial = MetricResults(initial_value, initial_items, 0.0, 0.0)
            nncf_log.initial = initial_value
        else:
            initial = evaluator.collect_metric_results(model, validation, model_name="initial")
        fully = evaluator.collect_metric_results(quantized, validation, model_name="quantized")
        phases["initial_validation"] = time.perf_counter() - start
        max_drop, source = allowed_drop(target, metric.reference, initial.metric_value, fully.metric_value)
        aim = aim_of(initial.metric_value, max_drop, target.drop_type)
        against = "the parent" if metric.reference == PARENT else f"the {metric.reference} (parent {initial.metric_value:.2f})"
        log.info("accuracy-aware: the Default method's INT8 scores %.2f %s against %s; AccuracyAware will aim for ≥ %.2f "
                 "(drop at most %.2f %s, %s)", fully.metric_value, metric.name, against, aim, max_drop,
                 "points" if target.drop_type == "absolute" else "%", source)
        ranking = ranking_size(images)
        restorer = NextGroupRestorer(
            ranking, target.max_iterations or sys.maxsize,
            max_drop if target.drop_type == "absolute" else max_drop / 100, NNCF_DROP_TYPES[target.drop_type],
            num_ranking_workers=RANKING_WORKERS)
        nncf_log.restore_started, nncf_log.on_phase = time.perf_counter(), validator.phase
        quantized = restorer.apply(model, initial, quantized, fully, validation, images, evaluator)
        nncf_log.finish()
        phases["restoring"] = time.perf_counter() - nncf_log.restore_started
        compress_quantize_weights_transformation(quantized)
    final = _timed(phases, "final_validation", lambda: validator.score(quantized))
    initial_metric = initial.metric_value
    drop = drop_of(initial_metric, final, target.drop_type)
    within = drop <= max_drop + 1e-9
    steps = nncf_log.steps
    phases.update({
        "restorer_preparation": nncf_log.timing.get("preparation", 0.0),
        "ranking": nncf_log.timing.get("ranking", 0.0),
        "revert_steps": sum(s.get("seconds") or 0.0 for s in steps),
        "undone_steps": sum(s.get("seconds") or 0.0 for s in steps if not s["kept"]),  # part of revert_steps
    })
    total = sum(phases[k] for k in ("reference_predictions", "quantization", "initial_validation", "restoring",
                                    "final_validation") if k in phases)
    return quantized, {
        "metric": metric.name, "reference": metric.reference, "unit": "points (0-100)",
        "max_drop": max_drop, "max_drop_source": source, "aim": aim, "drop_type": target.drop_type,
        "requested_metric": target.metric, "validation_images": images, "ranking_images": min(ranking, images),
        "ranking_workers": RANKING_WORKERS,
        "precision": "f32",
        "parent_metric": initial_metric, "default_int8_metric": fully.metric_value,
        "default_int8_drop": drop_of(initial_metric, fully.metric_value, target.drop_type),
        "final_metric": final, "drop": drop, "within_drop": within,
        "max_iterations": target.max_iterations, "patience": restorer.patience, "iterations": len(steps),
        "stopped": None if within else nncf_log.stopped,
        "quantized_operations": nncf_log.quantized_operations,
        "reverted_operations": nncf_log.reverted, "steps": steps,
        "validations": validator.calls - calls_before[0], "validated_images": validator.images - calls_before[1],
        "phases": {k: round(v, 2) for k, v in phases.items()},
        "seconds": total,
    }, bias_images
