"""The instance tutorial end to end on a tiny YOLO-style model: report contract, COCO results, ground truth, cache, cancel."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from segwb import cli, zoo
from segwb.datasets import open_dataset
from segwb.errors import Cancelled
from segwb.instance_metrics import compare_instances
from segwb.instance_tutorial import image_table, load_instances, predict_instances
from segwb.models import describe, save_ir
from segwb.predict import compile_model
from segwb.storage import read_json
from tiny_models import yolo_e2e_model

BENCH = ["--bench-seconds", "0.3"]
# Input 32x32; a 48x64 photo is letterboxed at rows 4..28 with ratio 0.5. The white disc at (x 32, y 24),
# radius 12, lands at input (16, 16), radius 6. Detection 0 (person, score 0.9) takes the bright prototype
# inside its box, detection 1 (cat, 0.6) the dark one inside a box around the disc's lower half.
DETECTIONS = np.float32([[8, 8, 24, 24, 0.9, 0, 1, 0],
                         [6, 16, 26, 28, 0.6, 1, 0, 1],
                         [0, 0, 4, 4, 0.02, 1, 1, 0]])
IMAGE_IDS = {"a.jpg": 42, "b.jpg": 7, "c.jpg": 100}


@pytest.fixture
def tiny_yolo(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    xml = folder / "tiny_yolo.xml"
    save_ir(yolo_e2e_model(DETECTIONS), xml)
    (folder / "labels.txt").write_text("person\ncat\n")
    return xml


def _disc(radius: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 30, (48, 64, 3)).astype(np.uint8)
    cv2.circle(image, (32, 24), radius, (255, 255, 255), -1)
    return image


def _polygon(radius: int) -> list[float]:
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    return [round(float(v), 2) for a in angles for v in (32 + radius * np.cos(a), 24 + radius * np.sin(a))]


@pytest.fixture
def coco_root(tmp_path: Path) -> Path:
    """Three disc photos with their discs annotated as 'Person' (id 1); the dataset also has 'dog' (id 18)."""
    root = tmp_path / "coco"
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    images, anns = [], []
    for n, (name, image_id) in enumerate(IMAGE_IDS.items()):
        cv2.imwrite(str(root / "images" / name), _disc(11 + n, n))
        images.append({"id": image_id, "file_name": name, "width": 64, "height": 48})
        anns.append({"id": n + 1, "image_id": image_id, "category_id": 1, "segmentation": [_polygon(11 + n)],
                     "area": float(np.pi * (11 + n) ** 2), "bbox": [32 - 11 - n, 24 - 11 - n, 22 + 2 * n, 22 + 2 * n],
                     "iscrowd": 0})
    data = {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "Person"}, {"id": 18, "name": "dog"}]}
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data))
    return root


def _tutorial(xml: Path, dataset: Path, out: Path, *extra: str) -> dict:
    assert cli.main(["tutorial", "instance", "--model", str(xml), "--dataset", str(dataset), "--out", str(out),
                     *BENCH, *extra]) == 0
    return read_json(out / "report.json")


def test_report_contract_and_coco_results(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """Report keys, COCO results with the JSON's image ids and category ids, metrics recomputable from the files."""
    out = tmp_path / "out"
    report = _tutorial(tiny_yolo, coco_root, out)
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
    loaded = {role: load_instances(saved[role], images) for role in saved}
    for image in images:
        result = compare_instances(loaded["parent"][image["image_id"]], loaded["optimized"][image["image_id"]])
        row = next(r for r in comp["basic"] if r["image"] == image["name"])
        assert (row["optimized_detections"], row["parent_detections"], row["matches"]) == \
               (result.optimized, result.parent, result.matches)
    gt = report["ground_truth"]
    assert gt["images"] == 3 and gt["categories_evaluated"] == 1
    assert gt["unmapped_model_classes"] == ["cat"] and gt["unmapped_dataset_classes"] == ["dog"]
    for role in ("parent", "optimized"):
        assert set(gt[role]) == {"mask_ap", "mask_ap50", "box_ap"}
    assert gt["parent"]["mask_ap50"] == 1.0 and gt["parent"]["mask_ap"] > 0.5  # the disc masks are found
    page = (out / "report.html").read_text()
    assert "A. Optimized Model Detections" in page and "Matches between A and B" in page
    timing, perf = report["report_seconds"], report["performance"]
    assert timing["total"] == pytest.approx(timing["predict_parent"] + timing["predict_optimized"] + timing["compare"])
    assert timing["target"] == pytest.approx(1.25 * 3 / min(perf["parent"]["fps"], perf["optimized"]["fps"]) + 3)


def test_not_annotated_folder_and_cache(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """A plain image folder: ids 1.. by sorted name, category id = class id + 1, no ground truth; rerun is cached."""
    folder = coco_root / "images"
    out = tmp_path / "plain"
    report = _tutorial(tiny_yolo, folder, out)
    assert report["ground_truth"] is None and report["dataset"]["layout"] == "images"
    images = read_json(out / "predictions" / "images.json")
    assert [(i["name"], i["image_id"]) for i in images] == [("a.jpg", 1), ("b.jpg", 2), ("c.jpg", 3)]
    parent = read_json(out / "predictions" / "parent.json")
    assert {(r["class_id"], r["category_id"]) for r in parent} == {(0, 1), (1, 2)}
    again = _tutorial(tiny_yolo, folder, out)
    assert all(again["steps_cached"].values())
    assert again["comparison"]["basic"] == report["comparison"]["basic"]


def test_min_score_changes_predictions(tiny_yolo: Path, coco_root: Path, tmp_path: Path) -> None:
    """--min-score 0.01 keeps the 0.02 detection on both sides; --max-detections 1 keeps the best one."""
    low = _tutorial(tiny_yolo, coco_root / "images", tmp_path / "low", "--min-score", "0.01")
    assert low["comparison"]["min_score"] == 0.01
    assert len(read_json(tmp_path / "low" / "predictions" / "parent.json")) == 9
    _tutorial(tiny_yolo, coco_root / "images", tmp_path / "one", "--max-detections", "1")
    assert {r["class_id"] for r in read_json(tmp_path / "one" / "predictions" / "parent.json")} == {0}


def test_cancel_writes_nothing(tiny_yolo: Path, coco_root: Path) -> None:
    """A cancelled prediction raises Cancelled and returns no partial list."""
    dataset = open_dataset(coco_root)
    _, card = describe(tiny_yolo)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        predict_instances(compile_model(tiny_yolo, "f32"), card, image_table(dataset), {}, 0.1, 100, cancel=cancel)


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
    from segwb.errors import DownloadError

    def offline(cancel: object = None) -> Path:
        raise DownloadError("cannot reach storage.openvinotoolkit.org (name resolution failed)")

    entry = zoo.ENTRIES[zoo.DEFAULT_INSTANCE]
    monkeypatch.setitem(zoo.ENTRIES, zoo.DEFAULT_INSTANCE, dataclasses.replace(entry, obtain=offline))
    code = cli.main(["tutorial", "instance", "--out", str(tmp_path / "o"), *BENCH])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "instance-segmentation-security-0002 could not be fetched" in err and "--model PATH" in err
