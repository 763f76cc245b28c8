"""The instance tutorial end to end on a tiny YOLO-style model: report contract, COCO results, ground truth, cache, cancel."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import cv2
import pytest
from tutorial_runs import IMAGE_IDS, instance_tutorial, predict_role

from segwb import cli
from segwb.core.compile import compile_model
from segwb.core.errors import Cancelled
from segwb.core.project import Project
from segwb.core.storage import read_json
from segwb.inference.feed import InputFeed
from segwb.io.datasets import open_dataset
from segwb.tasks.base import DetectionLimits
from segwb.tasks.instance.metrics import compare_instances
from segwb.tasks.instance.report_job import InstanceJob
from segwb.tasks.instance.results import load_instances
from segwb.tasks import report_pass as report_pass_module
from segwb.tasks.model_import import describe
from segwb.tasks.report_pass import report_pass
from segwb.zoo import catalog as zoo

BENCH = ["--bench-seconds", "0.3"]
def test_report_contract_and_coco_results(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """Report keys, COCO results with the JSON's image ids and category ids, metrics recomputable from the files."""
    out = tmp_path / "out"
    report = instance_tutorial(tiny_yolo, coco_root, out)
    assert report["task"] == "instance" and report["parent"]["card"]["adapter"] == "yolo_e2e"
    comp = report["comparison"]
    assert comp["reference"] == "parent" and comp["min_score"] == 0.1 and comp["max_detections"] == 100
    assert comp["iou_threshold"] == 0.5
    assert {r["image"] for r in comp["basic"]} == set(IMAGE_IDS)
    for row in comp["basic"]:
        assert {"image", "optimized_detections", "parent_detections", "matches", "overlay"} <= set(row)
        assert row["matches"] <= min(row["optimized_detections"], row["parent_detections"])
        assert cv2.imread(str(out / row["overlay"])) is not None
    for row in comp["advanced"]:
        assert set(row) == {"image", "class_id", "class_name", "optimized_detections", "parent_detections", "matches",
                            "average_precision", "precision"}
        assert row["optimized_detections"] > 0 and row["class_name"] in ("person", "cat")
    images = read_json(out / "predictions" / "images.json")
    assert {i["name"]: i["image_id"] for i in images} == IMAGE_IDS
    assert all((i["height"], i["width"]) == (48, 64) for i in images)
    saved = {role: read_json(out / "predictions" / f"{role}.json") for role in ("parent", "optimized")}
    parent = saved["parent"]
    assert len(parent) == 6  # 2 detections above 0.1 in each of 3 images; the 0.02 one is dropped
    assert {r["image_id"] for r in parent} == set(IMAGE_IDS.values())
    person = [r for r in parent if r["class_id"] == 0]
    assert {r["category_id"] for r in person} == {1}  # 'person' → 'Person' by name
    assert {r["category_id"] for r in parent if r["class_id"] == 1} == {-1}  # 'cat' has no category here
    assert all(r["segmentation"]["size"] == [48, 64] and isinstance(r["segmentation"]["counts"], str) for r in parent)
    x, y, w, h = person[0]["bbox"]
    assert (x, y, x + w, y + h) == pytest.approx((16, 8, 48, 40), abs=0.01)
    # Matches in the report are exactly those of the saved files.
    loaded = {role: load_instances(saved[role], [(i["image_id"], (i["height"], i["width"])) for i in images])
              for role in saved}
    for image in images:
        result = compare_instances(loaded["parent"][image["image_id"]], loaded["optimized"][image["image_id"]])
        row = next(r for r in comp["basic"] if r["image"] == image["name"])
        assert (row["optimized_detections"], row["parent_detections"], row["matches"]) == \
               (result.optimized, result.parent, result.matches)
    gt = report["ground_truth"]
    assert gt["images"] == 3 and gt["categories_evaluated"] == 1
    assert gt["unmapped_model_classes"] == ["cat"] and gt["unmapped_dataset_classes"] == ["dog"]
    for role in ("parent", "optimized"):
        assert set(gt[role]) == {"mask_ap", "mask_ap50", "box_ap", "per_class_mask_ap"}
    assert gt["parent"]["mask_ap50"] == 1.0 and gt["parent"]["mask_ap"] > 0.5  # the disc masks are found
    page = (out / "report.html").read_text()
    assert "A. Optimized Model Detections" in page and "Matches between A and B" in page
    timing, perf = report["report_seconds"], report["performance"]
    assert timing["total"] >= timing["predict_parent"] + timing["predict_optimized"] + timing["compare"]
    assert timing["target"] == pytest.approx(1.1 * (3 / perf["parent"]["fps"] + 3 / perf["optimized"]["fps"]) + 3)


def test_not_annotated_folder_and_cache(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """A plain image folder: ids 1.. by sorted name, category id = class id + 1, no ground truth; rerun is cached."""
    folder = coco_root / "images"
    out = tmp_path / "plain"
    report = instance_tutorial(tiny_yolo, folder, out)
    assert report["ground_truth"] is None and report["dataset"]["layout"] == "images"
    images = read_json(out / "predictions" / "images.json")
    assert [(i["name"], i["image_id"]) for i in images] == [("a.jpg", 1), ("b.jpg", 2), ("c.jpg", 3)]
    parent = read_json(out / "predictions" / "parent.json")
    assert {(r["class_id"], r["category_id"]) for r in parent} == {(0, 1), (1, 2)}
    again = instance_tutorial(tiny_yolo, folder, out)
    assert all(again["steps_cached"].values())
    assert again["comparison"]["basic"] == report["comparison"]["basic"]


def test_min_score_changes_predictions(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """--min-score 0.01 keeps the 0.02 detection on both sides; --max-detections 1 keeps the best one."""
    low = instance_tutorial(tiny_yolo, coco_root / "images", tmp_path / "low", "--min-score", "0.01")
    assert low["comparison"]["min_score"] == 0.01
    assert len(read_json(tmp_path / "low" / "predictions" / "parent.json")) == 9
    instance_tutorial(tiny_yolo, coco_root / "images", tmp_path / "one", "--max-detections", "1")
    assert {r["class_id"] for r in read_json(tmp_path / "one" / "predictions" / "parent.json")} == {0}


def test_cancel_writes_nothing(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """A cancelled prediction raises Cancelled and leaves no partial results file."""
    _, card = describe(tiny_yolo)
    job = InstanceJob(Project(tmp_path / "p"), open_dataset(coco_root), card, DetectionLimits())
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        predict_role(job, "parent", compile_model(tiny_yolo, "f32"), InputFeed(job.image_paths(), card), None, cancel)
    assert not job.predictions_file("parent").exists()


def test_cancel_after_a_written_chunk_leaves_nothing(tiny_yolo: Path, coco_root: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Detections go to disk a chunk at a time; a pass cancelled after its first chunk leaves no file behind,
    and a finished pass writes what holding every image to the end wrote."""
    monkeypatch.setattr(report_pass_module, "chunk_size", lambda compiled: 1)
    _, card = describe(tiny_yolo)
    models = {"parent": compile_model(tiny_yolo, "f32"), "optimized": compile_model(tiny_yolo, "f32")}
    job = InstanceJob(Project(tmp_path / "p"), open_dataset(coco_root), card, DetectionLimits())
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        report_pass(job, models, InputFeed(job.image_paths(), card), progress, cancel)
    folder = job.predictions_file("parent").parent
    assert not folder.exists() or not list(folder.iterdir())
    job = InstanceJob(Project(tmp_path / "p"), open_dataset(coco_root), card, DetectionLimits())
    report_pass(job, models, InputFeed(job.image_paths(), card))
    entries = read_json(job.predictions_file("parent"))
    ids = [i.image_id for i in job.images]
    assert [e["image_id"] for e in entries] == sorted((e["image_id"] for e in entries), key=ids.index)
    assert {e["image_id"] for e in entries} == set(IMAGE_IDS.values())
    assert read_json(job.predictions_file("optimized")) == entries


def test_bad_coco_json_is_one_line(tiny_yolo: Path, coco_root: Path, tmp_path: Path, capsys) -> None:
    """A JSON without COCO's lists: exit 2, one line that names the file."""
    bad = coco_root / "annotations" / "instances_val.json"
    bad.write_text(json.dumps({"images": []}))
    code = cli.main(["tutorial", "instance", "--model", str(tiny_yolo), "--dataset", str(coco_root),
                     "--out", str(tmp_path / "o"), *BENCH])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and str(bad) in err and "not a COCO instances file" in err


def test_default_model_unavailable_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """Without the Open Model Zoo Mask R-CNN, the tutorial says so plainly and how to point at a model."""
    from segwb.core.errors import DownloadError

    def offline(cancel: object = None) -> Path:
        raise DownloadError("cannot reach storage.openvinotoolkit.org (name resolution failed)")

    default = "instance-segmentation-security-0002"
    monkeypatch.setitem(zoo.ENTRIES, default, dataclasses.replace(zoo.ENTRIES[default], obtain=offline))
    code = cli.main(["tutorial", "instance", "--out", str(tmp_path / "o"), *BENCH])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "instance-segmentation-security-0002 could not be fetched" in err and "--model PATH" in err
