"""The overlay viewer of a semantic report: parent | optimized class maps over the photo, and their disagreement;
one badge per class present in either map (the background starts hidden)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from ...core.project import Project
from .. import image_table
from ..base import Badge, Panels, Viewer
from ..drawing import class_colour, fit, load_photo
from .class_maps import load_class_map, prediction_path
from .overlay import tint

DISAGREE_BGR = (0, 0, 255)


class SemanticViewer(Viewer):
    third_title = "Disagreement"
    keys_per_image = False  # a class is the same class in every image: a hidden one stays hidden

    def __init__(self, project: Project, report: dict[str, Any]) -> None:
        super().__init__(project, report)
        self.labels = list(report["parent"]["card"].get("labels") or [])
        self.images = {i.name: i for i in image_table.read(project, report)}
        self._maps = lru_cache(maxsize=2)(self._load_maps)

    @property
    def names(self) -> list[str]:
        return [r["image"] for r in self.report["comparison"]["basic"]]

    def _load_maps(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        key = self.images[name].key
        return tuple(load_class_map(prediction_path(self.project.predictions(role), key))  # type: ignore[return-value]
                     for role in ("parent", "optimized"))

    def _label(self, class_id: int) -> str:
        return self.labels[class_id] if class_id < len(self.labels) else f"class {class_id}"

    def classes(self, name: str) -> list[int]:
        """The class ids present in either map."""
        parent, optimized = self._maps(name)
        return sorted(set(np.unique(parent).tolist()) | set(np.unique(optimized).tolist()))

    def initially_hidden(self) -> set[Any]:
        """The background, which would otherwise cover the photo."""
        return {i for i, name in enumerate(self.labels) if name.lower() in ("background", "__background__")}

    def badges(self, name: str, hidden: set[Any], threshold: float) -> list[Badge]:
        return [Badge(c, self._label(c), class_colour(c), c not in hidden) for c in self.classes(name)]

    def legend(self, name: str) -> list[tuple[str, str]]:
        """(colour, class name) of every class the image shows."""
        return [(class_colour(c), self._label(c)) for c in self.classes(name)]

    def panels(self, name: str, hidden: set[Any], opacity: float, threshold: float, height: int) -> Panels:
        """Parent and optimized class maps over the photo, and their disagreement, all ``height`` pixels high."""
        if not 0 <= opacity <= 1:
            raise ValueError(f"opacity must be within 0..1, got {opacity}")
        parent, optimized = self._maps(name)
        image, found = load_photo(image_table.photo(self.project, self.report, self.images[name]), parent.shape[:2])
        photo = fit(image, height)
        p, o = fit(parent, height, nearest=True), fit(optimized, height, nearest=True)
        hidden_ids = np.array(sorted(hidden), dtype=np.int64)
        p_on, o_on = ~np.isin(p, hidden_ids), ~np.isin(o, hidden_ids)
        grey = cv2.cvtColor(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) // 2
        differ = (p != o) & (p_on | o_on)  # a hidden class is ignored only where both maps hold hidden classes
        grey[differ] = DISAGREE_BGR
        considered = np.count_nonzero(p_on | o_on)
        share = float(np.count_nonzero(differ) / considered) if considered else None
        row = self.rows.get(name, {})
        avg, agree = row.get("average_result"), row.get("pixel_agreement")
        info = (f"{name}: average result {'N/A' if avg is None else f'{avg:.4f}'}, pixel agreement "
                f"{'N/A' if agree is None else f'{100 * agree:.2f} %'}; red = pixels where the models disagree "
                f"({'N/A' if share is None else f'{100 * share:.2f} %'} of the pixels of the shown classes).")
        return Panels(tint(photo, p, p_on, opacity), tint(photo, o, o_on, opacity), grey, info, found)
