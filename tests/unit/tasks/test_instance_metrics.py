"""segwb.tasks.instance.metrics and .instances: matching, AP and the per-class rows, by hand and against pycocotools.

Masks are small numpy rectangles (or "the first k pixels of a 10x10 block", whose IoU with the full block is
exactly k/100) encoded as RLE with ``encode_crop``. Every expected number is worked out in a comment.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from segwb.tasks.instance.instances import Instances, empty, encode_crop, select
from segwb.tasks.instance.metrics import (
    IOU_THRESHOLDS,
    MATCH_IOU,
    RECALL_POINTS,
    average_precision,
    compare_instances,
    greedy_match,
    mask_ious,
)

SIZE = (20, 30)  # (height, width) of every synthetic image
EPS = 1e-9


def rect(top: int, left: int, h: int, w: int, size: tuple[int, int] = SIZE) -> dict[str, Any]:
    """RLE of an h x w rectangle at (top, left)."""
    return encode_crop(np.ones((h, w), dtype=np.uint8), top, left, size)


def partial(k: int, top: int = 0, left: int = 0) -> dict[str, Any]:
    """RLE of the first ``k`` pixels (row-major) of the 10x10 block at (top, left): IoU with that block = k/100."""
    crop = np.zeros(100, dtype=np.uint8)
    crop[:k] = 1
    return encode_crop(crop.reshape(10, 10), top, left, SIZE)


def instances(class_ids: list[int], scores: list[float], masks: list[dict[str, Any]]) -> Instances:
    """Instances in the given order (callers pass them already sorted by descending score)."""
    boxes = np.array([mask_utils.toBbox(m) for m in masks], dtype=np.float32).reshape(-1, 4)
    boxes[:, 2:] += boxes[:, :2]  # x, y, w, h -> x1, y1, x2, y2
    return Instances(SIZE, np.array(class_ids, dtype=np.int64), np.array(scores, dtype=np.float32), boxes, masks)


# --- instances.py --------------------------------------------------------------------------------

def test_encode_crop_decode_and_areas() -> None:
    """encode_crop places the crop at (top, left) in a full-size mask; decode and areas agree with numpy."""
    crop = np.zeros((4, 5), dtype=bool)
    crop[1:3, 1:4] = True  # 2 x 3 = 6 pixels
    rle = encode_crop(crop, 7, 11, SIZE)
    assert list(rle["size"]) == [20, 30]
    inst = instances([0, 1], [0.9, 0.8], [rle, rect(0, 0, 3, 4)])
    full = inst.decode(0)
    assert full.shape == SIZE and full.dtype == np.uint8
    expected = np.zeros(SIZE, dtype=np.uint8)
    expected[8:10, 12:15] = 1  # (7 + 1 .. 7 + 3, 11 + 1 .. 11 + 4)
    np.testing.assert_array_equal(full, expected)
    assert inst.areas().tolist() == [6, 12]
    assert len(inst) == 2


def test_empty_instances() -> None:
    """empty(): no detections, zero areas, shapes (0,) and (0, 4)."""
    e = empty(SIZE)
    assert len(e) == 0 and e.image_size == SIZE
    assert e.boxes.shape == (0, 4) and e.scores.shape == (0,) and e.areas().shape == (0,)


def test_select_ties_keep_model_order() -> None:
    """Equal scores keep the model's order (stable sort): scores [.5, .9, .5, .9, .05] → [1, 3, 0, 2];
    the 0.05 one falls under min_score 0.1; max_detections cuts after sorting; score == min_score is kept."""
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.05], dtype=np.float32)
    classes = np.zeros(5, dtype=np.int64)
    assert select(classes, scores, 0.1, 100).tolist() == [1, 3, 0, 2]
    assert select(classes, scores, 0.1, 3).tolist() == [1, 3, 0]
    assert select(classes, scores, 0.0, 100).tolist() == [1, 3, 0, 2, 4]
    assert select(classes, scores, np.float32(0.5), 100).tolist() == [1, 3, 0, 2]  # ≥, not >
    assert select(classes, scores, 0.95, 100).tolist() == []
    # Many ties among 200 detections: the order is Python's stable sort by descending score (numpy's
    # quicksort would reorder most of the tied runs here).
    many = np.random.default_rng(0).choice(np.float32([0.2, 0.5, 0.8]), 200)
    stable = sorted(range(200), key=lambda i: -float(many[i]))
    assert select(np.zeros(200, np.int64), many, 0.1, 200).tolist() == stable
    assert select(np.zeros(200, np.int64), many, 0.1, 100).tolist() == stable[:100]


# --- mask_ious -----------------------------------------------------------------------------------

def test_mask_ious_rectangles() -> None:
    """10x10 block vs itself = 1; vs 10x5 half inside = 50/100 = 0.5; vs block shifted 5 cols = 50/150 = 1/3;
    disjoint = 0. Rows are detections, columns references."""
    ref = [rect(0, 0, 10, 10), rect(0, 20, 5, 5)]
    det = [rect(0, 0, 10, 10), rect(0, 0, 10, 5), rect(0, 5, 10, 10)]
    ious = mask_ious(det, ref)
    assert ious.shape == (3, 2) and ious.dtype == np.float64
    np.testing.assert_allclose(ious[:, 0], [1.0, 0.5, 1 / 3], atol=EPS)
    # det 2 covers cols 5..14, ref 1 is cols 20..24: disjoint.
    np.testing.assert_allclose(ious[:, 1], [0.0, 0.0, 0.0], atol=EPS)
    assert ious[1, 0] == 0.5  # exactly, so the 0.5 threshold case below is meaningful


def test_mask_ious_empty_sides() -> None:
    """No detections or no references: a zero-size matrix with the right shape."""
    assert mask_ious([], [rect(0, 0, 2, 2)]).shape == (0, 1)
    assert mask_ious([rect(0, 0, 2, 2)] * 2, []).shape == (2, 0)
    assert mask_ious([], []).shape == (0, 0)


# --- greedy_match --------------------------------------------------------------------------------

def test_one_reference_covered_by_two_detections() -> None:
    """Both detections overlap the single reference (IoU 0.9 and 0.8): the first in score order takes it,
    the second is a false positive (one-to-one; the original's double match is not reproduced)."""
    assert greedy_match(np.array([[0.9], [0.8]]), 0.5).tolist() == [0, -1]


def test_greedy_takes_best_reference_not_optimal_assignment() -> None:
    """Det 0 takes ref 0 (IoU 0.9 > 0.6) even though det 1 could only have used ref 0: greedy, like COCO,
    so det 1 stays unmatched (an optimal assignment would have matched both)."""
    ious = np.array([[0.9, 0.6], [0.8, 0.0]])
    assert greedy_match(ious, 0.5).tolist() == [0, -1]


def test_equal_iou_later_reference_wins() -> None:
    """Equal IoU 0.7 with refs 0, 1 and 2 (all unmatched): pycocotools keeps the last one (its ``<`` test lets
    an equal IoU replace the current best), so det 0 → ref 2, det 1 → ref 1, det 2 → ref 0."""
    ious = np.full((3, 3), 0.7)
    assert greedy_match(ious, 0.5).tolist() == [2, 1, 0]
    assert greedy_match(np.array([[0.6, 0.8, 0.8, 0.3]]), 0.5).tolist() == [2]


def test_iou_exactly_at_threshold_matches() -> None:
    """IoU == threshold counts (≥); just below does not. IoU 1.0 matches even at threshold 1.0
    (COCO caps the threshold at 1 - 1e-10)."""
    assert greedy_match(np.array([[0.5]]), 0.5).tolist() == [0]
    assert greedy_match(np.array([[np.nextafter(0.5, 0)]]), 0.5).tolist() == [-1]
    assert greedy_match(np.array([[1.0]]), 1.0).tolist() == [0]
    assert greedy_match(np.array([[0.95]]), IOU_THRESHOLDS[-1]).tolist() == [0]


def test_greedy_match_empty() -> None:
    """No detections / no references: nothing matched, right length."""
    assert greedy_match(np.zeros((0, 3)), 0.5).tolist() == []
    assert greedy_match(np.zeros((2, 0)), 0.5).tolist() == [-1, -1]


# --- average_precision, by hand ------------------------------------------------------------------

def test_constants_are_coco() -> None:
    """10 IoU thresholds 0.50:0.05:0.95 and 101 recall points, as pycocotools' Params."""
    assert len(IOU_THRESHOLDS) == 10 and IOU_THRESHOLDS[0] == 0.5
    np.testing.assert_allclose(IOU_THRESHOLDS, np.linspace(0.5, 0.95, 10))
    np.testing.assert_allclose(RECALL_POINTS, np.linspace(0, 1, 101))
    assert MATCH_IOU == 0.5


@pytest.mark.parametrize(("ious", "expected"), [
    # 1 detection matching 1 reference perfectly: precision 1 at every recall point, every threshold.
    ([[1.0]], 1.0),
    # IoU 0.72: matched at 0.50, 0.55, 0.60, 0.65, 0.70 (5 of 10 thresholds) → 5 x 1.0 / 10.
    ([[0.72]], 0.5),
    # IoU exactly 0.5: matched at 0.50 only → 1 / 10.
    ([[0.5]], 0.1),
    # Two references, one detection matched perfectly: recall 0.5 with precision 1 → recall points 0.00..0.50
    # (51 of 101) get 1, the rest 0 → 51/101 at every threshold.
    ([[1.0, 0.0]], 51 / 101),
    # A false positive ranked first, then a perfect match: tp [0, 1], recall [0, 1], precision [0, .5],
    # made monotone [.5, .5] → 0.5 at every recall point.
    ([[0.0], [1.0]], 0.5),
    # One reference covered by two detections, IoU 0.62 (higher score) and 0.92:
    #  t ∈ {.50, .55, .60}: det 0 matches, det 1 is FP: precision 1 at recall 1 → 1.0  (3 thresholds)
    #  t ∈ {.65 .. .90}:   det 0 misses, det 1 matches: as the row above → 0.5      (6 thresholds)
    #  t = .95:            nothing → 0
    # AP = (3 x 1 + 6 x 0.5) / 10 = 0.6
    ([[0.62], [0.92]], 0.6),
    # Two references, three detections TP, FP, TP (all IoU 1): recall [.5, .5, 1], precision [1, .5, 2/3],
    # monotone [1, 2/3, 2/3] → 51 points at 1, 50 points at 2/3 → (51 + 100/3) / 101 = 253/303.
    ([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]], 253 / 303),
    # Equal IoU 0.818 to both refs for det 0, det 1 = ref 0 exactly (IoU 1) and 2/3 with ref 1:
    #  t ≤ .80: det 0 → ref 1 (later wins), det 1 → ref 0: both TP → 1.0            (7 thresholds)
    #  t ≥ .85: det 0 misses, det 1 → ref 0: tp [0, 1], recall [0, .5], precision mono [.5, .5]
    #           → 51 points at 0.5 = 25.5/101                                         (3 thresholds)
    # AP = (7 + 3 x 25.5/101) / 10
    ([[90 / 110, 90 / 110], [1.0, 80 / 120]], (7 + 3 * 25.5 / 101) / 10),
])
def test_average_precision_by_hand(ious: list[list[float]], expected: float) -> None:
    """COCO-style AP of one image and class, against numbers worked out by hand (see the comments)."""
    assert average_precision(np.array(ious, dtype=np.float64)) == pytest.approx(expected, abs=EPS)


def test_average_precision_without_detections_is_zero() -> None:
    """References but no detections: AP 0 (recall never reached)."""
    assert average_precision(np.zeros((0, 2))) == 0.0


def test_average_precision_from_masks() -> None:
    """The same hand cases through real masks: partial(72) vs the 10x10 block has IoU 0.72 → AP 0.5;
    partial(62) then partial(92) → AP 0.6 (see the parametrised table)."""
    block = [rect(0, 0, 10, 10)]
    assert average_precision(mask_ious([partial(72)], block)) == pytest.approx(0.5, abs=EPS)
    assert average_precision(mask_ious([partial(62), partial(92)], block)) == pytest.approx(0.6, abs=EPS)


# --- compare_instances ---------------------------------------------------------------------------

def test_compare_one_parent_two_detections() -> None:
    """Class 3: one parent instance, two optimized detections on it (IoU 0.92 then 0.62): A=2, B=1, Matches=1,
    precision 1/2; only the first detection is flagged matched. AP: det 0 matches at t ≤ .90 (9 thresholds,
    precision 1 at recall 1 → 1.0), nothing at .95 → 0.9."""
    ref = instances([3], [0.99], [rect(0, 0, 10, 10)])
    pred = instances([3, 3], [0.8, 0.7], [partial(92), partial(62)])
    cmp = compare_instances(ref, pred)
    assert len(cmp.classes) == 1
    row = cmp.classes[0]
    assert (row.class_id, row.optimized, row.parent, row.matches) == (3, 2, 1, 1)
    assert row.precision == pytest.approx(0.5)
    assert row.average_precision == pytest.approx(0.9, abs=EPS)
    assert cmp.optimized_matched.tolist() == [True, False]
    assert cmp.parent_matched.tolist() == [True]
    assert (cmp.optimized, cmp.parent, cmp.matches) == (2, 1, 1)


def test_compare_classes_in_one_model_only() -> None:
    """Class 1 only in the optimized model (A=1, B=0): AP None (no reference), precision 0/1 = 0.0.
    Class 2 only in the parent (A=0, B=2): precision None, AP 0.0 (references, no detections).
    Class 5 in both, identical masks: A=B=Matches=1, AP 1, precision 1. Rows come sorted by class id."""
    ref = instances([5, 2, 2], [0.9, 0.8, 0.7], [rect(0, 0, 5, 5), rect(10, 10, 5, 5), rect(10, 20, 5, 5)])
    pred = instances([5, 1], [0.95, 0.6], [rect(0, 0, 5, 5), rect(10, 10, 5, 5)])
    cmp = compare_instances(ref, pred)
    rows = {r.class_id: r for r in cmp.classes}
    assert [r.class_id for r in cmp.classes] == [1, 2, 5]
    r1, r2, r5 = rows[1], rows[2], rows[5]
    assert (r1.optimized, r1.parent, r1.matches, r1.average_precision, r1.precision) == (1, 0, 0, None, 0.0)
    assert (r2.optimized, r2.parent, r2.matches, r2.precision) == (0, 2, 0, None)
    assert r2.average_precision == 0.0
    assert (r5.optimized, r5.parent, r5.matches, r5.precision) == (1, 1, 1, 1.0)
    assert r5.average_precision == pytest.approx(1.0, abs=EPS)
    # Same mask as class 2's parent instance but class 1: no cross-class matching.
    assert cmp.optimized_matched.tolist() == [True, False]
    assert cmp.parent_matched.tolist() == [True, False, False]
    assert (cmp.optimized, cmp.parent, cmp.matches) == (2, 3, 1)  # Basic-mode sums


@pytest.mark.parametrize(("n_ref", "n_pred"), [(0, 0), (0, 2), (2, 0)])
def test_compare_empty_images(n_ref: int, n_pred: int) -> None:
    """Empty on either or both sides: no crash; rows only for classes present; Matches 0; flags all False."""
    masks = [rect(0, 0, 5, 5), rect(10, 10, 5, 5)]
    ref = instances([0, 1][:n_ref], [0.9, 0.8][:n_ref], masks[:n_ref]) if n_ref else empty(SIZE)
    pred = instances([0, 1][:n_pred], [0.9, 0.8][:n_pred], masks[:n_pred]) if n_pred else empty(SIZE)
    cmp = compare_instances(ref, pred)
    assert len(cmp.classes) == max(n_ref, n_pred)  # one class per instance here
    assert (cmp.optimized, cmp.parent, cmp.matches) == (n_pred, n_ref, 0)
    assert cmp.optimized_matched.shape == (n_pred,) and not cmp.optimized_matched.any()
    assert cmp.parent_matched.shape == (n_ref,) and not cmp.parent_matched.any()
    for row in cmp.classes:
        if n_ref == 0:
            assert row.average_precision is None and row.precision == 0.0
        else:
            assert row.average_precision == 0.0 and row.precision is None


def test_compare_tied_scores_first_in_order_wins() -> None:
    """Two detections with the same score on one parent instance: after select() keeps the model order, the
    first one (index 0 of the kept order) takes the parent instance, the second is a false positive."""
    scores = np.array([0.7, 0.7], dtype=np.float32)
    order = select(np.zeros(2, np.int64), scores, 0.1, 100)
    assert order.tolist() == [0, 1]
    masks = [partial(62), partial(92)]  # the first has the lower IoU, yet wins: score order, not IoU order
    pred = instances([0, 0], scores[order].tolist(), [masks[i] for i in order])
    ref = instances([0], [0.9], [rect(0, 0, 10, 10)])
    cmp = compare_instances(ref, pred)
    assert cmp.optimized_matched.tolist() == [True, False]
    # = the (0.62, 0.92) hand case: AP 0.6.
    assert cmp.classes[0].average_precision == pytest.approx(0.6, abs=EPS)


def test_compare_threshold_exactly_half() -> None:
    """A detection covering exactly half of the union (10x5 inside 10x10: IoU 0.5) is a match at 0.5, not above."""
    ref = instances([0], [0.9], [rect(0, 0, 10, 10)])
    pred = instances([0], [0.8], [rect(0, 0, 10, 5)])
    assert compare_instances(ref, pred).matches == 1
    assert compare_instances(ref, pred, threshold=0.51).matches == 0
    assert compare_instances(ref, pred).classes[0].average_precision == pytest.approx(0.1, abs=EPS)


def test_compare_equal_iou_later_parent_wins() -> None:
    """Parent instances p0 (cols 0-9) and p1 (cols 2-11); the top detection (cols 1-10) has IoU 90/110 with
    both → takes p1 (the later one); the next detection (= p0) then takes p0: 2 matches. If the earlier one
    won, det 1 would be left with p1 at IoU 80/120 = 0.67 — still a match at 0.5, but at threshold 0.7 the
    later-wins rule gives 2 matches and earlier-wins only 1."""
    ref = instances([0, 0], [0.9, 0.8], [rect(0, 0, 10, 10), rect(0, 2, 10, 10)])
    pred = instances([0, 0], [0.9, 0.8], [rect(0, 1, 10, 10), rect(0, 0, 10, 10)])
    assert compare_instances(ref, pred).matches == 2
    assert compare_instances(ref, pred, threshold=0.7).matches == 2
    assert compare_instances(ref, pred).classes[0].average_precision == pytest.approx((7 + 3 * 25.5 / 101) / 10, abs=EPS)


# --- cross-check against pycocotools -------------------------------------------------------------

def coco_ap(dets: list[dict[str, Any]], scores: list[float], refs: list[dict[str, Any]],
            crowd: list[dict[str, Any]] = ()) -> float:
    """pycocotools' segm AP (stats[0]) for one image (id 1), one category (id 1), with ``crowd`` regions."""
    h, w = refs[0]["size"]
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": int(w), "height": int(h), "file_name": "x.png"}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": int(i >= len(refs)), "segmentation": r,
                         "area": float(mask_utils.area(r)), "bbox": mask_utils.toBbox(r).tolist()}
                        for i, r in enumerate([*refs, *crowd])],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes([{"image_id": 1, "category_id": 1, "score": s, "segmentation": d} for d, s in zip(dets, scores)])
        ev = COCOeval(gt, dt, "segm")
        ev.params.imgIds = [1]
        ev.params.catIds = [1]
        ev.params.areaRng = [[0, 1e10]] * 4  # our AP has no area ranges (COCO's "all" range already ignores none)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def random_case(seed: int) -> tuple[list[dict[str, Any]], list[float], list[dict[str, Any]]]:
    """A few reference rectangles (≥ 4x4) and detections that jitter some of them or land anywhere,
    with distinct scores, returned sorted by descending score."""
    rng = np.random.default_rng(seed)
    h, w = 40, 48
    boxes = []
    for _ in range(int(rng.integers(1, 5))):
        bh, bw = (int(v) for v in rng.integers(4, 16, 2))
        boxes.append((int(rng.integers(0, h - bh)), int(rng.integers(0, w - bw)), bh, bw))
    refs = [rect(t, l, bh, bw, (h, w)) for t, l, bh, bw in boxes]
    dets = []
    for _ in range(int(rng.integers(1, 7))):
        if rng.random() < 0.75:  # a jittered reference
            t, l, bh, bw = boxes[int(rng.integers(len(boxes)))]
            t, l = t + int(rng.integers(-2, 3)), l + int(rng.integers(-2, 3))
            bh, bw = bh + int(rng.integers(-2, 3)), bw + int(rng.integers(-2, 3))
            t, l = min(max(t, 0), h - 3), min(max(l, 0), w - 3)
            bh, bw = max(3, min(bh, h - t)), max(3, min(bw, w - l))
        else:  # anywhere
            bh, bw = (int(v) for v in rng.integers(3, 12, 2))
            t, l = int(rng.integers(0, h - bh)), int(rng.integers(0, w - bw))
        dets.append(rect(t, l, bh, bw, (h, w)))
    scores = sorted(rng.choice(np.arange(1, 1000), len(dets), replace=False) / 1000.0, reverse=True)
    return dets, [float(s) for s in scores], refs


@pytest.mark.parametrize("seed", range(12))
def test_average_precision_matches_pycocotools_random(seed: int) -> None:
    """Random small cases (one image, one class, distinct scores, no crowd): our AP == COCOeval stats[0]."""
    dets, scores, refs = random_case(seed)
    ours = average_precision(mask_ious(dets, refs))
    assert ours == pytest.approx(coco_ap(dets, scores, refs), abs=EPS)


def test_random_cases_are_not_trivial() -> None:
    """The random cases above cover a spread of APs (not all 0 or 1), so the cross-check means something."""
    aps = {round(average_precision(mask_ious(d, r)), 6) for d, _, r in (random_case(s) for s in range(12))}
    assert len(aps) >= 5 and any(0 < a < 1 for a in aps)


def test_average_precision_matches_pycocotools_equal_iou_and_ties() -> None:
    """Deterministic cases that exercise the tie rules against pycocotools: equal IoU with two references
    (later wins; see test_compare_equal_iou_later_parent_wins), and equal scores (stable order)."""
    refs = [rect(0, 0, 10, 10), rect(0, 2, 10, 10)]
    dets = [rect(0, 1, 10, 10), rect(0, 0, 10, 10)]
    ours = average_precision(mask_ious(dets, refs))
    assert ours == pytest.approx(coco_ap(dets, [0.9, 0.8], refs), abs=EPS)
    assert ours == pytest.approx((7 + 3 * 25.5 / 101) / 10, abs=EPS)
    # Tied scores: pycocotools sorts with a stable mergesort, so the list order decides, as select() does.
    dets = [partial(62), partial(92)]
    block = [rect(0, 0, 10, 10)]
    assert average_precision(mask_ious(dets, block)) == pytest.approx(coco_ap(dets, [0.5, 0.5], block), abs=EPS)
    assert coco_ap(dets, [0.5, 0.5], block) == pytest.approx(0.6, abs=EPS)


def test_crowd_region_ignores_detections_on_it() -> None:
    """One instance (block at the origin) and a crowd region (10x10 at column 15). Detections by score:
    d1 covers 7 of its 10 rows inside the crowd (crowd IoU = 70/100), d0 is the instance, d2 lands elsewhere.

    Without the crowd: d1 FP, d0 TP, d2 FP → precision at recall 1 is 1/2 → AP 0.5 at every threshold.
    With it: at t = 0.50 … 0.70 d1 is ignored (TP first → AP 1); at 0.75 … 0.95 it counts as before (0.5).
    AP = (5 x 1 + 5 x 0.5) / 10 = 0.75.
    """
    block, crowd = [rect(0, 0, 10, 10)], [rect(10, 15, 10, 10)]
    dets = [rect(7, 15, 10, 10), rect(0, 0, 10, 10), rect(12, 0, 5, 5)]
    assert mask_ious(dets[:1], crowd, crowd=True)[0, 0] == pytest.approx(0.7)
    assert average_precision(mask_ious(dets, block)) == pytest.approx(0.5, abs=EPS)
    ours = average_precision(mask_ious(dets, block), mask_ious(dets, crowd, crowd=True))
    assert ours == pytest.approx(0.75, abs=EPS)
    assert ours == pytest.approx(coco_ap(dets, [0.9, 0.8, 0.7], block, crowd), abs=EPS)
    # A detection matched to the instance stays a true positive even when it also covers the crowd region.
    assert average_precision(mask_ious(dets[1:2], block), mask_ious(dets[1:2], block, crowd=True)) == pytest.approx(1.0)


def crowd_case(seed: int) -> tuple[list[dict[str, Any]], list[float], list[dict[str, Any]], list[dict[str, Any]]]:
    """2-3 instances and 1-2 crowd regions (rectangles in a 40x48 image), and detections that jitter any of
    them or land anywhere, with distinct scores in descending order."""
    rng = np.random.default_rng(300 + seed)
    boxes = [(int(rng.integers(0, 28)), int(rng.integers(0, 34)), int(rng.integers(6, 12)), int(rng.integers(6, 14)))
             for _ in range(int(rng.integers(3, 6)))]
    masks = [rect(t, l, h, w, (40, 48)) for t, l, h, w in boxes]
    split = int(rng.integers(2, len(boxes)))
    dets = []
    for _ in range(int(rng.integers(3, 9))):
        t, l, h, w = boxes[int(rng.integers(len(boxes)))] if rng.random() < 0.8 else (
            int(rng.integers(0, 30)), int(rng.integers(0, 36)), 6, 8)
        t, l = min(max(t + int(rng.integers(-2, 3)), 0), 33), min(max(l + int(rng.integers(-2, 3)), 0), 39)
        dets.append(rect(t, l, min(h, 40 - t), min(w, 48 - l), (40, 48)))
    scores = sorted(rng.choice(np.arange(1, 1000), len(dets), replace=False) / 1000.0, reverse=True)
    return dets, [float(v) for v in scores], masks[:split], masks[split:]


@pytest.mark.parametrize("seed", range(12))
def test_average_precision_with_crowd_matches_pycocotools(seed: int) -> None:
    """Random cases with crowd regions: our AP == COCOeval's."""
    dets, scores, refs, crowd = crowd_case(seed)
    ours = average_precision(mask_ious(dets, refs), mask_ious(dets, crowd, crowd=True))
    assert ours == pytest.approx(coco_ap(dets, scores, refs, crowd), abs=EPS)


def test_crowd_cases_are_not_trivial() -> None:
    """In most of the cases above the crowd regions change the AP, and the APs spread."""
    changed, aps = 0, set()
    for seed in range(12):
        dets, _, refs, crowd = crowd_case(seed)
        plain, ours = average_precision(mask_ious(dets, refs)), average_precision(mask_ious(dets, refs), mask_ious(dets, crowd, crowd=True))
        changed += ours != plain
        aps.add(round(ours, 6))
    assert changed >= 6 and len(aps) >= 8


def test_compare_instances_crowd_changes_only_the_ap() -> None:
    """Crowd regions of a class lower no AP of that class by their detections, and leave A, B, Matches and
    precision as they were (those compare two models, where there is no crowd)."""
    ref = instances([0], [1.0], [rect(0, 0, 10, 10)])
    crowd = instances([0, 1], [1.0, 1.0], [rect(10, 15, 10, 10), rect(0, 12, 8, 8)])
    pred = instances([0, 0, 0], [0.9, 0.8, 0.7], [rect(7, 15, 10, 10), rect(0, 0, 10, 10), rect(12, 0, 5, 5)])
    plain, with_crowd = compare_instances(ref, pred), compare_instances(ref, pred, crowd=crowd)
    assert [r.average_precision for r in plain.classes] == [pytest.approx(0.5)]
    assert [r.average_precision for r in with_crowd.classes] == [pytest.approx(0.75)]
    strip = [(r.class_id, r.optimized, r.parent, r.matches, r.precision) for r in plain.classes]
    assert strip == [(r.class_id, r.optimized, r.parent, r.matches, r.precision) for r in with_crowd.classes]


@pytest.mark.parametrize("seed", range(6))
def test_compare_instances_counts_random(seed: int) -> None:
    """compare_instances on random cases: A, B, Matches and the matched flags agree with greedy_match at 0.5
    computed here per class; Matches never exceeds min(A, B)."""
    rng = np.random.default_rng(100 + seed)
    dets, scores, refs = random_case(seed)
    h, w = dets[0]["size"]
    det_cls = rng.integers(0, 2, len(dets)).tolist()
    ref_cls = rng.integers(0, 2, len(refs)).tolist()
    ref = Instances((int(h), int(w)), np.array(ref_cls, np.int64), np.linspace(1, 0.5, len(refs)).astype(np.float32),
                    np.zeros((len(refs), 4), np.float32), refs)
    pred = Instances((int(h), int(w)), np.array(det_cls, np.int64), np.array(scores, np.float32),
                     np.zeros((len(dets), 4), np.float32), dets)
    cmp = compare_instances(ref, pred)
    exp_pred, exp_ref = np.zeros(len(dets), bool), np.zeros(len(refs), bool)
    for row in cmp.classes:
        p = [i for i, c in enumerate(det_cls) if c == row.class_id]
        r = [i for i, c in enumerate(ref_cls) if c == row.class_id]
        m = greedy_match(mask_ious([dets[i] for i in p], [refs[i] for i in r]), 0.5)
        assert (row.optimized, row.parent, row.matches) == (len(p), len(r), int((m >= 0).sum()))
        assert row.matches <= min(row.optimized, row.parent)
        for i, j in enumerate(m):
            if j >= 0:
                exp_pred[p[i]] = exp_ref[r[j]] = True
        if r:
            ap = coco_ap([dets[i] for i in p], [scores[i] for i in p], [refs[i] for i in r]) if p else 0.0
            assert row.average_precision == pytest.approx(ap, abs=EPS)
    assert cmp.optimized_matched.tolist() == exp_pred.tolist()
    assert cmp.parent_matched.tolist() == exp_ref.tolist()
    assert int(cmp.optimized_matched.sum()) == int(cmp.parent_matched.sum()) == cmp.matches
    assert (cmp.optimized, cmp.parent) == (len(dets), len(refs))
