"""The COCO layout (segwb.io.datasets) and segwb.io.coco: reading and checking instances files,
category mapping by name, default category ids, to_result and evaluate (faster-coco-eval, checked against
pycocotools' COCOeval).

Every dataset is built in tmp_path: small JPEGs written with cv2 and an instances JSON with official-style,
non-contiguous category ids (1, 3, 18).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from segwb.core.errors import DatasetError
from segwb.io.coco import category_map, read_instances
from segwb.io.datasets import open_dataset
from segwb.io.labels import COCO80, COCO80_IDS, normalise
from segwb.tasks.instance.categories import UNMAPPED, default_category_ids
from segwb.tasks.instance.coco_eval import evaluate
from segwb.tasks.instance.results import to_result

CATEGORIES = [{"id": 1, "name": "person", "supercategory": "person"},
              {"id": 3, "name": "car", "supercategory": "vehicle"},
              {"id": 18, "name": "dog", "supercategory": "animal"}]
# file name → (image id, height, width); listed out of name order on purpose
IMAGES = {"b.jpg": (42, 24, 32), "a.jpg": (7, 20, 28), "c.jpg": (100, 16, 16)}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "segwb" and r.levelno == logging.WARNING]


def _write_jpeg(path: Path, h: int, w: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.full((h, w, 3), 80, dtype=np.uint8)
    cv2.rectangle(image, (2, 2), (w // 2, h // 2), (0, 200, 40), -1)
    assert cv2.imwrite(str(path), image)


def _poly(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    """A rectangle as one COCO polygon (x, y pairs)."""
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def _ann(ann_id: int, image_id: int, category_id: int, box: tuple[float, float, float, float], h: int, w: int,
         **extra: Any) -> dict[str, Any]:
    """A polygon annotation with the area and bbox pycocotools computes for it."""
    poly = [_poly(*box)]
    rle = mask_utils.merge(mask_utils.frPyObjects(poly, h, w))
    return {"id": ann_id, "image_id": image_id, "category_id": category_id, "segmentation": poly, "iscrowd": 0,
            "area": float(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(), **extra}


def _coco_json(images: dict[str, tuple[int, int, int]] | None = None) -> dict[str, Any]:
    """An instances file: two annotations on b.jpg (person, car), one dog on a.jpg, none on c.jpg."""
    images = IMAGES if images is None else images
    anns = [_ann(1, 42, 1, (2, 2, 14, 12), 24, 32), _ann(2, 42, 3, (16, 4, 30, 20), 24, 32),
            _ann(3, 7, 18, (3, 3, 20, 15), 20, 28)]
    return {"info": {"description": "test"},
            "images": [{"id": i, "file_name": n, "height": h, "width": w} for n, (i, h, w) in images.items()],
            "annotations": [a for a in anns if a["image_id"] in {v[0] for v in images.values()}],
            "categories": CATEGORIES}


def _make_dataset(root: Path, image_dir: str = "images", split: str = "val", data: dict[str, Any] | None = None,
                  write: dict[str, tuple[int, int]] | None = None) -> Path:
    """``root/annotations/instances_<split>.json`` plus the JPEGs in ``root/<image_dir>``."""
    data = _coco_json() if data is None else data
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(data), encoding="utf-8")
    sizes = {i["file_name"]: (i["height"], i["width"]) for i in data["images"]} if write is None else write
    for name, (h, w) in sizes.items():
        _write_jpeg(root / image_dir / name, h, w)
    return root


# --- open_dataset: the COCO layout ---------------------------------------------------------------

def test_happy_path(tmp_path: Path) -> None:
    """Samples sorted by file name with the JSON's image ids, labels = category names, annotated, all kept."""
    root = _make_dataset(tmp_path / "coco")
    ds = open_dataset(root)
    assert ds.layout == "coco"
    assert [s.name for s in ds.samples] == ["a.jpg", "b.jpg", "c.jpg"]
    assert [s.key for s in ds.samples] == ["a", "b", "c"]
    assert [s.image_id for s in ds.samples] == [7, 42, 100]
    assert all(s.path == root / "images" / s.name for s in ds.samples)
    assert ds.labels == ("person", "car", "dog")
    assert ds.annotated and ds.dropped == []
    assert ds.annotation_file == root / "annotations" / "instances_val.json"
    assert ds.coco is not None and len(ds.coco["annotations"]) == 3
    assert [c["id"] for c in ds.coco["categories"]] == [1, 3, 18]


def test_digest_follows_the_json(tmp_path: Path) -> None:
    """The digest is stable on reopening and changes when only the annotation JSON changes."""
    root = _make_dataset(tmp_path / "coco")
    first = open_dataset(root).digest
    assert open_dataset(root).digest == first
    data = _coco_json()
    data["annotations"][0]["category_id"] = 3
    (root / "annotations" / "instances_val.json").write_text(json.dumps(data), encoding="utf-8")
    assert open_dataset(root).digest != first


@pytest.mark.parametrize("image_dir", ["images", "val", ""])
def test_image_folders(tmp_path: Path, image_dir: str) -> None:
    """Images are found in root/images/, root/<split>/ (named after instances_<split>.json) or root/ itself."""
    root = _make_dataset(tmp_path / "coco", image_dir=image_dir)
    ds = open_dataset(root)
    assert ds.layout == "coco" and len(ds) == 3 and ds.dropped == []
    assert ds.samples[0].path == (root / image_dir / "a.jpg" if image_dir else root / "a.jpg")


def test_official_style_split_folder(tmp_path: Path) -> None:
    """instances_val2017.json with the images in root/val2017/ (the official COCO download layout)."""
    root = _make_dataset(tmp_path / "coco", image_dir="val2017", split="val2017")
    ds = open_dataset(root)
    assert [s.image_id for s in ds.samples] == [7, 42, 100]
    assert ds.annotation_file is not None and ds.annotation_file.name == "instances_val2017.json"


def test_split_selection(tmp_path: Path) -> None:
    """With instances_train.json and instances_val.json: val by default, train on request, an unknown split is a
    DatasetError that lists the files there are."""
    root = tmp_path / "coco"
    _make_dataset(root, split="val")
    train = _coco_json({"t1.jpg": (5, 12, 12), "t0.jpg": (6, 12, 12)})
    _make_dataset(root, image_dir="train", split="train", data=train)
    assert open_dataset(root).annotation_file == root / "annotations" / "instances_val.json"
    assert len(open_dataset(root)) == 3
    ds = open_dataset(root, split="train")
    assert ds.annotation_file == root / "annotations" / "instances_train.json"
    assert [(s.name, s.image_id) for s in ds.samples] == [("t0.jpg", 6), ("t1.jpg", 5)]
    assert ds.samples[0].path == root / "train" / "t0.jpg"
    assert open_dataset(root, split="val").annotation_file == root / "annotations" / "instances_val.json"
    with pytest.raises(DatasetError, match="instances_test") as err:
        open_dataset(root, split="test")
    assert "instances_train" in str(err.value) and "instances_val" in str(err.value)


@pytest.mark.parametrize(("content", "what"), [
    (json.dumps([{"id": 1}]).encode(), "a list"),
    (json.dumps({"images": [], "annotations": []}).encode(), "no categories"),
    (json.dumps({"images": {}, "annotations": [], "categories": []}).encode(), "images not a list"),
    (b"\xff\xfe\x00\x81 not text at all \x9c", "unreadable bytes"),
    (b'{"images": [', "truncated JSON"),
    (json.dumps({"images": [{"id": 1, "width": 4, "height": 4}], "annotations": [],
                 "categories": []}).encode(), "image without file_name"),
])
def test_not_coco_json(tmp_path: Path, content: bytes, what: str) -> None:
    """A JSON that is not a COCO instances file: DatasetError whose message names the file (read_instances and
    open_dataset alike)."""
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    path = root / "annotations" / "instances_val.json"
    path.write_bytes(content)
    _write_jpeg(root / "images" / "a.jpg", 8, 8)
    with pytest.raises(DatasetError) as err:
        read_instances(path)
    assert str(path) in str(err.value), what
    assert err.value.path == path
    with pytest.raises(DatasetError) as err2:
        open_dataset(root)
    assert str(path) in str(err2.value), what


def test_bad_annotations_dropped_with_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Unknown image ids, unknown categories, empty polygons, polygons with < 3 points, odd-length polygons and
    missing segmentations are dropped, each kind counted in a warning naming the file; good ones are kept and
    evaluate() still runs on what is left."""
    data = _coco_json()
    bad = [
        {"id": 10, "image_id": 999, "category_id": 1, "segmentation": [_poly(1, 1, 5, 5)]},  # unknown image
        {"id": 11, "image_id": 42, "category_id": 2, "segmentation": [_poly(1, 1, 5, 5)]},  # unknown category
        {"id": 12, "image_id": 42, "category_id": 1, "segmentation": []},  # empty polygon list
        {"id": 13, "image_id": 42, "category_id": 1, "segmentation": [[]]},  # one empty polygon
        {"id": 14, "image_id": 42, "category_id": 1, "segmentation": [[1, 1, 5, 5]]},  # 2 points
        {"id": 15, "image_id": 42, "category_id": 1, "segmentation": [[1, 1, 5, 5, 7]]},  # odd length
        {"id": 16, "image_id": 7, "category_id": 18},  # no segmentation
        {"id": 17, "image_id": 7, "category_id": 18, "segmentation": {"counts": "abc"}},  # RLE without size
        "not an annotation",
    ]
    data["annotations"] += bad
    root = _make_dataset(tmp_path / "coco", data=data)
    caplog.set_level(logging.WARNING, logger="segwb")
    ds = open_dataset(root)
    assert ds.coco is not None
    assert sorted(a["id"] for a in ds.coco["annotations"]) == [1, 2, 3]
    assert len(ds) == 3
    text = "\n".join(_warnings(caplog))
    path = str(root / "annotations" / "instances_val.json")
    assert path in text
    assert "dropped 1 annotation (unknown image id): id 10" in text
    assert "dropped 1 annotation (not a JSON object): annotations[" in text
    assert "dropped 1 annotation (unknown category id): id 11" in text
    for reason, ids in [("segmentation: no polygon", "id 12"), ("segmentation: polygon of fewer than 3 points", "id 13, id 14"),
                        ("segmentation: polygon of odd length", "id 15"), ("segmentation: missing", "id 16"),
                        ("segmentation: RLE without a size [height, width]", "id 17")]:
        assert f"({reason}): {ids}" in text, reason
    assert sorted((d["reason"], d["count"]) for d in ds.dropped) == sorted([
        ("unknown image id", 1), ("not a JSON object", 1), ("unknown category id", 1), ("segmentation: no polygon", 1),
        ("segmentation: polygon of fewer than 3 points", 2), ("segmentation: polygon of odd length", 1),
        ("segmentation: missing", 1), ("segmentation: RLE without a size [height, width]", 1)])
    # Nothing crashes downstream: the three good annotations as perfect predictions give AP 1.
    results = _perfect_results(ds.coco)
    assert evaluate(ds.coco, [7, 42, 100], results, [1, 3, 18])["mask_ap"] == pytest.approx(1.0, abs=1e-9)


def test_annotation_ids_filled_and_iscrowd_defaulted(tmp_path: Path) -> None:
    """An annotation without id gets one (the smallest id no other annotation has) and iscrowd defaults to 0."""
    data = _coco_json()
    del data["annotations"][2]["id"]
    del data["annotations"][2]["iscrowd"]
    path = tmp_path / "instances_x.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    ann = read_instances(path)["annotations"][2]
    assert ann["id"] == 3 and ann["iscrowd"] == 0


def test_missing_and_mismatched_images_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Images listed but absent, unreadable, or with another size than the JSON says are skipped, listed in
    dataset.dropped and warned about; the rest are kept with their ids."""
    data = _coco_json({**IMAGES, "gone.jpg": (5, 10, 10), "wrong.jpg": (6, 30, 30), "junk.jpg": (8, 10, 10)})
    root = _make_dataset(tmp_path / "coco", data=data,
                         write={**{n: (h, w) for n, (_, h, w) in IMAGES.items()}, "wrong.jpg": (31, 30)})
    (root / "images" / "junk.jpg").write_bytes(b"not a jpeg")
    caplog.set_level(logging.WARNING, logger="segwb")
    ds = open_dataset(root)
    assert [s.name for s in ds.samples] == ["a.jpg", "b.jpg", "c.jpg"]
    names = [n for d in ds.dropped for n in d["examples"]]
    assert all(d["what"] == "image" for d in ds.dropped) and len(names) == 3
    assert "gone.jpg" in names and "junk.jpg" in names
    assert any(n.startswith("wrong.jpg") for n in names)
    text = "\n".join(_warnings(caplog))
    assert "gone.jpg" in text and "wrong.jpg" in text and "junk.jpg" in text
    assert "30x31" in text  # the size found on disk is in the message


def test_no_image_found_is_a_clear_error(tmp_path: Path) -> None:
    """A JSON whose images are all missing: DatasetError "no usable images" naming the root and why."""
    root = _make_dataset(tmp_path / "coco", write={})
    with pytest.raises(DatasetError, match="no usable images: 3 images: listed in the JSON but not found"):
        open_dataset(root)


def test_image_folder_without_annotations_is_not_coco(tmp_path: Path) -> None:
    """An annotations/ folder without instances*.json does not make a COCO dataset: plain image folder."""
    _write_jpeg(tmp_path / "a.jpg", 8, 8)
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "captions_val.json").write_text("{}")
    ds = open_dataset(tmp_path)
    assert ds.layout == "images" and not ds.annotated


# --- category names ------------------------------------------------------------------------------

def test_normalise() -> None:
    """Case, spaces, hyphens and underscores do not matter."""
    assert normalise("Traffic Light") == normalise("traffic_light") == normalise("TRAFFIC-light") == "trafficlight"
    assert normalise("  hot  dog ") == "hotdog"
    assert normalise("cat") != normalise("car")


def test_category_map_by_name() -> None:
    """Model classes map to dataset ids by loose name; unmapped names are reported on both sides, in order."""
    labels = ("Person", "DOG", "traffic_light", "unicorn", "cell-phone")
    categories = [{"id": 1, "name": "person"}, {"id": 10, "name": "traffic light"}, {"id": 18, "name": "dog"},
                  {"id": 3, "name": "car"}, {"id": 77, "name": "cell phone"}, {"id": 90, "name": "toothbrush"}]
    mapping, model_left, data_left = category_map(labels, categories)
    assert mapping == {0: 1, 1: 18, 2: 10, 4: 77}
    assert model_left == ["unicorn"]
    assert data_left == ["car", "toothbrush"]


def test_category_map_disjoint_and_empty() -> None:
    """No name in common: empty mapping, everything reported; no labels or no categories do not crash."""
    mapping, model_left, data_left = category_map(("a", "b"), CATEGORIES)
    assert mapping == {} and model_left == ["a", "b"] and data_left == ["person", "car", "dog"]
    assert category_map((), CATEGORIES) == ({}, [], ["person", "car", "dog"])
    assert category_map(("person",), []) == ({}, ["person"], [])


def test_default_category_ids_coco80() -> None:
    """The 80 COCO names get the official ids (person 1, toothbrush 90, 'dining table' 67); spelling variants
    count; anything else gets class id + 1."""
    ids = default_category_ids(tuple(COCO80))
    assert len(ids) == 80 and len(set(ids.values())) == 80
    assert ids[0] == 1 and ids[COCO80.index("toothbrush")] == 90 and ids[79] == 90
    assert ids[COCO80.index("dining table")] == 67 and ids[COCO80.index("backpack")] == 27
    assert list(ids.values()) == list(COCO80_IDS)
    variant = tuple(n.replace(" ", "_").upper() for n in COCO80)
    assert default_category_ids(variant) == ids
    assert default_category_ids(("background", "person", "car")) == {0: 1, 1: 2, 2: 3}
    assert default_category_ids(("background",) + tuple(COCO80)) == {i: i + 1 for i in range(81)}
    assert default_category_ids(tuple(COCO80[:79])) == {i: i + 1 for i in range(79)}


# --- to_result and evaluate ----------------------------------------------------------------------

def _perfect_results(gt: dict[str, Any], score: float = 0.9) -> list[dict[str, Any]]:
    """One result per ground-truth annotation: its own rasterised mask and box, via to_result."""
    sizes = {i["id"]: (i["height"], i["width"]) for i in gt["images"]}
    out = []
    for a in gt["annotations"]:
        h, w = sizes[a["image_id"]]
        rle = mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], h, w))
        x, y, bw, bh = mask_utils.toBbox(rle)
        out.append(to_result(a["image_id"], a["category_id"], 0, score, np.array([x, y, x + bw, y + bh]), rle))
    return out


def test_to_result_format() -> None:
    """COCO results format: bbox x, y, w, h (rounded), RLE counts as text, size as a list, our class id kept;
    serialisable as JSON."""
    full = np.zeros((12, 16), dtype=np.uint8, order="F")
    full[2:6, 3:9] = 1
    rle = mask_utils.encode(full)
    r = to_result(7, 18, 2, np.float32(0.75), np.array([3.0, 2.0, 9.0, 6.0], dtype=np.float32), rle)
    assert r["image_id"] == 7 and r["category_id"] == 18 and r["class_id"] == 2
    assert r["score"] == pytest.approx(0.75) and isinstance(r["score"], float)
    assert r["bbox"] == [3.0, 2.0, 6.0, 4.0]
    assert r["segmentation"]["size"] == [12, 16] and isinstance(r["segmentation"]["counts"], str)
    back = json.loads(json.dumps(r))
    decoded = mask_utils.decode({"size": back["segmentation"]["size"], "counts": back["segmentation"]["counts"].encode()})
    np.testing.assert_array_equal(decoded, full)
    # Already-text counts pass through.
    assert to_result(1, 1, 0, 0.5, np.zeros(4), {"size": [12, 16], "counts": "abc"})["segmentation"]["counts"] == "abc"


def test_evaluate_perfect_predictions(tmp_path: Path) -> None:
    """Predictions identical to the ground-truth masks (boxes from the same masks): mask AP, AP50 and box AP 1."""
    ds = open_dataset(_make_dataset(tmp_path / "coco"))
    assert ds.coco is not None
    ids = [s.image_id for s in ds.samples if s.image_id is not None]
    results = json.loads(json.dumps(_perfect_results(ds.coco)))  # as saved in predictions/*.json
    stats = evaluate(ds.coco, ids, results, [1, 3, 18])
    assert stats == pytest.approx({"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0}, abs=1e-9)


def test_evaluate_empty_predictions() -> None:
    """No predictions (or no categories to evaluate): all zeros, no pycocotools error."""
    gt = _coco_json()
    assert evaluate(gt, [7, 42, 100], [], [1, 3, 18]) == {"mask_ap": 0.0, "mask_ap50": 0.0, "box_ap": 0.0}
    assert evaluate(gt, [7, 42, 100], _perfect_results(gt), []) == {"mask_ap": 0.0, "mask_ap50": 0.0, "box_ap": 0.0}


def test_evaluate_ignores_other_categories_and_images() -> None:
    """Detections whose category is outside ``category_ids`` (including UNMAPPED) or whose image is outside
    ``image_ids`` do not count: perfect person/car/dog results plus junk of those kinds still give AP 1 —
    while the same junk inside the evaluated categories does lower it."""
    gt = _coco_json()
    perfect = _perfect_results(gt, score=0.5)
    junk_mask = np.zeros((24, 32), dtype=np.uint8, order="F")
    junk_mask[18:23, 0:6] = 1
    junk_rle = mask_utils.encode(junk_mask)
    junk_box = np.array([0, 18, 6, 23], dtype=np.float32)
    outside = [to_result(42, UNMAPPED, 5, 0.99, junk_box, junk_rle),
               to_result(42, 2, 6, 0.99, junk_box, junk_rle)]  # no category 2 in the dataset
    assert evaluate(gt, [7, 42, 100], perfect + outside, [1, 3, 18]) == pytest.approx(
        {"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0}, abs=1e-9)
    # Only car (3) evaluated: person junk at a higher score is ignored as well.
    person_junk = [to_result(42, 1, 0, 0.99, junk_box, junk_rle)]
    assert evaluate(gt, [7, 42, 100], perfect + person_junk, [3])["mask_ap"] == pytest.approx(1.0, abs=1e-9)
    # ... but counts when person is evaluated: a false positive ranked above the true one.
    assert evaluate(gt, [7, 42, 100], perfect + person_junk, [1, 3, 18])["mask_ap"] < 0.99
    # Images outside image_ids are ignored, even when their (unknown to the subset) detections are junk.
    other_image = to_result(7, 18, 2, 0.99, np.array([0, 0, 4, 4]), _rle_box(20, 28, 0, 0, 4, 4))  # a.jpg junk
    only_b = evaluate(gt, [42], perfect + [other_image], [1, 3, 18])
    assert only_b == pytest.approx({"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0}, abs=1e-9)


def _rle_box(h: int, w: int, x1: int, y1: int, x2: int, y2: int) -> dict[str, Any]:
    full = np.zeros((h, w), dtype=np.uint8, order="F")
    full[y1:y2, x1:x2] = 1
    return mask_utils.encode(full)


def test_evaluate_half_right() -> None:
    """One image, one category with two ground-truth instances; one perfect detection → recall 1/2 with
    precision 1 → mask AP 51/101 (recall points 0..0.5 of 101), AP50 the same, box AP the same."""
    gt = _coco_json({"b.jpg": (42, 24, 32)})  # person (1) and car (3) on b.jpg
    gt["annotations"][1]["category_id"] = 1  # both person now
    results = _perfect_results(gt)[:1]
    stats = evaluate(gt, [42], results, [1])
    assert stats == pytest.approx({"mask_ap": 51 / 101, "mask_ap50": 51 / 101, "box_ap": 51 / 101}, abs=1e-9)


def _pycocotools(gt: dict[str, Any], results: list[dict[str, Any]], category_ids: list[int]) -> dict[str, float]:
    """The reference: pycocotools' own COCOeval (segm stats 0 and 1, bbox stat 0)."""
    coco = COCO()
    coco.dataset = json.loads(json.dumps(gt))
    stats = {}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        dt = coco.loadRes([{**r, "segmentation": {**r["segmentation"], "counts": r["segmentation"]["counts"].encode()}}
                           for r in results])
        for kind in ("segm", "bbox"):
            ev = COCOeval(coco, dt, kind)
            ev.params.imgIds = sorted(i["id"] for i in gt["images"])
            ev.params.catIds = sorted(category_ids)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            stats[kind] = [float(max(v, 0.0)) for v in ev.stats[:2]]
    return {"mask_ap": stats["segm"][0], "mask_ap50": stats["segm"][1], "box_ap": stats["bbox"][0]}


def _random_case(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Four 48x64 images, three categories, 0-5 rectangles each (some crowd), and detections that jitter
    them, duplicate them, change their class or land anywhere, with random (sometimes tied) scores."""
    rng = np.random.default_rng(seed)
    h, w = 48, 64
    images = [{"id": 10 + i, "file_name": f"{i}.jpg", "height": h, "width": w} for i in range(4)]
    anns, results = [], []
    for image in images:
        for _ in range(int(rng.integers(0, 6))):
            x, y = float(rng.integers(0, w - 12)), float(rng.integers(0, h - 12))
            bw, bh = float(rng.integers(4, min(40, w - x))), float(rng.integers(4, min(30, h - y)))
            cat = int(rng.choice([1, 3, 18]))
            anns.append(_ann(len(anns) + 1, image["id"], cat, (x, y, x + bw, y + bh), h, w,
                             iscrowd=int(rng.random() < 0.15)))
            for _ in range(int(rng.integers(0, 3))):
                dx, dy, dw, dh = (float(v) for v in rng.integers(-3, 4, 4))
                box = (max(0.0, x + dx), max(0.0, y + dy), min(w - 1.0, x + bw + dw), min(h - 1.0, y + bh + dh))
                label = cat if rng.random() < 0.85 else int(rng.choice([1, 3, 18]))
                results.append((image["id"], label, box))
        for _ in range(int(rng.integers(0, 3))):
            x, y = float(rng.integers(0, w - 8)), float(rng.integers(0, h - 8))
            results.append((image["id"], int(rng.choice([1, 3, 18])), (x, y, x + 6.0, y + 6.0)))
    out = []
    for image_id, cat, (x1, y1, x2, y2) in results:
        mask = np.zeros((h, w), dtype=np.uint8, order="F")
        mask[int(y1):int(y2), int(x1):int(x2)] = 1
        score = round(float(rng.choice([0.3, 0.5, 0.7, rng.random()])), 3)
        out.append(to_result(image_id, cat, 0, score, np.array([x1, y1, x2, y2]), mask_utils.encode(mask)))
    return {"images": images, "annotations": anns, "categories": CATEGORIES}, json.loads(json.dumps(out))


@pytest.mark.parametrize("seed", range(8))
def test_evaluate_equals_pycocotools(seed: int) -> None:
    """faster-coco-eval gives pycocotools' numbers, crowd regions, tied scores and wrong classes included;
    and it leaves the caller's annotations and results as they were."""
    gt, results = _random_case(seed)
    before = json.dumps([gt, results])
    ids = [i["id"] for i in gt["images"]]
    assert evaluate(gt, ids, results, [1, 3, 18]) == pytest.approx(_pycocotools(gt, results, [1, 3, 18]), abs=1e-12)
    assert evaluate(gt, ids, results, [3]) == pytest.approx(_pycocotools(gt, results, [3]), abs=1e-12)
    assert json.dumps([gt, results]) == before


def test_random_evaluate_cases_are_not_trivial() -> None:
    """The cases above have crowd regions and a spread of APs, so the cross-check means something."""
    cases = [_random_case(seed) for seed in range(8)]
    assert sum(a["iscrowd"] for gt, _ in cases for a in gt["annotations"]) >= 3
    stats = [evaluate(gt, [i["id"] for i in gt["images"]], results, [1, 3, 18]) for gt, results in cases]
    aps, ap50s = [s["mask_ap"] for s in stats], [s["mask_ap50"] for s in stats]
    assert len(set(aps)) == len(aps) and max(aps) > 2 * min(aps) > 0
    assert max(ap50s) > 0.5 and min(ap50s) < 0.5


# --- known gaps: input read_instances accepts but evaluate cannot use ----------------------------

@pytest.mark.parametrize("drop", [("area", "bbox"), ("area",), ("bbox",)])
def test_annotations_without_area_or_bbox(tmp_path: Path, drop: tuple[str, ...]) -> None:
    """A polygon annotation without area and/or bbox: either read_instances rejects it with a DatasetError naming
    the file, or evaluate() works (perfect predictions → AP 1). A raw KeyError is neither."""
    data = _coco_json()
    for a in data["annotations"]:
        for key in drop:
            del a[key]
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        gt = read_instances(path)
    except DatasetError as exc:
        assert str(path) in str(exc)
        return
    stats = evaluate(gt, [7, 42, 100], _perfect_results(gt), [1, 3, 18])
    assert stats == pytest.approx({"mask_ap": 1.0, "mask_ap50": 1.0, "box_ap": 1.0}, abs=1e-9)


def test_rle_size_mismatch_is_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An RLE annotation sized 10x10 on a 24x32 image is invalid: dropped with a warning saying so."""
    data = _coco_json({"b.jpg": (42, 24, 32)})
    wrong = _rle_box(10, 10, 2, 2, 8, 8)
    data["annotations"] = [{"id": 1, "image_id": 42, "category_id": 1, "iscrowd": 0, "area": 36.0,
                            "bbox": [2, 2, 6, 6], "segmentation": {"size": [10, 10], "counts": wrong["counts"].decode()}}]
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="segwb")
    gt = read_instances(path)
    assert gt["annotations"] == []
    assert any("(segmentation: RLE size differs from the image's): id 1" in m for m in _warnings(caplog))


def test_non_numeric_polygon_is_dropped(tmp_path: Path) -> None:
    """A polygon like ["a", "b", ...] is invalid: dropped by read_instances, so evaluate() runs (AP 1 on the rest)."""
    data = _coco_json()
    data["annotations"].append({"id": 9, "image_id": 42, "category_id": 1, "iscrowd": 0, "area": 10.0,
                                "bbox": [0, 0, 1, 1], "segmentation": [["a", "b", "c", "d", "e", "f"]]})
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    gt = read_instances(path)
    good = {**gt, "annotations": [a for a in gt["annotations"] if a["id"] != 9]}
    assert evaluate(gt, [7, 42, 100], _perfect_results(good), [1, 3, 18])["mask_ap"] == pytest.approx(1.0, abs=1e-9)
