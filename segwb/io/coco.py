"""COCO instance annotations: read and check them (masks by pycocotools), and map categories to model classes by name.

Every field :func:`read_instances` keeps is checked for type and value: what it cannot use is dropped (or, for a
bad area or bbox, replaced by the mask's) and recorded with the reason; only a file unusable as a whole is an error.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from itertools import count
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..core.errors import DatasetError, first_line
from .drops import Drops
from .labels import normalise

log = logging.getLogger("segwb")

MAX_ID = 2**63 - 1  # faster-coco-eval keeps ids as 64-bit integers
MAX_PIXELS = 2**31 - 1  # pycocotools counts a mask's pixels in 32-bit integers


class _Unusable(Exception):
    """Why one record of the file cannot be used: the reason it is dropped with."""


def find_annotation_files(root: Path) -> list[Path]:
    """``instances*.json`` in ``root/annotations`` (the COCO layout)."""
    folder = root / "annotations"
    return sorted(folder.glob("instances*.json")) if folder.is_dir() else []


def read_instances(path: Path, drops: Drops | None = None) -> dict[str, Any]:
    """A COCO instances file, checked: its usable images, its categories and its usable annotations. What is left
    out (or repaired) is recorded in ``drops`` (the caller logs them); without one, logged here as warnings."""
    own = Drops(path) if drops is None else None
    checked = check_instances(_load(path), path, drops if own is None else own)
    if own:
        own.records()  # logs them
    return checked


def check_instances(data: dict[str, Any], path: Path, drops: Drops) -> dict[str, Any]:
    """COCO instances already loaded (lists ``images``, ``annotations``, ``categories``), checked as
    :func:`read_instances` checks a file; other layouts that carry instances (YOLO) convert to this and come here."""
    categories = _read_categories(data["categories"], path)
    images, gone = _read_images(data["images"], path, drops)
    sizes = {i["id"]: (i["height"], i["width"]) for i in images}
    annotations = _read_annotations(data["annotations"], sizes, gone, {c["id"] for c in categories}, drops)
    return {"images": images, "categories": categories, "annotations": annotations}


def _load(path: Path) -> dict[str, Any]:
    """The file's JSON object, with lists ``images``, ``annotations`` and ``categories``; else DatasetError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8, not JSON, an integer too long
        raise DatasetError(f"not a readable JSON file ({first_line(exc)})", path) from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        raise DatasetError("not a COCO instances file: needs lists 'images', 'annotations' and 'categories'", path)
    return data


def _integer(value: Any, low: int = 0) -> int | None:
    """``value`` as an integer from ``low`` to MAX_ID: a JSON integer or an integral number (3.0); never a bool,
    a string or 1.5."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():  # NaN and inf are not integral either
        return None
    return int(value) if low <= value <= MAX_ID else None


def _number(value: Any) -> float | None:
    """``value`` as a finite float, when it is a JSON number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer literal of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _read_categories(entries: list[Any], path: Path) -> list[dict[str, Any]]:
    """Each category's id and name. A bad entry is a DatasetError, not a drop: the categories are the classes of
    the metric, and a category left out or two sharing an id would change what is measured."""
    categories, names = [], {}
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DatasetError(f"categories[{n}] is not a JSON object", path)
        category_id, name = _integer(entry.get("id")), entry.get("name")
        if category_id is None:
            raise DatasetError(f"categories[{n}]: id is not an integer from 0 to {MAX_ID}", path)
        if not isinstance(name, str):
            raise DatasetError(f"categories[{n}]: name is not a text", path)
        if category_id in names:
            raise DatasetError(f"category id {category_id} used by several categories ({names[category_id]!r}, {name!r})", path)
        same = next((other for other in names.values() if normalise(other) and normalise(other) == normalise(name)), None)
        if same is not None:  # a model class matches categories by name: it would take one and leave the other
            raise DatasetError(f"categories {same!r} and {name!r} have the same name (as segwb matches names)", path)
        names[category_id] = name
        categories.append({"id": category_id, "name": name})
    return categories


def _read_images(entries: list[Any], path: Path, drops: Drops) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The usable images (id, file_name, height, width), and by id why the others were dropped. No usable image at
    all is a DatasetError."""
    ids = Counter(_integer(e.get("id")) for e in entries if isinstance(e, dict))
    names = Counter(e.get("file_name") for e in entries if isinstance(e, dict) and isinstance(e.get("file_name"), str))
    images, gone, reasons = [], {}, []
    for n, entry in enumerate(entries):
        try:
            images.append(_image(entry, ids, names))
        except _Unusable as exc:
            name = entry.get("file_name") if isinstance(entry, dict) else None
            drops.add("image", str(exc), name if isinstance(name, str) and name else f"images[{n}]")
            reasons.append(str(exc))
            if isinstance(entry, dict) and (image_id := _integer(entry.get("id"))) is not None:
                gone[image_id] = str(exc)
    if not images:
        raise DatasetError(f"none of its {len(entries)} images is usable ({reasons[0]})" if entries else "no image listed", path)
    return images, gone


def _image(entry: Any, ids: Counter, names: Counter) -> dict[str, Any]:
    """One image record, checked; images sharing an id or a file name are unusable (which one an annotation or a
    file on disk belongs to cannot be known)."""
    if not isinstance(entry, dict):
        raise _Unusable("not a JSON object")
    image_id, name = _integer(entry.get("id")), entry.get("file_name")
    if image_id is None:
        raise _Unusable(f"id is not an integer from 0 to {MAX_ID}")
    if ids[image_id] > 1:
        raise _Unusable(f"image id {image_id} used by several images")
    if not isinstance(name, str) or not name:
        raise _Unusable("file_name is not a non-empty text")
    if names[name] > 1:
        raise _Unusable("file_name used by several images")
    height, width = _integer(entry.get("height"), 1), _integer(entry.get("width"), 1)
    if height is None or width is None:
        raise _Unusable("height or width is not a positive integer")
    if height * width > MAX_PIXELS:
        raise _Unusable("height x width too large")
    return {"id": image_id, "file_name": name, "width": width, "height": height}


def _read_annotations(entries: list[Any], sizes: dict[int, tuple[int, int]], gone: dict[int, str],
                      category_ids: set[int], drops: Drops) -> list[dict[str, Any]]:
    """The usable annotations, each with a unique id."""
    kept = []
    for n, entry in enumerate(entries):
        own_id = _integer(entry.get("id"), 1) if isinstance(entry, dict) else None
        name = f"id {own_id}" if own_id is not None else f"annotations[{n}]"
        try:
            kept.append((entry, name, _annotation(entry, name, sizes, gone, category_ids, drops)))
        except _Unusable as exc:
            drops.add("annotation", str(exc), name)
    _number_annotations(kept, drops)
    return [ann for _, _, ann in kept]


def _annotation(entry: Any, name: str, sizes: dict[int, tuple[int, int]], gone: dict[int, str],
                category_ids: set[int], drops: Drops) -> dict[str, Any]:
    """One annotation with the fields COCOeval reads, checked against its image and category (its id is set by
    :func:`_number_annotations`)."""
    if not isinstance(entry, dict):
        raise _Unusable("not a JSON object")
    image_id, category_id, crowd = _integer(entry.get("image_id")), _integer(entry.get("category_id")), entry.get("iscrowd", 0)
    if image_id is None:
        raise _Unusable(f"image_id is not an integer from 0 to {MAX_ID}")
    if image_id in gone:
        raise _Unusable(f"on a dropped image ({gone[image_id]})")
    if image_id not in sizes:
        raise _Unusable("unknown image id")
    if category_id is None:
        raise _Unusable(f"category_id is not an integer from 0 to {MAX_ID}")
    if category_id not in category_ids:
        raise _Unusable("unknown category id")
    if type(crowd) not in (int, bool) or crowd not in (0, 1):
        raise _Unusable("iscrowd is not 0 or 1")
    size, seg = sizes[image_id], entry.get("segmentation")
    rle = _mask(seg, size)
    area = float(mask_utils.area(rle))
    if area == 0:
        raise _Unusable("segmentation: empty mask")
    return {"image_id": image_id, "category_id": category_id, "iscrowd": int(crowd),
            "segmentation": seg if isinstance(seg, list) else {"size": seg["size"], "counts": seg["counts"]},
            "area": _area(entry, area, size, name, drops),
            "bbox": _bbox(entry, rle, size, name, drops)}


def _area(entry: dict[str, Any], mask_area: float, size: tuple[int, int], name: str, drops: Drops) -> float:
    """The file's area when it is a number from 0 to the image's pixels; else the mask's (recorded unless absent:
    some exporters omit area, and COCOeval needs one)."""
    if "area" not in entry:
        return mask_area
    area = _number(entry["area"])
    if area is not None and 0 <= area <= size[0] * size[1]:
        return area
    drops.change("annotation", "invalid area (not a number from 0 to the image's pixels) replaced by the mask's", name)
    return mask_area


def _bbox(entry: dict[str, Any], rle: dict[str, Any], size: tuple[int, int], name: str, drops: Drops) -> list[float]:
    """The file's bbox when it is 4 finite numbers with width, height >= 0 inside the image (1 pixel of slack); else
    the mask's (recorded unless absent)."""
    if "bbox" in entry:
        given = entry["bbox"]
        box = [_number(v) for v in given] if isinstance(given, list) and len(given) == 4 else [None]
        if None in box or box[2] < 0 or box[3] < 0:
            drops.change("annotation", "invalid bbox (not 4 finite numbers x, y, w, h with w, h >= 0) replaced by the mask's", name)
        elif box[0] < -1 or box[1] < -1 or box[0] + box[2] > size[1] + 1 or box[1] + box[3] > size[0] + 1:
            drops.change("annotation", "bbox outside the image replaced by the mask's", name)
        else:
            return box
    return mask_utils.toBbox(rle).tolist()


def _number_annotations(kept: list[tuple[Any, str, dict[str, Any]]], drops: Drops) -> None:
    """Give each annotation a unique id from 1 (COCOeval takes an id of 0 or less for "no match"): its own when it
    has a usable one that no earlier annotation took, else the smallest free one (recorded unless it had none)."""
    own = [_integer(entry.get("id"), 1) for entry, _, _ in kept]
    used = set(own)
    free = (i for i in count(1) if i not in used)
    taken: set[int] = set()
    for (entry, name, ann), ann_id in zip(kept, own):
        if ann_id is None or ann_id in taken:
            if "id" in entry:
                drops.change("annotation", "id used by an earlier annotation: renumbered" if ann_id is not None
                          else f"id not an integer from 1 to {MAX_ID}: renumbered", name)
            ann_id = next(free)
        ann["id"] = ann_id
        taken.add(ann_id)


def segmentation_rle(seg: Any, size: tuple[int, int]) -> dict[str, Any] | None:
    """The annotation's mask as one RLE, or None when it is malformed or sized for another image."""
    try:
        return _mask(seg, size)
    except _Unusable:
        return None


def _mask(seg: Any, size: tuple[int, int]) -> dict[str, Any]:
    """The annotation's mask as one RLE: polygons merged, or the file's RLE once checked to decode to the image."""
    if isinstance(seg, list):
        return _polygons(seg, size)
    if isinstance(seg, dict):
        return _rle(seg, size)
    raise _Unusable("segmentation: missing" if seg is None else "segmentation: neither polygons nor RLE")


def _polygons(seg: list[Any], size: tuple[int, int]) -> dict[str, Any]:
    """Polygons of at least 3 finite points near the image (pycocotools hangs on NaN and crashes on coordinates
    far outside), merged."""
    h, w = size
    if not seg:
        raise _Unusable("segmentation: no polygon")
    polygons = []
    for p in seg:
        if not isinstance(p, list):
            raise _Unusable("segmentation: a polygon is not a list of coordinates")
        if len(p) % 2 or len(p) < 6:
            raise _Unusable("segmentation: polygon of odd length" if len(p) % 2 else "segmentation: polygon of fewer than 3 points")
        if not {type(v) for v in p} <= {int, float}:  # a bool's type is bool
            raise _Unusable("segmentation: polygon with non-numeric coordinates")
        try:
            xy = np.array(p, dtype=np.float64)
        except OverflowError:  # an integer of hundreds of digits
            xy = np.array([np.inf])
        if not np.isfinite(xy).all():
            raise _Unusable("segmentation: polygon with non-finite coordinates")
        xs, ys = xy[0::2], xy[1::2]
        if xs.min() < -w or xs.max() > 2 * w or ys.min() < -h or ys.max() > 2 * h:
            raise _Unusable("segmentation: polygon far outside the image")
        polygons.append(xy.tolist())
    return mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))


def _rle(seg: dict[str, Any], size: tuple[int, int]) -> dict[str, Any]:
    """The file's RLE (counts as a list or pycocotools' compressed text) once its run lengths are non-negative and
    add up to the image's pixels: anything else decodes to garbage or crashes the evaluation."""
    h, w = size
    rle_size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(rle_size, list) and len(rle_size) == 2 and all(type(v) is int for v in rle_size)):
        raise _Unusable("segmentation: RLE without a size [height, width]")
    if rle_size != [h, w]:
        raise _Unusable("segmentation: RLE size differs from the image's")
    if isinstance(counts, list):
        runs = counts if all(type(c) is int for c in counts) else None
    elif isinstance(counts, str):
        runs = _string_runs(counts)
    else:
        raise _Unusable("segmentation: RLE counts neither a list nor a text")
    if runs is None or any(r < 0 for r in runs):
        raise _Unusable("segmentation: RLE counts not valid run lengths")
    if sum(runs) != h * w:
        raise _Unusable("segmentation: RLE run lengths do not add up to the image's pixels")
    return mask_utils.frPyObjects(seg, h, w) if isinstance(counts, list) else {"size": [h, w], "counts": counts.encode()}


def _string_runs(text: str) -> list[int] | None:
    """The run lengths a compressed RLE text decodes to, as pycocotools' rleFrString reads it; None when it is not
    one (a character outside '0'..'o', more than 7 characters for one number, or a number cut short)."""
    runs, value, shift = [], 0, 0
    for char in text:
        c = ord(char) - 48
        if not 0 <= c < 64:
            return None
        value |= (c & 0x1F) << shift
        shift += 5
        if c & 0x20:  # more characters for this number
            if shift >= 35:  # 7 characters hold any 32-bit run; beyond, rleFrString's shifts overflow
                return None
            continue
        if c & 0x10:  # negative
            value |= -1 << shift
        runs.append(value + (runs[-2] if len(runs) > 2 else 0))  # from the fourth run on, relative to the one two back
        value, shift = 0, 0
    return runs if shift == 0 else None


def category_map(labels: tuple[str, ...], categories: list[dict[str, Any]]) -> tuple[dict[int, int], list[str], list[str]]:
    """Model class id → dataset category id by name; and the model and dataset names left unmapped. A name that is
    not a text (read_instances refuses those) matches nothing."""
    def key(name: Any) -> str:
        return normalise(name) if isinstance(name, str) else ""

    by_name = {key(c.get("name")): c.get("id") for c in categories if key(c.get("name"))}
    mapping = {i: by_name[key(n)] for i, n in enumerate(labels) if key(n) in by_name}
    mapped_ids = set(mapping.values())
    return (mapping, [n for i, n in enumerate(labels) if i not in mapping],
            [str(c.get("name")) for c in categories if c.get("id") not in mapped_ids])
