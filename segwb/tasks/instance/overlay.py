"""The instance overlay picture: parent | optimized, instances filled at 30 %, unmatched ones outlined in red."""

from __future__ import annotations

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from ..drawing import FONT, PALETTE_BGR, PANEL_HEIGHT, gap, shrink, title
from .instances import Instances

INSTANCE_ALPHA = 0.3
UNMATCHED_BGR = (0, 0, 255)


def _nearest_sources(panel: int, full: int) -> np.ndarray:
    """For each panel row (or column), the full-size one ``cv2.resize`` with INTER_NEAREST samples."""
    return np.minimum(np.floor(np.arange(panel) * (1.0 / (panel / full))).astype(np.int64), full - 1)


def _instance_panel(image: np.ndarray, instances: Instances, matched: np.ndarray, labels: tuple[str, ...],
                    scale: float) -> np.ndarray:
    """Instances filled at ~30 % opacity with their outline, class and score; unmatched ones outlined in red.

    Each mask is sampled only inside its bounding box (what a full-image nearest resize gives there), so an
    image with a hundred detections costs a hundred small crops rather than a hundred full-size resizes.
    """
    panel = image.copy()
    rows = _nearest_sources(panel.shape[0], instances.image_size[0])
    cols = _nearest_sources(panel.shape[1], instances.image_size[1])
    extents = mask_utils.toBbox(instances.masks) if len(instances) else np.zeros((0, 4))
    for i in range(len(instances) - 1, -1, -1):  # lowest score first, so the best ones stay on top
        colour = tuple(int(v) for v in PALETTE_BGR[(int(instances.class_ids[i]) + 1) % 256])
        outline = colour if matched[i] else UNMATCHED_BGR
        x, y, w, h = extents[i]
        v0, v1 = np.searchsorted(rows, [y, y + h])
        u0, u1 = np.searchsorted(cols, [x, x + w])
        if v1 > v0 and u1 > u0:
            crop = instances.decode(i)[rows[v0:v1, None], cols[None, u0:u1]]
            roi = panel[v0:v1, u0:u1]
            tinted = cv2.addWeighted(roi, 1 - INSTANCE_ALPHA, np.full_like(roi, colour), INSTANCE_ALPHA, 0)
            np.copyto(roi, tinted, where=crop[..., None].astype(bool))
            contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(int(u0), int(v0)))
            cv2.drawContours(panel, contours, -1, outline, 1 if matched[i] else 2, cv2.LINE_AA)
        cid = int(instances.class_ids[i])
        name = labels[cid] if 0 <= cid < len(labels) else f"class {cid}"
        text = f"{name} {instances.scores[i]:.2f}" + ("" if matched[i] else " (unmatched)")
        x, y = int(instances.boxes[i, 0] * scale), int(instances.boxes[i, 1] * scale)
        (tw, th), _ = cv2.getTextSize(text, FONT, 0.4, 1)
        y = max(y, th + 4)
        cv2.rectangle(panel, (x, y - th - 4), (x + tw + 4, y), outline, -1)
        cv2.putText(panel, text, (x + 2, y - 3), FONT, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return panel


def instance_overlay(image: np.ndarray, parent: Instances, optimized: Instances, labels: tuple[str, ...],
                     parent_matched: np.ndarray, optimized_matched: np.ndarray) -> np.ndarray:
    """Parent | optimized instances side by side at the same scale, as one BGR image."""
    scale = PANEL_HEIGHT / image.shape[0]
    size = (max(1, round(image.shape[1] * scale)), PANEL_HEIGHT)
    small = shrink(image, size)
    left = title(_instance_panel(small, parent, parent_matched, labels, scale),
                  f"parent: {len(parent)} ({int((~parent_matched).sum())} unmatched)")
    right = title(_instance_panel(small, optimized, optimized_matched, labels, scale),
                   f"optimized: {len(optimized)} ({int((~optimized_matched).sum())} unmatched)")
    return np.hstack([left, gap(), right])
