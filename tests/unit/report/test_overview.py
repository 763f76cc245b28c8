"""segwb.report.overview on hand-computed cases: bin edges and which bin a value is in (lower edge inclusive, upper
exclusive, 1.0 in the last bin), missing values, the instance ratio Matches / B, the table filter of a bin, the
per-class pairs of semantic and instance ground truths and of reports without them."""

from __future__ import annotations

import math

import pytest

from segwb.report.overview import (MEASURES, ClassPair, bin_edges, bin_filter, bin_index, bin_label, histogram,
                                   image_values, images_in_bin, measure_for, per_class, with_values)
from segwb.report.table import Query, columns, run_query

SEMANTIC, INSTANCE = MEASURES


def test_edges_are_exact_steps() -> None:
    assert bin_edges(4) == (0.0, 0.25, 0.5, 0.75, 1.0)
    edges = bin_edges(20)
    assert len(edges) == 21 and edges[3] == 0.15 and edges[-1] == 1.0 and edges[7] == 0.35  # no 0.15000000000000002
    assert bin_edges(2, 1.0, 3.0) == (1.0, 2.0, 3.0)
    for bad in ((0, 0.0, 1.0), (4, 1.0, 1.0)):
        with pytest.raises(ValueError):
            bin_edges(*bad)


@pytest.mark.parametrize("value, index", [(0.0, 0), (0.1, 0), (0.2499999, 0), (0.25, 1), (0.5, 2), (0.74, 2),
                                          (0.75, 3), (0.99, 3), (1.0, 3), (None, None), (math.nan, None),
                                          (-0.01, None), (1.0000001, None)])
def test_a_value_is_in_the_bin_starting_at_or_below_it(value: float | None, index: int | None) -> None:
    assert bin_index(value, bin_edges(4)) == index


def test_histogram_counts_missing_and_outside() -> None:
    rows = [{"image": f"i{k}", "average_result": v}
            for k, v in enumerate([0.0, 0.25, 0.3, 0.5, 0.75, 1.0, 1.0, None, math.nan, 1.5])]
    found = histogram(rows, SEMANTIC, bins=4)
    assert found.counts == (1, 2, 1, 3) and found.missing == 2 and found.outside == 1 and found.total == 7
    assert found.label(0) == "[0.00, 0.25)" and found.label(3) == "[0.75, 1.00]"
    assert found.note() == "2 images without a value (the Average Result is N/A) not in any bin; 1 outside 0..1."
    assert images_in_bin(rows, SEMANTIC, found.edges, 3) == ["i4", "i5", "i6"]
    assert images_in_bin(rows, SEMANTIC, found.edges, 1) == ["i1", "i2"]


def test_empty_report() -> None:
    found = histogram([], SEMANTIC)
    assert found.counts == (0,) * 20 and found.total == found.missing == found.outside == 0 and found.note() == ""
    assert images_in_bin([], SEMANTIC, found.edges, 0) == []


def test_instance_ratio_matches_over_parent_detections() -> None:
    rows = [{"image": "a", "matches": 1, "parent_detections": 2, "optimized_detections": 3},
            {"image": "b", "matches": 0, "parent_detections": 0, "optimized_detections": 2},  # B = 0: no value
            {"image": "c", "matches": 3, "parent_detections": 3, "optimized_detections": 3},
            {"image": "d", "matches": 0, "parent_detections": 4, "optimized_detections": 0}]
    assert [INSTANCE.value(r) for r in rows] == [0.5, None, 1.0, 0.0]
    found = histogram(rows, INSTANCE, bins=2)
    assert found.counts == (1, 2) and found.missing == 1
    assert "1 image without a value (B = 0: the parent detected nothing)" in found.note()
    assert image_values(rows, INSTANCE) == {"a": 0.5, "b": None, "c": 1.0, "d": 0.0}


def test_the_measure_of_each_task_by_its_columns() -> None:
    assert measure_for(c.key for c in columns("semantic", "basic")) is SEMANTIC
    assert measure_for(c.key for c in columns("instance", "basic")) is INSTANCE
    assert measure_for(["image", "something"]) is None


def test_bin_filter_selects_exactly_the_bin_in_the_table() -> None:
    """The table's inclusive (min, max) filter of a bin shows the images of the bin, edges included once."""
    values = [0.0, 0.05, 0.1, 0.15, 0.2, 0.9499999999, 0.95, 0.99, 1.0, None]
    rows = [{"image": f"i{k}", "average_result": v, "pixel_agreement": 0.5} for k, v in enumerate(values)]
    edges = bin_edges(20)
    low, high = bin_filter(edges, 1)
    assert low == 0.05 and high < 0.1 and math.nextafter(high, 1.0) == 0.1
    assert bin_filter(edges, 19) == (0.95, 1.0)
    for index in range(20):
        shown = run_query(rows, Query("image", filters={"average_result": bin_filter(edges, index)}, page_size=50))
        assert sorted(r["image"] for r in shown.rows) == sorted(images_in_bin(rows, SEMANTIC, edges, index)), index
    assert sum(len(images_in_bin(rows, SEMANTIC, edges, i)) for i in range(20)) == 9
    with pytest.raises(IndexError):
        bin_filter(edges, 20)
    assert bin_label(edges, 19) == "[0.95, 1.00]" and bin_label(edges, 0) == "[0.00, 0.05)"


def test_with_values_puts_the_image_value_on_advanced_rows() -> None:
    basic = [{"image": "a", "matches": 1, "parent_detections": 2}, {"image": "b", "matches": 0, "parent_detections": 0}]
    advanced = [{"image": "a", "class_id": 0}, {"image": "a", "class_id": 2}, {"image": "b", "class_id": 1}]
    with_values(advanced, image_values(basic, INSTANCE), INSTANCE.key)
    assert [r["matches_over_parent"] for r in advanced] == [0.5, 0.5, None]
    rows = [{"image": "a", "average_result": 0.3}]
    assert with_values(rows, {"a": 0.9}, "average_result") == [{"image": "a", "average_result": 0.3}]  # kept


def test_semantic_per_class_pairs_most_hurt_first() -> None:
    gt = {"parent": {"mean_iou": 0.7, "per_class_iou": {"cat": 0.8, "dog": 0.6, "person": 0.9, "sofa": 0.4}},
          "optimized": {"mean_iou": 0.6, "per_class_iou": {"cat": 0.5, "dog": 0.6, "person": 0.85, "tv": 0.2}}}
    found = per_class(gt)
    assert not isinstance(found, str) and found.metric == "IoU"
    assert [p.name for p in found.pairs] == ["cat", "person", "dog", "sofa", "tv"]
    assert found.pairs[0] == ClassPair("cat", 0.8, 0.5) and found.pairs[0].drop == pytest.approx(0.3)
    assert found.pairs[3] == ClassPair("sofa", 0.4, None) and found.pairs[3].drop is None
    assert found.undefined == ()


def test_instance_per_class_ap_with_undefined_classes() -> None:
    gt = {"parent": {"mask_ap": 0.3, "per_class_mask_ap": {"person": 0.5, "dog": None, "</script>": 0.25}},
          "optimized": {"mask_ap": 0.2, "per_class_mask_ap": {"person": 0.4, "dog": None, "</script>": 0.25}}}
    found = per_class(gt)
    assert not isinstance(found, str) and found.metric == "mask AP"
    assert [(p.name, p.parent, p.optimized) for p in found.pairs] == [("person", 0.5, 0.4), ("</script>", 0.25, 0.25)]
    assert found.undefined == ("dog",)


def test_no_per_class_chart_says_why_in_one_line() -> None:
    older = {"parent": {"mask_ap": 0.3, "mask_ap50": 0.5, "box_ap": 0.3},
             "optimized": {"mask_ap": 0.2, "mask_ap50": 0.4, "box_ap": 0.2}}
    reasons = [per_class(None), per_class({}), per_class(older),
               per_class({"parent": {"per_class_iou": {}}, "optimized": {"per_class_iou": {}}}),
               per_class({"parent": {"per_class_mask_ap": {"dog": None}}, "optimized": {"per_class_mask_ap": {"dog": None}}}),
               per_class({"parent": {"mask_ap": None}, "optimized": {"mask_ap": None}})]
    assert all(isinstance(r, str) and "\n" not in r for r in reasons)
    assert "no annotations" in reasons[0] and "earlier version" in reasons[2] and "No class was evaluated" in reasons[3]
    assert "No class has a mask AP" in reasons[4] and "earlier version" in reasons[5]
