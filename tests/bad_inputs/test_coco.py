"""COCO roots with hostile file names, malformed image entries and annotations, and broken JSON. A broken file is
refused on one line naming it; a bad image or annotation among good ones is dropped, and the report lists it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hostile_inputs as hi
import pytest
from bad_inputs_conftest import (
    Scratch,
    assert_dropped,
    assert_html_inert,
    instance_argv,
)

JSON_NAME = "instances_val.json"


@pytest.fixture
def coco(scratch: Scratch) -> Path:
    return hi.coco_root(scratch.data)


@pytest.fixture
def yolo(scratch: Scratch) -> Path:
    return hi.tiny_yolo(scratch.root)


# --- the file itself: refused --------------------------------------------------------------------------------------------

def _not_utf8(text: str) -> bytes:
    return text.encode().replace(b'"Person"', b'"P\xe9rson\xff"')


def _truncated(text: str) -> bytes:
    return text.encode()[: len(text) // 2]


def _top_level_list(text: str) -> bytes:
    return b"[]"


def _deep_nesting(text: str) -> bytes:
    return b'{"images": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def _images_not_a_list(text: str) -> bytes:
    data = json.loads(text)
    data["images"] = {"a.jpg": 42}
    return json.dumps(data).encode()


def _category_name_twice(text: str) -> bytes:
    # "Person" (id 1) and "person" (id 55): the model's person would match one; the other's AP would read 0.
    data = json.loads(text)
    data["categories"].append({"id": 55, "name": "person"})
    return json.dumps(data).encode()


FILE_CASES = {"not_utf8": _not_utf8, "truncated": _truncated, "top_level_list": _top_level_list,
              "deep_nesting": _deep_nesting, "images_not_a_list": _images_not_a_list,
              "category_name_twice": _category_name_twice}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_broken_annotation_file_is_refused(case: str, scratch: Scratch, coco: Path, yolo: Path) -> None:
    path = hi.coco_json(coco)
    path.write_bytes(FILE_CASES[case](path.read_text()))
    scratch.refused(instance_argv(scratch.project, yolo, coco), JSON_NAME, early=True)


# --- image entries: dropped and listed ----------------------------------------------------------------------------------

def _absolute(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, str]:
    """An absolute file_name pointing at the sentinel photo, with its true size: read, it would be used."""
    data["images"].append({"id": 5, "file_name": str(s.victim / "photo.jpg"), "width": 56, "height": 40})
    data["annotations"].append({**data["annotations"][0], "id": 55, "image_id": 5})
    return "photo.jpg", "photo.jpg"


def _dotdot(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, str]:
    assert (root / "../../victim/photo.jpg").resolve() == (s.victim / "photo.jpg").resolve()
    data["images"].append({"id": 5, "file_name": "../../victim/photo.jpg", "width": 56, "height": 40})
    data["annotations"].append({**data["annotations"][0], "id": 55, "image_id": 5})
    return "photo.jpg", "photo.jpg"


def _name_300(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, str]:
    name = "x" * 300 + ".jpg"
    data["images"].append({"id": 5, "file_name": name, "width": 64, "height": 48})
    return name, "x" * 40


def _duplicate_ids(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, tuple[str, str]]:
    """b.jpg and c.jpg both id 7: their annotations cannot be told apart."""
    for image in data["images"]:
        if image["file_name"] == "c.jpg":
            image["id"] = 7
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 100]
    return "c.jpg", ("b.jpg", "c.jpg")


def _negative_height(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, str]:
    for image in data["images"]:
        if image["file_name"] == "c.jpg":
            image["height"] = -48
    return "c.jpg", "c.jpg"


def _image_id_list(s: Scratch, root: Path, data: dict[str, Any]) -> tuple[str, str]:
    for image in data["images"]:
        if image["file_name"] == "c.jpg":
            image["id"] = [100]
    return "c.jpg", "c.jpg"


IMAGE_CASES: dict[str, Callable[..., tuple[str, Any]]] = {
    "file_name_absolute": _absolute, "file_name_dotdot": _dotdot, "file_name_300_chars": _name_300,
    "duplicate_image_ids": _duplicate_ids, "negative_height": _negative_height, "image_id_list": _image_id_list}


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_bad_image_entry_is_dropped_and_listed(case: str, scratch: Scratch, coco: Path, yolo: Path) -> None:
    data = hi.read_coco(coco)
    bad_name, listed_as = IMAGE_CASES[case](scratch, coco, data)
    hi.write_coco(coco, data)
    _, report = scratch.went_on(instance_argv(scratch.project, yolo, coco))
    assert_dropped(report, listed_as)
    used = {row["image"] for row in report["comparison"]["basic"]}
    if case == "duplicate_image_ids":  # dropping one or both of the two is fair: the annotations cannot be told apart
        assert 1 <= report["dataset"]["images"] <= 2
    else:
        assert bad_name not in used and Path(bad_name).name not in used
        assert report["dataset"]["images"] == 3 - (case in ("negative_height", "image_id_list"))


def test_file_name_with_markup_is_shown_as_text(scratch: Scratch, coco: Path, yolo: Path) -> None:
    """``</script><img src=x onerror=alert(1)>.jpg`` (a folder '<' and a file in it): it must not end the page's data
    block and become a tag."""
    data = hi.read_coco(coco)
    name = "</script><img src=x onerror=alert(1)>.jpg"
    hi.add_coco_image(coco, data, name, 5, 55, on_disk=coco / "images" / "<" / "script><img src=x onerror=alert(1)>.jpg")
    hi.write_coco(coco, data)
    _, report = scratch.went_on(instance_argv(scratch.project, yolo, coco))
    if name not in {row["image"] for row in report["comparison"]["basic"]}:
        assert_dropped(report, ("onerror", "script"))
    assert_html_inert(scratch.project / "report.html")


def test_file_name_with_control_characters_is_not_echoed_raw(scratch: Scratch, coco: Path, yolo: Path) -> None:
    data = hi.read_coco(coco)
    name = "d\x1b[31m\r\x07.jpg"
    hi.add_coco_image(coco, data, name, 5, 55, on_disk=coco / "images" / name)
    hi.write_coco(coco, data)
    result, report = scratch.went_on(instance_argv(scratch.project, yolo, coco))
    assert "\x1b" not in result.stderr + result.stdout and "\x07" not in result.stderr + result.stdout
    if name not in {row["image"] for row in report["comparison"]["basic"]}:
        assert_dropped(report, ("d", "\\u001b"))
    for path in scratch.project.rglob("*"):
        assert not any(ord(ch) < 32 for ch in path.name), f"output file name with control characters: {path.name!r}"


# --- annotations: dropped and listed --------------------------------------------------------------------------------------

NAN = float("nan")
SQUARE = [10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]


def _ann(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def make(good: dict[str, Any]) -> dict[str, Any]:
        return {**good, "id": 777, "image_id": 7, "segmentation": [SQUARE], "bbox": [10, 10, 20, 20], "area": 400.0,
                **changes}
    return make


ANNOTATION_CASES = {
    "image_id_list": _ann(image_id=[7]),
    "category_id_dict": _ann(category_id={"id": 1}),
    "iscrowd_yes": _ann(iscrowd="yes"),
    "bbox_nan": _ann(bbox=[NAN, NAN, 20, 20]),
    "bbox_string": _ann(bbox="10,10,20,20"),
    "area_string": _ann(area="big"),
    "polygon_nan": _ann(segmentation=[[NAN, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]]),
    "polygon_huge": _ann(segmentation=[[1e308, 10.0, -1e308, 10.0, 30.0, 30.0, 10.0, 30.0]]),
    "rle_garbage_counts": _ann(segmentation={"size": [48, 64], "counts": "!!garbage~~\x00\x7f"}),
    "rle_counts_overflow": _ann(segmentation={"size": [48, 64], "counts": [10**30, 5]}),
}


@pytest.mark.parametrize("case", list(ANNOTATION_CASES))
def test_bad_annotation_is_dropped_and_listed(case: str, scratch: Scratch, coco: Path, yolo: Path) -> None:
    """One bad annotation (id 777, on b.jpg) among good ones: the run goes on over the good ones, the report lists the
    bad one with a reason, and no number in it is NaN."""
    data = hi.read_coco(coco)
    data["annotations"].append(ANNOTATION_CASES[case](data["annotations"][0]))
    hi.write_coco(coco, data)
    _, report = scratch.went_on(instance_argv(scratch.project, yolo, coco))
    assert_dropped(report, ("777", "b.jpg"))
    assert report["dataset"]["images"] == 3
    assert report["ground_truth"] and report["ground_truth"]["images"] == 3


def test_no_ground_truth_instance_gives_no_ap_rather_than_zero(scratch: Scratch, coco: Path, yolo: Path) -> None:
    """A COCO file without annotations: AP is undefined (N/A in the report), never a measured 0 %."""
    path = hi.coco_json(coco)
    data = json.loads(path.read_text())
    data["annotations"] = []
    path.write_text(json.dumps(data))
    _, report = scratch.went_on(instance_argv(scratch.project, yolo, coco))
    truth = report["ground_truth"]
    assert truth["instances_evaluated"] == 0
    assert truth["parent"]["mask_ap"] is None and truth["optimized"]["box_ap"] is None
