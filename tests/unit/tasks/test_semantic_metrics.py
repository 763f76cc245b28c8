"""segwb.tasks.semantic.metrics against small class maps whose IoUs are worked out by hand.

Spec (the original DL Workbench semantic report, parent map as reference): only pixels where both maps
hold a valid id (0..K-1) count; IoU_c = CM[c,c] / (row_c + col_c - CM[c,c]); a class absent from both
maps is dropped; the "Average Result" is the unrounded mean of the per-class IoUs; pixel agreement is
trace / total over valid pixels; the dataset mean IoU comes from the confusion matrix summed over images.
"""

from __future__ import annotations

import numpy as np
import pytest

from segwb.io.labels import VOC_LABELS
from segwb.tasks.semantic.metrics import (
    compare_maps,
    confusion_matrix,
    label_lut,
    mean_iou,
)


def test_identical_maps_give_iou_one_and_full_agreement() -> None:
    """Every class present scores 1 and every pixel agrees when the maps are equal."""
    ref = np.array([[0, 1], [2, 1]], dtype=np.uint8)
    result = compare_maps(ref, ref.copy(), num_classes=3)
    assert result.class_iou == {0: 1.0, 1: 1.0, 2: 1.0}
    assert result.average == 1.0
    assert result.pixel_agreement == 1.0


def test_swapped_classes_give_iou_zero() -> None:
    """Two classes swapped everywhere: both IoUs 0, average 0 (not dropped), agreement 0."""
    ref = np.array([[0, 1], [0, 1]], dtype=np.uint8)
    pred = np.array([[1, 0], [1, 0]], dtype=np.uint8)
    result = compare_maps(ref, pred, num_classes=2)
    assert result.class_iou == {0: 0.0, 1: 0.0}
    assert result.average == 0.0
    assert result.pixel_agreement == 0.0


def test_partial_overlap_3x3_by_hand() -> None:
    """IoUs of a 3x3 example, computed by hand, and an average that is not rounded.

    ref = 0 0 1     pred = 0 1 1
          0 1 1            0 1 1
          2 2 2            2 2 1
    CM (rows ref, cols pred) = [[2, 1, 0],
                                [0, 3, 0],
                                [0, 1, 2]]
    rows 3, 3, 3; cols 2, 5, 2
    IoU_0 = 2 / (3 + 2 - 2) = 2/3;  IoU_1 = 3 / (3 + 5 - 3) = 3/5;  IoU_2 = 2 / (3 + 2 - 2) = 2/3
    average = (2/3 + 3/5 + 2/3) / 3 = 29/45 = 0.6444...;  agreement = (2 + 3 + 2) / 9 = 7/9
    """
    ref = np.array([[0, 0, 1], [0, 1, 1], [2, 2, 2]], dtype=np.uint8)
    pred = np.array([[0, 1, 1], [0, 1, 1], [2, 2, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(confusion_matrix(ref, pred, 3), [[2, 1, 0], [0, 3, 0], [0, 1, 2]])
    result = compare_maps(ref, pred, num_classes=3)
    assert result.class_iou == pytest.approx({0: 2 / 3, 1: 3 / 5, 2: 2 / 3}, rel=1e-12)
    assert result.average == pytest.approx(29 / 45, rel=1e-12)  # 0.6444..., not 0.64
    assert result.pixel_agreement == pytest.approx(7 / 9, rel=1e-12)


def test_class_absent_from_both_maps_is_dropped() -> None:
    """K=5 but only classes 0 and 3 occur: exactly two IoUs, the other three neither 0 nor 1.

    ref = 0 3   pred = 0 3    CM[0,0]=1, CM[3,0]=1, CM[3,3]=2
          3 3          0 3    IoU_0 = 1/(1+2-1) = 1/2; IoU_3 = 2/(3+2-2) = 2/3; average 7/12
    """
    ref = np.array([[0, 3], [3, 3]], dtype=np.uint8)
    pred = np.array([[0, 3], [0, 3]], dtype=np.uint8)
    result = compare_maps(ref, pred, num_classes=5)
    assert set(result.class_iou) == {0, 3}
    assert result.class_iou == pytest.approx({0: 1 / 2, 3: 2 / 3})
    assert result.average == pytest.approx(7 / 12)


def test_void_pixels_are_excluded() -> None:
    """A 255 (VOC void) in the reference leaves the confusion matrix and the agreement denominator.

    ref = 0 255   pred = 0 0    valid pixels: 3; CM = [[1, 0], [1, 1]]
          1 1            1 0    IoU_0 = 1/(1+2-1) = 1/2; IoU_1 = 1/(2+1-1) = 1/2; agreement 2/3
    """
    ref = np.array([[0, 255], [1, 1]], dtype=np.uint8)
    pred = np.array([[0, 0], [1, 0]], dtype=np.uint8)
    cm = confusion_matrix(ref, pred, 2)
    np.testing.assert_array_equal(cm, [[1, 0], [1, 1]])
    assert cm.sum() == 3
    result = compare_maps(ref, pred, num_classes=2)
    assert result.class_iou == pytest.approx({0: 0.5, 1: 0.5})
    assert result.pixel_agreement == pytest.approx(2 / 3)


def test_out_of_range_prediction_is_excluded_too() -> None:
    """A pixel counts only if *both* ids are valid: id 7 in the prediction with K=2 is left out."""
    ref = np.array([[0, 1]], dtype=np.uint8)
    pred = np.array([[0, 7]], dtype=np.uint8)
    result = compare_maps(ref, pred, num_classes=2)
    assert result.class_iou == {0: 1.0}
    assert result.pixel_agreement == 1.0


def test_all_void_map_has_no_result() -> None:
    """No valid pixel: no IoUs, average None and agreement None (not 0, not 1, no division error)."""
    ref = np.full((3, 4), 255, dtype=np.uint8)
    pred = np.zeros((3, 4), dtype=np.uint8)
    result = compare_maps(ref, pred, num_classes=21)
    assert result.class_iou == {}
    assert result.average is None
    assert result.pixel_agreement is None


def test_class_in_one_map_only_counts_as_zero() -> None:
    """Class 2 only in the prediction: IoU 0 and counted in the average; class 1 (nowhere) dropped.

    ref = 0 0 0 0, pred = 0 0 0 2: CM[0,0]=3, CM[0,2]=1
    IoU_0 = 3/(4+3-3) = 3/4; IoU_2 = 0/(0+1-0) = 0; average (3/4 + 0)/2 = 3/8
    """
    ref = np.array([[0, 0, 0, 0]], dtype=np.uint8)
    pred = np.array([[0, 0, 0, 2]], dtype=np.uint8)
    result = compare_maps(ref, pred, num_classes=3)
    assert result.class_iou == pytest.approx({0: 3 / 4, 2: 0.0})
    assert result.average == pytest.approx(3 / 8)


def test_dataset_mean_iou_sums_confusion_matrices() -> None:
    """The dataset mean IoU (summed CM) differs from the mean of per-image averages.

    A: ref 0 0 0 1, pred 0 0 0 0 → CM [[3,0],[1,0]]: IoU_0 = 3/4, IoU_1 = 0 → average 3/8
    B: ref 1 1 1 1, pred 1 1 1 1 → CM [[0,0],[0,4]]: IoU_1 = 1 (class 0 dropped) → average 1
    mean of per-image averages = (3/8 + 1)/2 = 11/16 = 0.6875
    summed CM [[3,0],[1,4]]: IoU_0 = 3/(3+4-3) = 3/4, IoU_1 = 4/(5+4-4) = 4/5 → mean 0.775
    """
    a_ref, a_pred = np.array([[0, 0, 0, 1]]), np.array([[0, 0, 0, 0]])
    b_ref, b_pred = np.array([[1, 1, 1, 1]]), np.array([[1, 1, 1, 1]])
    per_image = [compare_maps(a_ref, a_pred, 2).average, compare_maps(b_ref, b_pred, 2).average]
    assert per_image == pytest.approx([3 / 8, 1.0])
    cm = confusion_matrix(a_ref, a_pred, 2) + confusion_matrix(b_ref, b_pred, 2)
    np.testing.assert_array_equal(cm, [[3, 0], [1, 4]])
    miou, per_class = mean_iou(cm)
    assert per_class == pytest.approx({0: 3 / 4, 1: 4 / 5})
    assert miou == pytest.approx(0.775)
    assert miou != pytest.approx(11 / 16)


def test_mean_iou_of_empty_matrix_is_none() -> None:
    """A dataset without a single valid pixel has no mean IoU."""
    assert mean_iou(np.zeros((3, 3), dtype=np.int64)) == (None, {})


def test_label_lut_voc_to_person_background_model() -> None:
    """VOC person → model 1, background and every other VOC class → model background 0, void stays 255."""
    lut, unmapped = label_lut(VOC_LABELS, ("background", "person"))
    assert lut.shape == (256,)
    assert lut[0] == 0  # background
    assert lut[15] == 1  # person
    assert lut[7] == 0 and lut[8] == 0  # car, cat: the model calls them background
    assert lut[255] == 255
    assert [int(v) for v in lut[:21]] == [0] * 15 + [1] + [0] * 5
    assert "person" not in unmapped and "background" not in unmapped
    assert "car" in unmapped and "cat" in unmapped
    assert len(unmapped) == 19


def test_label_lut_without_background_maps_unknown_to_void() -> None:
    """A model with no background class: unknown dataset classes (background included) become 255."""
    lut, unmapped = label_lut(VOC_LABELS, ("cat", "person"))
    assert lut[8] == 0  # cat
    assert lut[15] == 1  # person
    assert lut[0] == 255 and lut[7] == 255  # background, car
    assert "background" in unmapped and len(unmapped) == 19


def test_label_lut_matches_normalised_names() -> None:
    """Names match ignoring case and punctuation: "Potted-Plant" is VOC's "pottedplant"."""
    lut, unmapped = label_lut(VOC_LABELS, ("Background", "Potted-Plant", "dining table"))
    assert lut[16] == 1  # pottedplant
    assert lut[11] == 2  # diningtable
    assert lut[0] == 0
    assert "pottedplant" not in unmapped and "diningtable" not in unmapped


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
def test_confusion_matrix_fast_path_equals_counting(dtype: type) -> None:
    """uint8 and uint16 maps take OpenCV's histogram; on random maps with void and out-of-range ids (and a
    non-contiguous view) every dtype gives the counts of a plain Python loop."""
    rng = np.random.default_rng(7)
    n = 300 if dtype is np.uint16 else 21
    ref = rng.integers(0, n, (37, 53)).astype(dtype)
    pred = np.where(rng.random(ref.shape) < 0.3, rng.integers(0, n, ref.shape), ref).astype(dtype)
    ref[rng.random(ref.shape) < 0.05] = 255 if dtype is np.uint8 else n + 3
    pred[rng.random(ref.shape) < 0.02] = n
    expected = np.zeros((n, n), dtype=np.int64)
    for r, p in zip(ref[:, ::2].ravel().tolist(), pred[:, ::2].ravel().tolist(), strict=True):
        if r < n and p < n:
            expected[r, p] += 1
    cm = confusion_matrix(ref[:, ::2], pred[:, ::2], n)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)


def test_shape_mismatch_raises() -> None:
    """Maps of different sizes cannot be compared: ValueError naming both shapes."""
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        compare_maps(np.zeros((2, 3), np.uint8), np.zeros((3, 2), np.uint8), num_classes=2)
