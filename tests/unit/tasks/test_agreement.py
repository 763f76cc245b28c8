"""The agreement metrics (the ground-truth formulas with the parent's predictions as the truth) against hand-computed
cases: semantic mean IoU over one summed confusion matrix, instance COCO mask AP with the parent's detections as the
annotations."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from segwb.tasks.instance.agreement import agreement_ap, image_agreement, parent_ground_truth
from segwb.tasks.instance.instances import Instances, empty
from segwb.tasks.instance.validation import InstanceAgreement
from segwb.tasks.semantic.agreement import (
    agreement_confusion,
    agreement_miou,
    agreement_per_class,
    class_pixels,
    loss_share,
    image_agreement as semantic_image_agreement,
    summed_confusion,
)
from segwb.tasks.semantic.validation import SemanticAgreement

SIZE = (20, 20)


def square_map(top: int, left: int, side: int = 4, cls: int = 1, size: int = 10) -> np.ndarray:
    found = np.zeros((size, size), np.uint8)
    found[top:top + side, left:left + side] = cls
    return found


# --- semantic ------------------------------------------------------------------------------------

def test_identical_maps_agree_fully() -> None:
    parent = [square_map(2, 2), square_map(0, 5, cls=2)]
    cms = [agreement_confusion(p, p.copy(), 3) for p in parent]
    assert agreement_miou(summed_confusion(cms, 3)) == 1.0
    assert [semantic_image_agreement(cm) for cm in cms] == [1.0, 1.0]
    metric = SemanticAgreement(parent, 3)
    stats, values = zip(*(metric.image(i, p) for i, p in enumerate(parent)), strict=True)
    assert metric.combine([0, 1], list(stats)) == 100.0 and values == (1.0, 1.0)


def test_a_shifted_square_gives_the_hand_computed_iou() -> None:
    """A 4x4 square moved one column: 12 pixels shared of 20 in the union; background 80 of 88."""
    cm = agreement_confusion(square_map(2, 2), square_map(2, 3), 2)
    assert cm.tolist() == [[80, 4], [4, 12]]
    assert agreement_per_class(cm) == pytest.approx({0: 80 / 88, 1: 12 / 20})
    assert agreement_miou(cm) == pytest.approx((80 / 88 + 12 / 20) / 2)


def test_one_matrix_over_all_images_not_a_mean_of_images() -> None:
    """Image 0 is identical; image 1 is all background for the parent and the candidate adds a 2x2 blob of class 1.
    Summed: class 1 holds 16 shared pixels of 20 in the union (the blob is a false positive of a class the parent
    has elsewhere); background 180 shared of 184. Per image, image 1's share of the loss: its 4 wrong pixels against
    the parent's 184 background and 16 class-1 pixels of the whole set, over the 2 classes."""
    parent = [square_map(2, 2), np.zeros((10, 10), np.uint8)]
    candidate = [square_map(2, 2), square_map(0, 0, side=2)]
    metric = SemanticAgreement(parent, 2)
    (s0, v0), (s1, v1) = (metric.image(i, c) for i, c in enumerate(candidate))
    assert metric.combine([0, 1], [s0, s1]) == pytest.approx(100 * (180 / 184 + 16 / 20) / 2)
    assert (v0, v1) == (1.0, pytest.approx(1 - (4 / 184 + 4 / 16) / 2))
    assert semantic_image_agreement(s1) == pytest.approx((96 / 100 + 0) / 2)  # the image's own mean IoU
    # Ranked on image 1 alone (a subset), class 1 exists only in the candidate: IoU 0 there.
    assert metric.combine([1], [s1]) == pytest.approx(100 * (96 / 100 + 0) / 2)


def test_loss_share_weighs_pixels_by_their_class_in_the_whole_set() -> None:
    """10 wrong pixels of a class the parent holds 1000 of cost what 1 wrong pixel of a class of 100 costs; a pixel
    of a class the parent never holds costs the whole class (it would enter the mean with IoU 0)."""
    pixels = np.int64([10000, 1000, 100, 0])
    missed_big = np.zeros((4, 4), np.int64)
    missed_big[1, 0] = 10  # 10 pixels of class 1 called background
    missed_small = np.zeros((4, 4), np.int64)
    missed_small[2, 0] = 1
    assert loss_share(missed_big, pixels) == pytest.approx(1 - (10 / 10000 + 10 / 1000) / 3)
    assert loss_share(missed_small, pixels) == pytest.approx(1 - (1 / 10000 + 1 / 100) / 3)
    stray = np.zeros((4, 4), np.int64)
    stray[0, 3] = 1
    assert loss_share(stray, pixels) == pytest.approx(1 - (1 / 10000 + 1) / 3)
    assert loss_share(np.diag([5, 5, 5, 0]), pixels) == 1.0
    assert class_pixels([np.uint8([[0, 1], [255, 1]])], 2).tolist() == [1, 2]


def test_void_pixels_of_either_side_are_ignored() -> None:
    parent, candidate = square_map(2, 2), square_map(2, 2)
    parent[0, :] = 255
    candidate[9, 0] = 7  # not a class of a 2-class model
    cm = agreement_confusion(parent, candidate, 2)
    assert cm.sum() == 100 - 10 - 1 and agreement_miou(cm) == 1.0
    assert agreement_miou(np.zeros((2, 2), np.int64)) is None
    assert semantic_image_agreement(np.zeros((2, 2), np.int64)) == 1.0


# --- instance ------------------------------------------------------------------------------------

def boxes(found: list[tuple[int, int, int, int, int, float]]) -> Instances:
    """Instances of (x1, y1, x2, y2, class, score), masks filling the boxes, on a 20x20 image, highest score first."""
    if not found:
        return empty(SIZE)
    found = sorted(found, key=lambda f: -f[5])
    masks = []
    for x1, y1, x2, y2, _, _ in found:
        full = np.zeros(SIZE, np.uint8, order="F")
        full[y1:y2, x1:x2] = 1
        masks.append(mask_utils.encode(full))
    return Instances(SIZE, np.int64([f[4] for f in found]), np.float32([f[5] for f in found]),
                     np.float32([f[:4] for f in found]), masks)


def test_the_parents_detections_become_coco_annotations() -> None:
    truth = parent_ground_truth([boxes([(0, 0, 10, 10, 3, 0.9)]), empty(SIZE)])
    assert [i["id"] for i in truth["images"]] == [1, 2] and truth["categories"] == [{"id": 4, "name": "3"}]
    (ann,) = truth["annotations"]
    assert (ann["image_id"], ann["category_id"], ann["area"], ann["iscrowd"], ann["bbox"]) == (1, 4, 100.0, 0, [0, 0, 10, 10])


def test_identical_detections_give_ap_one() -> None:
    parent = [boxes([(0, 0, 10, 10, 0, 0.9), (10, 10, 20, 20, 1, 0.6)]), boxes([(2, 2, 8, 8, 0, 0.7)])]
    found = agreement_ap(parent, parent, box=True)
    assert found == pytest.approx({"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0})
    assert [image_agreement(p, p) for p in parent] == pytest.approx([1.0, 1.0])


def test_a_shifted_mask_is_true_at_the_thresholds_below_its_iou() -> None:
    """A 10x10 mask moved 2 columns: IoU 80/120 = 0.667, a hit at 0.50, 0.55, 0.60, 0.65 of COCO's ten thresholds."""
    parent, candidate = [boxes([(0, 0, 10, 10, 0, 0.9)])], [boxes([(2, 0, 12, 10, 0, 0.9)])]
    found = agreement_ap(parent, candidate)
    assert found["mask_ap"] == pytest.approx(0.4) and found["mask_ap50"] == pytest.approx(1.0)
    assert image_agreement(parent[0], candidate[0]) == pytest.approx(0.4)


def test_a_false_positive_on_an_image_where_the_parent_has_nothing() -> None:
    """Ranked above the true detection it halves the precision at full recall (AP 0.5); below it, costs nothing."""
    parent = [boxes([(0, 0, 10, 10, 0, 0.9)]), empty(SIZE)]
    above = [parent[0], boxes([(5, 5, 15, 15, 0, 0.95)])]
    below = [parent[0], boxes([(5, 5, 15, 15, 0, 0.5)])]
    assert agreement_ap(parent, above)["mask_ap"] == pytest.approx(0.5)
    assert agreement_ap(parent, below)["mask_ap"] == pytest.approx(1.0)
    assert image_agreement(parent[1], above[1]) == 1.0  # per image: the parent has no class there to score
    # A class the parent never detects is no COCO category: its detections cost nothing.
    assert agreement_ap(parent, [parent[0], boxes([(5, 5, 15, 15, 2, 0.95)])])["mask_ap"] == pytest.approx(1.0)


def test_nothing_detected_by_the_parent() -> None:
    assert agreement_ap([empty(SIZE)], [empty(SIZE)])["mask_ap"] == 1.0
    assert agreement_ap([empty(SIZE)], [boxes([(0, 0, 5, 5, 0, 0.9)])])["mask_ap"] == 0.0
    assert agreement_ap([boxes([(0, 0, 5, 5, 0, 0.9)])], [empty(SIZE)])["mask_ap"] == 0.0


def test_a_mask_of_another_class_matches_nothing() -> None:
    parent, candidate = [boxes([(0, 0, 10, 10, 0, 0.9)])], [boxes([(0, 0, 10, 10, 1, 0.9)])]
    assert agreement_ap(parent, candidate)["mask_ap"] == 0.0
    assert image_agreement(parent[0], candidate[0]) == 0.0


def test_the_accuracy_aware_metric_is_agreement_ap_in_points() -> None:
    parent = [boxes([(0, 0, 10, 10, 0, 0.9)]), empty(SIZE), boxes([(4, 4, 14, 14, 1, 0.8)])]
    candidate = [boxes([(2, 0, 12, 10, 0, 0.9)]), boxes([(5, 5, 15, 15, 0, 0.95)]), parent[2]]
    metric = InstanceAgreement(parent)
    stats, values = zip(*(metric.image(i, c) for i, c in enumerate(candidate)), strict=True)
    assert metric.combine([0, 1, 2], list(stats)) == pytest.approx(100 * agreement_ap(parent, candidate)["mask_ap"])
    assert values == pytest.approx((0.4, 1.0, 1.0))
    assert metric.combine([2], [stats[2]]) == pytest.approx(100.0)  # a subset: only its images and their classes
    assert metric.combine([1], [stats[1]]) == 0.0  # the parent has nothing there, the candidate something
