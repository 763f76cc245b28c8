"""While NNCF ranks on a subset, the validation function scores the whole set's metric with the images outside the
subset as the model it ranks from predicted them (the fully quantized model: segwb's restorer ranks once)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from segwb.optimize.validator import Validator
from segwb.tasks.semantic.agreement import agreement_confusion, agreement_miou
from segwb.tasks.semantic.validation import SemanticAgreement


class Scripted(Validator):
    """A validator whose "compiled model" is the list of its predictions."""

    def __init__(self, metric: SemanticAgreement) -> None:  # no model, no images: only the scoring
        self.metric, self.samples, self.cancel = metric, [None] * len(metric.parent), None
        self.calls = self.images = 0
        self.ranking, self.base, self._full = False, None, None

    def predict(self, compiled: Any, indices: list[int]) -> list[Any]:
        return [compiled[i] for i in indices]


def maps(*columns: int) -> list[np.ndarray]:
    """One 4x4 map per image, class 1 in its first ``c`` columns."""
    found = []
    for c in columns:
        m = np.zeros((4, 4), np.uint8)
        m[:, :c] = 1
        found.append(m)
    return found


def miou(parent: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    return 100 * agreement_miou(sum(agreement_confusion(p, c, 2) for p, c in zip(parent, candidate, strict=True)))


def test_ranking_scores_estimate_the_whole_set() -> None:
    parent = maps(2, 2, 2)
    validator = Scripted(SemanticAgreement(parent, 2))
    quantized, group, step = maps(3, 1, 2), maps(2, 1, 2), maps(2, 2, 3)
    assert validator(quantized, range(3))[0] == pytest.approx(miou(parent, quantized))
    validator.phase("ranking")
    # Image 0 as reverting the group predicts it, images 1 and 2 as the fully quantized model did.
    score, values = validator(group, [0])
    assert score == pytest.approx(miou(parent, [group[0], quantized[1], quantized[2]]))
    assert len(values) == 1
    validator.phase("step")
    assert validator(step, range(3))[0] == pytest.approx(miou(parent, step))
    validator.phase("done")
    assert validator(group, [0])[0] == pytest.approx(miou(parent[:1], group[:1]))  # plain subset again


def test_a_ranking_on_every_image_is_not_taken_for_a_validation() -> None:
    parent = maps(2, 2)
    validator = Scripted(SemanticAgreement(parent, 2))
    quantized, group, other = maps(3, 1), maps(2, 1), maps(1, 2)
    validator(quantized, range(2))
    validator.phase("ranking")
    validator(group, range(2))  # the ranking subset may be the whole set (10 images)
    # The base stays the fully quantized model's: the next group is scored against it, not against the last group.
    assert validator(other, [0])[0] == pytest.approx(miou(parent, [other[0], quantized[1]]))


def test_no_base_before_a_validation_of_every_image() -> None:
    parent = maps(2, 2)
    validator = Scripted(SemanticAgreement(parent, 2))
    validator.phase("ranking")
    assert validator.base is None
    assert validator(maps(2, 1), [1])[0] == pytest.approx(miou(parent[1:], maps(2, 1)[1:]))
