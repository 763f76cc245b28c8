"""Pictures for the dashboard's overlay viewer: parent | optimized | disagreement at one zoom, any opacity,
with classes (semantic) or instances (instance) toggled on and off.

Semantic panels are drawn from the saved class maps (``predictions/<role>/<key>.png``), instance panels from
the COCO-format results (``predictions/<role>.json``, RLE masks decoded with pycocotools).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .datasets import embedded_dataset, load_image
from .overlays import PALETTE_BGR
from .predict import load_class_map, prediction_path

PARENT_BGR = (235, 140, 40)  # comparison panel: every parent item blue …
OPTIMIZED_BGR = (20, 150, 255)  # … and every optimized item orange, as the Workbench's comparison mode
DISAGREE_BGR = (0, 0, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class ImageRef:
    """Where one report image and its predictions are: ``key`` names its prediction and overlay files."""

    name: str
    key: str
    path: Path
    image_id: int | None = None  # instance reports: the id used in predictions/*.json
    size: tuple[int, int] | None = None  # (height, width), when the report recorded it


MISSING_PHOTO_GREY = 96  # canvas under the overlays when the photo has moved (e.g. a project imported without its dataset)


def load_photo(path: Path, size: tuple[int, int] | None) -> tuple[np.ndarray, bool]:
    """The photo, or a grey canvas of ``size`` (height, width) when it is gone; and whether it was found."""
    if path.is_file() or size is None:
        return load_image(path), True
    return np.full((*size, 3), MISSING_PHOTO_GREY, np.uint8), False


@dataclass
class Panels:
    """Three BGR pictures of equal size, and what the badges need."""

    parent: np.ndarray
    optimized: np.ndarray
    disagreement: np.ndarray
    classes: list[int] = field(default_factory=list)  # semantic: class ids present in either map
    disagreement_fraction: float | None = None  # semantic: share of pixels (visible classes) where the maps differ
    photo_found: bool = True


def class_colour(class_id: int, instance: bool = False) -> str:
    """The colour of a class as ``#rrggbb``: the VOC palette, shifted by one for instance ids (0 is black)."""
    b, g, r = (int(v) for v in PALETTE_BGR[(class_id + (1 if instance else 0)) % 256])
    return f"#{r:02x}{g:02x}{b:02x}"


def default_hidden(labels: list[str] | tuple[str, ...]) -> set[int]:
    """Classes hidden until toggled on: the background, which would otherwise cover the photo."""
    return {i for i, name in enumerate(labels) if name.lower() in ("background", "__background__")}


def semantic_images(report: dict[str, Any]) -> dict[str, ImageRef]:
    """Every image of a semantic report by name, with its key (from its overlay path) and its photo."""
    dataset = report["dataset"]
    root = Path(dataset["path"])
    embedded = {s.name: s.path for s in embedded_dataset().samples} if dataset["layout"] == "embedded" else {}
    refs = {}
    for row in report["comparison"]["basic"]:
        key = Path(row["overlay"]).relative_to("overlays").with_suffix("").as_posix()
        if dataset["layout"] == "embedded":
            path = embedded[row["image"]]
        elif dataset["layout"] == "voc":
            path = root / "JPEGImages" / row["image"]
        else:
            path = root / row["image"]
        refs[row["image"]] = ImageRef(row["image"], key, path)
    return refs


def _fit(image: np.ndarray, height: int, nearest: bool = False) -> np.ndarray:
    width = max(1, round(image.shape[1] * height / image.shape[0]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _paint(photo: np.ndarray, ids: np.ndarray, visible: np.ndarray, opacity: float) -> np.ndarray:
    """Colour visible pixels by class at ``opacity``; the rest keeps the photo."""
    colour = PALETTE_BGR[ids.astype(np.int64) % 256]
    blended = cv2.addWeighted(photo, 1 - opacity, colour, opacity, 0)
    return np.where(visible[..., None], blended, photo)


def semantic_panels(project_root: Path, ref: ImageRef, opacity: float = 0.5, hidden: set[int] | frozenset[int] = frozenset(),
                    height: int = 320) -> Panels:
    """Parent and optimized class maps over the photo, and their disagreement, all ``height`` pixels high."""
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be within 0..1, got {opacity}")
    root = Path(project_root)
    parent = load_class_map(prediction_path(root / "predictions" / "parent", ref.key))
    optimized = load_class_map(prediction_path(root / "predictions" / "optimized", ref.key))
    image, found = load_photo(ref.path, parent.shape[:2])
    photo = _fit(image, height)
    p, o = _fit(parent, height, nearest=True), _fit(optimized, height, nearest=True)
    hidden_ids = np.array(sorted(hidden), dtype=np.int64)
    p_on, o_on = ~np.isin(p, hidden_ids), ~np.isin(o, hidden_ids)
    grey = cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) // 2
    differ = (p != o) & (p_on | o_on)  # a hidden class is ignored only where both maps hold hidden classes
    grey[differ] = DISAGREE_BGR
    considered = np.count_nonzero(p_on | o_on)
    present = sorted(set(np.unique(parent).tolist()) | set(np.unique(optimized).tolist()))
    return Panels(_paint(photo, p, p_on, opacity), _paint(photo, o, o_on, opacity), grey, present,
                  float(np.count_nonzero(differ) / considered) if considered else None, found)


# --- instance reports ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Detection:
    """One predicted instance; ``index`` is its rank by score within its image and model."""

    index: int
    class_id: int
    class_name: str
    score: float
    bbox: tuple[float, float, float, float]  # x, y, w, h in original pixels
    rle: dict[str, Any]

    @property
    def badge(self) -> str:
        return f"{self.class_name} {self.score:.2f}"


@dataclass
class InstanceData:
    """Images and detections of an instance report."""

    images: dict[str, ImageRef]
    detections: dict[str, dict[int, list[Detection]]]  # role -> image_id -> detections by descending score

    def of(self, role: str, name: str) -> list[Detection]:
        return self.detections[role].get(self.images[name].image_id, [])  # type: ignore[arg-type]


def instance_data(project_root: Path, labels: list[str] | tuple[str, ...]) -> InstanceData:
    """Read ``predictions/images.json`` and both models' COCO-format results."""
    folder = Path(project_root) / "predictions"
    images = {}
    for item in json.loads((folder / "images.json").read_text(encoding="utf-8")):
        images[item["name"]] = ImageRef(item["name"], item["key"], Path(item["path"]), int(item["image_id"]),
                                        (int(item["height"]), int(item["width"])))
    detections: dict[str, dict[int, list[Detection]]] = {}
    for role in ("parent", "optimized"):
        grouped: dict[int, list[dict[str, Any]]] = {}
        for d in json.loads((folder / f"{role}.json").read_text(encoding="utf-8")):
            grouped.setdefault(int(d["image_id"]), []).append(d)
        detections[role] = {}
        for image_id, items in grouped.items():
            items.sort(key=lambda d: -d["score"])
            detections[role][image_id] = [
                Detection(i, int(d["class_id"]), labels[d["class_id"]] if 0 <= d["class_id"] < len(labels) else f"class {d['class_id']}",
                          float(d["score"]), tuple(d["bbox"]), d["segmentation"])  # type: ignore[arg-type]
                for i, d in enumerate(items)]
    return InstanceData(images, detections)


def decode_mask(rle: dict[str, Any]) -> np.ndarray:
    """A COCO RLE (``counts`` as str or bytes) as an HxW bool mask."""
    from pycocotools import mask as mask_utils

    counts = rle["counts"]
    return mask_utils.decode({"size": list(rle["size"]), "counts": counts.encode() if isinstance(counts, str) else counts}).astype(bool)


def visible_detections(detections: list[Detection], threshold: float, hidden: set[int] | frozenset[int] = frozenset()) -> list[Detection]:
    """Detections at or above the score threshold and not toggled off (by index)."""
    return [d for d in detections if d.score >= threshold and d.index not in hidden]


def _draw_instances(panel: np.ndarray, detections: list[Detection], opacity: float, colour: tuple[int, int, int] | None,
                    scale: float) -> np.ndarray:
    out = panel.copy()
    for d in detections:
        mask = cv2.resize(decode_mask(d.rle).astype(np.uint8), (panel.shape[1], panel.shape[0]),
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        bgr = colour or tuple(int(v) for v in PALETTE_BGR[(d.class_id + 1) % 256])
        tint = np.empty_like(out)
        tint[:] = bgr
        out = np.where(mask[..., None], cv2.addWeighted(out, 1 - opacity, tint, opacity, 0), out)
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, bgr, 2)
        x, y = int(d.bbox[0] * scale), int(d.bbox[1] * scale)
        cv2.putText(out, d.badge, (x + 2, max(12, y + 12)), FONT, 0.45, (255, 255, 255), 2, cv2.LINE_AA)
        cv2.putText(out, d.badge, (x + 2, max(12, y + 12)), FONT, 0.45, bgr, 1, cv2.LINE_AA)
    return out


def instance_panels(ref: ImageRef, parent: list[Detection], optimized: list[Detection], threshold: float = 0.8,
                    opacity: float = 0.3, hidden_parent: set[int] | frozenset[int] = frozenset(),
                    hidden_optimized: set[int] | frozenset[int] = frozenset(), height: int = 320) -> Panels:
    """Parent instances, optimized instances (colour per class) and both together (one colour per model).

    The score threshold applies to both models, so the comparison is made at the same confidence.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity must be within 0..1, got {opacity}")
    image, found = load_photo(ref.path, ref.size)
    photo = _fit(image, height)
    scale = height / image.shape[0]
    p = visible_detections(parent, threshold, hidden_parent)
    o = visible_detections(optimized, threshold, hidden_optimized)
    both = _draw_instances(_draw_instances(photo, p, opacity, PARENT_BGR, scale), o, opacity, OPTIMIZED_BGR, scale)
    return Panels(_draw_instances(photo, p, opacity, None, scale), _draw_instances(photo, o, opacity, None, scale), both,
                  photo_found=found)


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """A BGR picture as JPEG bytes for an ``ipywidgets.Image``."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
