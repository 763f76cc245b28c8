"""The AccuracyAware drop (the user's, or half of what the Default method's INT8 loses on agreement), the ranking
subset, and the time of each of NNCF's phases read from its log."""

from __future__ import annotations

import pytest

from segwb.optimize.accuracy_aware import UNDONE, RestorerLog, aim_of, allowed_drop, drop_of, ranking_size
from segwb.optimize.settings import AccuracyTarget, QuantizeSettings


def test_no_drop_given_is_auto_and_a_given_one_wins() -> None:
    auto = QuantizeSettings(method="accuracy_aware").target
    assert auto.auto_drop and auto.max_drop == 0.5
    given = QuantizeSettings(method="accuracy_aware", max_drop=2.0).target
    assert not given.auto_drop and given.max_drop == 2.0
    assert QuantizeSettings(method="accuracy_aware").to_dict()["max_drop"] is None
    assert "max_drop" not in QuantizeSettings().to_dict()  # the Default method has no target


@pytest.mark.parametrize("target, reference, expected", [
    (AccuracyTarget(auto_drop=True), "parent model", (2.95, "half the Default method's loss")),
    (AccuracyTarget(auto_drop=True), "ground truth", (0.5, "default")),
    (AccuracyTarget(max_drop=1.0), "parent model", (1.0, "given")),
    (AccuracyTarget(max_drop=1.0, drop_type="relative", auto_drop=True), "parent model",
     (pytest.approx(100 * 5.9 / 100 / 2), "half the Default method's loss")),
])
def test_allowed_drop(target: AccuracyTarget, reference: str, expected: tuple) -> None:
    assert allowed_drop(target, reference, 100.0, 94.1) == pytest.approx(expected)


def test_a_default_int8_that_loses_nothing_leaves_nothing_to_restore() -> None:
    assert allowed_drop(AccuracyTarget(auto_drop=True), "parent model", 100.0, 100.0) == (0.0, "half the Default method's loss")


def test_drop_and_aim_in_points_or_percent() -> None:
    assert drop_of(100.0, 94.1, "absolute") == pytest.approx(5.9)
    assert drop_of(50.0, 49.0, "relative") == pytest.approx(2.0)
    assert aim_of(100.0, 2.95, "absolute") == pytest.approx(97.05)
    assert aim_of(50.0, 2.0, "relative") == pytest.approx(49.0)


def test_ranking_subset_is_a_sixth_of_the_images_but_at_least_ten() -> None:
    assert [ranking_size(n) for n in (10, 12, 60, 96, 300)] == [10, 10, 10, 16, 50]


def test_phases_timed_from_nncfs_log() -> None:
    now = [0.0]
    log = RestorerLog(clock=lambda: now[0])
    log.restore_started = 0.0

    def said(at: float, message: str) -> None:
        now[0] = at
        log.add(message)

    said(2.0, "Number of parallel workers to rank quantized operations: 1")
    said(62.0, "Changing the scope of quantizer nodes was started")
    said(62.5, "Reverted 1 operations to the floating-point precision: \n\tconv_a")
    said(62.5, "Ranking score of the group: 97.5")
    said(66.5, "Accuracy drop with the new quantization scope is 3.0 (absolute)")
    said(66.6, "Reverted 1 operations to the floating-point precision: \n\tconv_b")
    said(66.6, "Ranking score of the group: 96.0")
    said(70.6, "Accuracy drop with the new quantization scope is 3.5 (absolute)")
    said(70.7, UNDONE)
    said(70.8, "Reverted 1 operations to the floating-point precision: \n\tconv_c")
    said(70.8, "Ranking score of the group: None")
    said(75.8, "Algorithm completed: achieved required accuracy drop 1.5 (absolute)")
    log.finish()
    assert log.timing == pytest.approx({"preparation": 2.0, "ranking": 60.0})
    assert [s["seconds"] for s in log.steps] == pytest.approx([4.0, 4.0, 5.0])
    assert [s["kept"] for s in log.steps] == [True, False, True]
    assert [s["ranking_score"] for s in log.steps] == [97.5, 96.0, None]
    assert [s["drop_after"] for s in log.steps] == [3.0, 3.5, 1.5] and log.reverted == ["conv_a", "conv_c"]
