"""The semantic overlay picture: parent | optimized | disagreement, with a legend of the classes they show."""

from __future__ import annotations

import cv2
import numpy as np

from ..drawing import FONT, PALETTE_BGR, PALETTE_LUT, PANEL_HEIGHT, gap, shrink, title

ALPHA = 0.55


def tint(image: np.ndarray, ids: np.ndarray, where: np.ndarray, opacity: float) -> np.ndarray:
    """``image`` with the pixels of ``where`` (bool) coloured by class at ``opacity``; the others keep the photo."""
    index = ids if ids.dtype == np.uint8 else (ids % 256).astype(np.uint8)  # the palette repeats every 256 ids
    colour = cv2.LUT(cv2.merge([index, index, index]), PALETTE_LUT)  # 3.6x faster than numpy fancy indexing
    out = image.copy()
    cv2.copyTo(cv2.addWeighted(image, 1 - opacity, colour, opacity, 0), where.view(np.uint8), out)
    return out


def _blend(image: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Colour every non-background pixel by class; background (id 0) keeps the photo."""
    return tint(image, ids, ids != 0, ALPHA)


def _disagreement(image: np.ndarray, parent: np.ndarray, optimized: np.ndarray) -> np.ndarray:
    """The photo greyed out, with pixels where the models disagree in red."""
    grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) // 2
    grey[parent != optimized] = (0, 0, 255)
    return grey


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
    small = shrink(image, size)
    p = cv2.resize(parent, size, interpolation=cv2.INTER_NEAREST)
    o = cv2.resize(optimized, size, interpolation=cv2.INTER_NEAREST)
    differ = "disagreement" + (f" ({100 * (1 - agreement):.2f}% of pixels)" if agreement is not None else "")
    strip = np.hstack([title(_blend(small, p), "parent"), gap(), title(_blend(small, o), "optimized"), gap(),
                       title(_disagreement(small, p, o), differ)])
    n = int(max(p.max(), o.max())) + 1
    present = np.flatnonzero(np.bincount(p.ravel(), minlength=n) + np.bincount(o.ravel(), minlength=n)).tolist()
    return np.vstack([strip, _legend(present, labels, strip.shape[1])])
