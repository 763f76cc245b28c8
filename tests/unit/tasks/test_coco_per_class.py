"""Per-class mask AP of segwb.tasks.instance.coco_eval.evaluate (``per_class=True``): the standard per-category AP
(IoU .50:.95, area all, 100 detections) from COCOeval's precision array, checked against pycocotools on the same
case; None for a category without ground truth; the existing keys unchanged."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from segwb.tasks.instance.coco_eval import evaluate, per_category_ap

H, W = 40, 48
CATEGORIES = [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}, {"id": 18, "name": "dog"}]


def rle(top: int, left: int, h: int, w: int) -> dict:
    mask = np.zeros((H, W), np.uint8)
    mask[top:top + h, left:left + w] = 1
    encoded = mask_utils.encode(np.asfortranarray(mask))
    return {"size": [H, W], "counts": encoded["counts"].decode()}


def ann(i: int, image: int, category: int, box: tuple[int, int, int, int]) -> dict:
    r = rle(*box)
    coded = {"size": r["size"], "counts": r["counts"].encode()}
    return {"id": i, "image_id": image, "category_id": category, "iscrowd": 0, "segmentation": r,
            "area": float(mask_utils.area(coded)), "bbox": mask_utils.toBbox(coded).tolist()}


def det(image: int, category: int, score: float, box: tuple[int, int, int, int]) -> dict:
    r = rle(*box)
    return {"image_id": image, "category_id": category, "score": score, "segmentation": r,
            "bbox": mask_utils.toBbox({"size": r["size"], "counts": r["counts"].encode()}).tolist()}


def ground_truth() -> dict:
    """Two images: persons found exactly, one car found a little off and one missed; no dog in the annotations."""
    return {"images": [{"id": 1, "width": W, "height": H, "file_name": "a.jpg"},
                       {"id": 2, "width": W, "height": H, "file_name": "b.jpg"}],
            "categories": CATEGORIES,
            "annotations": [ann(1, 1, 1, (2, 2, 20, 10)), ann(2, 2, 1, (5, 20, 15, 15)),
                            ann(3, 1, 3, (25, 25, 12, 20)), ann(4, 2, 3, (0, 0, 10, 10))]}


RESULTS = [det(1, 1, 0.9, (2, 2, 20, 10)), det(2, 1, 0.8, (5, 20, 15, 15)),
           det(1, 3, 0.7, (26, 26, 12, 20)), det(2, 3, 0.6, (20, 30, 8, 8)),  # a false car
           det(1, 18, 0.5, (0, 30, 8, 8))]  # a dog where there is none


def pycocotools_per_class(gt: dict, results: list[dict]) -> dict[int, float]:
    """pycocotools' own per-category AP: precision[:, :, k, 0, 2] over values > -1 (what summarize averages)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = {**gt, "annotations": [dict(a) for a in gt["annotations"]]}
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes([dict(r) for r in results]), "segm")
        ev.params.imgIds, ev.params.catIds = [1, 2], [1, 3, 18]
        ev.evaluate()
        ev.accumulate()
    out = {}
    for k, category in enumerate([1, 3, 18]):
        values = ev.eval["precision"][:, :, k, 0, 2]
        out[category] = float(values[values > -1].mean()) if (values > -1).any() else -1.0
    return out


def test_per_class_mask_ap_matches_pycocotools() -> None:
    found = evaluate(ground_truth(), [1, 2], RESULTS, [1, 3, 18], per_class=True)
    expected = pycocotools_per_class(ground_truth(), RESULTS)
    per_class = found["per_class_mask_ap"]
    assert set(per_class) == {"person", "car", "dog"}
    assert per_class["person"] == pytest.approx(1.0) and per_class["person"] == pytest.approx(expected[1], abs=1e-9)
    assert 0 < per_class["car"] < 1 and per_class["car"] == pytest.approx(expected[3], abs=1e-9)
    assert per_class["dog"] is None and expected[18] == -1.0  # no dog annotated: undefined, not 0
    # the whole is the mean over the defined classes, as summarize computes it
    assert found["mask_ap"] == pytest.approx(np.mean([per_class["person"], per_class["car"]]), abs=1e-9)


def test_existing_keys_unchanged_without_per_class() -> None:
    plain = evaluate(ground_truth(), [1, 2], RESULTS, [1, 3, 18])
    assert set(plain) == {"mask_ap", "mask_ap50", "box_ap"}
    with_classes = evaluate(ground_truth(), [1, 2], RESULTS, [1, 3, 18], per_class=True)
    assert {k: with_classes[k] for k in plain} == plain
    assert set(evaluate(ground_truth(), [1, 2], RESULTS, [1, 3], box=False, per_class=True)) == {
        "mask_ap", "mask_ap50", "per_class_mask_ap"}


def test_no_detections_and_no_categories() -> None:
    gt = ground_truth()
    assert evaluate(gt, [1, 2], [], [1, 3, 18], per_class=True) == {
        "mask_ap": 0.0, "mask_ap50": 0.0, "box_ap": 0.0, "per_class_mask_ap": {"person": 0.0, "car": 0.0, "dog": None}}
    assert evaluate(gt, [1, 2], RESULTS, [], per_class=True)["per_class_mask_ap"] == {}
    assert evaluate(gt, [1, 2], [], [1, 3]) == {"mask_ap": 0.0, "mask_ap50": 0.0, "box_ap": 0.0}


def test_per_category_ap_of_a_hand_made_array() -> None:
    precision = -np.ones((10, 101, 2, 4, 3))
    precision[:, :, 0, 0, 2] = 0.5
    precision[:5, :, 0, 0, 2] = 1.0  # the first five IoU thresholds perfect
    precision[:, :, 0, 0, :2] = 0.0  # other maxDets: not what is read
    assert per_category_ap(precision, [7, 9], {7: "a"}) == {"a": pytest.approx(0.75), "9": None}
