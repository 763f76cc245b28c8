"""segwb.io.coco.read_instances on hostile instances files: every field it uses is checked for type and value; what
cannot be used is dropped (or, for area and bbox, replaced by the mask's) and recorded through Drops with a specific
reason; a file unusable as a whole is a one-line DatasetError; never a traceback, never a silently wrong AP.

Each case is a tiny JSON built here: two 48x64 images, two categories, rectangles as polygons.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from segwb.core.errors import DatasetError
from segwb.io.coco import category_map, read_instances, segmentation_rle
from segwb.io.datasets import open_dataset
from segwb.io.datasets.base import Drops
from segwb.tasks.instance.coco_eval import evaluate
from segwb.tasks.instance.results import to_result

H, W = 48, 64
PERFECT = {"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0}
ID_RANGE = "is not an integer from 0 to 9223372036854775807"


def _poly(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def _rle(x1: int, y1: int, x2: int, y2: int, h: int = H, w: int = W) -> dict[str, Any]:
    """A rectangle as compressed RLE, counts as text (as a JSON file holds it)."""
    full = np.zeros((h, w), dtype=np.uint8, order="F")
    full[y1:y2, x1:x2] = 1
    rle = mask_utils.encode(full)
    return {"size": [h, w], "counts": rle["counts"].decode()}


def _data() -> dict[str, Any]:
    """Images 1 (a.jpg) and 2 (b.jpg), categories person (1) and car (2); annotations 1, 2 on image 1, 3 on image 2."""
    return {"images": [{"id": 1, "file_name": "a.jpg", "height": H, "width": W},
                       {"id": 2, "file_name": "b.jpg", "height": H, "width": W}],
            "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": [_poly(4, 4, 20, 30)]},
                {"id": 2, "image_id": 1, "category_id": 2, "iscrowd": 0, "segmentation": [_poly(30, 10, 60, 40)]},
                {"id": 3, "image_id": 2, "category_id": 1, "iscrowd": 0, "segmentation": [_poly(10, 5, 40, 25)]}]}


def _write(tmp_path: Path, data: dict[str, Any] | str) -> Path:
    path = tmp_path / "instances_val.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _read(tmp_path: Path, data: dict[str, Any] | str) -> tuple[dict[str, Any], dict[tuple[str, str], list[str]]]:
    """read_instances through a Drops: the checked data and (what, reason) → the names recorded."""
    path = _write(tmp_path, data)
    drops = Drops(path)
    gt = read_instances(path, drops)
    return gt, {(d["what"], d["reason"]): d["examples"] for d in drops.records()}


def _error(tmp_path: Path, data: dict[str, Any] | str | bytes) -> str:
    """The DatasetError read_instances raises: one line, naming the file."""
    path = tmp_path / "instances_val.json"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        _write(tmp_path, data)
    with pytest.raises(DatasetError) as err:
        read_instances(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)) and err.value.path == path
    return message


def _perfect(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What a perfect model finds on the images of a well-formed ``data``: each non-crowd annotation's own mask,
    with its box (the bbox given, else the mask's), as saved in predictions/*.json."""
    out = []
    for a in data["annotations"]:
        if a.get("iscrowd"):
            continue
        rle = segmentation_rle(a["segmentation"], (H, W))
        assert rle is not None
        x, y, w, h = a.get("bbox") or mask_utils.toBbox(rle).tolist()
        out.append(to_result(a["image_id"], a["category_id"], 0, 0.9, np.array([x, y, x + w, y + h]), rle))
    return json.loads(json.dumps(out))


def _ap(gt: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    return evaluate(gt, [i["id"] for i in gt["images"]], results, [c["id"] for c in gt["categories"]])


def test_clean_file_reads_whole_and_evaluates_perfectly(tmp_path: Path) -> None:
    """The base case: nothing recorded, area and bbox derived from the masks, AP 1 for perfect predictions."""
    gt, dropped = _read(tmp_path, _data())
    assert dropped == {} and [a["id"] for a in gt["annotations"]] == [1, 2, 3]
    assert gt["annotations"][0]["bbox"] == [4.0, 4.0, 16.0, 26.0] and gt["annotations"][0]["area"] == 16 * 26
    assert _ap(gt, _perfect(_data())) == pytest.approx(PERFECT, abs=1e-9)


# --- tracebacks that were --------------------------------------------------------------------------

def test_image_id_a_list(tmp_path: Path) -> None:
    """image_id [1] (unhashable) is not a traceback: the annotation is dropped, the others kept."""
    data = _data()
    data["annotations"][0]["image_id"] = [1]
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", f"image_id {ID_RANGE}"): ["id 1"]}
    assert [a["id"] for a in gt["annotations"]] == [2, 3]


def test_category_id_a_dict(tmp_path: Path) -> None:
    data = _data()
    data["annotations"][1]["category_id"] = {"id": 2}
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", f"category_id {ID_RANGE}"): ["id 2"]}
    assert [a["id"] for a in gt["annotations"]] == [1, 3]


@pytest.mark.parametrize("value", ["yes", 2, 0.5, None, [0], "0"])
def test_iscrowd_not_0_or_1(tmp_path: Path, value: Any) -> None:
    """iscrowd "yes", 2, 0.5, null, [0] or "0": dropped (a crowd region taken for an object, or the reverse, would
    change AP); true/false are read as 1/0."""
    data = _data()
    data["annotations"][0]["iscrowd"] = value
    data["annotations"][1]["iscrowd"] = True
    data["annotations"][2]["iscrowd"] = False
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", "iscrowd is not 0 or 1"): ["id 1"]}
    assert [(a["id"], a["iscrowd"]) for a in gt["annotations"]] == [(2, 1), (3, 0)]


@pytest.mark.parametrize(("field", "value"), [("height", -48), ("width", -64), ("width", 0), ("height", 1.5),
                                              ("width", "64"), ("height", None), ("width", True), ("height", 1e300)])
def test_image_size_not_a_positive_integer(tmp_path: Path, field: str, value: Any) -> None:
    """A negative, zero, fractional, textual, missing or boolean height/width drops the image, and its annotations
    with a reason naming why."""
    data = _data()
    data["images"][0][field] = value
    gt, dropped = _read(tmp_path, data)
    reason = "height or width is not a positive integer"
    assert dropped == {("image", reason): ["a.jpg"], ("annotation", f"on a dropped image ({reason})"): ["id 1", "id 2"]}
    assert [i["id"] for i in gt["images"]] == [2] and [a["id"] for a in gt["annotations"]] == [3]


def test_image_too_large_for_pycocotools(tmp_path: Path) -> None:
    """height x width beyond 32-bit pixel counts: dropped, not a wrapped-around mask."""
    data = _data()
    data["images"][0].update(height=100_000, width=100_000)
    gt, dropped = _read(tmp_path, data)
    assert dropped[("image", "height x width too large")] == ["a.jpg"]
    assert [i["id"] for i in gt["images"]] == [2]


GARBAGE_COUNTS = {
    "characters outside 0..o": "zzzz!!!~~~",
    "last number cut short": "0o",
    "runs far beyond the image": "0" + "_" * 50,
    "not ASCII": "é5",
    "too many characters for one number": "0" + "o" * 8 + "0",
    "a 10x10 mask on a 48x64 image": _rle(2, 2, 8, 8, 10, 10)["counts"],
    "one pixel short": mask_utils.frPyObjects({"size": [H, W], "counts": [5, 10, H * W - 16]}, H, W)["counts"].decode(),
}


@pytest.mark.parametrize("counts", list(GARBAGE_COUNTS.values()), ids=list(GARBAGE_COUNTS))
def test_garbage_rle_counts_text(tmp_path: Path, counts: str) -> None:
    """Compressed RLE texts pycocotools reads into garbage (its area and bbox are nonsense, decode raises) are
    dropped at read time, so the final evaluation never meets them; the valid RLEs beside them evaluate to AP 1."""
    data = _data()
    data["annotations"].append({"id": 4, "image_id": 2, "category_id": 2, "iscrowd": 0,
                                "segmentation": {"size": [H, W], "counts": counts}})
    data["annotations"].append({"id": 5, "image_id": 2, "category_id": 2, "iscrowd": 0,
                                "segmentation": _rle(40, 30, 60, 45)})
    gt, dropped = _read(tmp_path, data)
    assert list(dropped.values()) == [["id 4"]]
    ((what, reason),) = dropped
    assert what == "annotation" and reason in ("segmentation: RLE counts not valid run lengths",
                                               "segmentation: RLE run lengths do not add up to the image's pixels")
    assert segmentation_rle(data["annotations"][3]["segmentation"], (H, W)) is None
    assert [a["id"] for a in gt["annotations"]] == [1, 2, 3, 5]
    assert _ap(gt, _perfect(gt)) == pytest.approx(PERFECT, abs=1e-9)


@pytest.mark.parametrize(("counts", "reason"), [
    ([H * W - 10, -5, 15], "segmentation: RLE counts not valid run lengths"),
    ([0, 10, 20], "segmentation: RLE run lengths do not add up to the image's pixels"),
    ([0, "10", H * W - 10], "segmentation: RLE counts not valid run lengths"),
    ([0, True, H * W - 1], "segmentation: RLE counts not valid run lengths"),
    ({"0": 1}, "segmentation: RLE counts neither a list nor a text"),
])
def test_garbage_uncompressed_rle(tmp_path: Path, counts: Any, reason: str) -> None:
    """Uncompressed (crowd-style) counts must be non-negative integers adding up to height x width; a valid one,
    as a crowd region, is kept and the evaluation runs."""
    data = _data()
    data["annotations"].append({"id": 4, "image_id": 2, "category_id": 2, "iscrowd": 1,
                                "segmentation": {"size": [H, W], "counts": counts}})
    data["annotations"].append({"id": 5, "image_id": 2, "category_id": 2, "iscrowd": 1,
                                "segmentation": {"size": [H, W], "counts": [100, 200, H * W - 300]}})
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", reason): ["id 4"]}
    assert [a["id"] for a in gt["annotations"]] == [1, 2, 3, 5] and gt["annotations"][3]["area"] == 200
    assert _ap(gt, _perfect(gt)) == pytest.approx(PERFECT, abs=1e-9)


@pytest.mark.parametrize(("size", "reason"), [
    ([10, 10], "segmentation: RLE size differs from the image's"),
    ([W, H], "segmentation: RLE size differs from the image's"),
    ([48.0, 64.0], "segmentation: RLE without a size [height, width]"),
    ("48x64", "segmentation: RLE without a size [height, width]"),
    (None, "segmentation: RLE without a size [height, width]"),
])
def test_rle_size(tmp_path: Path, size: Any, reason: str) -> None:
    data = _data()
    data["annotations"][2]["segmentation"] = {**_rle(1, 1, 9, 9), "size": size}
    _, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", reason): ["id 3"]}


@pytest.mark.parametrize(("content", "what"), [
    (b"\xff\xfe\x00\x81 not text at all \x9c", "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary with newlines"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"images": [{"id": ' + b"1" * 5000 + b"}]}", "an integer too long"),
    (b'{"images": [],\n"annotations": [\n', "truncated over several lines"),
])
def test_unreadable_file_is_a_one_line_error(tmp_path: Path, content: bytes, what: str) -> None:
    assert "not a readable JSON file" in _error(tmp_path, content), what


def test_images_entries_not_objects(tmp_path: Path) -> None:
    """Entries of 'images' that are not JSON objects are dropped by position; the good image stays."""
    data = _data()
    data["images"] = ["a.jpg", 3, None, data["images"][1]]
    gt, dropped = _read(tmp_path, data)
    assert dropped[("image", "not a JSON object")] == ["images[0]", "images[1]", "images[2]"]
    assert dropped[("annotation", "unknown image id")] == ["id 1", "id 2"]
    assert [i["id"] for i in gt["images"]] == [2]


@pytest.mark.parametrize(("category", "message"), [
    ("person", "categories[1] is not a JSON object"),
    ({"id": "2", "name": "car"}, "categories[1]: id is not an integer"),
    ({"id": 2.5, "name": "car"}, "categories[1]: id is not an integer"),
    ({"id": True, "name": "car"}, "categories[1]: id is not an integer"),
    ({"id": -1, "name": "car"}, "categories[1]: id is not an integer"),  # -1 is segwb's UNMAPPED
    ({"id": 2, "name": ["car"]}, "categories[1]: name is not a text"),
    ({"id": 2}, "categories[1]: name is not a text"),
    ({"id": 1, "name": "car\nbus"}, "category id 1 used by several categories ('person', 'car\\nbus')"),
])
def test_bad_category_is_a_one_line_error(tmp_path: Path, category: Any, message: str) -> None:
    """A category that is not an object, has no integer id from 0, no text name, or shares its id: DatasetError —
    the categories are the metric's classes, so dropping one (or guessing which of two is meant) would change it."""
    data = _data()
    data["categories"][1] = category
    assert message in _error(tmp_path, data)


@pytest.mark.parametrize(("value", "kept"), [(True, False), (1.5, False), (2.0, True), ("2", False), (-2, False),
                                             (2**63, False), (float("nan"), False)])
def test_image_id_bool_float_string(tmp_path: Path, value: Any, kept: bool) -> None:
    """Image id true, 1.5, "2", -2, 2^63 or NaN: the image is dropped (int(1.5) would silently be 1, true would be
    1); 2.0 is the integer 2."""
    data = _data()
    data["images"][1]["id"] = value
    gt, dropped = _read(tmp_path, data)
    if kept:
        assert dropped == {} and [i["id"] for i in gt["images"]] == [1, 2]
        assert all(type(i["id"]) is int for i in gt["images"])
    else:
        assert dropped[("image", f"id {ID_RANGE}")] == ["b.jpg"]
        assert dropped[("annotation", "unknown image id")] == ["id 3"]


@pytest.mark.parametrize("field", ["image_id", "category_id"])
@pytest.mark.parametrize("value", [True, 1.5, "1", None, -1])
def test_annotation_ids_bool_float_string(tmp_path: Path, field: str, value: Any) -> None:
    """image_id / category_id true, 1.5, "1", null or -1 (segwb's UNMAPPED) are not an image or category id:
    the annotation is dropped."""
    data = _data()
    data["annotations"][0][field] = value
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", f"{field} {ID_RANGE}"): ["id 1"]}
    assert [a["id"] for a in gt["annotations"]] == [2, 3]


def test_strings_where_numbers_are_expected(tmp_path: Path) -> None:
    """Numbers written as text: polygon coordinates drop the annotation, area and bbox fall back to the mask's."""
    data = _data()
    data["annotations"][0]["segmentation"] = [[str(v) for v in _poly(4, 4, 20, 30)]]
    data["annotations"][1].update(area="900", bbox=["30", "10", "30", "30"])
    gt, dropped = _read(tmp_path, data)
    assert dropped == {
        ("annotation", "segmentation: polygon with non-numeric coordinates"): ["id 1"],
        ("annotation", "invalid area (not a number from 0 to the image's pixels) replaced by the mask's"): ["id 2"],
        ("annotation", "invalid bbox (not 4 finite numbers x, y, w, h with w, h >= 0) replaced by the mask's"): ["id 2"]}
    assert [(a["id"], a["area"], a["bbox"]) for a in gt["annotations"][:1]] == [(2, 900.0, [30.0, 10.0, 30.0, 30.0])]


# --- silently wrong numbers that were ------------------------------------------------------------

def _three_images() -> dict[str, Any]:
    """_data() plus image 3 (c.jpg) with a car (annotation 4)."""
    data = _data()
    data["images"].append({"id": 3, "file_name": "c.jpg", "height": H, "width": W})
    data["annotations"].append({"id": 4, "image_id": 3, "category_id": 2, "iscrowd": 0,
                                "segmentation": [_poly(2, 20, 50, 46)]})
    return data


def test_duplicate_image_ids(tmp_path: Path) -> None:
    """c.jpg listed with b.jpg's id 2: both images and all their annotations are dropped with the reason, and
    perfect predictions on what is left give AP 1 (they used to be merged into one image: a far lower AP)."""
    clean = _three_images()
    data = json.loads(json.dumps(clean))
    data["images"][2]["id"] = 2
    data["annotations"][3]["image_id"] = 2
    gt, dropped = _read(tmp_path, data)
    reason = "image id 2 used by several images"
    assert dropped == {("image", reason): ["b.jpg", "c.jpg"], ("annotation", f"on a dropped image ({reason})"): ["id 3", "id 4"]}
    assert [i["id"] for i in gt["images"]] == [1] and [a["id"] for a in gt["annotations"]] == [1, 2]
    # A perfect model on each file: c.jpg's objects reported under id 2, as the samples' ids would say.
    results = _perfect({**clean, "annotations": [{**a, "image_id": 2 if a["image_id"] == 3 else a["image_id"]}
                                                 for a in clean["annotations"]]})
    assert _ap(gt, results) == pytest.approx(PERFECT, abs=1e-9)


def test_duplicate_image_ids_in_the_layout(tmp_path: Path) -> None:
    """open_dataset on the same file: the samples are the images kept, dataset.dropped says why the others went."""
    data = _three_images()
    data["images"][2]["id"] = 2
    data["annotations"][3]["image_id"] = 2
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data), encoding="utf-8")
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (root / "images").mkdir(exist_ok=True)
        assert cv2.imwrite(str(root / "images" / name), np.full((H, W, 3), 90, np.uint8))
    ds = open_dataset(root)
    assert [(s.name, s.image_id) for s in ds.samples] == [("a.jpg", 1)]
    assert {(d["what"], d["reason"], d["count"]) for d in ds.dropped} == {
        ("image", "image id 2 used by several images", 2),
        ("annotation", "on a dropped image (image id 2 used by several images)", 2)}


def test_duplicate_file_names(tmp_path: Path) -> None:
    """Two entries for a.jpg (ids 1 and 3): which annotations the file on disk has is unknowable — both dropped."""
    data = _three_images()
    data["images"][2]["file_name"] = "a.jpg"
    gt, dropped = _read(tmp_path, data)
    reason = "file_name used by several images"
    assert dropped == {("image", reason): ["a.jpg", "a.jpg"],
                       ("annotation", f"on a dropped image ({reason})"): ["id 1", "id 2", "id 4"]}
    assert [i["id"] for i in gt["images"]] == [2]
    assert _ap(gt, _perfect(_data())) == pytest.approx(PERFECT, abs=1e-9)


def test_duplicate_category_ids(tmp_path: Path) -> None:
    data = _data()
    data["categories"].append({"id": 2, "name": "truck"})
    assert "category id 2 used by several categories ('car', 'truck')" in _error(tmp_path, data)


@pytest.mark.parametrize(("value", "reason"), [
    (1, "id used by an earlier annotation: renumbered"),
    (0, "id not an integer from 1 to 9223372036854775807: renumbered"),
    (-3, "id not an integer from 1 to 9223372036854775807: renumbered"),
    (2**63, "id not an integer from 1 to 9223372036854775807: renumbered"),
    ("3", "id not an integer from 1 to 9223372036854775807: renumbered"),
    (2.5, "id not an integer from 1 to 9223372036854775807: renumbered"),
])
def test_duplicate_or_invalid_annotation_ids_renumbered(tmp_path: Path, value: Any, reason: str) -> None:
    """Annotation 3 with id 1 (taken), 0 or less (faster-coco-eval counts such a ground truth as never matched:
    AP 0 for perfect predictions), beyond 64 bits, text or 1.5: renumbered to the smallest free id and recorded;
    a missing id is filled silently. Perfect predictions give AP 1."""
    data = _three_images()
    data["annotations"][2]["id"] = value
    del data["annotations"][3]["id"]
    gt, dropped = _read(tmp_path, data)
    name = "id 1" if value == 1 else "annotations[2]"
    assert dropped == {("annotation", reason): [name]}
    assert [a["id"] for a in gt["annotations"]] == [1, 2, 3, 4]
    assert _ap(gt, _perfect(_three_images())) == pytest.approx(PERFECT, abs=1e-9)


BAD_BBOX = "invalid bbox (not 4 finite numbers x, y, w, h with w, h >= 0) replaced by the mask's"


@pytest.mark.parametrize(("bbox", "reason"), [
    ([4, 4, -16, -26], BAD_BBOX),
    ([4, 4, float("nan"), 26], BAD_BBOX),
    ([4, 4, float("inf"), 26], BAD_BBOX),
    ([4, 4, 16], BAD_BBOX),
    ({"x": 4}, BAD_BBOX),
    ([4, 4, True, 26], BAD_BBOX),
    ([400, 4, 16, 26], "bbox outside the image replaced by the mask's"),
    ([4, 4, 160, 26], "bbox outside the image replaced by the mask's"),
])
def test_bad_bbox_replaced_by_the_masks(tmp_path: Path, bbox: Any, reason: str) -> None:
    """A file's own unusable bbox no longer overrides the mask's (it used to, lowering box AP): perfect predictions
    give box AP 1, where the file's box would have given less."""
    data = _data()
    data["annotations"][0]["bbox"] = bbox
    gt, dropped = _read(tmp_path, json.dumps(data).replace("Infinity", "1e400"))
    assert dropped == {("annotation", reason): ["id 1"]}
    assert gt["annotations"][0]["bbox"] == [4.0, 4.0, 16.0, 26.0]
    results = _perfect(_data())
    assert _ap(gt, results) == pytest.approx(PERFECT, abs=1e-9)
    if reason != BAD_BBOX or bbox == [4, 4, -16, -26]:  # the box as the file had it: the metric it would have given
        raw = {**gt, "annotations": [{**a, "bbox": bbox} if a["id"] == 1 else a for a in gt["annotations"]]}
        assert _ap(raw, results)["box_ap"] < 0.9


def test_valid_bbox_and_area_of_the_file_are_kept(tmp_path: Path) -> None:
    """A usable bbox and area (as COCO's, from the polygon rather than the pixels) are the file's, unchanged."""
    data = _data()
    data["annotations"][0].update(bbox=[4.0, 4.0, 16.0, 26.0], area=416.0)
    data["annotations"][1].update(bbox=[29.5, 9.5, 31.0, 31.0], area=0)
    gt, dropped = _read(tmp_path, data)
    assert dropped == {}
    assert [(a["bbox"], a["area"]) for a in gt["annotations"][:2]] == [([4.0, 4.0, 16.0, 26.0], 416.0),
                                                                       ([29.5, 9.5, 31.0, 31.0], 0.0)]


@pytest.mark.parametrize("area", [-5, float("nan"), 1e400, 1e11, "416", None, [416]])
def test_bad_area_replaced_by_the_masks(tmp_path: Path, area: Any) -> None:
    """A negative, NaN, infinite, text or beyond-the-image area (COCOeval ignores ground truth with area > 1e10):
    replaced by the mask's and recorded; perfect predictions give AP 1."""
    data = _data()
    data["annotations"][0]["area"] = area
    gt, dropped = _read(tmp_path, json.dumps(data).replace("Infinity", "1e400"))
    assert dropped == {("annotation", "invalid area (not a number from 0 to the image's pixels) replaced by the mask's"): ["id 1"]}
    assert gt["annotations"][0]["area"] == 16 * 26
    assert _ap(gt, _perfect(_data())) == pytest.approx(PERFECT, abs=1e-9)


@pytest.mark.parametrize(("value", "reason"), [
    (float("nan"), "segmentation: polygon with non-finite coordinates"),
    (1e400, "segmentation: polygon with non-finite coordinates"),
    (10**400, "segmentation: polygon with non-finite coordinates"),
    (1e12, "segmentation: polygon far outside the image"),  # pycocotools segfaults on it
    (-500, "segmentation: polygon far outside the image"),
])
def test_non_finite_or_far_polygon_dropped(tmp_path: Path, value: Any, reason: str) -> None:
    """A NaN/inf coordinate (pycocotools hangs on it, or makes an empty ground truth) or one far off the image:
    the annotation is dropped with the reason; the rest evaluates to AP 1."""
    data = _data()
    data["annotations"][0]["segmentation"] = [_poly(4, 4, 20, 30), [4, 4, value, 4, 20, 30]]
    gt, dropped = _read(tmp_path, json.dumps(data).replace("Infinity", "1e400"))
    assert dropped == {("annotation", reason): ["id 1"]}
    assert [a["id"] for a in gt["annotations"]] == [2, 3]
    assert _ap(gt, _perfect(gt)) == pytest.approx(PERFECT, abs=1e-9)


@pytest.mark.parametrize("segmentation", [[_poly(-40, -30, -10, -5)], {"size": [H, W], "counts": [H * W]},
                                          _rle(0, 0, 0, 0)])
def test_empty_mask_dropped(tmp_path: Path, segmentation: Any) -> None:
    """A polygon wholly outside the image, or an RLE without a pixel set: an empty mask, dropped."""
    data = _data()
    data["annotations"][2]["segmentation"] = segmentation
    gt, dropped = _read(tmp_path, data)
    assert dropped == {("annotation", "segmentation: empty mask"): ["id 3"]}
    assert [a["id"] for a in gt["annotations"]] == [1, 2]


@pytest.mark.parametrize(("segmentation", "reason"), [
    ([[1, 1, 5, 5, 7]], "segmentation: polygon of odd length"),
    ([_poly(1, 1, 9, 9), [1, 1, 5, 5, 7, 7, 9]], "segmentation: polygon of odd length"),
    ([[1, 1, 5, 5]], "segmentation: polygon of fewer than 3 points"),
    ([[]], "segmentation: polygon of fewer than 3 points"),
    ([], "segmentation: no polygon"),
    ([_poly(1, 1, 9, 9), 5], "segmentation: a polygon is not a list of coordinates"),
    ("polygon", "segmentation: neither polygons nor RLE"),
    (None, "segmentation: missing"),
])
def test_malformed_polygons_recorded_through_drops(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                   segmentation: Any, reason: str) -> None:
    """Short, odd-length or non-list polygons go into the Drops given, and read_instances logs nothing itself (the
    layout calls records() once, at the end)."""
    data = _data()
    data["annotations"][0]["segmentation"] = segmentation
    path = _write(tmp_path, data)
    drops = Drops(path)
    caplog.set_level(logging.WARNING, logger="segwb")
    read_instances(path, drops)
    assert not [r for r in caplog.records if r.name == "segwb"]
    assert [(d["what"], d["reason"], d["examples"]) for d in drops.records()] == [("annotation", reason, ["id 1"])]


def test_without_drops_the_warnings_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """read_instances(path) alone records into its own Drops and logs one warning per reason."""
    data = _data()
    data["annotations"][0]["image_id"] = 9
    data["annotations"][1]["category_id"] = 9
    caplog.set_level(logging.WARNING, logger="segwb")
    gt = read_instances(_write(tmp_path, data))
    messages = [r.getMessage() for r in caplog.records if r.name == "segwb"]
    assert len(messages) == 2
    assert "dropped 1 annotation (unknown image id): id 1" in messages[0]
    assert "dropped 1 annotation (unknown category id): id 2" in messages[1]
    assert [a["id"] for a in gt["annotations"]] == [3]


@pytest.mark.parametrize(("images", "message"), [
    ([], "no image listed"),
    ([{"id": 1, "width": 4, "height": 4}], "none of its 1 images is usable (file_name is not a non-empty text)"),
    ([{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}] * 2, "(image id 1 used by several images)"),
])
def test_no_usable_image_is_a_one_line_error(tmp_path: Path, images: list[Any], message: str) -> None:
    data = _data()
    data["images"] = images
    assert message in _error(tmp_path, data)


def test_only_the_fields_evaluation_reads_are_kept(tmp_path: Path) -> None:
    """Stray fields of the file (an 'ignore' flag, a score) do not reach COCOeval; an RLE keeps size and counts."""
    data = _data()
    data["annotations"][0].update(ignore=1, score="high", attributes={"occluded": True})
    data["annotations"][2]["segmentation"] = {**_rle(10, 5, 40, 25), "extra": [1, 2]}
    gt, dropped = _read(tmp_path, data)
    assert dropped == {}
    assert set(gt["annotations"][0]) == {"id", "image_id", "category_id", "iscrowd", "segmentation", "area", "bbox"}
    assert set(gt["annotations"][2]["segmentation"]) == {"size", "counts"}
    assert _ap(gt, _perfect(_data())) == pytest.approx(PERFECT, abs=1e-9)


def test_category_map_survives_names_that_are_not_text() -> None:
    """category_map given names that are not text (read_instances refuses them; other callers may not) maps them to
    nothing and lists them as unmapped."""
    categories = [{"id": 1, "name": None}, {"id": 2, "name": 3}, {"id": 3, "name": "person"}, {"id": 4, "name": ["car"]}]
    mapping, model_left, data_left = category_map(("person", "car", "3"), categories)
    assert mapping == {0: 3}
    assert model_left == ["car", "3"]
    assert data_left == ["None", "3", "['car']"]


def test_two_categories_of_one_name_are_refused(tmp_path: Path) -> None:
    """A model class matches categories by name: with "Person" (id 1) and "person" (id 55) it would take one and
    leave the other's instances unmatched (mask AP 0.71 -> 0.0 in the hostile run)."""
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps({"images": [], "annotations": [],
                                "categories": [{"id": 1, "name": "Person"}, {"id": 55, "name": "person"}]}))
    with pytest.raises(DatasetError, match="categories 'Person' and 'person' have the same name"):
        read_instances(path)
