"""Model classes mapped to the dataset's COCO category ids, by name."""

from __future__ import annotations

import logging
from typing import Any

from ...io.coco import category_map
from ...io.datasets import Dataset
from ...io.labels import COCO80_IDS, is_coco80
from ...io.model_card import ModelCard

log = logging.getLogger("segwb")
UNMAPPED = -1  # category_id of a detection whose class has no category in the dataset


def default_category_ids(labels: tuple[str, ...]) -> dict[int, int]:
    """Category ids when there is no dataset JSON: official COCO ids for the COCO-80 labels, else class id + 1."""
    if is_coco80(labels):
        return dict(enumerate(COCO80_IDS))
    return {i: i + 1 for i in range(len(labels))}


def categories(card: ModelCard, dataset: Dataset) -> dict[str, Any]:
    """Model class → category id (by name against the dataset's categories, else COCO's or class id + 1)."""
    if dataset.coco is None:
        return {"mapping": default_category_ids(card.labels), "unmapped_model_classes": [],
                "unmapped_dataset_classes": []}
    mapping, model_left, dataset_left = category_map(card.labels, dataset.coco["categories"])
    if not mapping:
        log.warning("no model class name matches a category of %s: ground-truth AP cannot be computed",
                    dataset.annotation_file)
    return {"mapping": mapping, "unmapped_model_classes": model_left, "unmapped_dataset_classes": dataset_left}
