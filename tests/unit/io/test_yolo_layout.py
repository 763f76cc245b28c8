"""The Ultralytics YOLO-seg layout: data.yaml, images/<split>, labels/<split> polygons normalised to 0..1, read as
COCO instances (and checked as a COCO file is); bad lines dropped with their reason."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from segwb.core.errors import DatasetError
from segwb.io.datasets import open_dataset
from segwb.tasks.instance.coco_eval import evaluate

SQUARE = "0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75"  # a square of half the image's side, centred


def _yolo(root: Path, labels: dict[str, str], yaml: str = "names: {0: person, 1: cat}\nval: images/val\n") -> Path:
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "data.yaml").write_text(yaml)
    for n, (stem, text) in enumerate(labels.items()):
        cv2.imwrite(str(root / "images" / "val" / f"{stem}.jpg"), np.full((40, 80, 3), 40 * n, np.uint8))
        if text is not None:
            (root / "labels" / "val" / f"{stem}.txt").write_text(text)
    return root


def test_polygons_become_coco_instances_in_pixels(tmp_path: Path) -> None:
    ds = open_dataset(_yolo(tmp_path / "y", {"a": f"1 {SQUARE}\n", "b": ""}))
    assert ds.layout == "yolo" and ds.labels == ("person", "cat") and [s.key for s in ds.samples] == ["a", "b"]
    assert ds.coco["categories"] == [{"id": 1, "name": "person"}, {"id": 2, "name": "cat"}]
    (ann,) = ds.coco["annotations"]
    assert ann["category_id"] == 2 and ann["image_id"] == ds.samples[0].image_id
    assert ann["bbox"] == pytest.approx([20, 10, 40, 20], abs=1) and ann["area"] == pytest.approx(800, rel=0.1)
    assert ds.annotated and ds.dropped == [] and len(ds.extra_files) == 2  # the label files are in the digest


def test_bad_lines_are_dropped_with_their_reason(tmp_path: Path) -> None:
    lines = [f"0 {SQUARE}", "7 " + SQUARE, "0 0.5 0.5 0.2 0.2", "0 0.1 0.1 0.2", "0 120 30 200 30 200 90",
             "x 0.1 0.2", f"1 {SQUARE}"]
    ds = open_dataset(_yolo(tmp_path / "y", {"a": "\n".join(lines) + "\n"}))
    assert len(ds.coco["annotations"]) == 2
    reasons = {d["reason"]: d["examples"] for d in ds.dropped}
    assert reasons == {"class index outside 0..1 (data.yaml names)": ["a.txt line 2"],
                       "a box (x y w h), not a polygon: a detection label": ["a.txt line 3"],
                       "polygon of fewer than 3 points or of odd length": ["a.txt line 4"],
                       "polygon coordinates outside 0..1 (not normalised)": ["a.txt line 5"],
                       "not a class index followed by numbers": ["a.txt line 6"]}


@pytest.mark.parametrize(("yaml", "words"), [
    ("val: images/val\n", "'names' must list the class names"),
    ("names: [a]\nval: images/test\n", "no image folder 'images/test'"),
    ("names: [a]\nval: ../../etc\n", "outside the dataset folder"),
    ("names: [a]\ntest: images/val\n", "no image folder for split 'train' (have: test)"),
    ("- a\n", "must be a YAML mapping"),
])
def test_a_bad_data_yaml_is_one_line_naming_it(tmp_path: Path, yaml: str, words: str) -> None:
    with pytest.raises(DatasetError, match="data.yaml") as info:
        open_dataset(_yolo(tmp_path / "y", {"a": ""}, yaml))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_the_yolo_and_coco_layouts_of_coco96_hold_the_same_objects(zoo_fixtures: Path) -> None:
    """Every COCO-layout object, given as a prediction of score 1, is found in the YOLO layout at mask AP ≥ 0.99:
    the two layouts give one ground truth (the polygons differ only by the 6-decimal normalisation)."""
    yolo = open_dataset(zoo_fixtures / "datasets/coco96-yolo")
    coco = open_dataset(zoo_fixtures / "datasets/coco96-coco")
    ids = {Path(i["file_name"]).name: i["id"] for i in yolo.coco["images"]}
    names = {c["id"]: c["name"] for c in coco.coco["categories"]}
    category = {c["name"]: c["id"] for c in yolo.coco["categories"]}
    files = {i["id"]: i["file_name"] for i in coco.coco["images"]}
    predictions = []
    for ann in coco.coco["annotations"]:
        if ann["iscrowd"]:
            continue
        image = next(i for i in coco.coco["images"] if i["id"] == ann["image_id"])
        rle = mask_utils.merge(mask_utils.frPyObjects(ann["segmentation"], image["height"], image["width"]))
        predictions.append({"image_id": ids[files[ann["image_id"]]], "category_id": category[names[ann["category_id"]]],
                            "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()}, "score": 1.0,
                            "bbox": ann["bbox"]})
    assert len(yolo.coco["annotations"]) == len(coco.coco["annotations"])
    result = evaluate(json.loads(json.dumps(yolo.coco)), sorted(ids.values()), predictions,
                      sorted({p["category_id"] for p in predictions}))
    assert result["mask_ap"] >= 0.99
