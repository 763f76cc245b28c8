"""Overlay pictures: semantic (parent | optimized | disagreement, a legend) and instance (parent | optimized)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from .instances import Instances
from .storage import write_bytes

PANEL_HEIGHT = 320
ALPHA = 0.55
FONT = cv2.FONT_HERSHEY_SIMPLEX


def palette(n: int = 256) -> np.ndarray:
    """The Pascal VOC colour map (RGB), extended to ``n`` classes by the same bit interleaving."""
    colours = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours[i] = (r, g, b)
    return colours


PALETTE_BGR = palette()[:, ::-1].copy()
PALETTE_LUT = PALETTE_BGR.reshape(256, 1, 3)


def _blend(image: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Colour every non-background pixel by class; background (id 0) keeps the photo."""
    index = ids if ids.dtype == np.uint8 else (ids % 256).astype(np.uint8)  # the palette repeats every 256 ids
    colour = cv2.LUT(cv2.merge([index, index, index]), PALETTE_LUT)  # 3.6x faster than numpy fancy indexing
    out = image.copy()
    cv2.copyTo(cv2.addWeighted(image, 1 - ALPHA, colour, ALPHA, 0), (ids != 0).view(np.uint8), out)
    return out


def _disagreement(image: np.ndarray, parent: np.ndarray, optimized: np.ndarray) -> np.ndarray:
    """The photo greyed out, with pixels where the models disagree in red."""
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) // 2
    grey[parent != optimized] = (0, 0, 255)
    return grey


def _title(panel: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((28, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(bar, text, (6, 20), FONT, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, panel])


def _legend(class_ids: list[int], labels: tuple[str, ...], width: int) -> np.ndarray:
    """Swatches and names of the classes shown, wrapped over as many rows as needed."""
    rows: list[np.ndarray] = []
    row = np.full((26, width, 3), 255, dtype=np.uint8)
    x = 6
    for cid in class_ids:
        name = labels[cid] if cid < len(labels) else f"class {cid}"
        text_w = cv2.getTextSize(name, FONT, 0.5, 1)[0][0]
        if x + 22 + text_w > width and x > 6:
            rows.append(row)
            row, x = np.full((26, width, 3), 255, dtype=np.uint8), 6
        cv2.rectangle(row, (x, 6), (x + 14, 20), tuple(int(v) for v in PALETTE_BGR[cid % 256]), -1)
        cv2.rectangle(row, (x, 6), (x + 14, 20), (0, 0, 0), 1)
        cv2.putText(row, name, (x + 20, 19), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        x += 20 + text_w + 16
    rows.append(row)
    return np.vstack(rows)


def semantic_overlay(image: np.ndarray, parent: np.ndarray, optimized: np.ndarray, labels: tuple[str, ...],
                     agreement: float | None = None) -> np.ndarray:
    """The three panels and a legend of every class they show, as one BGR image."""
    scale = PANEL_HEIGHT / image.shape[0]
    size = (max(1, round(image.shape[1] * scale)), PANEL_HEIGHT)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    p = cv2.resize(parent, size, interpolation=cv2.INTER_NEAREST)
    o = cv2.resize(optimized, size, interpolation=cv2.INTER_NEAREST)
    gap = np.full((PANEL_HEIGHT + 28, 6, 3), 255, dtype=np.uint8)
    differ = "disagreement" + (f" ({100 * (1 - agreement):.2f}% of pixels)" if agreement is not None else "")
    strip = np.hstack([_title(_blend(small, p), "parent"), gap, _title(_blend(small, o), "optimized"), gap,
                       _title(_disagreement(small, p, o), differ)])
    n = int(max(p.max(), o.max())) + 1
    present = np.flatnonzero(np.bincount(p.ravel(), minlength=n) + np.bincount(o.ravel(), minlength=n)).tolist()
    return np.vstack([strip, _legend(present, labels, strip.shape[1])])


JPEG_QUALITY = 92


def save_image(path: Path, image: np.ndarray) -> None:
    """Write a BGR image, atomically: lossless PNG, or JPEG (quality 92, chroma not subsampled) for .jpg."""
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, buf = cv2.imencode(path.suffix, image, jpeg if path.suffix.lower() in (".jpg", ".jpeg") else [])
    if not ok:
        raise RuntimeError(f"image encoding failed for {path}")
    write_bytes(path, buf.tobytes())


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
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    gap = np.full((PANEL_HEIGHT + 28, 6, 3), 255, dtype=np.uint8)
    left = _title(_instance_panel(small, parent, parent_matched, labels, scale),
                  f"parent: {len(parent)} ({int((~parent_matched).sum())} unmatched)")
    right = _title(_instance_panel(small, optimized, optimized_matched, labels, scale),
                   f"optimized: {len(optimized)} ({int((~optimized_matched).sum())} unmatched)")
    return np.hstack([left, gap, right])
