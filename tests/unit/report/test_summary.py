"""The one result summary: the same facts for the CLI, the dashboard, report.html and description.txt."""

from __future__ import annotations

from segwb.report.summary import accuracy_aware_facts, summary

PERFORMANCE = {"parent": {"fps": 20.0}, "optimized": {"fps": 50.0}, "optimized_precision": "f32", "speedup": 2.5}
OPTIMIZED = {"method": "Default (NNCF post-training quantization)", "preset": "performance", "subset_size": 96,
             "seconds": 28.4, "accuracy_aware": None}


def _report(task: str, comparison: dict, ground_truth: dict | None = None) -> dict:
    return {"task": task, "model_choice": "model: deeplabv3 (the tutorial's model)",
            "dataset": {"path": "/data/voc", "layout": "voc", "images": 96}, "performance": PERFORMANCE,
            "optimized": OPTIMIZED, "comparison": comparison, "ground_truth": ground_truth}


def test_semantic_summary() -> None:
    facts = summary(_report("semantic", {"mean_average_result": 0.87526, "mean_pixel_agreement": 0.98792},
                            {"images": 96, "parent": {"mean_iou": 0.5796}, "optimized": {"mean_iou": 0.5747}}))
    assert [f.line() for f in facts] == [
        "Model: deeplabv3 (the tutorial's model)",
        "Dataset: /data/voc (voc, 96 images)",
        "Parent throughput (f32, the baseline): 20.0 FPS",
        "Optimized model throughput: 50.0 FPS (f32 precision hint)",
        "Speedup over parent f32: 2.50x",
        "Quantization: Default method, performance preset, 96 calibration images, 28 s",
        "Mean Optimized Model Average Result: 0.8753",
        "Mean pixel agreement: 98.79 %",
        "Mean IoU against the annotations (96 images), parent → optimized: 57.96 % → 57.47 %"]


def test_instance_summary_without_ground_truth() -> None:
    comparison = {"matches": 90, "parent_detections": 100, "optimized_detections": 95, "matches_over_parent": 0.9,
                  "matches_over_optimized": 90 / 95, "min_score": 0.1, "f1": 180 / 195, "mean_average_precision": None}
    lines = [f.line() for f in summary(_report("instance", comparison))][6:]
    assert lines == ["Matches between A and B: 90 of 100 parent detections (90.00 %) and of 95 optimized (94.74 %), "
                     "score ≥ 0.1",
                     "F1 of matches between A and B: 92.31 %",
                     "Mean Predicted Class Average Precision: N/A"]


def test_accuracy_aware_facts_say_why_and_what_next() -> None:
    aa = {"metric": "mean IoU", "reference": "ground truth", "parent_metric": 57.96, "default_int8_metric": 57.09,
          "final_metric": 57.2, "drop": 0.76, "max_drop": 0.5, "drop_type": "absolute", "within_drop": False,
          "reverted_operations": ["Conv 1"], "quantized_operations": 67, "stopped": "max_iterations",
          "max_iterations": 2}
    lines = [f.line() for f in accuracy_aware_facts(aa)]
    assert lines[0] == ("AccuracyAware mean IoU against the ground truth: parent 57.96, fully quantized 57.09, result "
                        "57.20 (drop 0.76, at most 0.5 points: NOT within)")
    assert lines[1] == "Layers reverted to floating point: 1 of 67 quantized operations"
    assert lines[2].startswith("Why the drop was missed: The restorer stopped at the cap of 2 revert steps, with the "
                               "best model it validated")
    assert lines[3] == "The same layers in floating point with the Default method: --ignore 'Conv 1'"
    assert accuracy_aware_facts(None) == []
    gave_up = [f.line() for f in accuracy_aware_facts({**aa, "stopped": "no_gain", "patience": 3})]
    assert gave_up[2].startswith("Why the drop was missed: The restorer stopped after 3 steps in a row that did not "
                                 "lower the drop")


def test_a_given_optimized_model_says_where_it_came_from() -> None:
    """--optimized: one line with the file (its folder and name) and what it is, in place of NNCF's settings; a
    report of an earlier version (no ``source``) is segwb's own INT8."""
    given = {"source": "given", "given": {"path": "/exports/yolo26n-seg_int8_openvino_model/yolo26n-seg.xml",
                                          "digest": "ab"},
             "precision": {"description": "INT8: 104 FakeQuantize"}, "seconds": 0.4}
    report = {**_report("semantic", {"mean_average_result": 1.0, "mean_pixel_agreement": 1.0}), "optimized": given}
    assert [f.line() for f in summary(report)][5] == ("Optimized model: given (yolo26n-seg_int8_openvino_model/"
                                                      "yolo26n-seg.xml, INT8: 104 FakeQuantize), not quantized by segwb")
    assert [f.line() for f in summary(_report("semantic", {}))][5].startswith("Quantization: Default method")
