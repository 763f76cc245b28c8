"""The instance tutorial on the real YOLO26n-seg fixture and COCO photos (needs $SEGWB_FIXTURES)."""

from __future__ import annotations

import json
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
def report(model: Path, coco_subset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("yolo") / "project"
    assert main(["tutorial", "instance", "--model", str(model), "--dataset", str(coco_subset), "--out", str(out),
                 "--bench-seconds", "1"]) == 0
    return read_json(out / "report.json")


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
