"""The overlay viewer of an instance report: parent instances, optimized instances (a colour per class) and both
together (one colour per model); one badge per instance at or above the score threshold (0.8 at first, as in the
Workbench), applied to both models so they are compared at the same confidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from ...core.project import Project
from ...core.storage import read_json
from .. import image_table
from ..base import Badge, Panels, Viewer
from ..drawing import FONT, PALETTE_BGR, class_colour, fit, load_photo
from .results import load_instances, predictions_file

PARENT_BGR = (235, 140, 40)  # comparison panel: every parent item blue …
OPTIMIZED_BGR = (20, 150, 255)  # … and every optimized item orange, as the Workbench's comparison mode
ROLES = (("optimized", "Optimized"), ("parent", "Parent"))


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


def decode_mask(rle: dict[str, Any]) -> np.ndarray:
    """A COCO RLE (``counts`` as str or bytes) as an HxW bool mask."""
    counts = rle["counts"]
    return mask_utils.decode({"size": list(rle["size"]),
                              "counts": counts.encode() if isinstance(counts, str) else counts}).astype(bool)


def visible_detections(detections: list[Detection], threshold: float, hidden: set[int] | frozenset[int] = frozenset()) -> list[Detection]:
    """Detections at or above the score threshold and not toggled off (by index)."""
    return [d for d in detections if d.score >= threshold and d.index not in hidden]


def draw_instances(panel: np.ndarray, detections: list[Detection], opacity: float, colour: tuple[int, int, int] | None,
                   scale: float) -> np.ndarray:
    """``detections`` filled at ``opacity`` with their outline and badge (in ``colour``, else their class's)."""
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


def instance_colour(class_id: int) -> str:
    """A class's colour in instance pictures: the VOC palette shifted by one (entry 0 is black)."""
    return class_colour(class_id + 1)


class InstanceViewer(Viewer):
    third_title = "Both (parent blue, optimized orange)"
    scored = True

    def __init__(self, project: Project, report: dict[str, Any]) -> None:
        super().__init__(project, report)
        labels = list(report["parent"]["card"].get("labels") or [])
        self.images = {i.name: i for i in image_table.read(project, report)}
        sizes = [(i.image_id, (i.height, i.width)) for i in self.images.values()]
        self.detections: dict[str, dict[int, list[Detection]]] = {}
        for role, _ in ROLES:
            found = load_instances(read_json(predictions_file(project.root, role)), sizes)
            self.detections[role] = {image_id: [
                Detection(i, int(c), labels[c] if 0 <= c < len(labels) else f"class {c}", float(score),
                          (float(x1), float(y1), float(x2 - x1), float(y2 - y1)), mask)
                for i, (c, score, (x1, y1, x2, y2), mask) in enumerate(zip(
                    instances.class_ids, instances.scores, instances.boxes, instances.masks, strict=True))]
                for image_id, instances in found.items()}

    @property
    def names(self) -> list[str]:
        return [r["image"] for r in self.report["comparison"]["basic"]]

    def of(self, role: str, name: str) -> list[Detection]:
        """``role``'s detections of image ``name``, by descending score."""
        return self.detections[role].get(self.images[name].image_id, [])  # type: ignore[arg-type]

    def badges(self, name: str, hidden: set[Any], threshold: float) -> list[Badge]:
        return [Badge((role, d.index), d.badge, instance_colour(d.class_id), (role, d.index) not in hidden, title)
                for role, title in ROLES for d in visible_detections(self.of(role, name), threshold)]

    def legend(self, name: str) -> list[tuple[str, str]]:
        found = {d.class_id: d.class_name for role, _ in ROLES for d in self.of(role, name)}
        return [(instance_colour(c), found[c]) for c in sorted(found)]

    def panels(self, name: str, hidden: set[Any], opacity: float, threshold: float, height: int) -> Panels:
        if not 0 <= opacity <= 1:
            raise ValueError(f"opacity must be within 0..1, got {opacity}")
        image = self.images[name]
        photo_bgr, found = load_photo(image_table.photo(self.project, self.report, image), (image.height, image.width))
        photo = fit(photo_bgr, height)
        scale = height / photo_bgr.shape[0]
        shown = {role: visible_detections(self.of(role, name), threshold, {i for r, i in hidden if r == role})
                 for role, _ in ROLES}
        p, o = shown["parent"], shown["optimized"]
        both = draw_instances(draw_instances(photo, p, opacity, PARENT_BGR, scale), o, opacity, OPTIMIZED_BGR, scale)
        row = self.rows.get(name, {})
        info = (f"{name}: optimized {row.get('optimized_detections')} instances, parent {row.get('parent_detections')}, "
                f"{row.get('matches')} matches (mask IoU ≥ 0.5). Instances below the score threshold are hidden on both sides.")
        return Panels(draw_instances(photo, p, opacity, None, scale), draw_instances(photo, o, opacity, None, scale), both,
                      info, found)
