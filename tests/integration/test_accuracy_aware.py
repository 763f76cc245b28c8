"""The AccuracyAware method: metrics against hand-computed cases, NNCF's log read back, checks before long work,
and the tutorial end to end with ground truth (semantic, VOC) and with agreement only (instance, no annotations)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from tiny_models import write_model, yolo_e2e_model

from segwb import cli
from segwb.core.storage import read_json
from segwb.io.datasets import open_dataset
from segwb.io.labels import VOC_LABELS
from segwb.io.model_card import ModelCard
from segwb.io.model_file import save_ir
from segwb.optimize.accuracy_aware import RestorerLog
from segwb.report.html import accuracy_aware_html
from segwb.report.summary import default_method_ignores, missed_drop_reason, summary
from segwb.ship.description import describe
from segwb.tasks.instance.agreement import agreement_ap
from segwb.tasks.instance.instances import Instances
from segwb.tasks.instance.results import load_instances
from segwb.tasks.instance.validation import InstanceAgreement, instance_truth
from segwb.tasks.semantic.agreement import agreement_confusion, agreement_miou, summed_confusion
from segwb.tasks.semantic.class_maps import load_class_map
from segwb.tasks.semantic.validation import (
    SemanticAgreement,
    SemanticTruth,
    annotated_part,
)

BENCH = ["--bench-seconds", "0.2"]


# --- metrics, by hand ----------------------------------------------------------------------------

def test_semantic_truth_is_dataset_miou_with_void_ignored() -> None:
    truth = [np.array([[0, 1], [1, 255]]), np.array([[2, 2], [0, 0]])]
    metric = SemanticTruth(truth, classes=3)
    predictions = [np.array([[0, 1], [0, 2]]), np.array([[2, 0], [0, 0]])]
    stats, values = zip(*(metric.image(i, p) for i, p in enumerate(predictions)), strict=True)
    # Summed over both images (void pixel dropped): class 0: 3 agree of 5 in the union (truth 3, prediction 5);
    # class 1: 1 of 2; class 2: 1 of 2.
    assert metric.combine([0, 1], list(stats)) == pytest.approx(100 * np.mean([3 / 5, 1 / 2, 1 / 2]))
    # Per image, its share of the loss: each has one wrong pixel of class 0 (3 in the masks) and one of class 1 or 2
    # (2 each), over the 3 classes.
    assert values == pytest.approx((1 - (1 / 3 + 1 / 2) / 3,) * 2)


def test_semantic_agreement_is_dataset_miou_against_the_parent() -> None:
    parent = [np.array([[0, 0], [1, 1]]), np.array([[2, 2], [2, 2]])]
    metric = SemanticAgreement(parent, classes=3)
    stats, values = zip(*(metric.image(i, p) for i, p in enumerate([parent[0], np.array([[2, 2], [2, 0]])])), strict=True)
    # Image 0 is identical (1.0); image 1 has one wrong pixel of class 2 (4 in the parent's maps) called class 0
    # (2): its share of the loss is (1/4 + 1/2) / 3.
    assert values == pytest.approx((1.0, 0.75))
    # One matrix over both images, the parent as truth: class 0 2 of 3, class 1 2 of 2, class 2 3 of 4.
    assert metric.combine([0, 1], list(stats)) == pytest.approx(100 * np.mean([2 / 3, 1, 3 / 4]))
    assert (metric.name, metric.reference) == ("mean IoU", "parent model")


def _instances(boxes: list[tuple[int, int, int, int]], classes: list[int]) -> Instances:
    masks = []
    for x1, y1, x2, y2 in boxes:
        full = np.zeros((20, 20), np.uint8, order="F")
        full[y1:y2, x1:x2] = 1
        masks.append(mask_utils.encode(full))
    return Instances((20, 20), np.int64(classes), np.linspace(0.9, 0.5, len(boxes)).astype(np.float32),
                     np.float32(boxes).reshape(-1, 4), masks)


def test_instance_agreement_is_mask_ap_against_the_parent() -> None:
    parent = [_instances([(0, 0, 10, 10), (10, 10, 20, 20)], [0, 1]), _instances([], [])]
    metric = InstanceAgreement(parent)
    # Image 0: A has the first box (same class, IoU 1), the second box as another class, and a stray box.
    a0 = _instances([(0, 0, 10, 10), (10, 10, 20, 20), (0, 12, 5, 18)], [0, 0, 1])
    (s0, v0), (s1, v1) = metric.image(0, a0), metric.image(1, _instances([], []))
    # Class 0: its one parent instance found first (AP 1); class 1: the parent's box is missed, the stray box is
    # a false positive (AP 0). Per image the same: (1 + 0) / 2.
    assert v0 == pytest.approx(0.5) and v1 == 1.0
    assert metric.combine([0, 1], [s0, s1]) == pytest.approx(50.0)
    assert (metric.name, metric.reference) == ("mask AP", "parent model")


def test_instance_truth_per_image_ap_ignores_detections_on_crowd_regions(tmp_path: Path) -> None:
    """A person and a crowd of people on one 20x20 image: the crowd goes to the crowd regions, not the
    instances, and a detection on it is neither true nor false in the per-image AP (as in COCO's)."""
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    cv2.imwrite(str(root / "images" / "a.jpg"), np.zeros((20, 20, 3), np.uint8))
    person = {"id": 1, "image_id": 5, "category_id": 1, "iscrowd": 0, "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]}
    crowd = {"id": 2, "image_id": 5, "category_id": 1, "iscrowd": 1, "segmentation": [[10, 10, 20, 10, 20, 20, 10, 20]]}
    (root / "annotations" / "instances_val.json").write_text(json.dumps(
        {"images": [{"id": 5, "file_name": "a.jpg", "width": 20, "height": 20}], "annotations": [person, crowd],
         "categories": [{"id": 1, "name": "person"}]}))
    card = ModelCard(task="instance", layout="NCHW", color_order="RGB", mean=(0, 0, 0), scale=(1, 1, 1), resize="stretch",
                     pad_value=0, input_size=(20, 20), adapter="yolo", labels=("person",))
    truth = instance_truth(open_dataset(root), card)
    assert len(truth.truth[0]) == 1 and len(truth.crowd[0]) == 1
    # The stray detection (highest score) is on the crowd: ignored, so the person alone makes AP 1.
    _, on_crowd = truth.image(0, _instances([(11, 11, 19, 19), (0, 0, 10, 10)], [0, 0]))
    assert on_crowd == pytest.approx(1.0)
    # Elsewhere it is a false positive ranked first: precision 1/2 at recall 1.
    _, elsewhere = truth.image(0, _instances([(12, 0, 18, 6), (0, 0, 10, 10)], [0, 0]))
    assert elsewhere == pytest.approx(0.5)


def test_restorer_log_keeps_rank_order_and_undone_steps() -> None:
    log = RestorerLog()
    for message in ["Metric of initial model: 57.9", "Metric of quantized model: 56.8",
                    "Total number of quantized operations in the model: 70",
                    "Reverted 2 operations to the floating-point precision: \n\tconv_a\n\tadd_a",
                    "Accuracy drop with the new quantization scope is 0.7 (absolute)",
                    "Reverted 1 operations to the floating-point precision: \n\tconv_b",
                    "Accuracy drop with the new quantization scope is 0.9 (absolute)",
                    "Re-calculating ranking scores for remaining groups",
                    "Reverted 1 operations to the floating-point precision: \n\tconv_c",
                    "Algorithm completed: achieved required accuracy drop 0.004 (relative)"]:
        log.add(message)
    assert (log.initial, log.quantized, log.quantized_operations) == (57.9, 56.8, 70)
    assert [s["operations"] for s in log.steps] == [["conv_a", "add_a"], ["conv_b"], ["conv_c"]]
    assert [s["kept"] for s in log.steps] == [True, False, True]
    assert [s["drop_after"] for s in log.steps] == [0.7, 0.9, 0.4]  # NNCF's relative fraction, in percent
    assert log.reverted == ["conv_a", "add_a", "conv_c"]
    assert log.stopped is None


@pytest.mark.parametrize("message, stopped", [("Maximum number of iteration was reached.", "max_iterations"),
                                              ("Steps in a row that did not lower the accuracy drop: 3; the groups "
                                               "left ranked lower", "no_gain"),
                                              ("All layers have been checked and the AccuracyAwareQuantization will "
                                               "not be able to achieve the required accuracy drop", "all_layers_checked")])
def test_restorer_log_says_why_it_stopped(message: str, stopped: str) -> None:
    log = RestorerLog()
    log.add(message)
    assert log.stopped == stopped
    log.add("Maximum number of iteration was reached.")
    assert log.stopped == stopped  # the first reason stays
    aa = {"stopped": stopped, "max_iterations": 3, "patience": 3, "reference": "parent model"}
    reason = missed_drop_reason(aa)
    assert ("cap of 3 revert steps" in reason) == (stopped == "max_iterations")
    assert ("3 steps in a row that did not lower the drop" in reason) == (stopped == "no_gain")
    assert "Agreement with the parent" in reason and "annotate" in reason
    assert "Mixed preset" in missed_drop_reason({**aa, "reference": "ground truth"})


def test_reverted_layers_as_the_default_methods_ignored_scope() -> None:
    """The kept steps' layers become --ignore flags (shell-quoted) and the dashboard's comma list; none, no hint."""
    aa = {"reverted_operations": ["Convolution_1188", "64", "block 3/add"], "within_drop": True, "drop_type": "absolute",
          "max_drop": 0.5, "steps": [], "metric": "mean IoU", "reference": "ground truth", "validation_images": 4,
          "parent_metric": 58.0, "default_int8_metric": 57.1, "final_metric": 57.5, "drop": 0.5,
          "quantized_operations": 67, "seconds": 1.0}
    assert default_method_ignores(aa) == "--ignore Convolution_1188 --ignore 64 --ignore 'block 3/add'"
    page = accuracy_aware_html(aa)
    assert "--ignore Convolution_1188 --ignore 64 --ignore &#39;block 3/add&#39;" in page  # escaped by the template
    assert "Convolution_1188, 64, block 3/add" in page
    assert default_method_ignores({**aa, "reverted_operations": []}) == ""
    assert "Default method" not in accuracy_aware_html({**aa, "reverted_operations": []})


# --- bad input: one line, before any long work ---------------------------------------------------

def _folder(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i in range(count):
        image = rng.integers(0, 40, (48, 64, 3)).astype(np.uint8)
        cv2.circle(image, (32, 24), 8 + i % 5, (255, 255, 255), -1)
        cv2.imwrite(str(root / f"img{i:02d}.jpg"), image)
    return root


@pytest.mark.parametrize("flags, message", [
    (["--max-drop", "20"], "max accuracy drop must be between 0.1 and 10 points (absolute), got 20"),
    (["--max-drop", "0.05", "--drop-type", "relative"], "max accuracy drop must be between 0.1 and 10 percent (relative), got 0.05"),
    (["--metric", "ground-truth"], "the ground-truth metric cannot be computed"),
    (["--max-iterations", "-1"], "max iterations must be 0 (no cap) or more, got -1"),
])
def test_bad_target_is_one_line_and_quantizes_nothing(tmp_path: Path, flags: list[str], message: str, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(["tutorial", "semantic", "--model", str(write_model(tmp_path / "m")), "--dataset",
                     str(_folder(tmp_path / "photos", 10)), "--out", str(out), "--method", "accuracy-aware", *BENCH, *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message in err[-1]
    assert not (out / "models" / "optimized").exists()


def test_too_few_images_to_rank(tmp_path: Path, photo_folder: Path, capsys) -> None:
    code = cli.main(["tutorial", "semantic", "--model", str(write_model(tmp_path / "m")), "--dataset", str(photo_folder),
                     "--out", str(tmp_path / "out"), "--method", "accuracy-aware", *BENCH])
    assert code == 2
    assert "4 images are too few to rank layers" in capsys.readouterr().err


# --- end to end ----------------------------------------------------------------------------------

def _voc(root: Path, count: int) -> Path:
    """``count`` photos with VOC masks: person top-left, cat bottom-right, void border."""
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(7)
    ids = []
    for i in range(count):
        h, w = 40 + 2 * i, 56
        image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        mask = np.zeros((h, w), np.uint8)
        mask[: h // 2, : w // 2] = VOC_LABELS.index("person")
        mask[h // 2:, w // 2:] = VOC_LABELS.index("cat")
        mask[0, :] = 255
        ids.append(f"2008_{i:06d}")
        cv2.imwrite(str(root / "JPEGImages" / f"{ids[-1]}.jpg"), image)
        Image.fromarray(mask, mode="P").save(root / "SegmentationClass" / f"{ids[-1]}.png")
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("\n".join(ids) + "\n")
    return root


def test_partly_annotated_voc_ranks_on_its_annotated_images(tmp_path: Path) -> None:
    root = _voc(tmp_path / "voc", 13)
    (root / "SegmentationClass" / "2008_000003.png").unlink()
    voc_card = ModelCard("semantic", "NCHW", "RGB", (0, 0, 0), (1, 1, 1), "stretch", 0, (8, 8), "class_map",
                         labels=tuple(VOC_LABELS))
    part = annotated_part(open_dataset(root), voc_card, len(VOC_LABELS))
    assert len(part.samples) == 12 and all(s.annotation for s in part.samples)
    other = replace(voc_card, labels=("sky", "sea"))  # no class in common: agreement on every image instead
    assert len(annotated_part(open_dataset(root), other, 2).samples) == 13
    out = tmp_path / "out"
    assert cli.main(["tutorial", "semantic", "--model", str(write_model(tmp_path / "m", "scores")), "--dataset", str(root),
                     "--out", str(out), "--method", "accuracy-aware", "--max-iterations", "1", *BENCH]) == 0
    aa = read_json(out / "report.json")["optimized"]["accuracy_aware"]
    assert (aa["metric"], aa["validation_images"]) == ("mean IoU", 12)
    for i in (4, 5, 6):
        (root / "SegmentationClass" / f"2008_{i:06d}.png").unlink()
    assert len(annotated_part(open_dataset(root), voc_card, len(VOC_LABELS)).samples) == 13  # 9 annotated: too few


def test_semantic_ground_truth_run(tmp_path: Path) -> None:
    """mean IoU against VOC masks; the restorer's numbers agree with the report's own ground-truth mIoU."""
    out = tmp_path / "out"
    args = ["tutorial", "semantic", "--model", str(write_model(tmp_path / "m", "scores")), "--dataset",
            str(_voc(tmp_path / "voc", 10)), "--out", str(out), "--method", "accuracy-aware", "--max-drop", "0.1",
            "--max-iterations", "2", *BENCH]
    assert cli.main(args) == 0
    report = read_json(out / "report.json")
    aa, gt = report["optimized"]["accuracy_aware"], report["ground_truth"]
    assert report["optimized"]["method"].startswith("AccuracyAware")
    assert (aa["metric"], aa["reference"], aa["validation_images"]) == ("mean IoU", "ground truth", 10)
    # Both sides at the f32 hint: the restorer's metric is the report's mIoU, in points.
    assert aa["parent_metric"] == pytest.approx(100 * gt["parent"]["mean_iou"], abs=1e-6)
    assert aa["final_metric"] == pytest.approx(100 * gt["optimized"]["mean_iou"], abs=1e-6)
    assert aa["drop"] == pytest.approx(aa["parent_metric"] - aa["final_metric"])
    assert aa["within_drop"] == (aa["drop"] <= 0.1 + 1e-9)
    assert aa["max_iterations"] == 2 and len(aa["steps"]) <= 2
    assert aa["stopped"] is None if aa["within_drop"] else aa["stopped"] in ("max_iterations", "all_layers_checked")
    assert set(aa["reverted_operations"]) <= {op for s in aa["steps"] for op in s["operations"]}
    assert report["performance"]["optimized_precision"] == "f32" and set(report["performance"]["optimized_runs"]) == {"f32"}
    assert report["optimized"]["settings"]["max_drop"] == 0.1 and report["optimized"]["settings"]["max_iterations"] == 2
    assert cli.main(args) == 0  # the same settings: nothing recomputed
    assert read_json(out / "report.json")["steps_cached"]["quantize"] is True
    description = describe(out, report, dataset_included=False)
    assert "Optimization: AccuracyAware (NNCF quantize_with_accuracy_control), performance preset" in description
    assert (f"  AccuracyAware mean IoU against the ground truth: parent {aa['parent_metric']:.2f}, fully quantized "
            f"{aa['default_int8_metric']:.2f}, result {aa['final_metric']:.2f}") in description


def test_instance_agreement_without_annotations(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A folder of photos: the metric is mask AP with the parent's detections as the ground truth (the parent scores
    100), and the drop, none given, is half of what the Default method's INT8 loses, said before NNCF's run."""
    xml = tmp_path / "m" / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0], [6, 16, 26, 28, 0.6, 1, 0, 1]])), xml)
    (xml.parent / "labels.txt").write_text("person\ncat\n")
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="segwb"):
        assert cli.main(["tutorial", "instance", "--model", str(xml), "--dataset", str(_folder(tmp_path / "photos", 10)),
                         "--out", str(out), "--method", "accuracy-aware", *BENCH]) == 0
    report = read_json(out / "report.json")
    aa = report["optimized"]["accuracy_aware"]
    assert (aa["metric"], aa["reference"], aa["requested_metric"]) == ("mask AP", "parent model", "auto")
    assert aa["parent_metric"] == pytest.approx(100.0)
    assert aa["max_drop_source"] == "half the Default method's loss"
    assert aa["default_int8_drop"] == pytest.approx(100.0 - aa["default_int8_metric"])
    assert aa["max_drop"] == pytest.approx(max(0.0, aa["default_int8_drop"]) / 2)
    assert aa["aim"] == pytest.approx(100.0 - aa["max_drop"])
    said = (f"the Default method's INT8 scores {aa['default_int8_metric']:.2f} mask AP against the parent; "
            f"AccuracyAware will aim for ≥ {aa['aim']:.2f}")
    assert said in caplog.text and caplog.text.index(said) < caplog.text.index("benchmark parent")
    # The result is the saved detections' agreement: the parent's as ground truth, scored by COCO's mask AP.
    images = [(i["image_id"], (i["height"], i["width"])) for i in read_json(out / "predictions" / "images.json")]
    parent, optimized = (load_instances(read_json(out / "predictions" / f"{role}.json"), images)
                         for role in ("parent", "optimized"))
    ids = [i for i, _ in images]
    expected = agreement_ap([parent[i] for i in ids], [optimized[i] for i in ids])["mask_ap"]
    assert aa["final_metric"] == pytest.approx(100 * expected)
    assert aa["within_drop"] == (aa["drop"] <= aa["max_drop"] + 1e-9)
    assert {"reference_predictions", "quantization", "initial_validation", "restoring", "final_validation"} <= set(aa["phases"])
    assert aa["ranking_images"] == 10 and aa["validation_images"] == 10


def test_semantic_agreement_on_an_annotated_set_reads_beside_the_ground_truth(tmp_path: Path) -> None:
    """--metric agreement on VOC masks: the metric is mean IoU against the parent's class maps (a given drop wins),
    and the summary puts the ground truth of that model beside it."""
    out = tmp_path / "out"
    assert cli.main(["tutorial", "semantic", "--model", str(write_model(tmp_path / "m", "scores")), "--dataset",
                     str(_voc(tmp_path / "voc", 10)), "--out", str(out), "--method", "accuracy-aware", "--metric",
                     "agreement", "--max-drop", "1", "--max-iterations", "1", *BENCH]) == 0
    report = read_json(out / "report.json")
    aa, gt = report["optimized"]["accuracy_aware"], report["ground_truth"]
    assert (aa["metric"], aa["reference"], aa["max_drop"], aa["max_drop_source"]) == ("mean IoU", "parent model", 1.0, "given")
    assert aa["aim"] == pytest.approx(99.0) and aa["parent_metric"] == pytest.approx(100.0)
    keys = [s.key for s in open_dataset(tmp_path / "voc").samples]
    cms = [agreement_confusion(*(load_class_map(out / "predictions" / role / f"{k}.png") for role in ("parent", "optimized")),
                               3) for k in keys]
    assert aa["final_metric"] == pytest.approx(100 * agreement_miou(summed_confusion(cms, 3)))
    lines = [f.line() for f in summary(report)]
    assert "AccuracyAware aim: mean IoU ≥ 99.00: the drop given (1 points)" in lines
    truth = (f"The same model against the annotations (not used to steer it): mean IoU parent "
             f"{100 * gt['parent']['mean_iou']:.2f} → optimized {100 * gt['optimized']['mean_iou']:.2f}")
    assert any(line.startswith(truth) for line in lines)


def test_instance_ground_truth_is_coco_mask_ap(tmp_path: Path) -> None:
    """COCO annotations of a model class: the metric is pycocotools' mask AP, equal to the report's own."""
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    images, anns = [], []
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    for i in range(10):
        radius = 9 + i % 4
        image = np.random.default_rng(i).integers(0, 30, (48, 64, 3)).astype(np.uint8)
        cv2.circle(image, (32, 24), radius, (255, 255, 255), -1)
        cv2.imwrite(str(root / "images" / f"d{i}.jpg"), image)
        images.append({"id": 100 + i, "file_name": f"d{i}.jpg", "width": 64, "height": 48})
        polygon = [round(float(v), 2) for a in angles for v in (32 + radius * np.cos(a), 24 + radius * np.sin(a))]
        anns.append({"id": i + 1, "image_id": 100 + i, "category_id": 1, "segmentation": [polygon], "iscrowd": 0})
    (root / "annotations" / "instances_val.json").write_text(json.dumps(
        {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}))
    xml = tmp_path / "m" / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0], [6, 16, 26, 28, 0.6, 1, 0, 1]])), xml)
    (xml.parent / "labels.txt").write_text("person\ncat\n")
    out = tmp_path / "out"
    assert cli.main(["tutorial", "instance", "--model", str(xml), "--dataset", str(root), "--out", str(out),
                     "--method", "accuracy-aware", "--metric", "ground-truth", *BENCH]) == 0
    report = read_json(out / "report.json")
    aa, gt = report["optimized"]["accuracy_aware"], report["ground_truth"]
    assert (aa["metric"], aa["reference"]) == ("mask AP", "ground truth") and aa["parent_metric"] > 0
    assert aa["parent_metric"] == pytest.approx(100 * gt["parent"]["mask_ap"], abs=1e-6)
    assert aa["final_metric"] == pytest.approx(100 * gt["optimized"]["mask_ap"], abs=1e-6)


def test_no_iteration_cap_keeps_the_earlier_cache_key() -> None:
    """Projects quantized before --max-iterations existed are reused when no cap is asked for."""
    from segwb.optimize.settings import QuantizeSettings

    assert "max_iterations" not in QuantizeSettings(method="accuracy_aware").to_dict()
    assert QuantizeSettings(method="accuracy_aware", max_iterations=3).to_dict()["max_iterations"] == 3
    assert "max_iterations" not in QuantizeSettings(max_iterations=3).to_dict()  # the Default method has no target
