"""The instance tutorial on the real YOLO26n-seg fixture and COCO photos (needs $SEGWB_FIXTURES)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from segwb.cli import main
from segwb.core.storage import read_json
from segwb.tasks.model_import import describe

pytestmark = [pytest.mark.fixtures, pytest.mark.slow]

SUBSET = 24


@pytest.fixture(scope="module")
def model(zoo_fixtures: Path) -> Path:
    return zoo_fixtures / "models/yolo26n-seg-coco-320/yolo26n-seg.xml"


@pytest.fixture(scope="module")
def coco_subset(zoo_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 24 images of coco96-coco: a COCO root whose images folder links to the fixture's."""
    source = zoo_fixtures / "datasets/coco96-coco"
    data = json.loads((source / "annotations/instances_val.json").read_text())
    keep = {i["id"] for i in sorted(data["images"], key=lambda i: i["file_name"])[:SUBSET]}
    root = tmp_path_factory.mktemp("coco24")
    (root / "annotations").mkdir()
    (root / "images").symlink_to(source / "images", target_is_directory=True)
    subset = {**data, "images": [i for i in data["images"] if i["id"] in keep],
              "annotations": [a for a in data["annotations"] if a["image_id"] in keep]}
    (root / "annotations/instances_val.json").write_text(json.dumps(subset))
    return root


@pytest.fixture(scope="module")
def project(model: Path, coco_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("yolo") / "project"
    assert main(["tutorial", "instance", "--model", str(model), "--dataset", str(coco_subset), "--out", str(out),
                 "--bench-seconds", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def report(project: Path) -> dict:
    return read_json(project / "report.json")


def test_card_is_inferred_from_the_outputs(model: Path) -> None:
    """[1,300,38] + [1,32,80,80] is an end-to-end YOLO-seg export: RGB, 0..1, letterbox 114, labels.txt read."""
    _, card = describe(model)
    assert (card.task, card.adapter, card.layout, card.input_size) == ("instance", "yolo_e2e", "NCHW", (320, 320))
    assert (card.color_order, card.scale, card.resize, card.pad_value) == ("RGB", (255.0,) * 3, "letterbox", 114.0)
    assert len(card.labels) == 80 and card.labels[0] == "person"


def test_parent_finds_the_annotated_objects(report: dict) -> None:
    """COCO evaluation of the parent's saved predictions: a nano model at 320 px gets a plausible mask AP.

    On all 96 photos it measured 25.2 % mask AP and 38.9 % AP50 (score >= 0.1); a wrong colour order,
    letterbox or mask mapping drops it far below 10 %.
    """
    gt = report["ground_truth"]
    assert gt["images"] == SUBSET and gt["categories_evaluated"] == 80 and not gt["unmapped_model_classes"]
    assert 0.15 < gt["parent"]["mask_ap"] < 0.5 and gt["parent"]["mask_ap50"] > 0.25
    assert gt["parent"]["box_ap"] > gt["parent"]["mask_ap"] * 0.8


def test_int8_stays_close_to_the_parent(report: dict) -> None:
    """INT8 keeps most parent detections (matches / B) and mask AP within a few points."""
    comp, gt = report["comparison"], report["ground_truth"]
    assert comp["parent_detections"] > 50 and comp["matches_over_parent"] > 0.6
    assert abs(gt["parent"]["mask_ap"] - gt["optimized"]["mask_ap"]) < 0.06
    assert report["performance"]["speedup"] > 1.0


def test_its_int8_given_with_optimized_gives_the_same_numbers(project: Path, report: dict, model: Path,
                                                              coco_subset: Path, tmp_path: Path) -> None:
    """segwb's own INT8, copied out as a user's file and given with --optimized to a copy of the project: the given
    model is imported and predicts every image again, and the report's rows, matches and AP are those of segwb's
    own run. The copy keeps the benchmark (the same two model files, so it is reused): a fresh one could pick the
    other precision hint where bf16 exists, and bf16 predictions differ from f32 ones."""
    int8 = tmp_path / "exported" / "model.xml"
    int8.parent.mkdir()
    for suffix in (".xml", ".bin"):
        shutil.copyfile((project / "models/optimized/model").with_suffix(suffix), int8.with_suffix(suffix))
    out = tmp_path / "given"
    shutil.copytree(project, out)
    for made_from_the_int8 in ("steps/predict-optimized.json", "steps/compare.json", "predictions/optimized",
                               "predictions/optimized.json", "report.json"):
        path = out / made_from_the_int8
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    assert main(["tutorial", "instance", "--model", str(model), "--dataset", str(coco_subset), "--out", str(out),
                 "--bench-seconds", "1", "--optimized", str(int8)]) == 0
    given = read_json(out / "report.json")
    assert given["steps_cached"] == {"import": True, "quantize": False, "benchmark": True, "predict_parent": True,
                                     "predict_optimized": False, "compare": False}
    assert given["optimized"]["source"] == "given" and given["optimized"]["given"]["path"] == str(int8)
    assert given["optimized"]["precision"]["kind"] == "int8" and given["optimized"]["precision"]["fake_quantize"] > 50
    assert given["comparison"] == report["comparison"] and given["ground_truth"] == report["ground_truth"]
