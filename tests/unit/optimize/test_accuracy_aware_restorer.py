"""segwb's accuracy restorer on a tiny quantized model with a scripted metric: NNCF ranks the layer groups once,
a step that does not lower the drop is undone and the next group of that ranking follows (no re-ranking), undone steps
in a row end the run, and the log gives each step, its ranking score and whether it was kept."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import nncf
import numpy as np
import openvino as ov
import openvino.opset11 as ops
import pytest
from nncf.openvino.quantization.backend_parameters import BackendParameters
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
from nncf.quantization.algorithms.accuracy_control.evaluator import Evaluator, MetricResults

from segwb.optimize.accuracy_aware import NextGroupRestorer, restorer_log

IMAGES = 12
CONVS = ("conv_a", "conv_b", "conv_c")


def tiny_model() -> ov.Model:
    """Three convolutions in a row, each quantized by NNCF on its own (three groups to rank)."""
    rng = np.random.default_rng(0)
    x = ops.parameter([1, 4, 8, 8], np.float32, name="x")
    y = x
    for name in CONVS:
        w = ops.constant(rng.normal(size=(4, 4, 3, 3)).astype(np.float32))
        y = ops.relu(ops.convolution(y, w, [1, 1], [1, 1], [1, 1], [1, 1], name=name))
    return ov.Model([y], [x], "tiny")


@pytest.fixture(scope="module")
def models() -> tuple[ov.Model, ov.Model]:
    model = tiny_model()
    data = [np.random.default_rng(i).random((1, 4, 8, 8)).astype(np.float32) for i in range(4)]
    logging.getLogger("nncf").setLevel(logging.WARNING)
    quantized = nncf.quantize(model, nncf.Dataset(data), subset_size=4, fast_bias_correction=True,
                              advanced_parameters=AdvancedQuantizationParameters(
                                  backend_params={BackendParameters.COMPRESS_WEIGHTS: False}))
    return model, quantized


def reverted(model: ov.Model) -> frozenset[str]:
    """The convolutions whose input no FakeQuantize feeds any more."""
    return frozenset(op.get_friendly_name() for op in model.get_ops() if op.get_type_name() == "Convolution"
                     and op.input_value(0).get_node().get_type_name() != "FakeQuantize")


class Prepared:
    """NNCF's prepared model without compiling: the validation function reads the graph itself."""

    def __init__(self, model: ov.Model) -> None:
        self.model_for_inference = model


class Scripted(Evaluator):
    """An evaluator whose metric is a table of the reverted convolutions (90 when none is), with the calls counted."""

    def __init__(self, table: dict[frozenset[str], float]) -> None:
        self.table, self.calls = table, []
        super().__init__(self.validate_fn)

    def validate_fn(self, model: ov.Model, items: Iterable[Any]) -> tuple[float, list[float]]:
        indices = list(items)
        score = self.table.get(reverted(model), 80.0)
        self.calls.append((reverted(model), len(indices)))
        return score, [score / 100] * len(indices)

    def prepare_model(self, model: ov.Model) -> Prepared:
        return Prepared(model)


def restore(models: tuple[ov.Model, ov.Model], table: dict[frozenset[str], float], max_drop: float,
            workers: int = 1, iterations: int = sys.maxsize, patience: int = 3) -> tuple[ov.Model, Any, Scripted]:
    model, quantized = models
    evaluator = Scripted({frozenset(): 90.0, **table})
    dataset = nncf.Dataset(list(range(IMAGES)))
    initial = MetricResults(100.0, [1.0] * IMAGES, 0.0, 0.0)
    fully = evaluator.collect_metric_results(quantized, dataset)  # as segwb does before the restorer
    assert fully.metric_value == 90.0
    evaluator.calls.clear()
    restorer = NextGroupRestorer(4, iterations, max_drop, nncf.DropType.ABSOLUTE, num_ranking_workers=workers,
                                 patience=patience)
    with restorer_log() as log:
        result = restorer.apply(model, initial, quantized, fully, dataset, IMAGES, evaluator)
    return result, log, evaluator


A, B, C = (frozenset({c}) for c in CONVS)
# Alone: a restores 5 points, b 3, c 1; with a reverted, b costs 6 (worse than a alone), c still adds 1.
TABLE = {A: 95.0, B: 93.0, C: 91.0, A | B: 89.0, A | C: 96.0, A | B | C: 90.0}


@pytest.mark.parametrize("workers", [1, 2])
def test_an_undone_step_goes_on_with_the_next_group_of_the_same_ranking(models: tuple, workers: int) -> None:
    result, log, evaluator = restore(models, TABLE, max_drop=1.0, workers=workers)
    assert reverted(result) == A | C  # b undone, c kept; the model returned is the best one validated
    ranking = [c for c in evaluator.calls if c[1] == 4]
    steps = [c for c in evaluator.calls if c[1] == IMAGES]
    assert sorted(sorted(r) for r, _ in ranking) == [[c] for c in CONVS]  # each group ranked once, on 4 images
    assert [r for r, _ in steps] == [A, A | B, A | C]
    assert [(s["operations"], s["kept"]) for s in log.steps] == [(["conv_a"], True), (["conv_b"], False),
                                                                 (["conv_c"], True)]
    assert [s["drop_after"] for s in log.steps] == [5.0, 11.0, 4.0]
    assert [s["ranking_score"] for s in log.steps] == [95.0, 93.0, 91.0]
    assert all("reranking_seconds" not in s for s in log.steps)
    assert log.stopped == "all_layers_checked" and log.reverted == ["conv_a", "conv_c"]
    assert log.timing["ranking"] >= 0


def test_the_run_ends_when_the_drop_is_reached(models: tuple) -> None:
    result, log, evaluator = restore(models, TABLE, max_drop=5.0)
    assert reverted(result) == A and len(log.steps) == 1 and log.steps[0]["drop_after"] == 5.0
    assert log.stopped is None


def test_the_cap_ends_the_run_with_the_best_model_validated(models: tuple) -> None:
    result, log, _ = restore(models, TABLE, max_drop=1.0, iterations=2)
    assert reverted(result) == A  # the second step made the drop worse: undone, not returned
    assert [s["kept"] for s in log.steps] == [True, False] and log.stopped == "max_iterations"


def test_a_first_step_that_makes_the_drop_worse_is_undone(models: tuple) -> None:
    # NNCF keeps its first step whatever it does; here it is undone and the fully quantized model stays the best.
    result, log, _ = restore(models, {A: 89.0, B: 88.0, C: 87.0}, max_drop=1.0, iterations=1)
    assert reverted(result) == frozenset() and [s["kept"] for s in log.steps] == [False]


def test_a_step_that_leaves_the_drop_as_it_was_is_undone(models: tuple) -> None:
    # Reverting b after a changes nothing: a group reverted for no gain would only cost speed.
    result, log, _ = restore(models, {A: 95.0, B: 93.0, C: 91.0, A | B: 95.0, A | C: 95.5}, max_drop=1.0)
    assert reverted(result) == A | C and [s["kept"] for s in log.steps] == [True, False, True]


def test_undone_steps_in_a_row_end_the_run(models: tuple) -> None:
    # a helps alone and first; after it, b and c each make the drop worse. With patience 1 the run ends at b, c untried.
    result, log, evaluator = restore(models, {A: 95.0, B: 93.0, C: 91.0, A | B: 94.0, A | C: 94.0}, max_drop=1.0,
                                     patience=1)
    assert reverted(result) == A and [s["operations"] for s in log.steps] == [["conv_a"], ["conv_b"]]
    assert log.stopped == "no_gain" and [r for r, n in evaluator.calls if n == IMAGES] == [A, A | B]
    # with patience 2, c is tried after b; no group is left then, so every layer was checked
    _, log, _ = restore(models, {A: 95.0, B: 93.0, C: 91.0, A | B: 94.0, A | C: 94.0}, max_drop=1.0, patience=2)
    assert [s["kept"] for s in log.steps] == [True, False, False] and log.stopped == "all_layers_checked"
