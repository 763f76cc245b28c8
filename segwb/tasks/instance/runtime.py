"""What the deployment package's ``infer.py`` does with a finished request of an instance model: save the
detections as segwb's COCO results (without image and category ids), and say what it found. Copied into the
package; imports only what the package carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openvino as ov

from ...core.storage import write_json
from ...inference.preprocess import Geometry
from ...io.model_card import ModelCard
from .adapters import decoder
from .results import to_results


def save(request: ov.InferRequest, settings: dict[str, Any], card: ModelCard, geometry: Geometry, dest: Path) -> str:
    """Save the detections of a finished request as ``dest``.json; a summary of them."""
    found = decoder(card, settings["min_score"], settings["max_detections"])(request, geometry)
    detections = [{"class_id": entry["class_id"], "label": card.label(entry["class_id"]), "score": entry["score"],
                   "bbox": entry["bbox"], "segmentation": entry["segmentation"]}
                  for entry in to_results(0, found, lambda c: 0)]
    height, width = found.image_size
    write_json(dest.with_suffix(".json"), {"height": height, "width": width, "detections": detections})
    best = ", ".join(f"{d['label'] or d['class_id']} {d['score']:.2f}" for d in detections[:5])
    more = f" (+{len(detections) - 5} more)" if len(detections) > 5 else ""
    return f"{len(detections)} detections{': ' + best if best else ''}{more} -> {dest.with_suffix('.json')}"
